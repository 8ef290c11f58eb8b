"""Pretrain stage: TransR on both graphs -> ``STORE/pretrained`` (only when a model starts from it).

Inputs: the store's fingerprint and triples hash and the ``[pretrain]`` table without
``device``/``threads`` (where it runs does not change what it is for). The outputs are checked
by content hash, so embeddings replaced or removed since are recomputed.
"""

from __future__ import annotations

import dataclasses
from typing import Iterator

from ckgrec.pipeline.fingerprints import file_digest
from ckgrec.pipeline.runner import Context, Step
from ckgrec.schemas.config_io import to_dict
from ckgrec.schemas.tables import GRAPHS

NAME = "pretrain"
_PLACE = ("device", "threads")


def steps(ctx: Context) -> Iterator[Step]:
    cfg = ctx.cfg
    if cfg.pretrain is None:
        ctx.log("[run] pretrain: disabled ([pretrain] enabled = false)")
        return
    if not any(m.uses_pretrained for m in cfg.models):
        ctx.log("[run] pretrain: no model starts from pretrained embeddings, nothing to do")
        return
    pc = cfg.pretrain if ctx.device is None else dataclasses.replace(cfg.pretrain, device=ctx.device)
    store = ctx.store()
    inputs = {
        "fingerprint": store.fingerprint,
        "triples_sha256": store.manifest.get("files", {}).get("triples.parquet"),
        "pretrain": {k: v for k, v in to_dict(pc).items() if k not in _PLACE},
    }

    def run(_resume: bool) -> dict:
        from ckgrec.model.pretraining.pretrain import pretrain_store

        written = pretrain_store(ctx.store(), pc, GRAPHS, progress=ctx.progress, log=lambda m: ctx.log(f"  {m}"))
        return {g: {"file": str(p), "sha256": file_digest(p)} for g, p in written.items()}

    def intact(outputs: dict) -> bool:
        from ckgrec.model.data.pretrained import pretrained_paths

        # the files where they are now (an output directory may have been moved), not where they were written
        return all(
            g in outputs and file_digest(pretrained_paths(cfg.store_path, g)[0]) == outputs[g]["sha256"] for g in GRAPHS
        )

    yield Step(
        name=NAME,
        stage=NAME,
        title=f"pretrain TransR on {', '.join(GRAPHS)} ({pc.epochs} epochs at most)",
        inputs=inputs,
        run=run,
        intact=intact,
    )
