"""Typed, range-checked command-line values: a bad number is refused by argparse in one line
("argument -k: must be an integer >= 1, got '0'") before any work starts."""

from __future__ import annotations

import argparse
import math


def int_range(low: int | None = None, high: int | None = None):
    """An ``argparse`` type: an integer in [low, high] (either bound optional)."""

    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer{_bounds(low, high)}, got {text!r}") from None
        if (low is not None and v < low) or (high is not None and v > high):
            raise argparse.ArgumentTypeError(f"must be an integer{_bounds(low, high)}, got {text!r}")
        return v

    parse.__name__ = "integer"
    return parse


def float_range(
    low: float | None = None, *, low_open: bool = False, high: float | None = None, high_open: bool = False
):
    """An ``argparse`` type: a finite number in the given range (NaN and infinities refused)."""

    def parse(text: str) -> float:
        try:
            v = float(text)
        except ValueError:
            v = math.nan
        ok = math.isfinite(v)
        if ok and low is not None:
            ok = v > low if low_open else v >= low
        if ok and high is not None:
            ok = v < high if high_open else v <= high
        if not ok:
            rng = []
            if low is not None:
                rng.append(f"{'>' if low_open else '>='} {low:g}")
            if high is not None:
                rng.append(f"{'<' if high_open else '<='} {high:g}")
            raise argparse.ArgumentTypeError(
                f"must be a finite number{' ' + ' and '.join(rng) if rng else ''}, got {text!r}"
            )
        return v

    parse.__name__ = "number"
    return parse


def _bounds(low, high) -> str:
    if low is not None and high is not None:
        return f" from {low} to {high}"
    if low is not None:
        return f" >= {low}"
    if high is not None:
        return f" <= {high}"
    return ""


SEED = int_range(0, 2**32 - 1)
POSITIVE = int_range(1)
NON_NEGATIVE = int_range(0)
