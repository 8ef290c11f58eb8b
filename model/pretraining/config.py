"""Options of TransR pretraining, importable without torch (``ckg pretrain --help`` reads its defaults)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ckgrec.schemas.errors import ConfigError


@dataclass(frozen=True, kw_only=True)
class PretrainConfig:
    """Options of TransR pretraining (the ``[pretrain]`` table of a TOML config).

    Defaults work on the embedded dataset on one CPU thread (see benchmarks/RESULTS.md).
    """

    embedding_dim: int = 64  # entity space d
    relation_dim: int = 64  # relation space k
    epochs: int = 100  # upper bound; early stopping usually ends sooner
    batch_size: int = 1024
    learning_rate: float = 0.005  # Adam
    negatives: int = 4  # corrupted triples per positive
    corruption: str = "tail"  # 'tail' (the recommender's KG loss) or 'both'
    warm_start: str = "transe"  # 'transe': TransE vectors + identity projections; 'none': random
    warm_start_epochs: int = 20
    holdout: float = 0.04  # share of triples held out: half validation, half test
    eval_sample: int = 500  # at most this many validation (and test) triples are ranked
    eval_every: int = 5  # epochs between validations
    patience: int = 3  # validations without improvement before stopping; 0 disables early stopping
    min_relative_improvement: float = 0.01
    eval_batch_size: int = 256
    scorer: str = "grouped"  # 'grouped' (one GEMM per relation) or 'pykeen' (PyKEEN's per-triple bmm)
    seed: int = 2020
    threads: int = 1
    device: str = "auto"  # 'auto' (CUDA when available), 'cpu' or 'cuda'

    def __post_init__(self) -> None:
        positive = (
            "embedding_dim",
            "relation_dim",
            "epochs",
            "batch_size",
            "negatives",
            "eval_every",
            "eval_batch_size",
            "threads",
        )
        for name in positive:
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ConfigError(f"pretrain.{name} must be a positive integer, got {v!r}")
        for name in ("warm_start_epochs", "eval_sample", "patience", "seed"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 0:
                raise ConfigError(f"pretrain.{name} must be a non-negative integer, got {v!r}")
        if not (
            isinstance(self.learning_rate, (int, float))
            and math.isfinite(self.learning_rate)
            and self.learning_rate > 0
        ):
            raise ConfigError(
                f"pretrain.learning_rate must be a finite number > 0 (e.g. 0.001), got {self.learning_rate!r}"
            )
        if not (isinstance(self.holdout, (int, float)) and 0 <= self.holdout < 0.5):
            raise ConfigError(
                f"pretrain.holdout must lie in [0, 0.5), got {self.holdout!r} (share of triples held out)"
            )
        if not (
            isinstance(self.min_relative_improvement, (int, float))
            and math.isfinite(self.min_relative_improvement)
            and self.min_relative_improvement >= 0
        ):
            raise ConfigError(f"pretrain.min_relative_improvement must be >= 0, got {self.min_relative_improvement!r}")
        choices = {
            "corruption": ("tail", "both"),
            "warm_start": ("transe", "none"),
            "scorer": ("grouped", "pykeen"),
            "device": ("auto", "cpu", "cuda"),
        }
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ConfigError(f"pretrain.{name} must be one of {', '.join(allowed)}, got {getattr(self, name)!r}")
