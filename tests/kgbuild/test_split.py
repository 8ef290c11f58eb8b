"""Per-user splitting rules."""

from __future__ import annotations

import pandas as pd
import pytest

from ckgrec.kgbuild.config import SplitConfig
from ckgrec.kgbuild.split import assign_splits, filter_pairs
from ckgrec.schemas.errors import ConfigError


def _pairs(counts: list[int], with_time: bool = True) -> pd.DataFrame:
    rows = [
        (u, i, 1000 * u + (len(range(n)) - i) if with_time else None) for u, n in enumerate(counts) for i in range(n)
    ]
    return pd.DataFrame(rows, columns=["user", "item", "first_ts"])


def test_ratios_per_user_and_small_users_stay_in_train():
    pairs = _pairs([20, 10, 2])
    labels = pd.Series(assign_splits(pairs, SplitConfig(), seed=1))
    per_user = labels.groupby(pairs["user"]).value_counts().unstack(fill_value=0)
    assert per_user.loc[0].to_dict() == {"test": 2, "train": 16, "valid": 2}
    assert per_user.loc[1].to_dict() == {"test": 1, "train": 8, "valid": 1}
    assert per_user.loc[2].to_dict() == {"test": 0, "train": 2, "valid": 0}


def test_temporal_split_holds_out_the_latest_pairs():
    pairs = _pairs([10])  # item i has time 10 - i: item 0 is the latest
    labels = assign_splits(pairs, SplitConfig(method="temporal"), seed=1)
    assert labels.tolist() == ["test", "valid"] + ["train"] * 8


def test_temporal_split_needs_timestamps():
    with pytest.raises(ConfigError, match="needs a timestamp"):
        assign_splits(_pairs([5], with_time=False), SplitConfig(method="temporal"), seed=1)


def test_seed_decides_random_split():
    pairs = _pairs([30, 30])
    a, b = assign_splits(pairs, SplitConfig(), seed=1), assign_splits(pairs, SplitConfig(), seed=1)
    c = assign_splits(pairs, SplitConfig(), seed=2)
    assert (a == b).all() and not (a == c).all()


def test_k_core_is_iterated_until_stable():
    # item z has 2 users; after dropping user c (1 pair) item y falls to 1 user and goes too
    pairs = pd.DataFrame({"user_id": ["a", "a", "b", "b", "c", "a"], "item_id": ["x", "z", "x", "z", "y", "y"]})
    kept, dropped = filter_pairs(pairs, SplitConfig(k_core=2))
    assert set(kept["item_id"]) == {"x", "z"} and dropped == {"users": 1, "items": 1, "pairs": 2}


def test_bad_split_config_is_rejected():
    with pytest.raises(ConfigError, match="must sum to 1"):
        SplitConfig(ratios=(0.8, 0.1, 0.2))
    with pytest.raises(ConfigError, match="use 'random' or 'temporal'"):
        SplitConfig(method="chronological")


def test_cold_start_items_and_users(world_dir, tmp_path):
    from ckgrec.kgbuild.build import build
    from ckgrec.kgbuild.config import BuildConfig
    from ckgrec.schemas.store import Store

    cfg = BuildConfig(split=SplitConfig(cold_items=0.1, cold_users=0.1, cold_user_train=3))
    s = Store.open(build(world_dir, tmp_path / "cold", fmt="native", config=cfg).store)
    inter = s.table("interactions")
    pairs = inter.drop_duplicates(["user", "item"])
    cold_item_pairs = pairs[pairs.protocol == "cold_item"]
    cold_items = set(cold_item_pairs["item"])
    assert len(cold_items) == 6  # 10% of 60
    assert set(cold_item_pairs["split"]) == {"valid", "test"}
    assert not (pairs["item"].isin(cold_items) & (pairs["protocol"] != "cold_item")).any()  # ALL their pairs
    cold_user = pairs[pairs.protocol == "cold_user"]
    per_user = cold_user.groupby("user")["split"].agg(lambda x: (x == "train").sum())
    assert len(per_user) == 4 and (per_user <= 3).all()
    assert set(cold_user["split"]) <= {"train", "test"}
    # cold items keep their KG edges but have no interaction edge in any graph
    tr = s.graph_table("triples", "user_side")
    rel = s.graph_table("relations", "user_side").set_index("relation")
    ent_of = s.graph_table("alignment_items", "user_side").set_index("item")["entity"]
    cold_ent = set(ent_of.loc[list(cold_items)])
    touching = tr[tr["head"].isin(cold_ent) | tr["tail"].isin(cold_ent)]
    assert len(touching) and (rel.loc[touching["relation"], "family"] != "interaction").all()
