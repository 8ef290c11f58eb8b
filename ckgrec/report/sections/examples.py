"""Example recommendations with the knowledge-graph paths that explain them."""

from __future__ import annotations

from ckgrec.report.blocks import Section, Text
from ckgrec.report.collect import ReportData
from ckgrec.report.tables import Table, cell


def build(d: ReportData) -> Section | None:
    ex = d.examples
    if not ex or not ex.get("users"):
        return None
    blocks: list = [
        Text(
            f"Top {d.cfg.report.top_k} of {ex['label']} (seed {ex['seed']}, best validation state) for {len(ex['users'])} users; items the user "
            "already has in any split are excluded. A path is scored by the product of the attention weights along it."
        )
    ]
    any_paths = False
    for u in ex["users"]:
        rows = []
        for r in u["recommendations"]:
            paths = "\n".join(f"[{p['graph']}] {p['text']}" for p in r.get("paths", []))
            any_paths = any_paths or bool(paths)
            name = r.get("name") if isinstance(r.get("name"), str) else ""
            rows.append(
                [
                    cell(str(r["rank"])),
                    cell(r["label"] + (" (cold)" if r.get("cold") else "")),
                    cell(name),
                    cell(f"{r['score']:.3f}"),
                    cell(paths or "—", muted=not paths),
                ]
            )
        blocks.append(
            Table(
                ["rank", "item", "name", "score", "explaining paths"],
                rows,
                caption=f"user {u['user']}",
                numeric_from=99,
            )
        )
    if not any_paths:
        blocks.append(
            Text(f"{ex['model']} has no attention over a knowledge graph, so its recommendations come without paths.")
        )
    return Section("examples", "Example recommendations", blocks)
