"""The settings of a study (``ckg tune`` flags, the ``[tune]`` table of ``ckg run``)."""

from __future__ import annotations

from dataclasses import dataclass

from ckgrec.schemas.errors import ConfigError

PRUNERS = ("median", "none")


@dataclass(frozen=True, kw_only=True)
class TuneConfig:
    """How many trials a study runs and how it prunes.

    ``trials`` counts finished trials (complete, pruned or failed) over every session of the
    study: a study interrupted after 7 of 20 and started again runs 13 more. ``timeout`` (seconds)
    stops starting new trials once this session has run that long; a running trial finishes.
    ``seed`` seeds the TPE sampler (trial n draws from a sampler seeded by (seed, n), so a resumed
    study samples what an uninterrupted one would) and every trial's training.
    ``pruner = "median"`` stops a trial whose validation value at an epoch is below the median of
    the earlier trials at that epoch, once ``prune_startup`` trials have finished and from epoch
    ``prune_warmup`` + 1 on.
    """

    trials: int
    timeout: float | None = None
    seed: int = 2020
    pruner: str = "median"
    prune_startup: int = 3
    prune_warmup: int = 5

    def __post_init__(self) -> None:
        if isinstance(self.trials, bool) or not isinstance(self.trials, int) or self.trials < 1:
            raise ConfigError(f"tune.trials = {self.trials!r}: must be an integer >= 1")
        if self.timeout is not None and not (isinstance(self.timeout, (int, float)) and self.timeout > 0):
            raise ConfigError(
                f"tune.timeout = {self.timeout!r}: must be a number of seconds > 0 (leave it out for no limit)"
            )
        if self.pruner not in PRUNERS:
            raise ConfigError(f"tune.pruner = {self.pruner!r}: use one of {', '.join(PRUNERS)}")
        if self.prune_startup < 0 or self.prune_warmup < 0:
            raise ConfigError(
                f"tune.prune_startup = {self.prune_startup}, tune.prune_warmup = {self.prune_warmup}: must be >= 0"
            )
        if not (0 <= self.seed < 2**32):
            raise ConfigError(f"tune.seed = {self.seed}: must be in [0, 2^32)")
