"""Per-user-group results: warm users, cold-start items and users, and activity quartiles.

Figures come from ``OUT/evaluation.json`` (the trainer's own groups, or activity quartiles
computed from per-user metrics for older runs). A group a model cannot score is the string
"n/a" there and is shown as n/a -- never as 0.
"""

from __future__ import annotations

from ckgrec.report import plots
from ckgrec.report.blocks import Figure, Section, Text
from ckgrec.report.collect import ReportData
from ckgrec.report.stats import maximum, mean_std
from ckgrec.report.tables import Table, cell
from ckgrec.report.tables import mean_std as fmt_mean_std

NA = "n/a"
ORDER = (
    "warm",
    "cold_items_all",
    "cold_items_only",
    "cold_users",
    "activity_q1",
    "activity_q2",
    "activity_q3",
    "activity_q4",
)
MEANING = {
    "warm": "users and items seen in training",
    "cold_items_all": "held-out pairs on items without training interactions, ranked among all items",
    "cold_items_only": "the same pairs, ranked among the cold items only",
    "cold_users": "users reduced to their profile and at most k training pairs",
    "activity_q1": "least active quarter of users (training pairs)",
    "activity_q4": "most active quarter of users",
}


def _entries(d: ReportData, label: str, group: str) -> list:
    seeds = (d.evaluation or {}).get("runs", {}).get(label, {})
    return [e["groups"].get(group) for e in seeds.values()]


def _value(entries: list, metric: str) -> tuple[str, float | None, float | None]:
    """('ok'|'n/a'|'missing', mean, std) over seeds."""
    if not entries or any(e is None for e in entries):
        return "missing", None, None
    if any(e == NA for e in entries):
        return NA, None, None
    if not all(metric in e for e in entries):
        return "missing", None, None
    m, s = mean_std([float(e[metric]) for e in entries])
    return "ok", m, s


def _users(d: ReportData, group: str) -> str:
    for label in d.labels:
        for e in _entries(d, label, group):
            if isinstance(e, dict) and "n_users" in e:
                deg = e.get("degree")
                return f"{e['n_users']:,}" + (f" ({deg[0]}–{deg[1]} pairs)" if deg else "")
    return "—"


def build(d: ReportData) -> Section | None:
    ev = d.evaluation
    if not ev or not ev.get("runs"):
        return None
    present = {g for seeds in ev["runs"].values() for e in seeds.values() for g in e["groups"]}
    groups = [g for g in ORDER if g in present] + sorted(present - set(ORDER))
    if not groups:
        return None
    labels = [label for label in d.labels if label in ev["runs"]]
    metrics = [
        m
        for m in d.cfg.evaluate.metrics
        if any(_value(_entries(d, lb, g), m)[0] == "ok" for lb in labels for g in groups)
    ][:2]
    blocks: list = []
    for metric in metrics:
        rows = []
        for g in groups:
            vals = {lb: _value(_entries(d, lb, g), metric) for lb in labels}
            best = maximum([v[1] for v in vals.values()])
            cells = []
            for lb in labels:
                state, m, s = vals[lb]
                if state == "ok":
                    cells.append(cell(fmt_mean_std(m, s), best=m == best))
                else:
                    cells.append(cell(NA if state == NA else "—", muted=True))
            rows.append([cell(g), cell(_users(d, g)), *cells])
        blocks.append(
            Table(
                ["group", "test users", *labels],
                rows,
                caption=f"Test {metric} per user group (mean ± std over seeds; bold: best in the row)",
                numeric_from=1,
            )
        )
    if metrics:
        primary = metrics[0]
        bars = {lb: {g: _value(_entries(d, lb, g), primary)[1] for g in groups} for lb in labels}
        blocks.insert(
            0,
            Figure(
                "user_groups",
                plots.group_bars(bars, groups, primary, plots.colours(d.labels)),
                alt=f"test {primary} per user group and model",
                caption=f"Test {primary} per user group (mean over seeds).",
            ),
        )
    notes = [f"{g}: {MEANING[g]}" for g in groups if g in MEANING]
    sources = {e["source"] for seeds in ev["runs"].values() for e in seeds.values()}
    if "per_user_test.parquet" in sources:
        notes.append(
            "Runs without groups in scores.json: activity quartiles computed from their per-user test metrics "
            "(quartile cut points of training pairs over users with a training pair); cold-start groups need the trainer's figures"
        )
    notes.append("n/a: the model cannot score the group (an ID-only model on items it never saw); —: no figures")
    blocks.append(Text("; ".join(notes)))
    return Section("groups", "Results per user group", blocks)
