"""Train stage: one step per model and seed, each a run directory ``OUT/runs/<label>/seed-<s>``.

Training itself is :func:`ckgrec.model.training.trainer.train`, which checkpoints every epoch and resumes from
``RUN/checkpoint.pt``. This module decides when resuming is right: the *method* (model,
options, trainer settings other than ``epochs``/``device``/``threads``, the store's content, and
for models that start from them the pretrained tensors' hashes) must be the one the checkpoint
was made with -- the same rule the trainer applies to ``config.json``. Any other change, or a
finished run whose inputs changed, trains from scratch.
"""

from __future__ import annotations

import dataclasses
from typing import Iterator

from ckgrec.pipeline.config import ModelRun
from ckgrec.pipeline.fingerprints import file_digest
from ckgrec.pipeline.runner import Context, Step
from ckgrec.pipeline.stages.build import content_digest
from ckgrec.schemas.config_io import to_dict
from ckgrec.schemas.tables import GRAPHS

NAME = "train"
_RESUMABLE = ("epochs", "device", "threads")  # model.run_dir.RESUMABLE_CHANGES for the trainer table


def step_name(label: str, seed: int) -> str:
    return f"{NAME}:{label}/seed-{seed}"


def _pretrained_digests(store_path) -> dict[str, str | None]:
    from ckgrec.model.data.pretrained import pretrained_paths

    return {g: file_digest(pretrained_paths(store_path, g)[0]) for g in GRAPHS}


def _step(ctx: Context, m: ModelRun, seed: int, pretrained: dict[str, str | None]) -> Step:
    from ckgrec.model.core.run_dir import SCORES, RunDir

    cfg = ctx.cfg
    run_dir = m.run_dir(cfg.out, seed)
    tc = m.train_config(seed)
    if ctx.device is not None:
        tc = dataclasses.replace(tc, device=ctx.device)
    train_dict = to_dict(tc)
    method = {
        "model": m.name,
        "options": to_dict(m.options),
        "train": {k: v for k, v in train_dict.items() if k not in _RESUMABLE},
        "fingerprint": ctx.store().fingerprint,
        "store": content_digest(ctx.store()),  # the split, not only the ids
        "pretrained": pretrained if m.uses_pretrained else None,
    }
    rd = RunDir(run_dir)

    def run(resume: bool) -> dict:
        from ckgrec.model.training.trainer import train

        if not resume:
            rd.clear()
        scores = train(
            ctx.data(),
            m.name,
            run_dir,
            model_config=m.options,
            train_config=tc,
            force=not resume,
            progress=ctx.progress,
            log=lambda msg: ctx.log(f"  {msg}"),
            nproc=cfg.nproc,
        )
        return {
            "run": str(run_dir),
            "scores_sha256": file_digest(rd.file(SCORES)),
            "test": {k: v for k, v in scores["test"].items()},
            "epochs": scores.get("epochs"),
            "best_epoch": scores.get("best_epoch"),
        }

    def intact(outputs: dict) -> bool:
        return rd.is_complete and file_digest(rd.file(SCORES)) == outputs.get("scores_sha256")

    return Step(
        name=step_name(m.label, seed),
        stage=NAME,
        title=f"train {m.label} (seed {seed})",
        inputs={**method, "epochs": train_dict["epochs"]},
        resume_inputs=method,
        run=run,
        intact=intact,
        can_resume=lambda: rd.has_checkpoint,
    )


def steps(ctx: Context) -> Iterator[Step]:
    pretrained = _pretrained_digests(ctx.cfg.store_path)
    for m, seed, _ in ctx.cfg.runs():
        yield _step(ctx, m, seed, pretrained)
