"""Atomic writes of the pipeline's own files (compare, evaluation, examples, report).

Every file goes through a temporary sibling and a rename, so an interrupted run leaves the
previous version or the new one, never a truncated file that a later stage or a reader would
take for a finished one. The writer is the store's (:func:`ckgrec.schemas.store.atomic_write_bytes`), so the
result gets the mode the user's umask gives any new file: a report is meant to be shared.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from ckgrec.schemas.store import atomic_write_bytes


def _finite(x: Any) -> Any:
    """NaN and infinities -> None: strict JSON that any reader accepts."""
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {k: _finite(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_finite(v) for v in x]
    return x


finite_json = _finite  # public name, for the CLI's --json printers


def write_json(path: str | Path, obj: Any) -> Path:
    p = Path(path)
    atomic_write_bytes(
        p, (json.dumps(_finite(obj), indent=2, sort_keys=True, allow_nan=False, default=str) + "\n").encode("utf-8")
    )
    return p


def write_text(path: str | Path, text: str) -> Path:
    p = Path(path)
    atomic_write_bytes(p, text.encode("utf-8"))
    return p


def write_bytes(path: str | Path, data: bytes) -> Path:
    p = Path(path)
    atomic_write_bytes(p, data)
    return p


def read_json(path: str | Path) -> Any:
    return json.loads(Path(path).read_text(encoding="utf-8"))
