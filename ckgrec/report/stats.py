"""Mean and sample standard deviation over seeds, as model.compare computes them (std of one seed: NaN)."""

from __future__ import annotations

import math

import numpy as np


def mean_std(values: list[float]) -> tuple[float, float]:
    if not values:
        return math.nan, math.nan
    arr = np.asarray(values, dtype=np.float64)
    return float(arr.mean()), float(arr.std(ddof=1)) if len(arr) > 1 else math.nan


def maximum(values: list[float | None]) -> float | None:
    finite = [v for v in values if v is not None and not math.isnan(v)]
    return max(finite) if finite else None
