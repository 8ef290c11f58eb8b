"""The opening lines: what was run on what, who won, and what the last invocation did."""

from __future__ import annotations

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
