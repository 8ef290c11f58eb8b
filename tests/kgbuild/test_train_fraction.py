"""``[build.split] train_fraction``: a seeded share of each user's training pairs, valid/test untouched."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

from ckgrec.cli import main
from ckgrec.kgbuild.build import build
from ckgrec.kgbuild.config import BuildConfig, SplitConfig
from ckgrec.kgbuild.split import train_fraction_mask
from ckgrec.schemas.errors import ConfigError
from ckgrec.schemas.store import Store
from tests.conftest import shared_dataset


def _build(world_dir, out, fraction: float, seed: int = 2020) -> Store:
    cfg = BuildConfig(seed=seed, split=SplitConfig(train_fraction=fraction))
    return Store.open(build(world_dir, out, fmt="native", config=cfg, force=True).store)


def _pairs(store: Store) -> pd.DataFrame:
    return store.table("interactions").drop_duplicates(["user", "item"])[["user", "item", "split"]]


@pytest.fixture(scope="module")
def full_and_half(world_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("tf")
    return _build(world_dir, root / "full", 1.0), _build(world_dir, root / "half", 0.5)


def test_share_of_each_users_training_pairs_is_kept(full_and_half):
    full, half = (_pairs(s) for s in full_and_half)
    t_full = full[full.split == "train"].groupby("user").size()
    t_half = half[half.split == "train"].groupby("user").size().reindex(t_full.index, fill_value=0)
    expected = np.maximum(1, np.floor(t_full * 0.5 + 0.5)).astype(int)
    assert (t_half == expected).all()  # at least one per user that had training pairs
    kept = half[half.split == "train"].merge(full[full.split == "train"], on=["user", "item"])
    assert len(kept) == t_half.sum()  # a subset of the full build's training pairs, nothing new


def test_valid_and_test_are_unchanged(full_and_half):
    full, half = (_pairs(s) for s in full_and_half)
    for split in ("valid", "test"):
        a = full[full.split == split].sort_values(["user", "item"]).reset_index(drop=True)
        b = half[half.split == split].sort_values(["user", "item"]).reset_index(drop=True)
        pd.testing.assert_frame_equal(a, b)


def test_only_kept_training_pairs_are_edges(full_and_half):
    _, half = full_and_half
    train = _pairs(half)
    train = train[train.split == "train"]
    n_users = half.num_users
    g = half.graph_table("triples", "user_side")
    rel = half.graph_table("relations", "user_side")
    interaction = rel.loc[rel.family == "interaction", "relation"]
    edges = g[g.relation.isin(interaction)]
    pairs = set(zip(edges["head"], edges["tail"] - n_users))
    assert pairs == set(zip(train["user"], train["item"]))


def test_recorded_in_the_manifest_and_fingerprint(full_and_half):
    full, half = full_and_half
    assert "train_fraction" not in full.manifest["config"]["split"]  # the default writes yesterday's manifest
    assert half.manifest["config"]["split"]["train_fraction"] == 0.5
    assert half.manifest["split"]["train_fraction"] == 0.5 and half.manifest["split"]["train_pairs_dropped"] > 0
    assert half.fingerprint != full.fingerprint


def test_seeded_and_deterministic(world_dir, tmp_path):
    a = _build(world_dir, tmp_path / "a", 0.3)
    b = _build(world_dir, tmp_path / "b", 0.3)
    digest = lambda s: {f: hashlib.sha256((s.path / f).read_bytes()).hexdigest() for f in s.manifest["files"]}
    assert digest(a) == digest(b)
    c = _build(world_dir, tmp_path / "c", 0.3, seed=7)
    assert c.fingerprint != a.fingerprint


def test_mask_draws_its_own_stream():
    pairs = pd.DataFrame({"user": np.repeat([0, 1, 2], 10), "item": np.tile(np.arange(10), 3)})
    pairs["split"] = np.where(pairs["item"] < 8, "train", "test")
    keep = train_fraction_mask(pairs, 0.25, seed=1)
    assert keep[pairs.split == "test"].all()
    assert pairs[keep & (pairs.split == "train")].groupby("user").size().tolist() == [2, 2, 2]
    assert (train_fraction_mask(pairs, 0.25, seed=1) == keep).all()
    assert train_fraction_mask(pairs, 1.0, seed=1).all()


@pytest.mark.parametrize("bad", [0, 0.0, -0.1, 1.5, "half", True])
def test_bad_values_name_the_key(bad):
    with pytest.raises(ConfigError, match=r"split.train_fraction = .*must be a number in \(0, 1\]"):
        SplitConfig(train_fraction=bad)


def test_bad_value_in_a_config_file(world_dir, tmp_path, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_text("[build.split]\ntrain_fraction = 2\n")
    assert main(["build", str(world_dir), "--out", str(tmp_path / "s"), "--config", str(cfg), "--quiet"]) == 2
    assert "split.train_fraction = 2" in capsys.readouterr().err


@pytest.mark.slow
def test_shipped_ml100k_config_builds(tmp_path, capsys):
    """configs/ml100k-20pct.toml through ``ckg build`` on ML-100K + Freebase + text (skips without the data)."""
    from pathlib import Path

    src, text = shared_dataset("ml-100k-recbole"), shared_dataset("ml-100k-features")
    config = Path(__file__).resolve().parents[2] / "configs" / "ml100k-20pct.toml"
    args = ["build", str(src), "--feature", f"text={text}", "--config", str(config), "--out", str(tmp_path / "s")]
    assert main([*args, "--quiet"]) == 0
    s = Store.open(tmp_path / "s")
    c = s.manifest["counts"]["pairs"]
    assert s.manifest["config"]["split"]["train_fraction"] == 0.2 and "text" in s.manifest["modalities"]
    assert c["valid"] == c["test"] and 0.18 < c["train"] / (8 * c["valid"]) < 0.22  # a fifth of the 80%
