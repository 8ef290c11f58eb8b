"""What ``ckg run`` and ``ckg demo`` print at the end: the comparison, the report path, the examples.

Read from the files the stages wrote, so a rerun that kept every stage prints the same ending
as the run that computed it.
"""

from __future__ import annotations

import json

from ckgrec.pipeline.config import PipelineConfig


def comparison(cfg: PipelineConfig) -> str:
    from ckgrec.report.sections.comparison import from_compare
    from ckgrec.report.tables import Table, to_markdown

    p = cfg.out / "compare.json"
    if not p.is_file():
        return ""
    section = from_compare(json.loads(p.read_text(encoding="utf-8")))
    return "\n\n".join(to_markdown(b) for b in section.blocks if isinstance(b, Table))


def examples(cfg: PipelineConfig) -> str:
    p = cfg.out / "examples.json"
    if not p.is_file():
        return ""
    ex = json.loads(p.read_text(encoding="utf-8"))
    lines = []
    for u in ex["users"]:
        lines.append(f"user {u['user']}: top {len(u['recommendations'])} by {ex['label']}")
        for r in u["recommendations"]:
            name = r["name"] if isinstance(r.get("name"), str) else ""
            lines.append(
                f"  {r['rank']}. {r['label']} {name}  score {r['score']:.3f}{'  (cold item)' if r.get('cold') else ''}"
            )
            for path in r.get("paths", []):
                lines.append(f"       [{path['graph']}] {path['text']}")
    return "\n".join(lines)


def ending(cfg: PipelineConfig) -> str:
    parts = []
    table = comparison(cfg)
    if table:
        parts.append(table)
    ex = examples(cfg)
    if ex:
        parts.append(ex)
    report = cfg.out / "report" / "report.html"
    if report.is_file():
        parts.append(f"report: {report}\n        {report.with_suffix('.md')}")
    return "\n\n".join(parts)
