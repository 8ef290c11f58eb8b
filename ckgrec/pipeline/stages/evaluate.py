"""Evaluate stage: per-user-group test figures of every run -> ``OUT/evaluation.json``.

The full-ranking test evaluation itself happens once, at the end of training, on the best
validation state (the trainer writes ``scores.json`` and per-user metrics); repeating it here
would only cost time. This stage gathers the per-group figures: the trainer's own when
``scores.json`` has ``groups``, otherwise the activity quartiles computed from the per-user
metrics (:mod:`ckgrec.pipeline.user_groups`), each marked with where it came from.
"""

from __future__ import annotations

import json
from typing import Iterator

from ckgrec.pipeline.files import write_json
from ckgrec.pipeline.fingerprints import file_digest
from ckgrec.pipeline.runner import Context, Step
from ckgrec.pipeline.stages.build import content_digest

NAME = "evaluate"
FILE = "evaluation.json"


def steps(ctx: Context) -> Iterator[Step]:
    from ckgrec.model.core.run_dir import SCORES, RunDir

    cfg = ctx.cfg
    runs = cfg.runs()
    inputs = {
        "store": content_digest(ctx.store()),
        "runs": {
            f"{m.label}/seed-{s}": [
                file_digest(RunDir(p).file(SCORES)),
                file_digest(RunDir(p).file("per_user_test.parquet")),
            ]
            for m, s, p in runs
        },
    }
    target = cfg.out / FILE

    def run(_resume: bool) -> dict:
        from ckgrec.pipeline.user_groups import (
            activity_groups,
            cold_users,
            training_degree,
        )

        degree = cold = None
        body: dict = {"split": "test", "runs": {}}
        for m, seed, path in runs:
            rd = RunDir(path)
            scores = json.loads(rd.file(SCORES).read_text(encoding="utf-8"))
            groups = scores.get("groups", {}).get("test")
            if groups:
                entry = {"source": "scores.json", "groups": groups}
            else:
                if degree is None:
                    degree, cold = training_degree(ctx.store()), cold_users(ctx.store())
                entry = {
                    "source": "per_user_test.parquet",
                    "groups": activity_groups(rd.read_per_user("test"), degree, cold),
                }
            body["runs"].setdefault(m.label, {})[str(seed)] = entry
        write_json(target, body)
        return {"file": str(target), "sha256": file_digest(target)}

    yield Step(
        name=NAME,
        stage=NAME,
        title="evaluate: test figures per user group",
        inputs=inputs,
        run=run,
        intact=lambda o: file_digest(target) == o.get("sha256"),
    )
