"""The model-speed benchmark: its generated features build into a store, and its child times a trained
model's steps and a closed form's fit."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")


def test_generated_features_cover_every_item_and_build(tmp_path):
    from benchmarks.bench_harness import generate
    from ckgrec.kgbuild.build import build
    from ckgrec.schemas.store import Store

    raw = generate(tmp_path / "raw", 60, 80, 600, feature_dim=8)
    vectors = np.load(raw / "features" / "visual.npy")
    index = np.loadtxt(raw / "features" / "visual.csv", delimiter=",", skiprows=1, dtype=np.int64)
    items = np.unique(np.loadtxt(raw / "interactions.csv", delimiter=",", skiprows=1, dtype=np.int64)[:, 1])
    assert vectors.shape == (len(items), 8) and vectors.dtype == np.float32
    assert np.array_equal(index[:, 0], items) and np.array_equal(index[:, 1], np.arange(len(items)))
    store = Store.open(build(raw, tmp_path / "store", fmt="native").store)
    assert store.manifest["feature_dims"] == {"visual": 8}


def test_speed_child_extrapolates_steps_and_times_a_closed_form_fit(store_dir):
    from benchmarks.bench_harness import run_child
    from benchmarks.bench_model_speed import table

    trained = run_child("lightgcn", store_dir, 1, 1)
    closed = run_child("itemknn", store_dir, 1, 1)
    assert trained["trainable"] and trained["batches_timed"] == 1 and trained["train_s"] > 0
    assert not closed["trainable"] and closed["batches"] == 0 and closed["train_s"] > 0
    rows = [{**r, "store": "ml100k", "epoch_s": r["sample_s"] + r["train_s"]} for r in (trained, closed)]
    lines = table(rows)
    assert len(lines) == 4 and "closed form" in lines[3] and lines[2].split("|")[8].strip() == "–"
    ratio = float(lines[3].split("|")[8].strip().rstrip("×"))
    assert ratio == pytest.approx(rows[1]["epoch_s"] / rows[0]["epoch_s"], abs=0.06)
