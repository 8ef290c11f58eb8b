"""Load the best model of a finished (or interrupted) run: config.json + best.pt -> a model.

Inference reads runs through this module and never imports the training loop.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ckgrec.model.core import checkpoint as ckpt
from ckgrec.model.core.device import resolve_device
from ckgrec.model.core.options import build_config
from ckgrec.model.core.run_dir import BEST, RunDir
from ckgrec.model.data.train_data import TrainData
from ckgrec.model.models.base import Recommender
from ckgrec.model.models.registry import get_model
from ckgrec.schemas.errors import StoreError


def load_model(run: RunDir | str | Path, data: TrainData, device: str = "auto") -> tuple[Recommender, dict[str, Any]]:
    """The best model of a run, on ``device``, checked against ``data``'s store fingerprint."""
    run = run if isinstance(run, RunDir) else RunDir(run)
    cfg = run.read_config()
    run.check_store(data.fingerprint, data.store.path if data.store is not None else None)
    cls = get_model(cfg["model"])
    mc = build_config(cls.Config, cfg.get("model_config", {}), where=f"{run.file('config.json')} model_config")
    if not run.file(BEST).is_file():
        raise StoreError(
            f"{run.path}: {BEST} is missing; the run has not finished its first evaluation (resume it with 'ckg train')"
        )
    dev = resolve_device(device)
    model = cls.build(data, mc, dev)
    payload = ckpt.load(run.file(BEST), data.fingerprint, map_location=dev)
    model.load_state_dict(payload["model"])
    return model, cfg
