"""The built graphs have the shape the design asks for."""

from __future__ import annotations

import numpy as np

from ckgrec.schemas.tables import GRAPHS


def test_entity_blocks_and_alignment(store):
    ent = store.table("entities")
    ai, au = store.table("alignment_items"), store.table("alignment_users")
    n_u, n_i = store.num_users, store.num_items
    for g in GRAPHS:
        e = ent[ent["graph"] == g]
        assert e["entity"].tolist() == list(range(len(e)))  # dense, 0-based
        assert e["label"].is_unique
        items = ai[ai["graph"] == g].merge(e, on="entity")
        assert (items["kind"] == "item").all() and len(items) == n_i
        users = au[au["graph"] == g].merge(e, on="entity")
        assert (users["kind"] == "user").all() and len(users) == n_u
    gi = ent[ent["graph"] == "item_side"]
    assert gi["kind"].iloc[:n_i].eq("item").all()  # item-side graph starts from items
    gu = ent[ent["graph"] == "user_side"]
    assert gu["kind"].iloc[:n_u].eq("user").all()  # user-side graph starts from users


def test_every_forward_relation_has_an_inverse(store):
    rel = store.table("relations")
    for g in GRAPHS:
        r = rel[rel["graph"] == g].set_index("relation")
        for rid, row in r.iterrows():
            inv = r.loc[row["inverse"]]
            assert inv["inverse"] == rid and inv["is_inverse"] != row["is_inverse"]
        tr = store.graph_table("triples", g)
        assert not r.loc[tr["relation"].unique(), "is_inverse"].any()  # only forward triples stored


def test_relation_kinds_per_graph(store):
    rel = store.table("relations")
    gu = set(rel[(rel.graph == "user_side") & ~rel.is_inverse]["name"])
    gi = set(rel[(rel.graph == "item_side") & ~rel.is_inverse]["name"])
    assert {
        "like",
        "favorite",
        "has_category",
        "has_tags",
        "has_visual_concept",
        "has_text_concept",
        "directed_by",
        "born_in",
    } <= gu
    assert {"like_by", "favorite_by", "has_age", "has_gender"} == gi


def test_fine_grained_behaviours_are_separate_edges(store):
    inter = store.table("interactions")
    train = inter[inter.split == "train"]
    both = train.groupby(["user", "item"])["relation"].nunique()
    user, item = both[both == 2].index[0]
    ent = store.graph_table("entities", "user_side")
    rel = store.graph_table("relations", "user_side").set_index("relation")["name"]
    tr = store.graph_table("triples", "user_side")
    edges = tr[(tr["head"] == user) & (tr["tail"] == store.num_users + item)]
    assert sorted(rel.loc[edges["relation"]]) == ["favorite", "like"]
    assert ent.loc[ent.entity == user, "label"].item().startswith("user:")


def test_triples_sorted_for_segments(store):
    tr = store.table("triples")
    key = tr[["graph", "relation", "head", "tail"]]
    assert key.equals(key.sort_values(["graph", "relation", "head", "tail"]).reset_index(drop=True))
    assert not tr.duplicated(["graph", "head", "relation", "tail"]).any()


def test_numeric_profile_column_is_binned_into_quantiles(store):
    ent = store.graph_table("entities", "item_side")
    ages = ent[ent["label"].str.startswith("age=")]["label"].tolist()
    assert len(ages) == 4 and all(a.startswith("age=[") for a in ages)


def test_external_kg_merges_linked_entities_into_items(store):
    ai = store.graph_table("alignment_items", "user_side")
    linked = ai[ai["external"].notna()]
    assert len(linked) == store.num_items // 2  # every other item has a link
    ent = store.graph_table("entities", "user_side")
    assert not ent["label"].isin("kg:" + linked["external"]).any()  # no duplicate node for a linked item
    tr = store.graph_table("triples", "user_side")
    rel = store.graph_table("relations", "user_side")
    directed = rel.loc[rel.name == "directed_by", "relation"].item()
    heads = tr.loc[tr.relation == directed, "head"]
    assert set(heads) == set(linked["entity"])


def test_features_stored_with_item_index(store):
    assert store.modalities == ["text", "visual"]
    idx, m = store.feature("text")
    assert m.shape == (store.num_items - 1, 4) and m.dtype == np.float32
    items = store.table("items")
    assert "i0" not in set(items.set_index("item").loc[idx["item"], "label"])  # i0 has no text row
    assert idx["row"].tolist() == list(range(len(idx)))


def test_concept_edges_link_each_item_to_nearest_concepts(store):
    rel = store.graph_table("relations", "user_side")
    r = rel.loc[rel.name == "has_visual_concept", "relation"].item()
    tr = store.graph_table("triples", "user_side")
    per_item = tr[tr.relation == r].groupby("head").size()
    assert len(per_item) == store.num_items and (per_item == 2).all()
