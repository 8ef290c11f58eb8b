"""Numeric ``rating`` columns -> interaction relations and confidences.

A rating column is one of two things, and the graph must not confuse them:

* **levels**: a few explicit ratings (1-5 stars, 0.5-5 in half stars). Each level is its own
  relation (``rating_4``) so "loved" and "tolerated" stay different edges; confidence is
  rating / max rating.
* **weight**: a count or duration with many levels (play counts, seconds watched). One relation
  per level would give thousands of relations of a handful of edges each, so it becomes the
  behaviour's one relation (``interact``) -- or, with ``rating = "bins"``, a few quantile-bin
  relations ``interact_q1`` (lowest) .. ``interact_qB`` -- and the weight only sets the
  confidence, on one of two scales (``weight_scale``):

  - ``log``: ``c = f + (1 - f) * log(1 + w - w_min) / log(1 + w_max - w_min)``, ``f`` =
    :data:`MIN_CONFIDENCE`; a count of 10 out of 10^5 gets 0.28, not 0.0001.
  - ``user_quantile``: the weight's percentile among its user's interactions (average rank /
    n), at least ``f``: heavy and light users are put on one scale.

``rating = "auto"`` (the default) picks levels when the column has at most ``max_levels``
distinct values and every value is a multiple of 0.5, else weight; :class:`WeightDecision`
says what was decided and why, for the manifest and the build summary.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from ckgrec.kgbuild.config import InteractionConfig

MIN_CONFIDENCE = 0.1  # smallest confidence a weight gets: a light interaction is still a positive
LEVEL_MIN_CONFIDENCE = 1e-3
BIN_SUFFIX = "_q"


@dataclass(frozen=True)
class WeightDecision:
    """How the rating column was read: ``mode`` (levels | weight | bins), ``requested`` (the
    config value), ``reason`` (one line for a person), the column's ``distinct`` values and
    whether all are multiples of 0.5 (``half_steps``), the confidence ``scale`` and, for bins,
    their edges."""

    mode: str
    requested: str
    reason: str
    distinct: int
    half_steps: bool
    scale: str
    relations: int
    bin_edges: tuple[float, ...] = ()

    def as_dict(self) -> dict:
        d = asdict(self)
        d["bin_edges"] = list(self.bin_edges)
        return d

    def describe(self) -> str:
        """One line for the build summary."""
        how = "auto" if self.requested == "auto" else "configured"
        rel = f"{self.relations} relation{'s' if self.relations != 1 else ''}"
        return f"rating column read as {self.mode} ({how}: {self.reason}) -> {rel}, confidence {self.scale}"


def decide(rating: pd.Series, cfg: InteractionConfig) -> tuple[str, str, int, bool]:
    """(mode, reason, distinct values, all multiples of 0.5) for a finite numeric column."""
    values = rating.to_numpy(dtype=np.float64)
    uniques = np.unique(values)
    n = len(uniques)
    half = bool(np.all(np.mod(uniques * 2, 1) == 0))
    whole = bool(np.all(np.mod(uniques, 1) == 0))
    kind = ", all whole numbers" if whole else (", all multiples of 0.5" if half else ", not all multiples of 0.5")
    facts = f"{n:,} distinct value{'s' if n != 1 else ''}{kind}"
    if cfg.rating != "auto":
        return cfg.rating, facts, n, half
    if n <= cfg.max_levels and half:
        return "levels", f"{facts}, at most max_levels = {cfg.max_levels}", n, half
    why = f"more than max_levels = {cfg.max_levels}" if n > cfg.max_levels else "so not star ratings"
    return "weight", f"{facts}, {why}", n, half


def rating_relations(
    inter: pd.DataFrame, behaviour_relation: pd.Series, cfg: InteractionConfig
) -> tuple[pd.Series, pd.Series, WeightDecision]:
    """(relation name, confidence, decision) per row of ``inter`` (columns user_id, rating).

    ``behaviour_relation`` is each row's behaviour relation name (``interact`` when the source
    has no behaviour column); weights and bins are named after it.
    """
    r = inter["rating"].astype(np.float64)
    mode, reason, n, half = decide(r, cfg)
    edges: tuple[float, ...] = ()
    if mode == "levels":
        names = {
            v: "rating_" + f"{v:g}".replace(".", "_").replace("-", "minus") for v in r.unique()
        }  # map over uniques: fast
        relation = r.map(names)
        max_rating = float(r.max()) if len(r) else 1.0
        confidence = (
            (r / max_rating).clip(lower=LEVEL_MIN_CONFIDENCE) if max_rating > 0 else pd.Series(1.0, index=r.index)
        )
        scale = "rating / max rating"
    else:
        confidence = _log_scale(r) if cfg.weight_scale == "log" else _user_quantile(r, inter["user_id"])
        scale = (
            f"log-scaled in [{MIN_CONFIDENCE:g}, 1]"
            if cfg.weight_scale == "log"
            else f"per-user quantile in [{MIN_CONFIDENCE:g}, 1]"
        )
        if mode == "weight":
            relation = behaviour_relation
        else:
            bins, edges = _quantile_bins(r, cfg.weight_bins)
            relation = behaviour_relation + BIN_SUFFIX + pd.Series(bins + 1, index=r.index).astype(str)
    decision = WeightDecision(mode, cfg.rating, reason, n, half, scale, int(relation.nunique()), edges)
    return relation, confidence.astype(np.float32), decision


def _log_scale(w: pd.Series) -> pd.Series:
    lo, hi = (float(w.min()), float(w.max())) if len(w) else (0.0, 0.0)
    if hi <= lo:
        return pd.Series(1.0, index=w.index)
    return MIN_CONFIDENCE + (1.0 - MIN_CONFIDENCE) * np.log1p(w - lo) / np.log1p(hi - lo)


def _user_quantile(w: pd.Series, users: pd.Series) -> pd.Series:
    pct = w.groupby(users.to_numpy(), sort=False).rank(method="average", pct=True)
    return pct.clip(lower=MIN_CONFIDENCE)


def _quantile_bins(w: pd.Series, n_bins: int) -> tuple[np.ndarray, tuple[float, ...]]:
    """0-based bin of each weight among at most ``n_bins`` global quantile bins, and the edges."""
    edges = np.unique(np.quantile(w.to_numpy(), np.linspace(0, 1, n_bins + 1)))
    if len(edges) < 2:
        return np.zeros(len(w), dtype=np.int64), tuple(float(e) for e in edges)
    idx = np.clip(np.searchsorted(edges, w.to_numpy(), side="right") - 1, 0, len(edges) - 2)
    return idx, tuple(float(e) for e in edges)
