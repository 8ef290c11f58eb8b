"""Write ``OUT/report/report.html`` and ``report.md`` (+ ``figures/*.png``), each file atomically."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ckgrec.pipeline.config import PipelineConfig
from ckgrec.pipeline.files import write_bytes, write_text
from ckgrec.pipeline.state import PipelineState, now
from ckgrec.report import html, markdown
from ckgrec.report.collect import collect
from ckgrec.report.sections import build_sections

DIRECTORY = "report"


@dataclass
class ReportFiles:
    html: Path
    markdown: Path


def write_report(cfg: PipelineConfig, state: PipelineState) -> ReportFiles:
    out = cfg.out / DIRECTORY
    sections = build_sections(collect(cfg, state))
    generated = now().replace("T", " ").replace("Z", " UTC")
    for fig in markdown.figures(sections):
        write_bytes(out / markdown.FIGURES / f"{fig.name}.png", fig.png)
    md = write_text(out / "report.md", markdown.render(sections, generated))
    page = write_text(out / "report.html", html.render(sections, generated))
    return ReportFiles(page, md)
