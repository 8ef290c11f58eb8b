"""A one-screen text summary of a store, read from its manifest only (instant on any size).

Never more than a screenful: every list (relations, modalities, warnings) shows its count and
its first :data:`FIRST` names, however large the store.
"""

from __future__ import annotations

from pathlib import Path

from ckgrec.schemas.store import Store
from ckgrec.schemas.tables import SPLITS

FIRST = 5  # names shown of a long list
MAX_WARNINGS = 5


def first_names(names: list[str], first: int = FIRST) -> str:
    """``a, b, c`` or, for a long list, ``a, b, c, d, e, ... (2,579 in all)``."""
    names = [str(n) for n in names]
    if len(names) <= first:
        return ", ".join(names) or "none"
    return f"{', '.join(names[:first])}, ... ({len(names):,} in all)"


def format_summary(path: str | Path) -> str:
    s = Store.open(path)
    c = s.counts
    lines = [
        f"store {s.path}  (fingerprint {s.fingerprint})",
        f"source: {s.manifest['source']['name']} ({s.manifest['source']['format']})",
        f"users {c['users']:,}  items {c['items']:,}  modalities: {_modalities(s)}",
        "pairs        " + "  ".join(f"{k} {c['pairs'][k]:,}" for k in SPLITS),
        "interactions " + "  ".join(f"{k} {c['interactions'][k]:,}" for k in SPLITS),
        f"interaction relations: {first_names(c['interaction_relations'])}",
    ]
    weights = s.manifest.get("interaction_weights")
    if weights:
        lines.append(f"interaction weights: {weights['summary']}")
    split = s.manifest.get("split")
    if split:
        extra = f" from {split['origin']}; validation {split['valid']}" if split.get("method") == "given" else ""
        lines.append(
            f"split: {split['method']}"
            + (f" (requested {split['requested']})" if split["requested"] != split["method"] else "")
            + extra
            + (
                f"; train_fraction {split['train_fraction']:g} ({split['train_pairs_dropped']:,} training pairs dropped)"
                if "train_fraction" in split
                else ""
            )
        )
    density = sum(c["pairs"].values()) / max(1, c["users"] * c["items"])
    lines.append(
        f"density {density:.4%}; items without a training interaction: {c['items_without_train_interaction']:,}"
    )
    for g in ("user_side", "item_side"):
        lines.append(
            f"{g:10s} entities {c['entities'].get(g, 0):,}  relations {c['relations'].get(g, 0)} (+ inverses)  triples {c['triples'].get(g, 0):,}"
        )
    d = c["dropped_by_filters"]
    if any(d.values()):
        lines.append(f"dropped by filters: {d['users']} users, {d['items']} items, {d['pairs']} pairs")
    warnings = s.manifest.get("warnings", [])
    for w in warnings[:MAX_WARNINGS]:
        lines.append(f"warning: {w}")
    if len(warnings) > MAX_WARNINGS:
        lines.append(f"... and {len(warnings) - MAX_WARNINGS} more warnings (manifest.json, key 'warnings')")
    return "\n".join(lines)


def _modalities(s: Store) -> str:
    dims, counts = s.manifest["feature_dims"], s.counts["features"]
    return first_names([f"{m} ({dims[m]}-d, {counts[m]:,} items)" for m in s.modalities])
