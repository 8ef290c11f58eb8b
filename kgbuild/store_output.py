"""Writing a built store, shared by ``ckg build`` and ``ckg import-rdf``.

Both must number ids by the same rules and describe the store with the same manifest counts, or
an export/import round trip would not reproduce the fingerprint. Kept free of scikit-learn and
the adapters so importing RDF does not pay for them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from ckgrec.schemas.store import StoreWriter
from ckgrec.schemas.tables import (
    ALIGNMENT_ITEMS,
    ALIGNMENT_USERS,
    ENTITIES,
    INTERACTIONS,
    ITEMS,
    RELATIONS,
    SPLITS,
    TRIPLES,
    USERS,
)


def natural_order(ids: np.ndarray) -> np.ndarray:
    """Sort source ids numerically when they all are integers ('2' before '10'), else as text."""
    s = pd.Series(ids, dtype=object)
    as_int = pd.to_numeric(s, errors="coerce")
    if not as_int.isna().any() and (as_int % 1 == 0).all():
        return s.iloc[np.lexsort((s.to_numpy(dtype=str), as_int.to_numpy()))].to_numpy(dtype=object)
    return np.sort(s.to_numpy(dtype=object)).astype(object)


def store_counts(n_users, n_items, pairs, inter, entities, relations, triples, dropped, kept_features) -> dict:
    per = lambda frame, col: {g: int(v) for g, v in frame.groupby(col, sort=True).size().items()}
    return {
        "users": int(n_users),
        "items": int(n_items),
        "pairs": {s: int((pairs["split"] == s).sum()) for s in SPLITS},
        "pairs_by_protocol": {
            f"{p}/{s}": int(((pairs["protocol"] == p) & (pairs["split"] == s)).sum())
            for p in ("warm", "cold_item", "cold_user")
            for s in SPLITS
            if ((pairs["protocol"] == p) & (pairs["split"] == s)).any()
        },
        "interactions": {s: int((inter["split"] == s).sum()) for s in SPLITS},
        "interaction_relations": sorted(inter["relation"].unique().tolist()),
        "entities": per(entities, "graph"),
        "relations": per(relations[~relations["is_inverse"]], "graph"),
        "triples": per(triples, "graph"),
        "items_without_train_interaction": int(n_items - inter.loc[inter["split"] == "train", "item"].nunique()),
        "features": {m: int(len(v[0])) for m, v in sorted(kept_features.items())},
        "dropped_by_filters": dropped,
    }


def write_store(
    out: str | Path,
    fingerprint: str,
    manifest: dict,
    *,
    force: bool,
    entities: pd.DataFrame,
    relations: pd.DataFrame,
    triples: pd.DataFrame,
    alignment_items: pd.DataFrame,
    alignment_users: pd.DataFrame,
    interactions: pd.DataFrame,
    users: pd.DataFrame,
    items: pd.DataFrame,
    features: dict[str, tuple[np.ndarray, np.ndarray]],
    sources: Iterable[str | Path] = (),
) -> Path:
    """Write every table and modality through one atomic, locked :class:`StoreWriter`; returns the store path.

    ``sources``: the inputs, which ``out`` may not be, lie in or contain (see :func:`check_output_path`).
    """
    with StoreWriter(out, fingerprint, force=force, sources=sources) as w:
        for spec, frame in (
            (ENTITIES, entities),
            (RELATIONS, relations),
            (TRIPLES, triples),
            (ALIGNMENT_ITEMS, alignment_items),
            (ALIGNMENT_USERS, alignment_users),
            (INTERACTIONS, interactions),
            (USERS, users),
            (ITEMS, items),
        ):
            w.write_table(spec, frame)
        for modality, (items_dense, matrix) in sorted(features.items()):
            w.write_feature(modality, items_dense, matrix)
        return w.commit(manifest)
