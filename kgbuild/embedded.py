"""Where the embedded default dataset lives (``data/`` at the top of the source tree)."""

from __future__ import annotations

from pathlib import Path

from ckgrec.schemas.errors import InputNotFoundError


def embedded_dataset_dir() -> Path:
    path = Path(__file__).resolve().parent.parent / "data"
    if not (path / "interactions.csv").is_file():
        raise InputNotFoundError(
            f"the embedded dataset is missing at {path}; install ckgrec from a source checkout (pip install -e .)"
        )
    return path
