"""Test metrics at every cut-off K, one line per model: whether a ranking wins at the top or further down."""

from __future__ import annotations

from ckgrec.report import plots
from ckgrec.report.blocks import Figure, Section
from ckgrec.report.collect import ReportData
from ckgrec.report.stats import maximum, mean_std
from ckgrec.report.tables import Table, cell
from ckgrec.report.tables import mean_std as fmt_mean_std


def values(d: ReportData, families: list[str], ks: list[int]) -> dict[str, dict[str, dict[int, tuple[float, float]]]]:
    out: dict[str, dict[str, dict[int, tuple[float, float]]]] = {}
    for label in d.labels:
        runs = d.runs_of(label)
        if not runs:
            continue
        out[label] = {
            fam: {
                k: mean_std([r.scores["test"][f"{fam}@{k}"] for r in runs])
                for k in ks
                if all(f"{fam}@{k}" in r.scores["test"] for r in runs)
            }
            for fam in families
        }
    return out


def build(d: ReportData) -> Section | None:
    ks = sorted(d.cfg.evaluate.ks)
    families = list(dict.fromkeys(m.split("@")[0] for m in d.cfg.evaluate.metrics))
    vals = values(d, families, ks)
    if not vals:
        return None
    fig = Figure(
        "metric_by_k",
        plots.metric_by_k(vals, families, ks, plots.colours(d.labels)),
        alt=f"{', '.join(families)} at K = {', '.join(map(str, ks))} per model",
        caption="Test metrics at each cut-off K (mean over seeds; bars: std).",
    )
    rows = []
    for fam in families:
        best = {k: maximum([vals[label][fam].get(k, (None, None))[0] for label in vals]) for k in ks}
        for label in vals:
            cells = []
            for k in ks:
                m, s = vals[label][fam].get(k, (None, None))
                cells.append(cell(fmt_mean_std(m, s), best=m is not None and m == best[k]))
            rows.append([cell(fam), cell(label), *cells])
    table = Table(
        ["metric", "model", *[f"@{k}" for k in ks]],
        rows,
        caption="Test metrics by K (bold: best at that K)",
        numeric_from=2,
    )
    return Section("by_k", "Metrics by cut-off K", [fig, table])
