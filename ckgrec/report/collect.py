"""Read back everything the report shows from the pipeline's output directory.

Missing pieces (no pretraining, no examples, a stage that has not run) become ``None`` and the
section that needs them says so, instead of the report failing as a whole.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ckgrec.pipeline.config import PipelineConfig
from ckgrec.pipeline.state import PipelineState


@dataclass
class RunData:
    label: str
    model: str
    seed: int
    path: Path
    scores: dict[str, Any]
    epochs: list[dict[str, Any]]  # metrics.jsonl records


@dataclass
class ReportData:
    cfg: PipelineConfig
    state: PipelineState
    manifest: dict[str, Any]
    pretrain: dict[str, dict[str, Any]]  # graph -> sidecar JSON
    compare: dict[str, Any] | None
    evaluation: dict[str, Any] | None
    examples: dict[str, Any] | None
    runs: list[RunData] = field(default_factory=list)

    @property
    def labels(self) -> list[str]:
        return [m.label for m in self.cfg.models]

    def runs_of(self, label: str) -> list[RunData]:
        return [r for r in self.runs if r.label == label]


def _json_or_none(p: Path) -> Any:
    return json.loads(p.read_text(encoding="utf-8")) if p.is_file() else None


def collect(cfg: PipelineConfig, state: PipelineState) -> ReportData:
    from ckgrec.model.core.run_dir import RunDir
    from ckgrec.model.data.pretrained import pretrained_paths
    from ckgrec.schemas.tables import GRAPHS

    manifest = json.loads((cfg.store_path / "manifest.json").read_text(encoding="utf-8"))
    pretrain = {}
    for g in GRAPHS:
        sidecar = _json_or_none(pretrained_paths(cfg.store_path, g)[1])
        if sidecar is not None and sidecar.get("fingerprint") == manifest.get("fingerprint"):
            pretrain[g] = sidecar
    runs = []
    for m, seed, path in cfg.runs():
        rd = RunDir(path)
        if rd.is_complete:
            runs.append(RunData(m.label, m.name, seed, path, rd.read_scores(), rd.read_metrics()))
    return ReportData(
        cfg=cfg,
        state=state,
        manifest=manifest,
        pretrain=pretrain,
        compare=_json_or_none(cfg.out / "compare.json"),
        evaluation=_json_or_none(cfg.out / "evaluation.json"),
        examples=_json_or_none(cfg.out / "examples.json"),
        runs=runs,
    )
