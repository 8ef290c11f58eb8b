"""Compare stage: the models x metrics comparison and the ablations -> ``OUT/compare.json``.

The statistics are :func:`ckgrec.model.evaluation.compare.compare`'s (mean ± std over seeds, paired test per user
against a reference); this module only names its groups by the config's labels and adds the
ablations: for a model listed with several option sets, every variant against the first one
listed (the paired test then asks "did this change matter", not "does it beat a baseline").
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any, Iterator

from ckgrec.pipeline.config import ModelRun, PipelineConfig
from ckgrec.pipeline.files import write_json
from ckgrec.pipeline.fingerprints import file_digest
from ckgrec.pipeline.runner import Context, Step
from ckgrec.schemas.config_io import to_dict

NAME = "compare"
FILE = "compare.json"


def _labelled(paths: list[Path], label_of: dict[str, str], cfg: PipelineConfig, reference: str | None):
    """:func:`ckgrec.model.evaluation.compare.compare` on ``paths`` with ``reference`` given as a config label; (comparison, compare label -> config label)."""
    from ckgrec.model.evaluation.compare import compare

    ev = cfg.evaluate
    args = ([str(p) for p in paths], list(ev.metrics), "test")
    # per-group figures come from the evaluate stage; compare's own per-group tests are not needed here
    extra = {"group_metrics": []} if "group_metrics" in inspect.signature(compare).parameters else {}
    c = compare(*args, reference=None, test=ev.test, **extra)
    mine = {g.label: label_of[str(Path(g.runs[0].path).resolve())] for g in c.groups}
    if reference is not None and mine[c.reference] != reference:
        theirs = next(k for k, v in mine.items() if v == reference)
        c = compare(*args, reference=theirs, test=ev.test, **extra)
    return c, mine


def _group_json(g, label: str, models: dict[str, ModelRun]) -> dict[str, Any]:
    return {
        "label": label,
        "model": g.model,
        "is_baseline": models[label].is_baseline,
        "seeds": [r.seed for r in g.runs],
        "runs": [str(r.path) for r in g.runs],
        "mean": g.mean,
        "std": g.std,
        "p_value": g.p_value,
        "relative_difference": g.delta,
    }


def _flat(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def changes(base: ModelRun, variant: ModelRun) -> dict[str, list[Any]]:
    """``{"options.use_item_side": [true, false], "train.lr": [...]}``: what the variant changed."""
    a = _flat({"options": to_dict(base.options), "train": to_dict(base.train)})
    b = _flat({"options": to_dict(variant.options), "train": to_dict(variant.train)})
    return {k: [a.get(k), b.get(k)] for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k) and k != "train.seed"}


def ablations(cfg: PipelineConfig, label_of: dict[str, str]) -> list[dict[str, Any]]:
    models = {m.label: m for m in cfg.models}
    by_model: dict[str, list[ModelRun]] = {}
    for m in cfg.models:
        by_model.setdefault(m.name, []).append(m)
    out = []
    for name, variants in by_model.items():
        if len(variants) < 2:
            continue
        base = variants[0]
        paths = [p for v in variants for p in (v.run_dir(cfg.out, s) for s in v.seeds)]
        c, mine = _labelled(paths, label_of, cfg, base.label)
        rows = {mine[g.label]: _group_json(g, mine[g.label], models) for g in c.groups}
        out.append(
            {
                "model": name,
                "base": base.label,
                "test": c.test,
                "paired_users": c.n_users,
                "variants": [{**rows[v.label], "changes": changes(base, v)} for v in variants],
            }
        )
    return out


def steps(ctx: Context) -> Iterator[Step]:
    from ckgrec.model.core.run_dir import SCORES, RunDir

    cfg = ctx.cfg
    runs = cfg.runs()
    target = cfg.out / FILE
    inputs = {
        "runs": {
            f"{m.label}/seed-{s}": [
                file_digest(RunDir(p).file(SCORES)),
                file_digest(RunDir(p).file("per_user_test.parquet")),
            ]
            for m, s, p in runs
        },
        "evaluate": to_dict(cfg.evaluate),
    }

    def run(_resume: bool) -> dict:
        label_of = {str(p.resolve()): m.label for m, _, p in runs}
        models = {m.label: m for m in cfg.models}
        c, mine = _labelled([p for _, _, p in runs], label_of, cfg, cfg.evaluate.reference)
        body = {
            "split": c.split,
            "metrics": c.metrics,
            "test": c.test,
            "reference": mine[c.reference],
            "paired_users": c.n_users,
            "protocol": "full",
            "groups": [_group_json(g, mine[g.label], models) for g in c.groups],
            "ablations": ablations(cfg, label_of),
        }
        write_json(target, body)
        return {"file": str(target), "sha256": file_digest(target), "reference": body["reference"]}

    yield Step(
        name=NAME,
        stage=NAME,
        title="compare the models on the test split",
        inputs=inputs,
        run=run,
        intact=lambda o: file_digest(target) == o.get("sha256"),
    )
