"""The typed configuration of ``ckg run``: one TOML file, one frozen dataclass per table.

Every table reuses the dataclass its single command already reads (``[build]`` is
:class:`ckgrec.kgbuild.config.BuildConfig`, ``[pretrain]`` :class:`ckgrec.model.pretraining.config.PretrainConfig`,
``[train]`` :class:`ckgrec.model.training.config.TrainConfig`, a model's ``options`` its ``Config``), so a key
means the same in ``ckg run`` as in ``ckg build``/``pretrain``/``train``, and a misspelt key is
an error naming the closest valid one (:func:`ckgrec.schemas.config_io.from_mapping`). Values are
type-checked before construction, so ``epochs = "ten"`` names the key instead of failing deep
inside a comparison.

Relative paths are read from the config file's directory, so a config means the same whatever
the working directory of the command that runs it.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from ckgrec.kgbuild.adapters import ADAPTER_MODULES
from ckgrec.kgbuild.config import BuildConfig
from ckgrec.model.evaluation.metrics import parse_metric
from ckgrec.model.evaluation.statistics import TESTS
from ckgrec.model.pretraining.config import PretrainConfig
from ckgrec.model.training.config import TrainConfig
from ckgrec.schemas.config_io import from_mapping
from ckgrec.schemas.errors import ConfigError, InputNotFoundError

T = TypeVar("T")

EMBEDDED = "embedded"  # [data] source value naming the bundled micro-video dataset
FORMATS = ("auto", *ADAPTER_MODULES)
_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")


# ---- value checks ------------------------------------------------------------------------------


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(tp) if a is not type(None))
    if origin is tuple:
        return f"a list of {_type_name(typing.get_args(tp)[0])}"
    if origin is dict:
        return f"a table of {_type_name(typing.get_args(tp)[1])}"
    if dataclasses.is_dataclass(tp):
        return "a table"
    return {bool: "true or false", int: "an integer", float: "a number", str: "a string"}.get(
        tp, getattr(tp, "__name__", str(tp))
    )


def _matches(value: Any, tp: Any) -> bool:
    origin = typing.get_origin(tp)
    if tp is Any:
        return True
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, a) for a in typing.get_args(tp))
    if tp is type(None):
        return value is None
    if tp is bool:
        return isinstance(value, bool)
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if tp is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if tp is str:
        return isinstance(value, str)
    if origin is tuple:
        args = typing.get_args(tp)
        if not isinstance(value, (list, tuple)):
            return False
        if len(args) == 2 and args[1] is Ellipsis:
            return all(_matches(v, args[0]) for v in value)
        return len(value) == len(args) and all(_matches(v, a) for v, a in zip(value, args))
    if origin is dict:
        return isinstance(value, dict) and all(_matches(v, typing.get_args(tp)[1]) for v in value.values())
    if dataclasses.is_dataclass(tp):
        return isinstance(value, dict)
    return True


def _check_types(cls: type, data: dict[str, Any], where: str) -> None:
    """A ConfigError naming the key whose value has the wrong type (unknown keys are left to from_mapping)."""
    hints = typing.get_type_hints(cls)
    for key, value in data.items():
        if key not in hints:
            continue
        tp = hints[key]
        if not _matches(value, tp):
            raise ConfigError(f"{where}: {key} = {value!r}: expected {_type_name(tp)}")
        inner = tp if dataclasses.is_dataclass(tp) else None
        if inner is not None:
            _check_types(inner, value, f"{where}.{key}")


def typed(cls: type[T], data: Any, where: str) -> T:
    """``cls`` from a TOML table: types checked, unknown keys refused with a suggestion, ranges by ``__post_init__``."""
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a table of keys, got {type(data).__name__} {data!r}")
    _check_types(cls, data, where)
    try:
        return from_mapping(cls, data, where)
    except ConfigError as e:
        if str(e).startswith(where):
            raise
        raise ConfigError(f"{where}: {e}") from e


# ---- tables ------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class DataConfig:
    """Where the data comes from: raw files to build (``source``), or a finished store (``store``).

    ``source = "embedded"`` names the bundled micro-video dataset. ``features`` adds modalities
    from outside the source, as ``ckg build --feature NAME=PATH``.
    """

    source: str | None = None
    format: str = "auto"
    features: dict[str, str] = field(default_factory=dict)
    store: str | None = None

    def __post_init__(self) -> None:
        if (self.source is None) == (self.store is None):
            raise ConfigError(
                'give exactly one of source = "DIR" (raw files to build; "embedded" for the bundled dataset) or store = "DIR" (a store built before)'
            )
        if self.format not in FORMATS:
            raise ConfigError(f"format = {self.format!r}: use one of {', '.join(FORMATS)}")
        if self.store is not None and (self.features or self.format != "auto"):
            raise ConfigError(
                "format and features describe raw files; with store = ... the build stage is skipped, so leave them out"
            )


@dataclass(frozen=True, kw_only=True)
class ModelEntry:
    """One ``[[models]]`` table as written: the model, its label, seeds, trainer overrides and options."""

    name: str
    label: str | None = None
    seeds: tuple[int, ...] = ()
    train: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class ModelRun:
    """A model to train once per seed, with its typed options and trainer config (seed = first seed)."""

    name: str
    label: str
    seeds: tuple[int, ...]
    options: Any  # the model's Config dataclass
    train: TrainConfig
    is_baseline: bool
    uses_pretrained: bool  # initialised from STORE/pretrained (option init != "random")
    # the tables as written ([train] + this model's train table, its options): fixed when tuning
    given_train: dict[str, Any] = field(default_factory=dict, compare=False)
    given_options: dict[str, Any] = field(default_factory=dict, compare=False)

    def train_config(self, seed: int) -> TrainConfig:
        return dataclasses.replace(self.train, seed=seed)

    def run_dir(self, out: Path, seed: int) -> Path:
        return out / "runs" / self.label / f"seed-{seed}"


@dataclass(frozen=True, kw_only=True)
class EvaluateConfig:
    """What the comparison reports. ``metrics[0]`` is the primary metric (sorting, Δ, p column).

    ``ks`` are the cut-offs every run is evaluated at (the metric-by-K plot); each metric's K
    and the early-stopping ``[train] valid_metric``'s K must be among them.
    """

    ks: tuple[int, ...] = (5, 10, 20, 50)
    metrics: tuple[str, ...] = ("recall@20", "ndcg@20", "precision@10", "hit@10")
    test: str = "wilcoxon"
    reference: str | None = None  # label of the reference method; default: the best baseline

    def __post_init__(self) -> None:
        if not self.ks or any(k < 1 for k in self.ks) or len(set(self.ks)) != len(self.ks):
            raise ConfigError(f"ks = {list(self.ks)}: need distinct positive integers")
        if not self.metrics:
            raise ConfigError("metrics: need at least one NAME@K")
        for m in self.metrics:
            _, k = parse_metric(m)
            if k not in self.ks:
                raise ConfigError(f"metrics: '{m}' needs K = {k} among ks = {list(self.ks)}")
        if self.test not in TESTS:
            raise ConfigError(f"test = {self.test!r}: use one of {', '.join(TESTS)}")


@dataclass(frozen=True, kw_only=True)
class TuneSettings:
    """The ``[tune]`` table: one study per model to tune (``ckg tune``'s settings), same budget for each.

    ``trials`` and ``timeout`` (seconds, optional) are per model; ``models`` lists the labels to
    tune (default: every model with something left to search once its explicit options and
    trainer settings are fixed). After loading, ``models`` holds the resolved labels.
    """

    trials: int
    timeout: float | None = None
    seed: int = 2020
    models: tuple[str, ...] | None = None
    pruner: str = "median"
    prune_startup: int = 3
    prune_warmup: int = 5

    def __post_init__(self) -> None:
        self.tune_config()  # the ranges, checked by the study's own settings

    def tune_config(self):
        from ckgrec.model.tuning.config import TuneConfig

        return TuneConfig(
            trials=self.trials,
            timeout=self.timeout,
            seed=self.seed,
            pruner=self.pruner,
            prune_startup=self.prune_startup,
            prune_warmup=self.prune_warmup,
        )


def searchable(m: ModelRun) -> list[str]:
    """The search-space parameters of ``m``'s model that its config leaves free (what a study would search)."""
    from ckgrec.model.models.registry import get_model

    space = getattr(get_model(m.name), "search_space", {}) or {}
    return [k for k in space if k not in m.given_train and k not in m.given_options]


@dataclass(frozen=True, kw_only=True)
class ReportConfig:
    """The report page and its example recommendations (with explaining KG paths)."""

    title: str = "ckgrec run"
    explain_model: str | None = None  # label; default: the first non-baseline model
    explain_users: tuple[str, ...] = ()  # source user ids; default: the first `examples` users
    examples: int = 3
    top_k: int = 3

    def __post_init__(self) -> None:
        if self.examples < 0 or self.top_k < 1:
            raise ConfigError(f"examples = {self.examples}, top_k = {self.top_k}: need examples >= 0 and top_k >= 1")


@dataclass(frozen=True, kw_only=True)
class _Tables:
    """The top level of the file; each table is typed on its own below."""

    out: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    build: dict[str, Any] = field(default_factory=dict)
    pretrain: dict[str, Any] = field(default_factory=dict)
    train: dict[str, Any] = field(default_factory=dict)
    models: tuple[dict[str, Any], ...] = ()
    tune: dict[str, Any] | None = None
    evaluate: dict[str, Any] = field(default_factory=dict)
    report: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class PipelineConfig:
    path: Path  # the config file
    text: str  # its text, stamped into the report
    out: Path
    data: DataConfig  # paths absolute
    build: BuildConfig
    pretrain: PretrainConfig | None  # None: [pretrain] enabled = false
    train: TrainConfig
    models: tuple[ModelRun, ...]
    evaluate: EvaluateConfig
    report: ReportConfig
    tune: TuneSettings | None = None  # [tune]; its models are the resolved labels
    nproc: int = 1  # [train] nproc: data-parallel processes per training run (not a trainer option)

    def model(self, label: str) -> ModelRun:
        return next(m for m in self.models if m.label == label)

    def runs(self) -> list[tuple[ModelRun, int, Path]]:
        """(model, seed, run directory) of every training run, in config order."""
        return [(m, s, m.run_dir(self.out, s)) for m in self.models for s in m.seeds]

    @property
    def store_path(self) -> Path:
        return Path(self.data.store) if self.data.store is not None else self.out / "store"

    @property
    def explain_label(self) -> str | None:
        if self.report.explain_model is not None:
            return self.report.explain_model
        pick = next((m for m in self.models if not m.is_baseline), self.models[0] if self.models else None)
        return pick.label if pick else None


# ---- loading -----------------------------------------------------------------------------------


def _resolve_path(value: str, base: Path, where: str, *, kind: str = "path") -> str:
    p = Path(value).expanduser()
    p = p if p.is_absolute() else base / p
    if not p.exists():
        raise InputNotFoundError(
            f"{where}: {kind} {p} does not exist (relative paths are read from the config file's directory {base})"
        )
    return str(p.resolve())


def _data(tables: _Tables, where: str, base: Path) -> DataConfig:
    d = typed(DataConfig, tables.data, f"{where} [data]")
    changes: dict[str, Any] = {}
    if d.source is not None:
        if d.source == EMBEDDED:
            from ckgrec.kgbuild.embedded import embedded_dataset_dir

            changes["source"] = str(embedded_dataset_dir())
        else:
            changes["source"] = _resolve_path(d.source, base, f"{where} [data] source", kind="dataset directory")
    if d.store is not None:
        changes["store"] = _resolve_path(d.store, base, f"{where} [data] store", kind="store")
    if d.features:
        changes["features"] = {
            n: _resolve_path(v, base, f"{where} [data] features.{n}", kind="feature file")
            for n, v in d.features.items()
        }
    return dataclasses.replace(d, **changes)


def _pretrain(tables: _Tables, where: str) -> PretrainConfig | None:
    table = dict(tables.pretrain)
    enabled = table.pop("enabled", True)
    if not isinstance(enabled, bool):
        raise ConfigError(f"{where} [pretrain]: enabled = {enabled!r}: expected true or false")
    cfg = typed(PretrainConfig, table, f"{where} [pretrain]")
    return cfg if enabled else None


def _no_key(table: dict[str, Any], key: str, where: str, instead: str) -> None:
    if key in table:
        raise ConfigError(f"{where}: {key} cannot be set here; {instead}")


def _models(
    tables: _Tables,
    where: str,
    train_table: dict[str, Any],
    evaluate: EvaluateConfig,
    pretrain: PretrainConfig | None,
    building: bool,
) -> tuple[ModelRun, ...]:
    from ckgrec.model.models.registry import get_model

    if not tables.models:
        raise ConfigError(f'{where}: no [[models]] table; add at least one, e.g.\n[[models]]\nname = "bprmf"')
    default_seed = int(train_table.get("seed", TrainConfig().seed))
    runs: list[ModelRun] = []
    seen: dict[str, int] = {}
    for i, table in enumerate(tables.models, start=1):
        at = f"{where} [[models]] #{i}"
        entry = typed(ModelEntry, table, at)
        try:
            cls = get_model(entry.name)
        except ConfigError as e:
            raise ConfigError(f"{at}: {e}") from e
        label = entry.label or entry.name
        at = f"{where} [[models]] #{i} ({label})"
        if not _LABEL.match(label):
            raise ConfigError(
                f"{at}: label {label!r} must start with a letter or digit and use only letters, digits, '_', '.', '+', '-' (it names a directory)"
            )
        if label in seen:
            raise ConfigError(
                f"{at}: label '{label}' is already used by [[models]] #{seen[label]}; give each variant its own label = \"...\""
            )
        seen[label] = i
        if "seeds" in table and not entry.seeds:
            raise ConfigError(
                f"{at}: seeds = []: list at least one seed, e.g. seeds = [1, 2, 3], or leave seeds out to train once "
                f"with seed {default_seed}"
            )
        seeds = entry.seeds or (default_seed,)
        if len(set(seeds)) != len(seeds):
            raise ConfigError(f"{at}: seeds = {list(seeds)} repeats a seed")
        _no_key(entry.train, "seed", f"{at} train", "list the seeds in seeds = [...]")
        _no_key(entry.train, "ks", f"{at} train", "set the cut-offs once, in [evaluate] ks")
        merged = {**train_table, **entry.train, "ks": evaluate.ks, "seed": seeds[0]}
        tc = typed(TrainConfig, merged, f"{at} train ([train] + this model's train table)")
        options = typed(cls.Config, entry.options, f"{at} options")
        uses_pretrained = getattr(options, "init", "random") != "random"
        if pretrain is None and building and getattr(options, "init", None) == "pretrained":
            raise ConfigError(
                f'{at} options: init = "pretrained" but [pretrain] enabled = false, and the store this config builds has '
                'no embeddings; enable pretraining or set init = "auto" / "random"'
            )
        if uses_pretrained and pretrain is not None:
            # dualkgat's TransR relation space is its dim; kgat has a relation_dim of its own
            relation = "relation_dim" if hasattr(options, "relation_dim") else "dim"
            for opt, pre in (("dim", "embedding_dim"), (relation, "relation_dim")):
                if hasattr(options, opt) and getattr(options, opt) != getattr(pretrain, pre):
                    raise ConfigError(
                        f"{at} options: {opt} = {getattr(options, opt)} but [pretrain] {pre} = {getattr(pretrain, pre)}; "
                        f'the model starts from the pretrained embeddings, so make them equal (or set init = "random")'
                    )
        run = ModelRun(
            name=cls.name,
            label=label,
            seeds=tuple(seeds),
            options=options,
            train=tc,
            is_baseline=bool(cls.is_baseline),
            uses_pretrained=uses_pretrained,
            given_train={**train_table, **entry.train},
            given_options=dict(entry.options),
        )
        same = next((i for i, r in enumerate(runs, start=1) if _method(r) == _method(run)), None)
        if same is not None:
            raise ConfigError(
                f"{at}: same model, options and training settings as [[models]] #{same} ({runs[same - 1].label}) -- seeds, epochs, "
                "device and threads do not make a different method; merge the two (seeds = [...]) or change an option"
            )
        runs.append(run)
    return tuple(runs)


def _method(m: ModelRun) -> str:
    """What model.compare groups runs by: seeds of one method differ only in these ignored trainer keys."""
    import json

    from ckgrec.schemas.config_io import to_dict

    train = {k: v for k, v in to_dict(m.train).items() if k not in ("seed", "device", "threads", "epochs")}
    return json.dumps([m.name, to_dict(m.options), train], sort_keys=True, default=str)


def _tune(tables: _Tables, where: str, models: tuple[ModelRun, ...]) -> TuneSettings | None:
    import difflib

    if tables.tune is None:
        return None
    at = f"{where} [tune]"
    ts = typed(TuneSettings, tables.tune, at)
    labels = [m.label for m in models]
    if ts.models is None:
        chosen = tuple(m.label for m in models if searchable(m))
        if not chosen:
            raise ConfigError(
                f"{at}: no model has anything to tune (each search space is empty or fixed by its options); remove [tune]"
            )
        return dataclasses.replace(ts, models=chosen)
    if len(set(ts.models)) != len(ts.models):
        raise ConfigError(f"{at}: models = {list(ts.models)} repeats a label")
    for label in ts.models:
        if label not in labels:
            close = difflib.get_close_matches(label, labels, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise ConfigError(f"{at}: models: '{label}' is not a model label ({', '.join(labels)}){hint}")
        m = next(m for m in models if m.label == label)
        if not searchable(m):
            raise ConfigError(
                f"{at}: models: '{label}' has nothing to tune: its model ({m.name}) declares no search space or its "
                "options fix every parameter of it (see 'ckg models')"
            )
    return ts


def load_config(path: str | Path, *, out: str | Path | None = None) -> PipelineConfig:
    """Read and check a ``ckg run`` config; ``out`` (``--out``, read from the working directory) overrides ``out =``."""
    p = Path(path)
    if not p.is_file():
        raise InputNotFoundError(
            f"config file not found: {p}"
            + (" (it is a directory)" if p.is_dir() else "; 'ckg init-config' writes a starting one")
        )
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError(f"{p}: not UTF-8 text (byte {e.start}); TOML files are UTF-8: save it as UTF-8") from e
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{p}: not valid TOML: {e}") from e
    where = str(p)
    base = p.resolve().parent
    tables = typed(_Tables, raw, where)
    if out is None and tables.out is None:
        raise ConfigError(f'{where}: no output directory; set out = "DIR" at the top of the file or pass --out DIR')
    out_path = Path(out).resolve() if out is not None else (base / Path(tables.out).expanduser()).resolve()
    data = _data(tables, where, base)
    build = typed(BuildConfig, tables.build, f"{where} [build]")
    pretrain = _pretrain(tables, where)
    evaluate = typed(EvaluateConfig, tables.evaluate, f"{where} [evaluate]")
    report = typed(ReportConfig, tables.report, f"{where} [report]")
    _no_key(tables.train, "ks", f"{where} [train]", "set the cut-offs once, in [evaluate] ks")
    train_table = dict(tables.train)
    nproc = train_table.pop("nproc", 1)
    if isinstance(nproc, bool) or not isinstance(nproc, int) or nproc < 1:
        raise ConfigError(f"{where} [train] nproc = {nproc!r}: must be an integer >= 1 (processes per training run)")
    train = typed(TrainConfig, {**train_table, "ks": evaluate.ks}, f"{where} [train]")
    models = _models(tables, where, train_table, evaluate, pretrain, building=data.source is not None)
    tune = _tune(tables, where, models)
    labels = [m.label for m in models]
    for key, value in (("[evaluate] reference", evaluate.reference), ("[report] explain_model", report.explain_model)):
        if value is not None and value not in labels:
            raise ConfigError(f"{where} {key} = {value!r}: not a model label ({', '.join(labels)})")
    return PipelineConfig(
        path=p.resolve(),
        text=text,
        out=out_path,
        data=data,
        build=build,
        pretrain=pretrain,
        train=train,
        models=models,
        evaluate=evaluate,
        report=report,
        tune=tune,
        nproc=nproc,
    )
