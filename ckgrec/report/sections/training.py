"""Training curves (loss and validation metric per epoch, one line per model) and a training summary."""

from __future__ import annotations

from ckgrec.report import plots
from ckgrec.report.blocks import Figure, Section, Text
from ckgrec.report.collect import ReportData, RunData
from ckgrec.report.tables import Table, cell


def _average(runs: list[RunData], value) -> list[tuple[int, float]]:
    """(epoch, mean over the seeds that have a value at that epoch)."""
    by_epoch: dict[int, list[float]] = {}
    for r in runs:
        for rec in r.epochs:
            v = value(rec)
            if v is not None:
                by_epoch.setdefault(int(rec["epoch"]), []).append(float(v))
    return [(e, sum(vs) / len(vs)) for e, vs in sorted(by_epoch.items())]


def curves(d: ReportData, metric: str) -> dict[str, dict[str, list[tuple[int, float]]]]:
    out = {}
    for label in d.labels:
        runs = d.runs_of(label)
        loss = _average(runs, lambda rec: rec.get("loss"))
        valid = _average(runs, lambda rec: rec.get("valid", {}).get(metric))
        if loss or valid:
            out[label] = {"loss": loss, "valid": valid}
    return out


def _summary(d: ReportData) -> Table:
    rows = []
    for label in d.labels:
        runs = d.runs_of(label)
        if not runs:
            rows.append([cell(label), cell("0"), *[cell("not finished", muted=True)] * 4])
            continue
        s = [r.scores for r in runs]
        per_epoch = [x["seconds_per_epoch"] for x in s if x.get("seconds_per_epoch") is not None]
        closed = not per_epoch
        rows.append(
            [
                cell(label),
                cell(str(len(runs))),
                cell("closed form" if closed else ", ".join(str(x.get("epochs")) for x in s), muted=closed),
                cell("—" if closed else ", ".join(str(x.get("best_epoch")) for x in s), muted=closed),
                cell("—" if closed else f"{sum(per_epoch) / len(per_epoch):.3g}", muted=closed),
                cell(f"{sum(x.get('seconds_final_evaluation', 0.0) for x in s) / len(s):.3g}"),
            ]
        )
    return Table(
        ["model", "seeds", "epochs run (per seed)", "best epoch (per seed)", "s / epoch", "s final evaluation"],
        rows,
        caption="Training",
        notes=["The best epoch is the one with the best validation metric; the test split is evaluated once, on it."],
    )


def build(d: ReportData) -> Section:
    metric = d.cfg.train.valid_metric
    data = curves(d, metric)
    blocks = []
    if data:
        colour = plots.colours(d.labels)
        blocks.append(
            Figure(
                "training_curves",
                plots.training_curves(data, metric, colour),
                alt=f"training loss and validation {metric} per epoch, one line per model",
                caption=f"Training loss and validation {metric} per epoch (mean over seeds), one line per model.",
            )
        )
    missing = [label for label in d.labels if label not in data]
    if missing:
        blocks.append(Text(f"No curve for {', '.join(missing)}: fitted in closed form (no epochs) or not finished."))
    blocks.append(_summary(d))
    return Section("training", "Training curves", blocks)
