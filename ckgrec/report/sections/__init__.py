"""The report's sections, one module each, in page order; a section with nothing to show returns None."""

from __future__ import annotations

from ckgrec.report.blocks import Section
from ckgrec.report.collect import ReportData

ORDER = (
    "summary",
    "dataset",
    "comparison",
    "tuning",
    "training",
    "by_k",
    "ablation",
    "groups",
    "examples",
    "resources",
    "configuration",
)


def build_sections(d: ReportData) -> list[Section]:
    from importlib import import_module

    out = []
    for name in ORDER:
        section = import_module(f"ckgrec.report.sections.{name}").build(d)
        if section is not None:
            out.append(section)
    return out
