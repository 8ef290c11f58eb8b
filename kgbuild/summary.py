"""A one-screen text summary of a store, read from its manifest only (instant on any size)."""
from __future__ import annotations

from pathlib import Path

from ckgrec.schemas.store import Store
from ckgrec.schemas.tables import SPLITS


def format_summary(path: str | Path) -> str:
    s = Store.open(path)
    c = s.counts
    lines = [
        f"store {s.path}  (fingerprint {s.fingerprint})",
        f"source: {s.manifest['source']['name']} ({s.manifest['source']['format']})",
        f"users {c['users']:,}  items {c['items']:,}  modalities: {_modalities(s)}",
        "pairs        " + "  ".join(f"{k} {c['pairs'][k]:,}" for k in SPLITS),
        "interactions " + "  ".join(f"{k} {c['interactions'][k]:,}" for k in SPLITS),
        f"interaction relations: {', '.join(c['interaction_relations'])}",
    ]
    density = sum(c["pairs"].values()) / max(1, c["users"] * c["items"])
    lines.append(f"density {density:.4%}; items without a training interaction: {c['items_without_train_interaction']:,}")
    for g in ("user_side", "item_side"):
        lines.append(f"{g:10s} entities {c['entities'].get(g, 0):,}  relations {c['relations'].get(g, 0)} (+ inverses)  triples {c['triples'].get(g, 0):,}")
    d = c["dropped_by_filters"]
    if any(d.values()):
        lines.append(f"dropped by filters: {d['users']} users, {d['items']} items, {d['pairs']} pairs")
    return "\n".join(lines)


def _modalities(s: Store) -> str:
    dims, counts = s.manifest["feature_dims"], s.counts["features"]
    return ", ".join(f"{m} ({dims[m]}-d, {counts[m]:,} items)" for m in s.modalities) or "none"
