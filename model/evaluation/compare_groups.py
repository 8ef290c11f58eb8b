"""Per-group tables of ``ckg compare``: the same methods and seeds, one table per user/item group.

Groups and their candidate sets are defined in :mod:`ckgrec.model.evaluation.groups`; each run carries them in
``scores.json`` (``groups``) and per user in ``per_user_groups_<split>.parquet``. A cell is the
mean ± std over the method's seeds; a method that cannot score a group (``"n/a"`` in its scores)
shows ``n/a`` and takes no part in the paired test -- it is never shown as 0.

Reference of a group's test: the overall comparison's reference when it has figures in that
group, otherwise the best baseline that has (by the first metric). The paired test runs over the
group's users, each user's value averaged over seeds, as in :mod:`ckgrec.model.evaluation.compare`, and only when
at least :data:`MIN_PAIRED` users differ: small groups (an activity quartile of a tiny store)
would get a p-value that means little, from a slow permutation null (scipy's fallback for
fewer than 14 tied differences). Their p shows "—".
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ckgrec.model.core.run_dir import RunDir
from ckgrec.model.evaluation.groups import GROUPS, NOT_APPLICABLE
from ckgrec.model.evaluation.statistics import format_p, paired_p

MIN_PAIRED = 20


@dataclass
class GroupRow:
    label: str
    seeds: int
    state: str  # "ok" | "n/a" | "missing" (a run without figures for the group)
    mean: dict[str, float] = field(default_factory=dict)
    std: dict[str, float] = field(default_factory=dict)
    p_value: dict[str, float] = field(default_factory=dict)


@dataclass
class GroupTable:
    group: str
    n_users: int
    reference: str | None
    rows: list[GroupRow]


def _group_entries(g, split: str, name: str) -> list[Any]:
    return [r.scores.get("groups", {}).get(split, {}).get(name) for r in g.runs]


def _per_user(g, split: str, name: str, metrics: list[str]) -> pd.DataFrame | None:
    frames = []
    for r in g.runs:
        df = RunDir(r.path).read_per_user_groups(split)
        if df is None or not set(metrics) <= set(df.columns):
            return None
        frames.append(df.loc[df["group"] == name].set_index("user")[metrics])
    return sum(frames[1:], frames[0]) / len(frames) if len(frames) > 1 else frames[0]


def group_tables(groups: list, split: str, metrics: list[str], reference: str, test: str) -> list[GroupTable]:
    """One :class:`GroupTable` per group that any run has, in :data:`ckgrec.model.evaluation.groups.GROUPS` order.

    :param groups: the method groups of :func:`ckgrec.model.evaluation.compare.compare` (label, is_baseline, runs).
    """

    tables = []
    for name in GROUPS:
        entries = {g.label: _group_entries(g, split, name) for g in groups}
        if not any(e is not None for es in entries.values() for e in es):
            continue
        rows, n_users = [], 0
        for g in groups:
            es = entries[g.label]
            if any(e is None for e in es):
                rows.append(GroupRow(g.label, len(es), "missing"))
            elif any(e == NOT_APPLICABLE for e in es):
                rows.append(GroupRow(g.label, len(es), NOT_APPLICABLE))
            else:
                vals = {m: np.array([float(e[m]) for e in es]) for m in metrics if all(m in e for e in es)}
                rows.append(
                    GroupRow(
                        g.label,
                        len(es),
                        "ok",
                        {m: float(v.mean()) for m, v in vals.items()},
                        {m: (float(v.std(ddof=1)) if len(v) > 1 else float("nan")) for m, v in vals.items()},
                    )
                )
                n_users = max(n_users, int(es[0]["n_users"]))
        ok = {r.label: r for r in rows if r.state == "ok" and metrics[0] in r.mean}
        by_label = {g.label: g for g in groups}
        ref = reference if reference in ok else None
        if ref is None and ok:
            pool = [lbl for lbl in ok if by_label[lbl].is_baseline] or list(ok)
            ref = max(pool, key=lambda lbl: ok[lbl].mean[metrics[0]])
        ref_users = _per_user(by_label[ref], split, name, metrics) if ref is not None else None
        for r in rows:
            for m in metrics:
                r.p_value[m] = float("nan")
            if r.state != "ok" or r.label == ref or ref_users is None:
                continue
            mine = _per_user(by_label[r.label], split, name, metrics)
            if mine is None:
                continue
            common = ref_users.index.intersection(mine.index)
            for m in metrics:
                a, b = mine.loc[common, m].to_numpy(), ref_users.loc[common, m].to_numpy()
                if np.count_nonzero(~np.isclose(a, b)) >= MIN_PAIRED:
                    r.p_value[m] = paired_p(a, b, test)
        tables.append(GroupTable(name, n_users, ref, rows))
    return tables


def format_group_tables(tables: list[GroupTable], metrics: list[str]) -> str:
    """Markdown: a heading and a models x metrics table per group."""
    out = []
    for t in tables:
        head = ["model", "seeds", *metrics, f"p ({metrics[0]})"]
        rows = []
        for r in t.rows:
            if r.state == "ok":
                cells = [
                    f"{r.mean[m]:.4f} ± {r.std[m]:.4f}" if not math.isnan(r.std[m]) else f"{r.mean[m]:.4f}"
                    for m in metrics
                ]
                p = format_p(r.p_value[metrics[0]], is_reference=r.label == t.reference)
            else:
                cells, p = [NOT_APPLICABLE if r.state == NOT_APPLICABLE else "—"] * len(metrics), "—"
            rows.append([r.label, str(r.seeds), *cells, p])
        widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(head)]
        line = lambda cells: "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths)) + " |"  # noqa: E731
        out += [
            "",
            f"group {t.group} ({t.n_users:,} users; p against {t.reference or '—'})",
            "",
            line(head),
            "|" + "|".join("-" * (w + 2) for w in widths) + "|",
            *map(line, rows),
        ]
    if any(r.state == NOT_APPLICABLE for t in tables for r in t.rows):
        out += [
            "",
            "n/a: the model cannot score never-seen items (ID-only); it ranks them by an untrained initialisation or zero popularity.",
        ]
    return "\n".join(out)


def group_tables_json(tables: list[GroupTable]) -> list[dict[str, Any]]:
    def num(x: float) -> float | None:
        return None if isinstance(x, float) and math.isnan(x) else x

    return [
        {
            "group": t.group,
            "n_users": t.n_users,
            "reference": t.reference,
            "rows": [
                {
                    "label": r.label,
                    "seeds": r.seeds,
                    **(
                        {
                            "mean": r.mean,
                            "std": {k: num(v) for k, v in r.std.items()},
                            "p_value": {k: num(v) for k, v in r.p_value.items()},
                        }
                        if r.state == "ok"
                        else {"value": NOT_APPLICABLE if r.state == NOT_APPLICABLE else None}
                    ),
                }
                for r in t.rows
            ],
        }
        for t in tables
    ]
