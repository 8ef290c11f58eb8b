"""Trainer options, typed ``key=value`` overrides of a model's Config, and device selection.

Precedence for a training run: trainer defaults < the model's ``train_defaults`` (its paper's
learning rate, batch size, L2, negatives) < the ``[train]`` table of ``--config FILE`` < command
line flags. For the model: its Config defaults < ``[model]`` of ``--config FILE`` < ``--set``.
"""
from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from dataclasses import dataclass
from typing import Any

import torch

from ckgrec.model.metrics import parse_metric
from ckgrec.schemas.config_io import from_mapping
from ckgrec.schemas.errors import ConfigError

TRAINER_DEFAULTS: dict[str, Any] = {"epochs": 300, "batch_size": 2048, "lr": 1e-3, "l2": 0.0, "num_negatives": 1}
OPTIMIZERS = ("adam", "sgd", "adagrad")


def _check(cond: bool, message: str) -> None:
    if not cond:
        raise ConfigError(message)


@dataclass(frozen=True, kw_only=True)
class TrainConfig:
    """How a model is trained and selected. ``None`` fields take the model's paper default.

    Early stopping: the model is evaluated on VALIDATION every ``eval_every`` epochs; training
    stops after ``patience`` evaluations without an improvement of ``valid_metric`` and the best
    evaluated state is kept. The test set is evaluated once, on that best state.
    ``valid_users`` > 0 ranks only a fixed random subset of that many validation users during
    training (cheaper early stopping on huge data); the final valid/test scores use all users.
    ``negatives_from = "trained"`` draws BPR negatives only among items with a training pair:
    under item cold start, "all" (RecBole's and the papers' practice) makes every never-seen item
    a negative and nothing else, which teaches content and KG models to rank new items last.
    """

    epochs: int | None = None
    batch_size: int | None = None
    lr: float | None = None
    l2: float | None = None
    num_negatives: int | None = None
    negatives_from: str = "all"
    optimizer: str = "adam"
    patience: int = 10
    eval_every: int = 1
    valid_metric: str = "recall@20"
    ks: tuple[int, ...] = (10, 20)
    valid_users: int = 0
    eval_batch_users: int = 0
    seed: int = 2020
    device: str = "auto"
    threads: int | None = None

    def __post_init__(self) -> None:
        _check(self.epochs is None or self.epochs >= 0, f"train.epochs = {self.epochs}: must be >= 0")
        _check(self.batch_size is None or self.batch_size >= 1, f"train.batch_size = {self.batch_size}: must be >= 1")
        _check(self.lr is None or self.lr > 0, f"train.lr = {self.lr}: must be > 0")
        _check(self.l2 is None or self.l2 >= 0, f"train.l2 = {self.l2}: must be >= 0")
        _check(self.num_negatives is None or self.num_negatives >= 1, f"train.num_negatives = {self.num_negatives}: must be >= 1")
        _check(self.negatives_from in ("all", "trained"), f"train.negatives_from = '{self.negatives_from}': use 'all' or 'trained'")
        _check(self.optimizer in OPTIMIZERS, f"train.optimizer = '{self.optimizer}': use one of {', '.join(OPTIMIZERS)}")
        _check(self.patience >= 0, f"train.patience = {self.patience}: must be >= 0 (0 = never stop early)")
        _check(self.eval_every >= 1, f"train.eval_every = {self.eval_every}: must be >= 1")
        _check(len(self.ks) > 0 and all(isinstance(k, int) and k >= 1 for k in self.ks), f"train.ks = {self.ks}: need positive integers")
        _, k = parse_metric(self.valid_metric)
        _check(k in self.ks, f"train.valid_metric = '{self.valid_metric}': its K must be one of ks = {list(self.ks)}")
        _check(self.valid_users >= 0 and self.eval_batch_users >= 0, "train.valid_users and train.eval_batch_users must be >= 0")
        _check(self.device in ("auto", "cpu", "cuda") or self.device.startswith("cuda:"), f"train.device = '{self.device}': use auto, cpu or cuda")
        _check(self.threads is None or self.threads >= 1, f"train.threads = {self.threads}: must be >= 1")

    def resolved(self, model_cls: type) -> "TrainConfig":
        """A copy with every ``None`` replaced by the model's paper default or the trainer's."""
        defaults = {**TRAINER_DEFAULTS, **dict(getattr(model_cls, "train_defaults", {}))}
        changes = {k: defaults[k] for k in TRAINER_DEFAULTS if getattr(self, k) is None}
        return dataclasses.replace(self, **changes)


def resolve_device(name: str) -> torch.device:
    """``auto`` -> CUDA when available, else CPU; ``cuda`` without a GPU is a ConfigError."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"--device {name}: CUDA is not available on this machine (torch {torch.__version__}); use --device cpu or auto")
    return torch.device(name)


# ---- typed key=value overrides --------------------------------------------------------------

def _strip_optional(tp: Any) -> tuple[Any, bool]:
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0], True
    return tp, False


def coerce(text: str, tp: Any, where: str) -> Any:
    """Parse ``text`` as the annotated type ``tp`` (int, float, bool, str, tuple[X, ...], X | None)."""
    inner, optional = _strip_optional(tp)
    if optional and text.strip().lower() in ("none", "null", ""):
        return None
    if typing.get_origin(inner) is tuple:
        args = typing.get_args(inner)
        elem = args[0] if args else str
        parts = [p for p in text.replace(" ", "").split(",") if p != ""]
        return tuple(coerce(p, elem, where) for p in parts)
    try:
        if inner is bool:
            low = text.strip().lower()
            if low in ("true", "1", "yes", "on"):
                return True
            if low in ("false", "0", "no", "off"):
                return False
            raise ValueError(text)
        if inner is int:
            return int(text)
        if inner is float:
            return float(text)
        if inner is str:
            return text
    except ValueError as e:
        raise ConfigError(f"{where}: '{text}' is not a valid {getattr(inner, '__name__', inner)}") from e
    raise ConfigError(f"{where}: cannot set a field of type {tp} from the command line")


def parse_assignments(cls: type, assignments: list[str], where: str = "--set") -> dict[str, Any]:
    """``["layers=2", "hidden=64,64"]`` -> ``{"layers": 2, "hidden": (64, 64)}`` typed by ``cls``'s fields."""
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls) if f.init]
    out: dict[str, Any] = {}
    for a in assignments:
        key, sep, value = a.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"{where} '{a}': expected KEY=VALUE, e.g. {names[0] if names else 'key'}=...")
        if key not in names:
            close = difflib.get_close_matches(key, names, n=1, cutoff=0.5)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            valid = ", ".join(names) if names else "none (this model has no options)"
            raise ConfigError(f"{where}: unknown key '{key}'{hint} (valid keys: {valid})")
        out[key] = coerce(value.strip(), hints[key], f"{where} {key}")
    return out


def build_config(cls: type, base: dict[str, Any] | None = None, assignments: list[str] | None = None, where: str = "config") -> Any:
    """``cls`` from a mapping (e.g. a TOML table) with ``key=value`` overrides on top."""
    data = dict(base or {})
    data.update(parse_assignments(cls, assignments or []))
    return from_mapping(cls, data, where)


def config_options(cls: type) -> list[tuple[str, str, Any, str]]:
    """(name, type, default, help) of each field of a config dataclass, for ``ckg models``."""
    hints = typing.get_type_hints(cls)
    rows = []
    for f in dataclasses.fields(cls):
        default = f.default if f.default is not dataclasses.MISSING else (f.default_factory() if f.default_factory is not dataclasses.MISSING else None)
        tp = hints[f.name]
        tname = getattr(tp, "__name__", None) or str(tp).replace("typing.", "")
        rows.append((f.name, tname, default, f.metadata.get("help", "")))
    return rows
