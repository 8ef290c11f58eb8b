"""Trainer options (``[train]``, ``ckg train`` flags).

Precedence for a training run: trainer defaults < the model's ``train_defaults`` (its paper's
learning rate, batch size, L2, negatives) < the ``[train]`` table of ``--config FILE`` < command
line flags. For the model: its Config defaults < ``[model]`` of ``--config FILE`` < ``--set``.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from ckgrec.model.evaluation.metrics import parse_metric
from ckgrec.schemas.errors import ConfigError

TRAINER_DEFAULTS: dict[str, Any] = {"epochs": 300, "batch_size": 2048, "lr": 1e-3, "l2": 0.0, "num_negatives": 1}
OPTIMIZERS = ("adam", "sgd", "adagrad")


def _finite(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


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
        _check(
            self.epochs is None or (isinstance(self.epochs, int) and self.epochs >= 1),
            f"train.epochs = {self.epochs}: must be an integer >= 1 (an untrained model is not a run)",
        )
        _check(self.batch_size is None or self.batch_size >= 1, f"train.batch_size = {self.batch_size}: must be >= 1")
        _check(
            self.lr is None or (_finite(self.lr) and self.lr > 0),
            f"train.lr = {self.lr}: must be a finite number > 0, e.g. 0.001",
        )
        _check(
            self.l2 is None or (_finite(self.l2) and self.l2 >= 0),
            f"train.l2 = {self.l2}: must be a finite number >= 0",
        )
        _check(
            self.num_negatives is None or self.num_negatives >= 1,
            f"train.num_negatives = {self.num_negatives}: must be >= 1",
        )
        _check(
            self.negatives_from in ("all", "trained"),
            f"train.negatives_from = '{self.negatives_from}': use 'all' or 'trained'",
        )
        _check(
            self.optimizer in OPTIMIZERS, f"train.optimizer = '{self.optimizer}': use one of {', '.join(OPTIMIZERS)}"
        )
        _check(self.patience >= 0, f"train.patience = {self.patience}: must be >= 0 (0 = never stop early)")
        _check(self.eval_every >= 1, f"train.eval_every = {self.eval_every}: must be >= 1")
        _check(
            len(self.ks) > 0 and all(isinstance(k, int) and k >= 1 for k in self.ks),
            f"train.ks = {self.ks}: need positive integers",
        )
        _, k = parse_metric(self.valid_metric)
        _check(k in self.ks, f"train.valid_metric = '{self.valid_metric}': its K must be one of ks = {list(self.ks)}")
        _check(
            self.valid_users >= 0 and self.eval_batch_users >= 0,
            "train.valid_users and train.eval_batch_users must be >= 0",
        )
        _check(
            self.device in ("auto", "cpu", "cuda") or self.device.startswith("cuda:"),
            f"train.device = '{self.device}': use auto, cpu or cuda",
        )
        _check(self.threads is None or self.threads >= 1, f"train.threads = {self.threads}: must be >= 1")

    def resolved(self, model_cls: type) -> "TrainConfig":
        """A copy with every ``None`` replaced by the model's paper default or the trainer's."""
        defaults = {**TRAINER_DEFAULTS, **dict(getattr(model_cls, "train_defaults", {}))}
        changes = {k: defaults[k] for k in TRAINER_DEFAULTS if getattr(self, k) is None}
        return dataclasses.replace(self, **changes)
