"""Assembling the two collaborative KGs from labelled facts.

G_u (``user_side``) starts from users: user -interaction-> item -attribute/concept/KG-> entity.
G_i (``item_side``) starts from items: item -interaction_by-> user -attribute-> entity.
Each graph gets its own dense entity ids, laid out in blocks (for G_u: users, items, item
attributes, modality concepts, external entities; for G_i: items, users, user attributes) so
that a user's or item's entity id is a fixed offset from its store id, and its own relation
ids: forward relations first, then one inverse per forward relation (``<name>_inverse``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ckgrec.schemas.tables import (
    FAMILY_CONCEPT,
    FAMILY_EXTERNAL,
    FAMILY_INTERACTION,
    FAMILY_ITEM_ATTRIBUTE,
    FAMILY_USER_ATTRIBUTE,
    KIND_CONCEPT,
    KIND_EXTERNAL,
    KIND_ITEM,
    KIND_ITEM_ATTRIBUTE,
    KIND_USER,
    KIND_USER_ATTRIBUTE,
)

FAMILY_ORDER = {
    f: k
    for k, f in enumerate(
        (FAMILY_INTERACTION, FAMILY_USER_ATTRIBUTE, FAMILY_ITEM_ATTRIBUTE, FAMILY_CONCEPT, FAMILY_EXTERNAL)
    )
}
FACT_COLUMNS = ["head", "relation", "tail", "family", "confidence"]
INVERSE_SUFFIX = "_inverse"
INTERACTION_BY_SUFFIX = "_by"


def user_label(source_id) -> str:
    return f"user:{source_id}"


def item_label(source_id) -> str:
    return f"item:{source_id}"


def external_label(source_id) -> str:
    return f"kg:{source_id}"


def concept_label(modality: str, k: int) -> str:
    return f"{modality}:c{k}"


@dataclass
class GraphTables:
    entities: pd.DataFrame  # graph, entity, label, kind
    relations: pd.DataFrame  # graph, relation, name, family, inverse, is_inverse
    triples: pd.DataFrame  # graph, head, relation, tail, confidence


def facts(head, relation, tail, family: str, confidence=1.0) -> pd.DataFrame:
    n = len(head)
    return pd.DataFrame(
        {
            "head": np.asarray(head, dtype=object),
            "relation": np.broadcast_to(np.asarray(relation, dtype=object), (n,)),
            "tail": np.asarray(tail, dtype=object),
            "family": family,
            "confidence": np.broadcast_to(np.asarray(confidence, dtype=np.float32), (n,)),
        }
    )


def assemble(graph: str, blocks: list[tuple[str, np.ndarray]], fact_frames: list[pd.DataFrame]) -> GraphTables:
    """Number the entities block by block and turn labelled facts into id triples.

    ``blocks`` are (kind, labels) in id order; blocks of attribute-like kinds should come
    sorted so ids do not depend on input row order.
    """
    labels = np.concatenate([np.asarray(b, dtype=object) for _, b in blocks]) if blocks else np.array([], dtype=object)
    kinds = (
        np.concatenate([np.full(len(b), k, dtype=object) for k, b in blocks]) if blocks else np.array([], dtype=object)
    )
    index = pd.Index(labels)
    if not index.is_unique:
        dup = index[index.duplicated()][0]
        raise ValueError(f"internal: entity label '{dup}' appears twice in {graph}")
    entities = pd.DataFrame(
        {"graph": graph, "entity": np.arange(len(labels), dtype=np.int64), "label": labels, "kind": kinds}
    )

    all_facts = (
        pd.concat([f for f in fact_frames if len(f)], ignore_index=True)
        if any(len(f) for f in fact_frames)
        else pd.DataFrame(columns=FACT_COLUMNS)
    )
    relations = relation_table(graph, all_facts[["relation", "family"]])
    forward = relations[~relations["is_inverse"]]

    rel_ids = pd.Index(forward["name"]).get_indexer(all_facts["relation"])
    heads = index.get_indexer(all_facts["head"])
    tails = index.get_indexer(all_facts["tail"])
    if (heads < 0).any() or (tails < 0).any():
        bad = all_facts["head"][heads < 0].tolist()[:1] + all_facts["tail"][tails < 0].tolist()[:1]
        raise ValueError(f"internal: facts in {graph} mention entities without a block: {bad}")
    triples = pd.DataFrame(
        {
            "graph": graph,
            "head": heads.astype(np.int64),
            "relation": rel_ids.astype(np.int32),
            "tail": tails.astype(np.int64),
            "confidence": all_facts["confidence"].to_numpy(dtype=np.float32),
        }
    )
    triples = (
        triples.sort_values(
            ["relation", "head", "tail", "confidence"], ascending=[True, True, True, False], kind="stable"
        )
        .drop_duplicates(["relation", "head", "tail"], keep="first")
        .reset_index(drop=True)
    )
    return GraphTables(entities, relations, triples)


def relation_table(graph: str, used: pd.DataFrame) -> pd.DataFrame:
    """Relation ids of one graph from the (relation, family) of its facts, in fact order.

    Forward relations are numbered by family (interaction, user attribute, item attribute,
    concept, external), then name; a name keeps the family of its first fact. Each gets an
    inverse ``<name>_inverse`` with id ``r + R``. Shared with the out-of-core build, which feeds it
    one row per interaction relation instead of every interaction.
    """
    rel_table = (
        used[["relation", "family"]]
        .drop_duplicates("relation")
        .assign(order=lambda d: d["family"].map(FAMILY_ORDER))
        .sort_values(["order", "relation"], kind="stable")
    )
    n_rel = len(rel_table)
    forward = pd.DataFrame(
        {
            "graph": graph,
            "relation": np.arange(n_rel, dtype=np.int32),
            "name": rel_table["relation"].to_numpy(dtype=object),
            "family": rel_table["family"].to_numpy(dtype=object),
            "inverse": np.arange(n_rel, 2 * n_rel, dtype=np.int32),
            "is_inverse": False,
        }
    )
    inverse = forward.assign(
        relation=np.arange(n_rel, 2 * n_rel, dtype=np.int32),
        name=forward["name"] + INVERSE_SUFFIX,
        inverse=np.arange(n_rel, dtype=np.int32),
        is_inverse=True,
    )
    return pd.concat([forward, inverse], ignore_index=True)


def sorted_unique(values: pd.Series | np.ndarray) -> np.ndarray:
    return np.sort(pd.unique(np.asarray(values, dtype=object))).astype(object)


def user_side(
    user_labels: np.ndarray,
    item_labels: np.ndarray,
    interactions: pd.DataFrame,
    item_facts: pd.DataFrame,
    external_facts: pd.DataFrame,
) -> GraphTables:
    """G_u = G1 (user -> item, training interactions) ∪ G3 (item -> attributes, concepts, KG)."""
    blocks = user_side_blocks(user_labels, item_labels, item_facts, external_facts)
    g1 = facts(
        user_labels[interactions["user"].to_numpy()],
        interactions["relation"].to_numpy(dtype=object),
        item_labels[interactions["item"].to_numpy()],
        FAMILY_INTERACTION,
        interactions["confidence"].to_numpy(dtype=np.float32),
    )
    return assemble("user_side", blocks, [g1, item_facts, external_facts])


def user_side_blocks(user_labels, item_labels, item_facts: pd.DataFrame, external_facts: pd.DataFrame) -> list:
    """G_u's entity blocks: users, items, item attributes, concepts, unlinked external entities."""
    attr = item_facts[item_facts["family"] == FAMILY_ITEM_ATTRIBUTE]["tail"]
    concepts = item_facts[item_facts["family"] == FAMILY_CONCEPT]["tail"]
    linked = set(item_labels)
    ext = (
        pd.concat([external_facts["head"], external_facts["tail"]])
        if len(external_facts)
        else pd.Series([], dtype=object)
    )
    ext = ext[~ext.isin(linked)]
    blocks = [
        (KIND_USER, user_labels),
        (KIND_ITEM, item_labels),
        (KIND_ITEM_ATTRIBUTE, sorted_unique(attr)),
        (KIND_CONCEPT, sorted_unique(concepts)),
        (KIND_EXTERNAL, sorted_unique(ext)),
    ]
    return blocks


def item_side(
    user_labels: np.ndarray,
    item_labels: np.ndarray,
    interactions: pd.DataFrame,
    user_facts: pd.DataFrame,
) -> GraphTables:
    """G_i = G1 reversed (item -> user, training interactions) ∪ G2 (user -> attributes)."""
    blocks = item_side_blocks(user_labels, item_labels, user_facts)
    g1r = facts(
        item_labels[interactions["item"].to_numpy()],
        (interactions["relation"] + INTERACTION_BY_SUFFIX).to_numpy(dtype=object),
        user_labels[interactions["user"].to_numpy()],
        FAMILY_INTERACTION,
        interactions["confidence"].to_numpy(dtype=np.float32),
    )
    return assemble("item_side", blocks, [g1r, user_facts])


def item_side_blocks(user_labels, item_labels, user_facts: pd.DataFrame) -> list:
    """G_i's entity blocks: items, users, user attributes."""
    return [
        (KIND_ITEM, item_labels),
        (KIND_USER, user_labels),
        (KIND_USER_ATTRIBUTE, sorted_unique(user_facts["tail"]) if len(user_facts) else np.array([], dtype=object)),
    ]
