"""Examples stage: top-K recommendations with explaining KG paths for a few users -> ``OUT/examples.json``.

From the best state (``best.pt``) of the first seed of ``[report] explain_model`` (default: the
first model that is not a baseline). Only KG models have attention to explain with; for the
others the list comes without paths, and the report says so.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Iterator

from ckgrec.pipeline.files import write_json
from ckgrec.pipeline.fingerprints import file_digest
from ckgrec.pipeline.runner import Context, Step
from ckgrec.pipeline.stages.build import content_digest
from ckgrec.schemas.config_io import to_dict
from ckgrec.schemas.errors import ConfigError

NAME = "examples"
FILE = "examples.json"


def _users(ctx: Context) -> list[str]:
    rep = ctx.cfg.report
    labels = ctx.store().table("users", columns=["user", "label"]).sort_values("user")["label"].astype(str).tolist()
    if not rep.explain_users:
        return labels[: rep.examples]
    known = set(labels)
    missing = [u for u in rep.explain_users if u not in known]
    if missing:
        raise ConfigError(
            f"{ctx.cfg.path} [report] explain_users: unknown user(s) {missing} in {ctx.cfg.store_path} (users are named by their source id, e.g. '{labels[0]}')"
        )
    return list(rep.explain_users)


def steps(ctx: Context) -> Iterator[Step]:
    from ckgrec.model.core.run_dir import BEST

    cfg = ctx.cfg
    label = cfg.explain_label
    if label is None or (cfg.report.examples == 0 and not cfg.report.explain_users):
        return
    m = cfg.model(label)
    seed = m.seeds[0]
    run_dir = m.run_dir(cfg.out, seed)
    target = cfg.out / FILE
    inputs = {
        "best": file_digest(run_dir / BEST),
        "store": content_digest(ctx.store()),
        "report": to_dict(cfg.report),
        "label": label,
        "seed": seed,
    }

    def run(_resume: bool) -> dict:
        from ckgrec.model.inference.load import load_model
        from ckgrec.model.inference.recommend import recommend, resolve_user

        data = ctx.data()
        model, _ = load_model(run_dir, data, ctx.device or "auto")
        users = []
        for user in _users(ctx):
            recs = recommend(model, data, resolve_user(data, user), k=cfg.report.top_k, explain=True, paths_per_graph=1)
            users.append({"user": user, "recommendations": [asdict(r) for r in recs]})
        write_json(target, {"label": label, "model": m.name, "seed": seed, "run": str(run_dir), "users": users})
        return {"file": str(target), "sha256": file_digest(target)}

    yield Step(
        name=NAME,
        stage=NAME,
        title=f"examples: top-{cfg.report.top_k} of {label} with explaining paths",
        inputs=inputs,
        run=run,
        intact=lambda o: file_digest(target) == o.get("sha256"),
    )
