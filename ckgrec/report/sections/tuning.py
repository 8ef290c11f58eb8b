"""Tuning (``[tune]``): per tuned model, the budget its study spent and the values the runs use."""

from __future__ import annotations

import json
from typing import Any

from ckgrec.report.blocks import Section, Text
from ckgrec.report.collect import ReportData
from ckgrec.report.tables import Table, cell


def _value(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.3g}"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(map(str, v)) + "]"
    return str(v)


def _values(table: dict[str, Any]) -> str:
    return ", ".join(f"{k} = {_value(v)}" for k, v in sorted(table.items())) or "—"


def build(d: ReportData) -> Section | None:
    from ckgrec.model.tuning.tune import SUMMARY
    from ckgrec.pipeline.stages.tune import study_dir

    ts = d.cfg.tune
    if ts is None:
        return None
    rows, metric = [], None
    for label in ts.models:
        p = study_dir(d.cfg.out, label) / SUMMARY
        if not p.is_file():
            rows.append([cell(label), *[cell("not tuned yet", muted=True)] * 5])
            continue
        s = json.loads(p.read_text(encoding="utf-8"))
        b, best = s["budget"], s["best"]
        metric = s.get("valid_metric", metric)
        rows.append(
            [
                cell(label),
                cell(f"{b['complete']} / {b['pruned']} / {b['failed']} of {b['trials_requested']}"),
                cell(f"{b['wall_seconds']:.1f}"),
                cell(f"#{best['trial']}: {best['valid']:.4f}"),
                cell(_values({**best.get("train", {}), **best.get("model", {})})),
                cell(_values(s.get("fixed", {})), muted=not s.get("fixed")),
            ]
        )
    budget = f"{ts.trials} trials per model" + (
        f", at most {ts.timeout:g} s per model" if ts.timeout is not None else ""
    )
    table = Table(
        [
            "model",
            "trials complete / pruned / failed",
            "wall s (trials)",
            f"best trial: valid {metric or 'metric'}",
            "chosen values",
            "fixed (not searched)",
        ],
        rows,
        caption="Tuning",
        numeric_from=6,  # text columns: left-aligned
        notes=[
            "Chosen on the validation split only; the test split is read once per seeded run, with these values. "
            "Each study's trials are in OUT/tune/<label>/trials, its summary in OUT/tune/<label>/summary.json."
        ],
    )
    return Section(
        "tuning",
        "Tuning",
        [
            Text(
                f"Every tuned model had the same budget ({budget}; Optuna TPE, seed {ts.seed}, pruner {ts.pruner}); the seeded runs "
                "use the best trial's values under the options the config sets itself."
            ),
            table,
        ],
    )
