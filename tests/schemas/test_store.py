"""The store contract: metadata checked on read, atomic writes, determinism."""

from __future__ import annotations

import json
import shutil

import pyarrow.parquet as pq
import pytest

from ckgrec.kgbuild.build import build
from ckgrec.schemas.errors import StoreCorruptedError, StoreError, StoreMismatchError
from ckgrec.schemas.store import Store, manifest_checksum


def test_same_input_and_seed_give_byte_identical_store(world_dir, tmp_path):
    a = build(world_dir, tmp_path / "a", fmt="native").store
    b = build(world_dir, tmp_path / "b", fmt="native").store
    files_a = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    assert files_a == files_b
    for rel in files_a:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel


def test_another_seed_changes_the_split(world_dir, tmp_path, store):
    from ckgrec.kgbuild.config import BuildConfig

    other = Store.open(build(world_dir, tmp_path / "c", fmt="native", config=BuildConfig(seed=99)).store)
    assert not other.table("interactions")["split"].equals(store.table("interactions")["split"])


def test_every_table_carries_name_version_and_fingerprint(store):
    for rel in store.manifest["files"]:
        if rel.endswith(".parquet"):
            meta = json.loads(pq.read_schema(store.path / rel).metadata[b"ckgrec"])
            assert meta["fingerprint"] == store.fingerprint and meta["schema_version"] == 1


def test_manifest_hashes_verify(store):
    store.verify()


def test_table_from_another_build_is_refused(world_dir, tmp_path, store_dir):
    other_raw = tmp_path / "raw"
    shutil.copytree(world_dir, other_raw)
    for name in ("interactions.csv", "users.csv"):  # drop user u3 everywhere: another id space
        lines = (other_raw / name).read_text().splitlines()
        (other_raw / name).write_text("\n".join(l for l in lines if not l.startswith("u3,")) + "\n")
    other = build(other_raw, tmp_path / "other", fmt="native").store
    mixed = tmp_path / "mixed"
    shutil.copytree(store_dir, mixed)
    shutil.copy(other / "entities.parquet", mixed / "entities.parquet")
    with pytest.raises(StoreCorruptedError, match="entities.parquet: .*(bytes|hash)"):
        Store.open(mixed)  # the manifest's size and hash catch it on open
    manifest = json.loads((mixed / "manifest.json").read_text())
    s = Store(mixed, manifest)  # without the manifest check, the table's own fingerprint stamp still refuses it
    s.table("users")  # untouched tables still read
    with pytest.raises(StoreMismatchError, match="entities.parquet: fingerprint .* comes from another build"):
        s.table("entities")


def test_fingerprint_mismatch_names_both(store_dir, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(store_dir, broken)
    manifest = json.loads((broken / "manifest.json").read_text())
    manifest["fingerprint"] = "0" * 32
    manifest["checksum"] = manifest_checksum(
        manifest
    )  # a consistent manifest: the tables' own stamps must still object
    (broken / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(
        StoreMismatchError, match=r"entities.parquet: fingerprint [0-9a-f]{32} does not match the store's 0{32}"
    ):
        Store.open(broken).table("entities")


def test_partially_written_store_is_refused(store_dir, tmp_path):
    partial = tmp_path / "partial"
    shutil.copytree(store_dir, partial)
    (partial / "manifest.json").unlink()
    with pytest.raises(StoreError, match="manifest.json is missing"):
        Store.open(partial)
    shutil.copytree(store_dir, tmp_path / "p2")
    (tmp_path / "p2" / "triples.parquet").unlink()
    with pytest.raises(StoreError, match="file 'triples.parquet' listed in the manifest is missing"):
        Store.open(tmp_path / "p2")


def test_existing_store_needs_force(world_dir, store_dir):
    with pytest.raises(StoreError, match="already exists; pass --force"):
        build(world_dir, store_dir, fmt="native")


def test_failed_build_keeps_the_previous_store(world_dir, tmp_path):
    out = build(world_dir, tmp_path / "s", fmt="native").store
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    (world_dir.parent / "bad").mkdir(exist_ok=True)
    bad = world_dir.parent / "bad"
    shutil.copytree(world_dir, bad, dirs_exist_ok=True)
    (bad / "users.csv").write_text("user_id,age\nu0,12\nu0,13\n")
    with pytest.raises(Exception):
        build(bad, out, fmt="native", force=True)
    after = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert before == after
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".s.")]  # no temp debris
