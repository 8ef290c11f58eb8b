"""Search-space parameters a model declares next to its options (``Recommender.search_space``).

Each parameter says which table it belongs to -- ``"train"`` (a trainer option of
:class:`ckgrec.model.training.config.TrainConfig`: ``lr``, ``l2``, ``batch_size``,
``num_negatives``) or ``"model"`` (a field of the model's ``Config``) -- and its range::

    search_space = {
        "lr": Float("train", 1e-4, 1e-2, log=True),          # log-uniform
        "l2": Float("train", 1e-6, 1e-2, log=True),
        "embedding_dim": Categorical("model", (32, 64, 128)),
        "layers": Int("model", 1, 4),
    }

The table is written out on every parameter, never implied, so a reader (and ``ckg tune``)
knows where a sampled value goes. The tuner (:mod:`ckgrec.model.tuning`) turns these into
Optuna ``suggest_*`` calls; this module imports nothing but the standard library so that every
layer can declare them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Union

from ckgrec.schemas.errors import ConfigError

TABLES = ("train", "model")


def _check_table(table: str) -> None:
    if table not in TABLES:
        raise ConfigError(f"search-space table {table!r}: use 'train' (a trainer option) or 'model' (a model option)")


def _fmt(v: Any) -> str:
    if isinstance(v, tuple):
        return ",".join(map(str, v)) if v else "()"
    return f"{v:g}" if isinstance(v, float) else str(v)


@dataclass(frozen=True)
class Float:
    """A real value in [low, high]; ``log`` samples log-uniformly, ``step`` on a grid (not with log)."""

    table: str
    low: float
    high: float
    log: bool = False
    step: float | None = None

    def __post_init__(self) -> None:
        _check_table(self.table)
        if not (math.isfinite(self.low) and math.isfinite(self.high) and self.low < self.high):
            raise ConfigError(f"Float({self.low}, {self.high}): need finite low < high")
        if self.log and self.low <= 0:
            raise ConfigError(f"Float({self.low}, {self.high}, log=True): a log range needs low > 0")
        if self.log and self.step is not None:
            raise ConfigError("Float(..., log=True, step=...): a log range has no step")

    def describe(self) -> str:
        kind = "log-uniform" if self.log else "uniform"
        return f"{kind} [{_fmt(self.low)}, {_fmt(self.high)}]" + (
            f" step {self.step:g}" if self.step is not None else ""
        )


@dataclass(frozen=True)
class Int:
    """An integer in [low, high] (both inclusive); ``log`` samples log-uniformly."""

    table: str
    low: int
    high: int
    log: bool = False
    step: int = 1

    def __post_init__(self) -> None:
        _check_table(self.table)
        if self.low >= self.high:
            raise ConfigError(f"Int({self.low}, {self.high}): need low < high")
        if self.log and (self.low < 1 or self.step != 1):
            raise ConfigError(f"Int({self.low}, {self.high}, log=True): a log range needs low >= 1 and step 1")

    def describe(self) -> str:
        return f"int{' log' if self.log else ''} [{self.low}, {self.high}]" + (
            f" step {self.step}" if self.step != 1 else ""
        )


@dataclass(frozen=True)
class Categorical:
    """One of ``choices`` (numbers, strings, booleans, or tuples such as layer sizes)."""

    table: str
    choices: tuple[Any, ...]

    def __post_init__(self) -> None:
        _check_table(self.table)
        if len(self.choices) < 2:
            raise ConfigError(f"Categorical({self.choices!r}): need at least two choices")
        if len({self.label(c) for c in self.choices}) != len(self.choices):
            raise ConfigError(f"Categorical({self.choices!r}): choices repeat")

    @staticmethod
    def label(choice: Any) -> Any:
        """What Optuna stores for a choice: the choice itself, or ``"64,32"`` for a tuple."""
        return _fmt(choice) if isinstance(choice, tuple) else choice

    def describe(self) -> str:
        return "{" + " | ".join(_fmt(c) for c in self.choices) + "}"


Param = Union[Float, Int, Categorical]


def describe_space(space: dict[str, Param]) -> list[str]:
    """One line per parameter for ``ckg models``: ``lr (train): log-uniform [0.0001, 0.01]``."""
    return [f"{name} ({p.table}): {p.describe()}" for name, p in space.items()]
