"""Dataset and graph statistics, from the store manifest (and the pretraining sidecars when present)."""

from __future__ import annotations

from ckgrec.report.blocks import Section, Text
from ckgrec.report.collect import ReportData
from ckgrec.report.tables import Table, cell, fmt

SPLITS = ("train", "valid", "test")


def _data_table(m: dict) -> Table:
    c = m["counts"]
    dims = m.get("feature_dims", {})
    modalities = (
        ", ".join(
            f"{k} ({dims.get(k, '?')}-d, {c.get('features', {}).get(k, 0):,} items)" for k in m.get("modalities", [])
        )
        or "none"
    )
    density = sum(c["pairs"].values()) / max(1, c["users"] * c["items"])
    d = c.get("dropped_by_filters", {})
    rows = [
        ("users", f"{c['users']:,}"),
        ("items", f"{c['items']:,}"),
        ("density (pairs / users·items)", f"{density:.4%}"),
        ("interaction relations", ", ".join(c.get("interaction_relations", []))),
        ("modalities", modalities),
        ("items without a training interaction", f"{c.get('items_without_train_interaction', 0):,}"),
        ("dropped by filters", f"{d.get('users', 0)} users, {d.get('items', 0)} items, {d.get('pairs', 0)} pairs"),
    ]
    return Table(["quantity", "value"], [[cell(k), cell(v)] for k, v in rows], caption="Data", numeric_from=99)


def _split_table(m: dict) -> Table:
    c = m["counts"]
    rows = [[cell(s), cell(f"{c['pairs'][s]:,}"), cell(f"{c['interactions'][s]:,}")] for s in SPLITS]
    rows.append([cell("all"), cell(f"{sum(c['pairs'].values()):,}"), cell(f"{sum(c['interactions'].values()):,}")])
    notes = []
    protocols = c.get("pairs_by_protocol", {})
    if any(not k.startswith("warm/") for k in protocols):
        notes.append("pairs by protocol: " + ", ".join(f"{k} {v:,}" for k, v in sorted(protocols.items())))
    return Table(
        ["split", "user-item pairs", "interactions"],
        rows,
        caption="Splits (only training pairs enter the graphs)",
        notes=notes,
    )


def _graph_table(d: ReportData) -> Table:
    c = d.manifest["counts"]
    cols = ["graph", "entities", "relations (+ inverses)", "triples"]
    if d.pretrain:
        cols += ["TransR epochs", "test MRR", "Hits@1", "Hits@10"]
    rows = []
    for g, desc in d.manifest.get("graphs", {}).items():
        row = [
            cell(g),
            cell(f"{c['entities'].get(g, 0):,}"),
            cell(str(c["relations"].get(g, 0))),
            cell(f"{c['triples'].get(g, 0):,}"),
        ]
        if d.pretrain:
            met = d.pretrain.get(g, {}).get("metrics", {})
            both = met.get("test", {}).get("both", {})
            row += [
                cell(str(met.get("epochs_run", "n/a"))),
                cell(fmt(both.get("mrr"))),
                cell(fmt(both.get("hits_at_1"))),
                cell(fmt(both.get("hits_at_10"))),
            ]
        rows.append(row)
    notes = [f"{g}: {desc}" for g, desc in d.manifest.get("graphs", {}).items()]
    if d.pretrain:
        notes.append("TransR link prediction: filtered ranks on held-out triples of each graph, both sides.")
    return Table(cols, rows, caption="Collaborative knowledge graphs", notes=notes)


def build(d: ReportData) -> Section:
    src = d.manifest.get("source", {})
    intro = Text(
        f"Source '{src.get('name', '?')}' ({src.get('format', '?')} format), built with seed {d.manifest.get('config', {}).get('seed', '?')}; "
        f"store fingerprint {d.manifest['fingerprint']}."
    )
    return Section(
        "dataset", "Dataset and graphs", [intro, _data_table(d.manifest), _split_table(d.manifest), _graph_table(d)]
    )
