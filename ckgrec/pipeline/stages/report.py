"""Report stage: ``OUT/report/report.html`` + ``report.md`` from what the earlier stages wrote.

Its inputs are the hashes of every file the page reads, the other steps' records (their times
and memory are on the page) and the source of the report package itself, so a changed page
layout regenerates the report without retraining anything.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Iterator

from ckgrec.pipeline.fingerprints import digest, file_digest, tree_digest
from ckgrec.pipeline.runner import Context, Step

NAME = "report"


def steps(ctx: Context) -> Iterator[Step]:
    import ckgrec.report
    from ckgrec.model.core.run_dir import METRICS, SCORES

    cfg = ctx.cfg
    target = cfg.out / "report" / "report.html"
    records = {
        n: {k: v for k, v in dataclasses.asdict(r).items() if k != "error"}
        for n, r in ctx.state.records.items()
        if n != NAME
    }
    inputs = {
        "files": {name: file_digest(cfg.out / name) for name in ("compare.json", "evaluation.json", "examples.json")},
        "runs": {f"{m.label}/seed-{s}": [file_digest(p / SCORES), file_digest(p / METRICS)] for m, s, p in cfg.runs()},
        "manifest": file_digest(cfg.store_path / "manifest.json"),
        "pretrained": {p.name: file_digest(p) for p in sorted((cfg.store_path / "pretrained").glob("*.json"))},
        "records": digest(records),
        "config": cfg.text,
        "code": tree_digest(Path(ckgrec.report.__file__).parent),
    }

    def run(_resume: bool) -> dict:
        from ckgrec.report.write import write_report

        files = write_report(cfg, ctx.state)
        return {"html": str(files.html), "markdown": str(files.markdown), "sha256": file_digest(files.html)}

    yield Step(
        name=NAME,
        stage=NAME,
        title="report",
        inputs=inputs,
        run=run,
        intact=lambda o: file_digest(target) == o.get("sha256"),
    )
