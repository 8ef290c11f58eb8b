"""ckg inspect STORE: the summary's numbers come from the tables, and fit one screen."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ckgrec.cli import main
from ckgrec.kgbuild.inspect.summary import (
    components,
    degree_stats,
    format_inspection,
    summarize,
)


@pytest.fixture(scope="module")
def summary(store_dir):
    return summarize(store_dir)


def test_counts_match_the_tables(summary, store):
    inter = store.table("interactions")
    assert summary["users"] == store.num_users and summary["items"] == store.num_items
    assert summary["interactions"] == {s: int((inter["split"] == s).sum()) for s in ("train", "valid", "test")}
    for g in ("user_side", "item_side"):
        gs = summary["graphs"][g]
        assert gs["triples"] == store.counts["triples"][g]
        assert gs["entities_total"] == store.counts["entities"][g]
        t = store.graph_table("triples", g)
        assert sum(r["triples"] for r in gs["relations"]) == len(t)
    pairs = inter.drop_duplicates(["user", "item"])
    assert summary["density"] == pytest.approx(len(pairs) / (store.num_users * store.num_items))


def test_degree_statistics_per_kind(summary, store):
    t = store.graph_table("triples", "user_side")
    e = store.graph_table("entities", "user_side").sort_values("entity")
    deg = np.bincount(t["head"], minlength=len(e)) + np.bincount(t["tail"], minlength=len(e))
    users = deg[(e["kind"] == "user").to_numpy()]
    d = summary["graphs"]["user_side"]["degree"]["user"]
    assert (d["min"], d["max"], d["median"]) == (users.min(), users.max(), float(np.median(users)))
    assert d["p99"] == pytest.approx(np.percentile(users, 99))
    assert degree_stats(np.array([], dtype=int))["count"] == 0


def test_components_count_isolated_nodes_and_islands():
    labels = components(6, np.array([0, 1, 3]), np.array([1, 2, 4]))
    assert len(set(labels)) == 3 and labels[0] == labels[2] and labels[3] == labels[4] and labels[5] not in labels[:5]


def test_text_fits_one_screen_and_json_is_the_same_data(store_dir, summary, capsys):
    text = format_inspection(summary)
    assert len(text.splitlines()) <= 40 and max(map(len, text.splitlines())) <= 200
    for word in ("degree", "components", "cold-start", "reachable only through attributes", "like"):
        assert word in text
    assert main(["inspect", str(store_dir), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["graphs"]["user_side"]["triples"] == summary["graphs"]["user_side"]["triples"]


def test_cold_start_items_are_reachable_only_through_attributes(world_dir, tmp_path):
    from ckgrec.kgbuild.build import build
    from ckgrec.kgbuild.config import BuildConfig, SplitConfig

    store = build(
        world_dir, tmp_path / "cold", fmt="native", config=BuildConfig(split=SplitConfig(cold_items=0.2))
    ).store
    s = summarize(store)
    cold = s["cold_start_items"]["count"]
    assert cold >= 10 and len(s["cold_start_items"]["examples"]) == 5
    # every item has attribute and concept edges, so a cold item is reached through them only
    assert s["graphs"]["user_side"]["reachable_only_through_attributes"]["item"] == cold
    # in G_i an item has interaction edges only: a cold item is isolated there
    assert s["graphs"]["item_side"]["isolated"]["item"] == cold
