"""The comparison table: mean ± std over seeds, best per column in bold, paired test against the reference."""

from __future__ import annotations

import math

from ckgrec.model.evaluation.statistics import format_p
from ckgrec.report.blocks import Section, Text
from ckgrec.report.collect import ReportData
from ckgrec.report.stats import maximum
from ckgrec.report.tables import Table, cell, mean_std

ALPHA = 0.05
TEST_NAMES = {"wilcoxon": "two-sided Wilcoxon signed-rank test", "ttest": "paired t-test"}


def significant(p: float | None) -> bool:
    return p is not None and not math.isnan(p) and p < ALPHA


def comparison_table(
    groups: list[dict],
    metrics: list[str],
    reference: str,
    *,
    first_column: str = "model",
    extra: dict[str, list[str]] | None = None,
) -> Table:
    """Rows of compare.json-shaped groups; ``extra`` adds columns after the first (label -> cells)."""
    primary = metrics[0]
    best = {m: maximum([g["mean"].get(m) for g in groups]) for m in metrics}
    extra_cols = list(extra or {})
    rows = []
    for i, g in enumerate(groups):
        is_ref = g["label"] == reference
        row = [cell(g["label"]), *[cell(extra[col][i]) for col in extra_cols], cell(str(len(g["seeds"])))]
        for m in metrics:
            text = mean_std(g["mean"].get(m), g["std"].get(m))
            if not is_ref and significant(g["p_value"].get(m)):
                text += " *"
            row.append(cell(text, best=best[m] is not None and g["mean"].get(m) == best[m]))
        delta = g["relative_difference"].get(primary)
        row.append(cell("—" if is_ref else ("n/a" if delta is None else f"{100 * delta:+.1f}%"), muted=is_ref))
        row.append(cell(format_p(g["p_value"].get(primary), is_reference=is_ref), muted=is_ref))
        rows.append(row)
    columns = [first_column, *extra_cols, "seeds", *metrics, f"Δ {primary}", f"p ({primary})"]
    return Table(columns, rows, numeric_from=1 + len(extra_cols))


def build(d: ReportData) -> Section:
    return from_compare(d.compare)


def from_compare(c: dict | None) -> Section:
    """The section from ``compare.json`` alone (``ckg run`` prints its table at the end)."""
    if not c:
        return Section("comparison", "Comparison", [Text("No comparison: the compare stage has not run.")])
    roles = ["baseline" if g.get("is_baseline") else "" for g in c["groups"]]
    t = comparison_table(c["groups"], c["metrics"], c["reference"], extra={"role": roles})
    t.caption = (
        f"Test split, full ranking over all items (training and validation items masked); sorted by {c['metrics'][0]}"
    )
    t.notes = [
        "Cells: mean ± sample std over seeds (one seed: no std). Bold: best in the column.",
        f"p: {TEST_NAMES.get(c['test'], c['test'])} over {c['paired_users']:,} test users (each user's metric averaged over seeds) "
        f"against {c['reference']}, the reference (the best baseline unless [evaluate] reference says otherwise); "
        f"* marks p < {ALPHA} for that column's metric. Δ: relative difference of the mean to the reference.",
    ]
    return Section("comparison", "Comparison", [t])
