"""Ablations: a model listed with several option sets, each variant against the first one listed."""

from __future__ import annotations

import json

from ckgrec.report.blocks import Section, Text
from ckgrec.report.collect import ReportData
from ckgrec.report.sections.comparison import TEST_NAMES, comparison_table


def _changes(ch: dict) -> str:
    if not ch:
        return "(base)"
    return "\n".join(f"{k.removeprefix('options.')}: {json.dumps(a)} → {json.dumps(b)}" for k, (a, b) in ch.items())


def build(d: ReportData) -> Section | None:
    ablations = (d.compare or {}).get("ablations") or []
    if not ablations:
        return None
    metrics = d.compare["metrics"]
    blocks = []
    for ab in ablations:
        variants = ab["variants"]
        t = comparison_table(
            variants,
            metrics,
            ab["base"],
            first_column="variant",
            extra={"changes vs base": [_changes(v["changes"]) for v in variants]},
        )
        t.caption = f"{ab['model']}: variants against {ab['base']}"
        t.notes = [
            f"Bold: best in the column. p: {TEST_NAMES.get(ab['test'], ab['test'])} over {ab['paired_users']:,} test users against "
            f"{ab['base']}; * marks p < 0.05. Options not listed are equal."
        ]
        blocks.append(t)
    blocks.insert(0, Text("Runs of one model that differ in their options: does each change matter?"))
    return Section("ablation", "Ablations", blocks)
