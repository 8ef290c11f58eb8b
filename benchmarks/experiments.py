"""The benchmarks' experiments: one TOML file per row, ``benchmarks/experiments/<benchmark>/<name>.toml``.

A file is an ``[experiment]`` table (what the benchmark needs to know) and the ``[train]`` and
``[model]`` tables of ``ckg train --config`` (``[train]``: TrainConfig fields, e.g. ``lr``,
``batch_size``, ``l2``, ``epochs``, ``patience``; ``[model]``: the model's Config fields)::

    [experiment]
    label = "dualkgat L=2"           # the prose the table shows (default: the file name)
    model = "dualkgat"               # ckg train --model (default: the bases')
    base = "dualkgat"                # or a list: [train], [model] (and model) merged left to right, this file on top
    why = "..."                      # the reason a table prints for a deviation (optional)
    seeds = "main"                   # a benchmark's own per-row metadata (optional)

    [model]
    layer_dims = [64, 32]

A base is another file's name: in the same folder, else under ``shared/``; ``folder/name`` is
relative to ``benchmarks/experiments``. The file name is the run directory's name (``-s<seed>``
appended by the scripts that train several seeds). :func:`load` reads, validates (an unknown key
is an error naming the closest valid one) and merges; :meth:`Experiment.flags` gives the
``ckg train`` options, :meth:`Experiment.config_toml` the same as a ``--config`` file.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent / "experiments"
TABLES = ("experiment", "train", "model")
META = ("label", "model", "base", "why", "seeds")


class ExperimentError(ValueError):
    """A malformed experiment file."""


@dataclass(frozen=True)
class Experiment:
    name: str
    path: Path | None
    label: str
    model: str
    why: str = ""
    train: dict[str, Any] = field(default_factory=dict)  # effective [train]: bases merged
    options: dict[str, Any] = field(default_factory=dict)  # effective [model]
    meta: dict[str, Any] = field(default_factory=dict)  # the rest of [experiment] (e.g. seeds)

    def flags(self, skip: tuple[str, ...] = ()) -> list[str]:
        """``ckg train`` options giving [train] (but ``skip``'s fields) and [model]: ``--lr 0.002 --set fusion=mean``."""
        from ckgrec.cli.train_cmd import FLAG_TO_FIELD

        to_flag = {f: k for k, f in FLAG_TO_FIELD.items()} | {"ks": "ks"}
        out: list[str] = []
        for key, value in self.train.items():
            if key in skip:
                continue
            if key not in to_flag:
                raise ExperimentError(f"{self.path}: [train] {key} has no ckg train flag; pass the file with --config")
            out += [f"--{to_flag[key].replace('_', '-')}", _text(value)]
        for key, value in self.options.items():
            out += ["--set", f"{key}={_text(value)}"]
        return out

    def diff(self, other: Experiment, skip: tuple[str, ...] = ("epochs", "patience")) -> list[str]:
        """The flags of what this experiment sets beyond (or other than) ``other``."""
        train = {k: v for k, v in self.train.items() if k not in skip and other.train.get(k, _MISSING) != v}
        options = {k: v for k, v in self.options.items() if other.options.get(k, _MISSING) != v}
        return dataclasses.replace(self, train=train, options=options).flags()

    def config_toml(self) -> str:
        """The effective [train] and [model] tables, as a file ``ckg train --config`` reads."""
        lines = [
            "[train]",
            *(f"{k} = {_toml(v)}" for k, v in self.train.items()),
            "",
            "[model]",
            *(f"{k} = {_toml(v)}" for k, v in self.options.items()),
        ]
        return "\n".join(lines) + "\n"

    def limit(self, key: str, default: int) -> int:
        """This row's [train] epochs / patience, else the benchmark's ``default``."""
        return self.train.get(key, default)

    def has_limits(self) -> bool:
        return "epochs" in self.train or "patience" in self.train


_MISSING = object()


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(_text(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # --set kg_weight=0: typed back to a float by the model's config
    return str(value)


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(value)


def _check_keys(keys, valid, where: str) -> None:
    for key in keys:
        if key not in valid:
            close = difflib.get_close_matches(key, list(valid), n=1, cutoff=0.5)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise ExperimentError(f"{where}: unknown key '{key}'{hint} (valid: {', '.join(sorted(valid))})")


def _resolve(name: str, folder: Path) -> Path:
    candidates = [ROOT / f"{name}.toml"] if "/" in name else [folder / f"{name}.toml", ROOT / "shared" / f"{name}.toml"]
    found = [p for p in candidates if p.is_file()]
    if len(found) > 1 and found[0] != found[1]:
        raise ExperimentError(
            f"{folder}: base '{name}' is both {found[0]} and {found[1]}; write {folder.name}/{name} or shared/{name}"
        )
    if found:
        return found[0]
    raise ExperimentError(f"{folder}: base '{name}' not found (looked for {', '.join(str(p) for p in candidates)})")


@functools.lru_cache(maxsize=None)
def _raw(path: Path, chain: tuple[Path, ...] = ()) -> tuple[dict, str | None, dict, dict]:
    """(this file's [experiment], the model, merged [train], merged [model]) of ``path`` and its bases.

    Only the model and the [train] / [model] options come from the bases: label, why and the
    rest of [experiment] describe this file alone."""
    if path in chain:
        raise ExperimentError(f"{path}: base cycle through {' -> '.join(p.name for p in chain)}")
    with path.open("rb") as f:
        data = tomllib.load(f)
    _check_keys(data, TABLES, f"{path}: table")
    exp = dict(data.get("experiment", {}))
    _check_keys(exp, META, f"{path} [experiment]")
    bases = exp.pop("base", [])
    model, train, options = None, {}, {}
    for b in [bases] if isinstance(bases, str) else bases:
        _, m, t, o = _raw(_resolve(b, path.parent), (*chain, path))
        model = m or model
        train.update(t)
        options.update(o)
    train.update(data.get("train", {}))
    options.update(data.get("model", {}))
    return exp, exp.pop("model", model), train, options


def load(benchmark: str, name: str, validate: bool = True) -> Experiment:
    """The experiment ``benchmarks/experiments/<benchmark>/<name>.toml``, bases merged."""
    path = ROOT / benchmark / f"{name}.toml"
    if not path.is_file():
        known = names(benchmark)
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.5)
        raise ExperimentError(
            f"no experiment {benchmark}/{name}"
            + (f"; did you mean '{close[0]}'?" if close else "")
            + f" (known: {', '.join(known)})"
        )
    meta, model, train, options = (
        dict(d) if isinstance(d, dict) else d for d in _raw(path)
    )  # copies: _raw's are cached
    if model is None:
        raise ExperimentError(f"{path}: [experiment] model is not set (nor by a base)")
    label, why = meta.pop("label", name), meta.pop("why", "")
    exp = Experiment(name=name, path=path, label=label, model=model, why=why, train=train, options=options, meta=meta)
    if validate:
        check(exp)
    return exp


def get(benchmark: str, name: str, model: str | None = None) -> Experiment:
    """The experiment ``name`` of ``benchmark`` if its file exists, else ``model`` at its defaults (a row without deviations)."""
    if (ROOT / benchmark / f"{name}.toml").is_file():
        return load(benchmark, name)
    return Experiment(name=name, path=None, label=name, model=model or name)


def names(benchmark: str) -> list[str]:
    return sorted(p.stem for p in (ROOT / benchmark).glob("*.toml"))


def check(exp: Experiment) -> None:
    """Unknown [train] keys (TrainConfig fields) and [model] keys (the model's Config fields) are errors."""
    from ckgrec.model.models.registry import get_model
    from ckgrec.model.training.config import TrainConfig

    _check_keys(exp.train, [f.name for f in dataclasses.fields(TrainConfig)], f"{exp.path} [train]")
    _check_keys(
        exp.options,
        [f.name for f in dataclasses.fields(get_model(exp.model).Config)],
        f"{exp.path} [model] ({exp.model})",
    )


def command(exp: Experiment, store: Path, out: Path, **limits: int) -> list[str]:
    """``ckg train`` for ``exp`` (limits such as seed=2020, epochs=200, patience=10 first, the file's options after)."""
    head = [f"--{k}" if i % 2 == 0 else str(v) for k, v in limits.items() for i in (0, 1)]
    return ["ckg", "train", str(store), "--model", exp.model, "--out", str(out), *head, *exp.flags(skip=tuple(limits))]


def listing(rows: list[tuple[Experiment, list[str]]]) -> str:
    """``--list``: name, label and command of each row."""
    import shlex

    return "\n".join(f"{exp.name}\n  {exp.label}\n  {shlex.join(cmd)}" for exp, cmd in rows)
