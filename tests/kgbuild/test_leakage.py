"""Only training interactions ever enter a graph."""

from __future__ import annotations

import pandas as pd

from ckgrec.schemas.tables import FAMILY_INTERACTION


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


def test_cold_start_store_keeps_held_out_pairs_and_cold_items_out_of_both_graphs(world_dir, tmp_path):
    """Cold items keep their features and item-KG edges but no interaction edge in G_u or G_i;
    cold users keep at most k training pairs as edges; no held-out pair is an edge."""
    from ckgrec.kgbuild.build import build
    from ckgrec.kgbuild.config import BuildConfig, SplitConfig
    from ckgrec.schemas.store import Store

    cfg = BuildConfig(split=SplitConfig(cold_items=0.1, cold_users=0.1, cold_user_train=3))
    s = Store.open(build(world_dir, tmp_path / "cold", fmt="native", config=cfg).store)
    inter = s.table("interactions")
    train = set(map(tuple, inter.loc[inter["split"] == "train", ["user", "item"]].to_numpy()))
    cold_items = set(inter.loc[inter["protocol"] == "cold_item", "item"])
    cold_users = set(inter.loc[inter["protocol"] == "cold_user", "user"])
    assert cold_items and cold_users
    for graph in ("user_side", "item_side"):
        edges = _interaction_edges(s, graph).drop_duplicates()  # one edge per behaviour of a pair
        assert set(map(tuple, edges.to_numpy())) == train, graph
        assert not edges["item"].isin(cold_items).any(), graph
        assert edges.loc[edges["user"].isin(cold_users)].groupby("user").size().max() <= 3, graph
    # G_u still links every cold item to its attributes (and concepts, external KG)
    tr = s.graph_table("triples", "user_side")
    rel = s.graph_table("relations", "user_side").set_index("relation")
    ent = s.graph_table("alignment_items", "user_side").set_index("item")["entity"]
    for item in cold_items:
        out = tr[tr["head"] == ent[item]]
        assert len(out) and (rel.loc[out["relation"], "family"] != FAMILY_INTERACTION).all()
    for m in s.modalities:
        index, _ = s.feature(m)
        assert cold_items - {0} <= set(index["item"])  # world item i0 has no text vector by design
