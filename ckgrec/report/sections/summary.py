"""The opening lines: what was run on what, who won, and what the last invocation did."""

from __future__ import annotations

from ckgrec.model.evaluation.statistics import format_p
from ckgrec.report.blocks import Section, Text
from ckgrec.report.collect import ReportData
from ckgrec.report.tables import mean_std


def build(d: ReportData) -> Section:
    cfg, c = d.cfg, d.manifest["counts"]
    src = d.manifest.get("source", {})
    models = ", ".join(f"{m.label} ({len(m.seeds)} seed{'s' if len(m.seeds) > 1 else ''})" for m in cfg.models)
    lines = [
        f"Dataset '{src.get('name', '?')}' ({src.get('format', '?')} format): {c['users']:,} users, {c['items']:,} items, "
        f"{sum(c['pairs'].values()):,} user-item pairs; store {cfg.store_path} (fingerprint {d.manifest['fingerprint']}).",
        f"Models: {models}.",
    ]
    if d.compare:
        primary = d.compare["metrics"][0]
        main = main_model_line(d.compare)
        if main:
            lines.append(main)
        best = d.compare["groups"][0]
        lines.append(
            f"Best on test {primary}: {best['label']} with {mean_std(best['mean'][primary], best['std'][primary])}; "
            f"paired tests against {d.compare['reference']} over {d.compare['paired_users']:,} users."
        )
    steps = d.state.meta.get("last_invocation", {}).get("steps", {})
    if steps:
        counts: dict[str, int] = {}
        for what in steps.values():
            counts[what] = counts.get(what, 0) + 1
        lines.append(
            "The invocation that wrote this report: "
            + ", ".join(f"{n} step{'s' if n > 1 else ''} {w}" for w, n in counts.items())
            + " (kept = inputs unchanged since the step last ran)."
        )
    return Section("summary", cfg.report.title, [Text(line) for line in lines])


MAIN_MODEL = "dualkgat"


def main_model_line(compare: dict) -> str | None:
    """The product's main model first: its figure, its margin over the paired reference (the
    strongest baseline) and the paired test's p, on the primary metric; None when it was not run."""
    primary, groups = compare["metrics"][0], compare["groups"]
    mine = [g for g in groups if g["model"] == MAIN_MODEL]
    if not mine:
        return None
    g = mine[0]
    ref = next((r for r in groups if r["label"] == compare["reference"]), None)
    rank = [x["label"] for x in groups].index(g["label"]) + 1
    text = f"Main model {g['label']}: test {primary} {mean_std(g['mean'][primary], g['std'][primary])}, rank {rank} of {len(groups)}"
    if ref is None or ref["label"] == g["label"]:
        return text + "."
    ours, theirs = g["mean"][primary], ref["mean"][primary]
    margin = f"{(ours - theirs) / theirs:+.1%}" if theirs else "n/a"
    return (
        f"{text}; {margin} against {ref['label']} ({mean_std(theirs, ref['std'][primary])}), "
        f"paired test p = {format_p(g['p_value'].get(primary))}."
    )
