"""``ckg inspect STORE --plot DIR``: degree distributions (log-log) and relation counts as PNGs.

matplotlib is the optional ``plot`` extra; it is imported here only, with the Agg backend (no
display needed). Files written: ``degree_user_side.png``, ``degree_item_side.png`` (how many
nodes of each kind have each degree, log-log) and ``relations.png`` (triples per relation, one
panel per graph, log scale).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ckgrec.kgbuild.inspect.summary import GRAPH_TITLE, GraphData
from ckgrec.kgbuild.rdf.errors import require
from ckgrec.schemas.store import Store
from ckgrec.schemas.tables import ENTITY_KINDS, GRAPHS

KIND_COLOURS = {
    "user": "#1f77b4",
    "item": "#d62728",
    "user_attribute": "#2ca02c",
    "item_attribute": "#9467bd",
    "modality_concept": "#ff7f0e",
    "external_entity": "#7f7f7f",
}
FAMILY_COLOURS = {
    "interaction": "#d62728",
    "user_attribute": "#2ca02c",
    "item_attribute": "#9467bd",
    "modality_concept": "#ff7f0e",
    "external": "#7f7f7f",
}


def _pyplot():
    mpl = require("matplotlib", "plot", "--plot")
    mpl.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def write_plots(path: str | Path, out_dir: str | Path, *, max_relations: int = 30) -> list[Path]:
    plt = _pyplot()
    s = Store.open(path)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    data = {g: GraphData.load(s, g) for g in GRAPHS}
    for g, gd in data.items():
        deg = gd.degrees()
        kinds = gd.entities["kind"].to_numpy(dtype=object)
        fig, ax = plt.subplots(figsize=(7.5, 5), dpi=120)
        for k in ENTITY_KINDS:
            d = deg[(kinds == k) & (deg > 0)]
            if len(d) == 0:
                continue
            values, counts = np.unique(d, return_counts=True)
            ax.loglog(
                values,
                counts,
                "o",
                ms=4,
                alpha=0.75,
                color=KIND_COLOURS[k],
                label=f"{k} (n={len(d):,}, mean {d.mean():.1f})",
            )
        isolated = int((deg == 0).sum())
        ax.set_xlabel("degree (forward triples touching the node)")
        ax.set_ylabel("number of nodes")
        ax.set_title(
            f"Degree distribution, {GRAPH_TITLE[g]}"
            + (f" — {isolated:,} isolated nodes not shown" if isolated else ""),
            fontsize=11,
        )
        ax.grid(True, which="both", alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=9, loc="best", framealpha=0.85)
        fig.tight_layout()
        p = out / f"degree_{g}.png"
        fig.savefig(p)
        plt.close(fig)
        written.append(p)

    rows = {g: _relation_counts(gd)[:max_relations] for g, gd in data.items()}
    heights = [max(1, len(r)) for r in rows.values()]
    fig, axes = plt.subplots(
        len(rows),
        1,
        figsize=(8, 1.2 + 0.32 * sum(heights) + 0.8 * len(rows)),
        dpi=120,
        gridspec_kw={"height_ratios": heights},
    )
    for ax, (g, r) in zip(np.atleast_1d(axes), rows.items()):
        names = [x[0] for x in r][::-1]
        counts = [x[1] for x in r][::-1]
        colours = [FAMILY_COLOURS.get(x[2], "#333333") for x in r][::-1]
        bars = ax.barh(names, counts, color=colours)
        ax.set_xscale("log")
        ax.set_title(f"Triples per relation, {GRAPH_TITLE[g]}", fontsize=11)
        for b, c in zip(bars, counts):
            ax.text(b.get_width() * 1.05, b.get_y() + b.get_height() / 2, f"{c:,}", va="center", fontsize=8)
        if counts:
            ax.set_xlim(0.8, max(counts) * 4)
        ax.tick_params(axis="y", labelsize=9)
        ax.set_xlabel("triples (log scale)", fontsize=9)
        ax.grid(True, axis="x", which="both", alpha=0.3)
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in FAMILY_COLOURS.values()]
    fig.legend(handles, list(FAMILY_COLOURS), loc="lower center", ncol=5, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    p = out / "relations.png"
    fig.savefig(p)
    plt.close(fig)
    written.append(p)
    return written


def _relation_counts(gd: GraphData) -> list[tuple[str, int, str]]:
    counts = gd.triples["relation"].value_counts()
    fwd = gd.relations[~gd.relations["is_inverse"]]
    rows = [(r.name, int(counts.get(r.relation, 0)), r.family) for r in fwd.itertuples(index=False)]
    return sorted(rows, key=lambda x: (-x[1], x[0]))
