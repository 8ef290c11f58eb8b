"""The config as run, the versions and the output layout: what it takes to reproduce this page."""

from __future__ import annotations

from importlib import metadata

from ckgrec.report.blocks import Code, Section, Text
from ckgrec.report.collect import ReportData


def _version(pkg: str) -> str:
    try:
        return metadata.version(pkg)
    except metadata.PackageNotFoundError:
        return "unknown"


def build(d: ReportData) -> Section:
    cfg = d.cfg
    versions = ", ".join(f"{p} {_version(p)}" for p in ("ckgrec", "torch", "pykeen", "numpy", "scipy"))
    return Section(
        "configuration",
        "Configuration",
        [
            Text(
                f"Config file {cfg.path}; output {cfg.out} (store, runs/<label>/seed-<s>, compare.json, evaluation.json, examples.json, "
                f"pipeline.json, report/). Versions: {versions}. Rerun with: ckg run {cfg.path} --out {cfg.out}"
            ),
            Code(cfg.text),
        ],
    )
