"""Builds on the real public datasets in ../shared/datasets (skipped when they are absent)."""

from __future__ import annotations

from ckgrec.kgbuild.build import build
from ckgrec.schemas.store import Store
from tests.conftest import shared_dataset


def test_ml100k_recbole_with_text_features_and_freebase(tmp_path):
    src = shared_dataset("ml-100k-recbole")
    feats = shared_dataset("ml-100k-features")
    s = Store.open(build(src, tmp_path / "s", extra_features={"text": str(feats)}).store)
    c = s.counts
    assert (c["users"], c["items"]) == (943, 1682)
    assert sum(c["interactions"].values()) == 100_000  # no interaction lost, linked or not
    assert c["interaction_relations"] == ["rating_1", "rating_2", "rating_3", "rating_4", "rating_5"]
    assert s.feature("text")[1].shape == (1682, 384)
    ai = s.graph_table("alignment_items", "user_side")
    assert ai["external"].notna().sum() == 1598  # 84 items have no Freebase link but stay in
    rel = s.graph_table("relations", "user_side")
    assert (rel["family"] == "external").sum() > 0
    s.verify()


def test_tiktok_sample(tmp_path):
    src = shared_dataset("tiktok-sample")
    s = Store.open(build(src, tmp_path / "s").store)
    assert s.counts["users"] == 100 and set(s.modalities) == {"visual", "acoustic"}
    assert s.feature("visual")[1].shape == (s.counts["features"]["visual"], 128)
