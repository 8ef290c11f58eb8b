"""Only training interactions ever enter a graph."""
from __future__ import annotations

import pandas as pd

from schemas.tables import FAMILY_INTERACTION


def _interaction_edges(store, graph: str) -> pd.DataFrame:
    """(user, item) pairs that appear as an interaction edge of ``graph``, in store ids."""
    tr = store.graph_table("triples", graph)
    rel = store.graph_table("relations", graph)
    inter_rel = rel.loc[rel["family"] == FAMILY_INTERACTION, "relation"]
    e = tr[tr["relation"].isin(inter_rel)]
    users = store.graph_table("alignment_users", graph).set_index("entity")["user"]
    items = store.graph_table("alignment_items", graph).set_index("entity")["item"]
    if graph == "user_side":
        return pd.DataFrame({"user": users.loc[e["head"]].to_numpy(), "item": items.loc[e["tail"]].to_numpy()})
    return pd.DataFrame({"user": users.loc[e["tail"]].to_numpy(), "item": items.loc[e["head"]].to_numpy()})


def test_no_heldout_pair_is_an_edge(store):
    inter = store.table("interactions")
    held = set(map(tuple, inter.loc[inter["split"] != "train", ["user", "item"]].to_numpy()))
    train = set(map(tuple, inter.loc[inter["split"] == "train", ["user", "item"]].to_numpy()))
    assert held and not held & train  # the unit of splitting is the pair
    for graph in ("user_side", "item_side"):
        edges = set(map(tuple, _interaction_edges(store, graph).to_numpy()))
        assert edges == train, graph  # every training pair is an edge, no held-out pair is


def test_a_pair_with_several_behaviours_stays_in_one_split(store):
    inter = store.table("interactions")
    assert (inter.groupby(["user", "item"])["split"].nunique() == 1).all()
    assert (inter.groupby(["user", "item"])["relation"].nunique() > 1).any()
