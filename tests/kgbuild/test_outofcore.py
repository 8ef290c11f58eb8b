"""The out-of-core build (``--memory-limit``) writes the very store the in-memory build writes."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ckgrec.cli import main
from ckgrec.kgbuild.build import build
from ckgrec.kgbuild.config import BuildConfig, InteractionConfig, SplitConfig
from ckgrec.kgbuild.outofcore.engine import parse_memory_limit
from ckgrec.schemas.errors import ConfigError, InputValidationError
from tests.conftest import shared_dataset

pytest.importorskip("duckdb")

LIMIT = "256MB"


def _files(store: Path) -> dict[str, bytes]:
    return {str(p.relative_to(store)): p.read_bytes() for p in sorted(store.rglob("*")) if p.is_file()}


def _same_store(source, tmp_path: Path, cfg: BuildConfig | None = None, **kw) -> Path:
    a = build(source, tmp_path / "mem", config=cfg, force=True, **kw).store
    b = build(source, tmp_path / "ooc", config=cfg, force=True, memory_limit=LIMIT, **kw).store
    fa, fb = _files(a), _files(b)
    assert sorted(fa) == sorted(fb)
    differ = [f for f in fa if fa[f] != fb[f]]
    assert not differ, f"files differ: {differ}"
    leftovers = [p.name for p in tmp_path.iterdir() if ".outofcore." in p.name]
    assert not leftovers  # the scratch database and spill files are gone
    return b


@pytest.mark.parametrize(
    "cfg",
    [
        BuildConfig(),
        BuildConfig(seed=11, split=SplitConfig(method="temporal", ratios=(0.7, 0.15, 0.15))),
        BuildConfig(split=SplitConfig(k_core=5, min_pairs_for_holdout=4)),
        BuildConfig(split=SplitConfig(min_user_pairs=8, min_item_pairs=3, train_fraction=0.3)),
        BuildConfig(interactions=InteractionConfig(relation_names={"favorite": "fav"}, confidence={"fav": 0.9})),
        BuildConfig(external_kg=False, split=SplitConfig(ratios=(1.0, 0.0, 0.0))),
    ],
    ids=["default", "temporal", "k_core", "filters+train_fraction", "renamed", "no_holdout"],
)
def test_identical_store_on_the_test_world(world_dir, tmp_path, cfg):
    _same_store(world_dir, tmp_path, cfg, fmt="native")


def _world_copy(world_dir: Path, tmp_path: Path, edit) -> Path:
    root = tmp_path / "src"
    shutil.copytree(world_dir, root)
    inter = pd.read_csv(root / "interactions.csv", dtype=str)
    edit(root, inter)
    return root


def test_identical_with_a_given_split_and_ratings_in_parquet(world_dir, tmp_path):
    def edit(root, inter):
        rng = np.random.default_rng(3)
        pair = inter["user_id"] + "/" + inter["item_id"]
        labels = pd.Series(rng.choice(["train", "train", "train", "test"], pair.nunique()), index=pair.unique())
        inter["split"] = pair.map(labels).to_numpy()  # no 'valid': drawn from each user's training pairs
        inter["rating"] = rng.integers(1, 6, len(inter)).astype(str)
        (root / "interactions.csv").unlink()
        inter.to_parquet(root / "interactions.parquet", index=False)

    src = _world_copy(world_dir, tmp_path, edit)
    store = _same_store(src, tmp_path, BuildConfig(interactions=InteractionConfig(min_rating=2)), fmt="native")
    assert (store / "manifest.json").read_text().count("drawn from each user") == 1


def test_identical_on_the_embedded_data(tmp_path):
    from ckgrec.kgbuild.embedded import embedded_dataset_dir

    _same_store(embedded_dataset_dir(), tmp_path)


@pytest.mark.slow
def test_identical_on_ml100k_with_freebase_and_text(tmp_path):
    src, text = shared_dataset("ml-100k-recbole"), shared_dataset("ml-100k-features")
    _same_store(src, tmp_path, extra_features={"text": str(text)})
    (raw := tmp_path / "movielens").mkdir()
    _same_store(shared_dataset("ml-100k"), raw)  # the raw u.data layout, read by its adapter


def test_bad_input_reads_the_same(world_dir, tmp_path):
    def edit(root, inter):
        inter.loc[2, "user_id"] = " "
        inter.loc[4, "timestamp"] = "soon"
        inter.loc[5, "behavior"] = ""
        inter.to_csv(root / "interactions.csv", index=False)
        users = pd.read_csv(root / "users.csv", dtype=str)
        users.loc[1, "user_id"] = users.loc[0, "user_id"]
        users.to_csv(root / "users.csv", index=False)

    src = _world_copy(world_dir, tmp_path, edit)
    with pytest.raises(InputValidationError) as mem:
        build(src, tmp_path / "a", fmt="native")
    with pytest.raises(InputValidationError) as ooc:
        build(src, tmp_path / "b", fmt="native", memory_limit=LIMIT)
    assert [str(p) for p in ooc.value.problems] == [str(p) for p in mem.value.problems]
    assert {p.row for p in ooc.value.problems if p.file.endswith("interactions.csv")} == {3, 5, 6}
    assert not (tmp_path / "b").exists() and not [p for p in tmp_path.iterdir() if ".outofcore." in p.name]


def test_malformed_csv_names_the_file(world_dir, tmp_path):
    src = _world_copy(world_dir, tmp_path, lambda root, inter: None)
    with open(src / "interactions.csv", "a") as f:
        f.write("u1,i1,like,1600000000,extra,fields\n")
    with pytest.raises(InputValidationError, match="interactions.csv.*malformed delimited file"):
        build(src, tmp_path / "b", fmt="native", memory_limit=LIMIT)


def test_debris_of_a_killed_build_is_removed(world_dir, tmp_path):
    debris = tmp_path / ".s.outofcore.999999999.abc"
    (debris / "spill").mkdir(parents=True)
    build(world_dir, tmp_path / "s", fmt="native", memory_limit=LIMIT)
    assert not debris.exists()


def test_unported_options_are_refused_clearly(world_dir, tmp_path):
    from ckgrec.kgbuild import outofcore

    cfg = BuildConfig(split=SplitConfig(cold_items=0.1))
    with pytest.raises(ConfigError, match="cold_items / cold_users are not supported by the out-of-core build"):
        outofcore.build(world_dir, tmp_path / "s", config=cfg, memory_limit=parse_memory_limit(LIMIT))


def test_small_input_auto_builds_in_memory(world_dir, tmp_path):
    r = build(world_dir, tmp_path / "s", fmt="native", memory_limit="auto")
    assert r.engine.startswith("engine: in-memory: interactions.csv is ") and "below the 64.0 MB" in r.engine
    assert build(world_dir, tmp_path / "t", memory_limit="none").engine == "engine: in-memory: --memory-limit none"
    assert build(world_dir, tmp_path / "u").engine == "engine: in-memory: no memory limit set"  # the Python default


def test_auto_counts_parquet_uncompressed(world_dir, tmp_path):
    from ckgrec.kgbuild.outofcore.choice import choose

    def to_parquet(root, inter):
        (root / "interactions.csv").unlink()
        inter.to_parquet(root / "interactions.parquet", index=False)

    c = choose(_world_copy(world_dir, tmp_path, to_parquet), "auto", BuildConfig(), "auto")
    assert not c.out_of_core and c.reason.startswith("interactions.parquet is ") and " uncompressed, below" in c.reason


def test_large_input_auto_and_a_forced_limit_build_out_of_core(world_dir, tmp_path, monkeypatch):
    from ckgrec.kgbuild.outofcore import choice

    r = build(world_dir, tmp_path / "s", fmt="native", memory_limit=LIMIT)
    assert r.engine == "engine: out-of-core (DuckDB, memory limit 256.0 MB, 256MB): --memory-limit 256MB"
    monkeypatch.setattr(choice, "AUTO_MIN_BYTES", 1)
    r = build(world_dir, tmp_path / "t", config=BuildConfig(memory_limit="auto"))  # as [build] memory_limit
    assert r.engine.startswith("engine: out-of-core (DuckDB, memory limit ") and "auto: 40% of memory" in r.engine
    assert _files(tmp_path / "s") == _files(tmp_path / "t")


def test_uncovered_options_fall_back_to_memory(world_dir, tmp_path):
    cfg = BuildConfig(split=SplitConfig(cold_items=0.1))
    r = build(world_dir, tmp_path / "s", config=cfg, memory_limit=LIMIT)
    assert r.engine == "engine: in-memory: split.cold_items / cold_users are not ported to the out-of-core build yet"

    def weights(root, inter):  # many distinct values: read as weights, found only once the column is read
        inter["rating"] = [str(10 * k + 3) for k in range(len(inter))]
        inter.to_csv(root / "interactions.csv", index=False)

    src = _world_copy(world_dir, tmp_path, weights)
    r = build(src, tmp_path / "w", fmt="native", memory_limit=LIMIT)
    assert r.engine.startswith("engine: in-memory: the rating column is read as weight (")
    assert r.engine.endswith("the out-of-core build reads levels only; built in memory instead")
    assert _files(r.store) == _files(build(src, tmp_path / "m", fmt="native").store)
    assert not [p for p in tmp_path.iterdir() if ".outofcore." in p.name]


def test_memory_limit_values():
    assert parse_memory_limit("4GB") == 4 * 10**9 and parse_memory_limit("2GiB") == 2 * 2**30
    assert parse_memory_limit("auto") > 0 and parse_memory_limit(None) == parse_memory_limit("auto")
    assert parse_memory_limit("none") == parse_memory_limit("0") == parse_memory_limit(0) == 0
    for bad in ("lots", "1MB", "-3GB"):
        with pytest.raises(ConfigError, match="--memory-limit"):
            parse_memory_limit(bad)
    with pytest.raises(ConfigError, match="build.memory_limit = 'lots'"):
        BuildConfig(memory_limit="lots")


def test_cli_flag(world_dir, tmp_path, capsys):
    assert main(["build", str(world_dir), "--out", str(tmp_path / "s"), "--memory-limit", LIMIT, "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "users 40" in out and "\nengine: out-of-core (DuckDB, memory limit 256.0 MB, 256MB)" in out
    assert main(["build", str(world_dir), "--out", str(tmp_path / "a"), "--quiet"]) == 0  # the default: auto
    assert "\nengine: in-memory: interactions.csv is " in capsys.readouterr().out
    cold = tmp_path / "cold.toml"
    cold.write_text("[build]\nmemory_limit = '256MB'\n[build.split]\ncold_users = 0.1\ncold_user_train = 1\n")
    assert main(["build", str(world_dir), "--out", str(tmp_path / "c"), "--config", str(cold), "--quiet"]) == 0
    assert "engine: in-memory: split.cold_items / cold_users are not ported" in capsys.readouterr().out
    assert main(["build", str(world_dir), "--out", str(tmp_path / "t"), "--memory-limit", "lots", "--quiet"]) == 2
