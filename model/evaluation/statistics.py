"""Paired significance tests over per-user metric values, and how a p-value is printed.

Every table of ckgrec (``ckg compare``, its group tables, the report) prints p-values through
:func:`format_p`, so "ref" and "—" mean the same everywhere.
"""

from __future__ import annotations

import math

import numpy as np

TESTS = ("wilcoxon", "ttest")


def paired_p(a: np.ndarray, b: np.ndarray, test: str) -> float:
    """Two-sided p-value of a paired test between per-user values ``a`` and ``b`` (shape ``(U,)``).

    ``test``: ``wilcoxon`` (signed-rank, zero differences dropped) or ``ttest`` (paired t).
    Identical vectors, or fewer than two users, give 1.0 (no evidence of a difference).
    """
    from scipy import stats

    d = a - b
    if len(d) < 2 or np.allclose(d, 0.0):
        return 1.0
    if test == "wilcoxon":
        return float(stats.wilcoxon(a, b, zero_method="wilcox", alternative="two-sided").pvalue)
    return float(stats.ttest_rel(a, b).pvalue)


def format_p(p: float | None, *, is_reference: bool = False) -> str:
    """``ref`` for the reference row, ``—`` for a p-value that could not be computed, else 3 digits."""
    if is_reference:
        return "ref"
    if p is None or math.isnan(p):
        return "—"
    return f"{p:.1e}" if p < 1e-3 else f"{p:.3f}"
