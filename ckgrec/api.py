"""The Python API: each ``ckg`` command as a function that returns a typed, frozen result.

For notebooks and scripts, as ``pykeen.pipeline(...)`` or RecBole's ``run_recbole(...)``::

    import ckgrec

    store = ckgrec.build("embedded", "stores/demo")               # -> StoreHandle
    run = ckgrec.train(store, "bprmf", out="runs/bprmf", train={"epochs": 20})
    print(run.scores["test"]["recall@20"])
    for rec in ckgrec.recommend(run, "u0001", k=5):
        print(rec.rank, rec.label, rec.score)

Every function calls the same library functions as its command (``ckgrec/cli/*_cmd.py``) and
writes the same files (a store, ``STORE/pretrained``, a run directory, a pipeline directory), so
the API and the CLI can be mixed freely: ``ckg evaluate`` reads a run trained here, and
:meth:`Run.load` reads a run ``ckg train`` wrote. Errors are the CLI's: subclasses of
:class:`ckgrec.schemas.errors.CkgError` that also inherit the matching built-in (``ValueError``,
``FileNotFoundError``).

Nothing heavy is imported at module level: torch, pandas and PyKEEN load on the first call that
needs them. See ``docs/python-api.md``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from ckgrec.kgbuild.config import BuildConfig
    from ckgrec.model.pretraining.config import PretrainConfig
    from ckgrec.schemas.store import Store

__all__ = [
    "StoreHandle",
    "PretrainedGraph",
    "PretrainResult",
    "Run",
    "ExplainingPath",
    "Recommendation",
    "PipelineResult",
    "build",
    "pretrain",
    "train",
    "evaluate",
    "recommend",
    "compare",
    "run_config",
]

GRAPHS = ("user_side", "item_side")  # ckgrec.schemas.tables.GRAPHS
EMBEDDED = "embedded"  # the source name of the bundled micro-video dataset, as in `ckg run` configs


def _logger(verbose: bool) -> Callable[[str], None]:
    return (lambda msg: print(msg, flush=True)) if verbose else (lambda _msg: None)


# ---- build -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoreHandle:
    """A store written by :func:`build`: where it is, its id-space fingerprint and its counts.

    :meth:`open` returns the :class:`ckgrec.schemas.store.Store` (tables on demand). Any function
    taking a store accepts a handle, a ``Store`` or a path.
    """

    path: Path
    fingerprint: str
    counts: dict[str, Any]
    seconds: dict[str, float] = field(default_factory=dict)  # per build stage (empty from :meth:`load`)
    warnings: tuple[str, ...] = ()  # the build's notices (also issued as BuildWarning)

    def open(self, *, verify: bool = True) -> Store:
        from ckgrec.schemas.store import Store

        return Store.open(self.path, verify=verify)

    @classmethod
    def load(cls, path: str | Path) -> StoreHandle:
        """The handle of a store built before (by :func:`build` or ``ckg build``)."""
        from ckgrec.schemas.store import Store

        s = Store.open(path)
        return cls(Path(s.path).resolve(), s.fingerprint, dict(s.counts))

    def summary(self) -> str:
        """The summary ``ckg build`` prints."""
        from ckgrec.kgbuild.summary import format_summary

        return format_summary(self.path)


def _stage_config(cls: type, config: Any, section: str, caller: str):
    """``cls`` from None (defaults), an instance, a mapping of ``[section]`` keys or a TOML file's ``[section]``."""
    from ckgrec.schemas.config_io import from_mapping, load_toml
    from ckgrec.schemas.errors import ConfigError

    if config is None:
        return cls()
    if isinstance(config, cls):
        return config
    if isinstance(config, Mapping):
        return from_mapping(cls, dict(config), f"{caller}(config=...)")
    if isinstance(config, (str, Path)):
        return load_toml(cls, config, section=section)
    raise ConfigError(
        f"{caller}(config={config!r}): expected a {cls.__name__}, a mapping of [{section}] options or a TOML path"
    )


def _build_config(config: Any, seed: int | None) -> BuildConfig:
    from ckgrec.kgbuild.config import BuildConfig

    cfg = _stage_config(BuildConfig, config, "build", "build")
    return dataclasses.replace(cfg, seed=seed) if seed is not None else cfg


def build(
    source: str | Path,
    out: str | Path,
    *,
    config: BuildConfig | Mapping[str, Any] | str | Path | None = None,
    fmt: str = "auto",
    features: Mapping[str, str | Path] | None = None,
    seed: int | None = None,
    force: bool = False,
    verbose: bool = False,
) -> StoreHandle:
    """Build the two collaborative KGs of ``source`` into the store ``out`` (``ckg build``).

    :param source: a dataset directory in any layout ``ckg datasets`` lists, or ``"embedded"`` for
        the bundled micro-video dataset.
    :param config: build options: a ``BuildConfig``, a mapping of ``[build]`` keys, or a TOML file
        whose ``[build]`` table is read.
    :param fmt: layout of ``source`` (``auto`` detects it).
    :param features: extra modalities, name -> path (as ``--feature NAME=PATH``).
    :param seed: seed of the split and the concept clustering (overrides the config).
    :param force: replace an existing store at ``out``.
    :param verbose: report stages while building.
    """
    from ckgrec.kgbuild.build import build as build_store

    if str(source) == EMBEDDED and not Path(source).exists():
        from ckgrec.kgbuild.embedded import embedded_dataset_dir

        source = embedded_dataset_dir()
    cfg = _build_config(config, seed)
    extra = {str(k): str(v) for k, v in (features or {}).items()}
    report = build_store(source, out, fmt=fmt, config=cfg, extra_features=extra, force=force, verbose=verbose)
    handle = StoreHandle.load(report.store)
    return dataclasses.replace(handle, seconds=dict(report.seconds), warnings=tuple(report.warnings))


def _open_store(store: Any) -> Store:
    from ckgrec.schemas.store import Store

    if isinstance(store, Store):
        return store
    if isinstance(store, StoreHandle):
        return store.open()
    return Store.open(store)


# ---- pretrain --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PretrainedGraph:
    """TransR embeddings of one graph: the tensor file, its JSON sidecar and the held-out metrics."""

    graph: str
    tensors: Path  # STORE/pretrained/<graph>.safetensors
    sidecar: Path  # STORE/pretrained/<graph>.json
    metrics: dict[str, Any]  # epochs_run, seconds_per_epoch, early_stopping, valid/test link prediction

    @property
    def test(self) -> dict[str, Any]:
        """Filtered link-prediction metrics on the held-out test triples (empty with ``holdout=0``)."""
        return self.metrics.get("test", {})


@dataclass(frozen=True)
class PretrainResult:
    store: Path
    graphs: dict[str, PretrainedGraph]
    config: dict[str, Any]  # the resolved PretrainConfig

    def __getitem__(self, graph: str) -> PretrainedGraph:
        return self.graphs[graph]


def _pretrain_config(config: Any, options: dict[str, Any]) -> PretrainConfig:
    from ckgrec.model.pretraining.config import PretrainConfig
    from ckgrec.schemas.config_io import from_mapping, to_dict

    cfg = _stage_config(PretrainConfig, config, "pretrain", "pretrain")
    if not options:
        return cfg
    return from_mapping(PretrainConfig, {**to_dict(cfg), **options}, "pretrain(...)")


def pretrain(
    store: StoreHandle | Store | str | Path,
    *,
    graphs: Iterable[str] = GRAPHS,
    config: PretrainConfig | Mapping[str, Any] | str | Path | None = None,
    verbose: bool = False,
    progress: bool | None = None,
    **options: Any,
) -> PretrainResult:
    """Pretrain TransR on the store's graphs into ``STORE/pretrained`` (``ckg pretrain``).

    :param graphs: ``user_side`` and/or ``item_side``.
    :param verbose: print a line per graph (sizes, epochs, held-out metrics, files written).
    :param progress: progress bars (default: as ``verbose``).
    :param config: a ``PretrainConfig``, a mapping of ``[pretrain]`` keys or a TOML file.
    :param options: any ``PretrainConfig`` field, overriding ``config``: ``epochs``,
        ``embedding_dim``, ``relation_dim``, ``batch_size``, ``learning_rate``, ``negatives``,
        ``holdout``, ``patience``, ``warm_start``, ``seed``, ``device``, ``threads``, ... An unknown
        name is a ``ConfigError`` that suggests the closest.
    """
    import json

    from ckgrec.model.data.pretrained import pretrained_paths
    from ckgrec.model.pretraining.pretrain import pretrain_store
    from ckgrec.schemas.config_io import to_dict
    from ckgrec.schemas.errors import ConfigError

    graphs = tuple(graphs)
    bad = [g for g in graphs if g not in GRAPHS]
    if bad or not graphs:
        raise ConfigError(f"pretrain(graphs={graphs!r}): unknown graph(s) {bad}; choose from {', '.join(GRAPHS)}")
    cfg = _pretrain_config(config, options)
    s = _open_store(store)
    pretrain_store(s, cfg, graphs, progress=verbose if progress is None else progress, log=_logger(verbose))
    out = {}
    for g in graphs:
        tensors, sidecar = pretrained_paths(s.path, g)
        metrics = json.loads(sidecar.read_text(encoding="utf-8")).get("metrics", {})
        out[g] = PretrainedGraph(g, tensors, sidecar, metrics)
    return PretrainResult(Path(s.path), out, to_dict(cfg))


# ---- train -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """A run directory (as ``ckg train`` writes it): model, scores and the per-epoch history.

    ``scores`` is ``RUN/scores.json`` (``{"valid": {"recall@20": ...}, "test": {...}, "epochs": ...,
    "best_epoch": ..., "groups": ...}``), empty while the run is unfinished. ``history`` is
    ``RUN/metrics.jsonl`` as a DataFrame, one row per epoch; nested values are flattened with dots
    (``valid.recall@20``).
    """

    path: Path
    model: str
    store: Path | None
    scores: dict[str, Any] = field(repr=False)
    history: pd.DataFrame = field(repr=False, compare=False)
    config: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)  # RUN/config.json

    @property
    def complete(self) -> bool:
        return bool(self.scores)

    @property
    def test(self) -> dict[str, float]:
        return self.scores.get("test", {})

    @property
    def valid(self) -> dict[str, float]:
        return self.scores.get("valid", {})

    @classmethod
    def load(cls, path: str | Path) -> Run:
        """Read a run directory (trained by :func:`train`, ``ckg train`` or ``ckg run``)."""
        import pandas as pd

        from ckgrec.model.core.run_dir import RunDir

        rd = RunDir(path)
        cfg = rd.read_config()
        scores = rd.read_scores() if rd.is_complete else {}
        records = rd.read_metrics()
        history = pd.json_normalize(records, sep=".") if records else pd.DataFrame()
        store = cfg.get("store", {}).get("path")
        return cls(Path(path).resolve(), str(cfg.get("model")), Path(store) if store else None, scores, history, cfg)


def _train_configs(
    model: str, options: Mapping[str, Any] | None, train: Mapping[str, Any] | None, seed: int | None, device: str | None
):
    """(model class, model config, train config) from plain mappings, as ``ckg train --config`` reads them."""
    from ckgrec.model.core.options import build_config
    from ckgrec.model.models.registry import get_model
    from ckgrec.model.training.config import TrainConfig
    from ckgrec.schemas.config_io import from_mapping
    from ckgrec.schemas.errors import ConfigError

    cls = get_model(model)
    tc = dict(train or {})
    for key, value in (("seed", seed), ("device", device)):
        if value is None:
            continue
        if key in tc and tc[key] != value:
            raise ConfigError(
                f"train(..., {key}={value!r}) and train={{'{key}': {tc[key]!r}}} disagree; give {key} once"
            )
        tc[key] = value
    if "ks" in tc and not isinstance(tc["ks"], tuple):
        tc["ks"] = tuple(tc["ks"])
    train_config = from_mapping(TrainConfig, tc, "train(train=...)")
    model_config = build_config(cls.Config, dict(options or {}), where=f"train(options=...) ({cls.name})")
    return cls, model_config, train_config


def train(
    store: StoreHandle | Store | str | Path,
    model: str,
    *,
    out: str | Path,
    seed: int = 2020,
    options: Mapping[str, Any] | None = None,
    train: Mapping[str, Any] | None = None,
    device: str = "auto",
    force: bool = False,
    verbose: bool = False,
) -> Run:
    """Train ``model`` on the store into the run directory ``out`` (``ckg train``); resumes a checkpoint there.

    :param model: a name from ``ckg models`` (``mostpop``, ``bprmf``, ``lightgcn``, ``dualkgat``, ...).
    :param options: model options (the ``[model]`` table / ``--set``), e.g. ``{"dim": 32}``.
    :param train: trainer options (the ``[train]`` table of ``TrainConfig``), e.g.
        ``{"epochs": 20, "lr": 0.005, "patience": 3, "ks": (10, 20)}``.
    :param seed: seed of initialisation, sampling and dropout.
    :param device: ``auto`` (CUDA when available), ``cpu`` or ``cuda``.
    :param force: discard what ``out`` holds and train from scratch.
    :param verbose: print one line per epoch.
    """
    cls, mc, tc = _train_configs(model, options, train, seed, device)
    log = _logger(verbose) if verbose else None
    return train_configured(store, cls.name, mc, tc, out=out, force=force, progress=verbose, log=log)


def train_configured(
    store: StoreHandle | Store | str | Path,
    model: str,
    model_config: Any,
    train_config: Any,
    *,
    out: str | Path,
    force: bool = False,
    progress: bool = False,
    log: Callable[[str], None] | None = None,
    nproc: int = 1,
    reselect: bool = False,
) -> Run:
    """:func:`train` with the model's and the trainer's configs already built (``ckg train`` builds
    them from ``--config``, its flags and ``--set``); refuses a store without held-out pairs.
    ``nproc`` > 1: data-parallel in that many local processes (``ckg train --nproc``).
    ``reselect``: train nothing, choose the after-training settings of the finished run again
    (``ckg train --reselect``)."""
    from ckgrec.model.data.train_data import TrainData
    from ckgrec.model.training.trainer import train as train_run

    data = TrainData.from_store(_open_store(store))
    data.require_heldout()
    train_run(
        data,
        model,
        out,
        model_config=model_config,
        train_config=train_config,
        force=force,
        progress=progress,
        log=log,
        nproc=nproc,
        reselect=reselect,
    )
    return Run.load(out)


def _run_path(run: Any) -> Path:
    return run.path if isinstance(run, Run) else Path(run)


def load_run_model(run: Any, store: Any = None, device: str = "auto"):
    """(RunDir, TrainData, best model, config.json) of a run, on the store it was trained on (or ``store``, which
    must be the same build); shared by :func:`evaluate`, :func:`recommend` and ``ckg evaluate``."""
    from ckgrec.model.core.run_dir import RunDir
    from ckgrec.model.data.train_data import TrainData
    from ckgrec.model.inference.load import load_model
    from ckgrec.schemas.errors import ConfigError

    rd = RunDir(_run_path(run)).require()
    cfg = rd.read_config()
    if store is None:
        store = cfg.get("store", {}).get("path")
        if not isinstance(store, str):
            raise ConfigError(
                f"{rd.file('config.json')}: no store path recorded (store.path); the run directory is damaged: retrain it"
            )
    s = _open_store(store)
    rd.check_store(s.fingerprint, store if isinstance(store, (str, Path)) else s.path)
    data = TrainData.from_store(s)
    model, cfg = load_model(rd, data, device)
    return rd, data, model, cfg


# ---- evaluate --------------------------------------------------------------------------------


def evaluate(
    run: Run | str | Path,
    *,
    split: str = "test",
    ks: Iterable[int] | None = None,
    store: StoreHandle | Store | str | Path | None = None,
    device: str = "auto",
) -> dict[str, float]:
    """Rank every item again with the run's best model (``ckg evaluate``, full ranking, seen items masked).

    :param split: ``valid`` or ``test``.
    :param ks: cut-offs (default: the run's).
    :param store: the store to evaluate on (default: the one recorded in the run; must be the same build).
    :return: ``{"recall@20": ..., "ndcg@20": ..., "precision@10": ..., ...}`` -- Precision, Recall,
        NDCG, Hit and MRR at each K. Nothing is written to the run directory.
    """
    from ckgrec.model.evaluation.evaluator import evaluate as evaluate_model
    from ckgrec.schemas.errors import ConfigError

    if split not in ("valid", "test"):
        raise ConfigError(f"evaluate(split={split!r}): choose 'valid' or 'test'")
    _rd, data, model, cfg = load_run_model(run, store, device)
    cut = tuple(int(k) for k in ks) if ks is not None else tuple(cfg["train"]["ks"])
    result = evaluate_model(model, data, split, cut, batch_users=cfg["train"].get("eval_batch_users", 0))
    return dict(result.metrics)


# ---- recommend -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExplainingPath:
    """A KG path from the user to a recommended item, with its attention score."""

    graph: str  # user_side | item_side
    score: float
    nodes: tuple[str, ...]  # entity labels, from the user to the item
    relations: tuple[str, ...]  # relation names between consecutive nodes
    text: str  # "u1 —like→ i3 ←like— u7 —like→ i9"


@dataclass(frozen=True)
class Recommendation:
    rank: int  # 1 = best
    item: int  # the store's dense item id
    label: str  # the item's source id
    name: str | None  # the item's name, when the data has one
    score: float
    cold: bool  # the item has no training interaction
    paths: tuple[ExplainingPath, ...] = ()


def recommend(
    run: Run | str | Path,
    user: str,
    *,
    k: int = 10,
    paths: int = 0,
    device: str = "auto",
) -> list[Recommendation]:
    """The top ``k`` items for ``user`` (a source id) that the user has not interacted with (``ckg recommend``).

    :param paths: explaining KG paths per graph and item (``--explain --paths N``); 0 for none.
        Only KG models (dualkgat, kgat, ...) have them; other models return no paths.
    """
    from ckgrec.model.inference.recommend import recommend as recommend_items
    from ckgrec.model.inference.recommend import resolve_user

    _rd, data, model, _cfg = load_run_model(run, None, device)
    recs = recommend_items(model, data, resolve_user(data, user), k, paths > 0, paths)
    return [
        Recommendation(
            r.rank,
            r.item,
            r.label,
            r.name if isinstance(r.name, str) else None,
            r.score,
            r.cold,
            tuple(
                ExplainingPath(p["graph"], float(p["score"]), tuple(p["nodes"]), tuple(p["relations"]), p["text"])
                for p in r.paths
            ),
        )
        for r in recs
    ]


# ---- compare ---------------------------------------------------------------------------------


def comparison(
    runs: Iterable[Run | str | Path],
    metrics: Iterable[str],
    *,
    split: str = "test",
    reference: str | None = None,
    test: str = "wilcoxon",
    group_metrics: Iterable[str] = (),
):
    """The :class:`ckgrec.model.evaluation.compare.Comparison` of finished runs (what ``ckg compare``
    prints): groups of runs that differ only in seed, mean ± std, paired tests against the reference,
    and per-user-group tables for ``group_metrics``. :func:`compare` is the same as a DataFrame."""
    from ckgrec.model.evaluation.compare import compare as compare_runs
    from ckgrec.model.evaluation.metrics import parse_metric

    metrics, group_metrics = list(metrics), list(group_metrics)
    for m in [*metrics, *group_metrics]:
        parse_metric(m)
    return compare_runs(
        [_run_path(r) for r in runs], metrics, split=split, reference=reference, test=test, group_metrics=group_metrics
    )


def compare(
    runs: Iterable[Run | str | Path],
    *,
    metric: str = "recall@20",
    metrics: Iterable[str] = (),
    split: str = "test",
    reference: str | None = None,
    test: str = "wilcoxon",
) -> pd.DataFrame:
    """Models x metrics over finished runs (``ckg compare``): runs differing only in seed are one row.

    :param metric: the metric tested and sorted on (best row first).
    :param metrics: further metrics to report.
    :param reference: model or label every row is tested against (default: the best baseline).
    :param test: paired test over users, ``wilcoxon`` or ``ttest``.
    :return: one row per method, indexed by its label, with columns ``model``, ``seeds``,
        ``baseline``, and per metric ``M`` (mean over seeds), ``M std``, ``M p`` (paired p-value
        against the reference; NaN for the reference itself) and ``M delta`` (relative difference to
        the reference). ``df.attrs`` holds ``split``, ``reference``, ``test`` and ``paired_users``.
    """
    import pandas as pd

    names = list(dict.fromkeys(m.strip().lower() for m in [metric, *metrics]))  # keep order, drop repeats
    c = comparison(runs, names, split=split, reference=reference, test=test)
    rows = []
    for g in c.groups:
        row: dict[str, Any] = {
            "label": g.label,
            "model": g.model,
            "seeds": tuple(r.seed for r in g.runs),
            "baseline": g.is_baseline,
        }
        for m in names:
            row[m], row[f"{m} std"], row[f"{m} p"], row[f"{m} delta"] = g.mean[m], g.std[m], g.p_value[m], g.delta[m]
        rows.append(row)
    df = pd.DataFrame(rows).set_index("label")
    df.attrs.update(split=c.split, reference=c.reference, test=c.test, paired_users=c.n_users)
    return df


# ---- the whole pipeline ----------------------------------------------------------------------


@dataclass(frozen=True)
class PipelineResult:
    """What ``ckg run CONFIG`` left in its output directory."""

    out: Path
    store: Path
    report: Path | None  # OUT/report/report.html (None when stopped before the report stage)
    runs: tuple[Run, ...]  # the finished runs, in config order (OUT/runs/<label>/seed-<s>)
    steps: dict[str, str] = field(default_factory=dict)  # step name -> ran | resumed | skipped

    def compare(self, **kwargs: Any) -> pd.DataFrame:
        """:func:`compare` over the pipeline's runs."""
        return compare(self.runs, **kwargs)


def run_config(
    path: str | Path,
    *,
    out: str | Path | None = None,
    force: bool = False,
    until: str | None = None,
    device: str | None = None,
    verbose: bool = False,
    log: Callable[[str], None] | None = None,
    progress: bool | None = None,
) -> PipelineResult:
    """Run (or continue) the pipeline a ``ckg run`` TOML config describes; stages with unchanged inputs are skipped.

    :param out: output directory, overriding the config's ``out = ...``.
    :param until: stop after this stage (build, pretrain, tune, train, evaluate, compare, examples, report).
    :param device: overrides the config's device for pretraining and training.
    :param log: where the stages' lines go (default: printed when ``verbose``).
    :param progress: progress bars (default: as ``verbose``).
    """
    from ckgrec.pipeline.config import load_config
    from ckgrec.pipeline.runner import run_pipeline

    cfg = load_config(path, out=out)
    log = log or _logger(verbose)
    progress = verbose if progress is None else progress
    result = run_pipeline(cfg, force=force, until=until, device=device, log=log, progress=progress)
    from ckgrec.model.core.run_dir import RunDir

    runs = tuple(Run.load(p) for _m, _s, p in cfg.runs() if RunDir(p).is_complete)
    report = cfg.out / "report" / "report.html"
    return PipelineResult(
        Path(result.out), Path(cfg.store_path), report if report.is_file() else None, runs, dict(result.steps)
    )
