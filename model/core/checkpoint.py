"""Checkpoints: tensors and plain values only, written atomically, tied to one store build.

A checkpoint is a dict saved with :func:`torch.save` and read back with
``torch.load(weights_only=True)`` (no arbitrary pickles): model and optimiser state dicts, the
random states (the trainer's sampling generator, torch's global CPU/CUDA generators, numpy's and
Python's global generators) and the trainer's counters. Restoring all of them makes a resumed run
continue exactly where the interrupted one stopped, so on the CPU it ends with bit-identical
parameters and scores. Files are written to a temporary sibling and renamed (:func:`os.replace`),
so a kill during the write leaves the previous checkpoint intact.

Every checkpoint records the store fingerprint; :func:`load` refuses one from another build.
"""

from __future__ import annotations

import io
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ckgrec.schemas.errors import StoreError, StoreMismatchError
from ckgrec.schemas.store import atomic_write_bytes

FORMAT = 1


def save(path: str | Path, payload: dict[str, Any]) -> None:
    """Atomically write ``payload`` (must hold ``fingerprint``) to ``path``."""
    if "fingerprint" not in payload:
        raise ValueError("a checkpoint must record the store fingerprint")
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    torch.save({"format": FORMAT, **payload}, buf)
    atomic_write_bytes(p, buf.getbuffer(), fsync=True)


def load(path: str | Path, fingerprint: str | None = None, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a checkpoint; with ``fingerprint``, refuse one written for another store build."""
    p = Path(path)
    try:
        payload = torch.load(p, map_location=map_location, weights_only=True)
    except FileNotFoundError:
        raise
    except Exception as e:  # truncated or foreign file
        raise StoreError(f"{p}: not a readable ckgrec checkpoint ({e}); delete it or retrain with --force") from e
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise StoreError(f"{p}: not a ckgrec checkpoint of format {FORMAT}")
    if fingerprint is not None and payload.get("fingerprint") != fingerprint:
        raise StoreMismatchError(
            f"{p} was written for the store with fingerprint {payload.get('fingerprint')}, but the store given has "
            f"fingerprint {fingerprint}: its ids mean different things. Use the store it was trained on, or retrain with --force"
        )
    return payload


# ---- random states ---------------------------------------------------------------------------


def capture_rng(generator: torch.Generator) -> dict[str, Any]:
    """Every random state a training run draws from, as tensors and plain values."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    version, internal, gauss = random.getstate()
    state = {
        "generator": generator.get_state(),
        "torch": torch.get_rng_state(),
        "numpy": {
            "kind": kind,
            "keys": torch.from_numpy(keys.astype(np.int64)),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "cached": float(cached),
        },
        "python": {"version": version, "internal": list(internal), "gauss": gauss},
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: dict[str, Any], generator: torch.Generator) -> None:
    generator.set_state(state["generator"])
    torch.set_rng_state(state["torch"])
    n = state["numpy"]
    np.random.set_state((n["kind"], n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["cached"]))
    py = state["python"]
    random.setstate((py["version"], tuple(py["internal"]), py["gauss"]))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def seed_everything(seed: int) -> torch.Generator:
    """Seed torch, numpy and Python; return a fresh CPU generator for sampling, seeded too."""
    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)
    random.seed(seed)
    return torch.Generator().manual_seed(seed)
