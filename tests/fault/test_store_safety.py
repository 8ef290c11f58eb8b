"""In-process checks of verification, fingerprints, locks, recovery and file modes."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys

import pandas as pd
import pytest

from ckgrec.schemas.errors import OutputLockedError, StoreCorruptedError, StoreError, UnsafeOutputError
from ckgrec.schemas.locks import exclusive_lock, read_holder
from ckgrec.schemas.store import Store, recover_interrupted, store_fingerprint, validate_store, writing_store


def _copy(store_dir, tmp_path, name="s"):
    dst = tmp_path / name
    shutil.copytree(store_dir, dst, ignore=shutil.ignore_patterns("pretrained"))
    return dst


def test_flipped_byte_is_one_error_naming_the_file(store_dir, tmp_path):
    s = _copy(store_dir, tmp_path)
    Store.open(s)
    p = s / "triples.parquet"
    b = bytearray(p.read_bytes())
    b[len(b) // 2] ^= 1
    p.write_bytes(bytes(b))
    with pytest.raises(StoreCorruptedError, match="triples.parquet: content hash differs"):
        Store.open(s)
    Store.open(s, verify=False)  # sizes only: the opt-out for trusted hot paths
    problems, _ = validate_store(s)
    assert len(problems) == 1 and "triples.parquet" in problems[0]


def test_truncated_file_and_edited_manifest_are_refused(store_dir, tmp_path):
    s = _copy(store_dir, tmp_path)
    (s / "features" / "visual.npy").write_bytes(b"")
    with pytest.raises(StoreCorruptedError, match=r"visual.npy: 0 bytes, but the manifest recorded"):
        Store.open(s, verify=False)
    s2 = _copy(store_dir, tmp_path, "s2")
    m = json.loads((s2 / "manifest.json").read_text())
    m["counts"]["users"] += 1
    (s2 / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(StoreCorruptedError, match="manifest was edited or corrupted"):
        Store.open(s2)


def test_fingerprint_covers_the_triples(store):
    frames = {n: store.table(n) for n in ("entities", "relations", "users", "items", "triples")}
    fp = store_fingerprint(frames["entities"], frames["relations"], frames["users"], frames["items"], frames["triples"])
    assert fp == store.fingerprint
    fewer = frames["triples"].iloc[1:]
    assert store_fingerprint(frames["entities"], frames["relations"], frames["users"], frames["items"], fewer) != fp
    shuffled = frames["triples"].sample(frac=1.0, random_state=0)
    assert store_fingerprint(frames["entities"], frames["relations"], frames["users"], frames["items"], shuffled) == fp


def test_lock_refuses_a_live_holder_and_takes_over_a_stale_one(tmp_path):
    lock = tmp_path / ".x.lock"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            (
                "import sys, time; sys.path.insert(0, %r)\n"
                "from ckgrec.schemas.locks import exclusive_lock\n"
                "with exclusive_lock(%r, 'x'):\n    print('held', flush=True); time.sleep(30)\n"
            )
            % (os.getcwd(), str(lock)),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(OutputLockedError, match=rf"pid {holder.pid}\b"):
            with exclusive_lock(lock, "x"):
                pass
    finally:
        holder.kill()
        holder.wait()
    assert read_holder(lock) == holder.pid  # the dead holder's pid is still in the file: a stale lock
    with exclusive_lock(lock, "x"):
        assert read_holder(lock) == os.getpid()
        with exclusive_lock(lock, "x"):  # re-entrant within one process
            pass


def test_force_replaces_only_a_store(world_dir, store_dir, tmp_path):
    d = tmp_path / "mine"
    d.mkdir()
    (d / "keep.txt").write_text("x")
    with pytest.raises(UnsafeOutputError, match="not a ckgrec store"):
        with writing_store(d, force=True):
            pass
    with pytest.raises(UnsafeOutputError, match="lies inside the input"):
        with writing_store(world_dir / "store", force=True, sources=[world_dir]):
            pass
    with pytest.raises(StoreError, match="already exists; pass --force"):
        with writing_store(store_dir, force=False):
            pass
    assert (d / "keep.txt").exists()


def test_recovery_restores_an_interrupted_commit_and_removes_debris(store_dir, tmp_path):
    s = _copy(store_dir, tmp_path)
    old = s.with_name(f".{s.name}.old.999999")
    os.replace(s, old)
    junk = s.with_name(f".{s.name}.building.999999.abc")
    junk.mkdir()
    with pytest.raises(Exception, match="previous store"):
        Store.open(s)
    done = recover_interrupted(s)
    assert len(done) == 2 and not old.exists() and not junk.exists()
    Store.open(s)


def test_outputs_follow_the_umask(world_dir, tmp_path):
    from ckgrec.kgbuild.build import build
    from ckgrec.kgbuild.rdf.export import export_store

    old = os.umask(0o022)
    try:
        report = build(world_dir, tmp_path / "st")
        assert stat.S_IMODE(report.store.stat().st_mode) == 0o755
        assert stat.S_IMODE((report.store / "triples.parquet").stat().st_mode) == 0o644
        out = tmp_path / "g.nt"
        export_store(report.store, out, fmt="nt")
        assert stat.S_IMODE(out.stat().st_mode) == 0o644
    finally:
        os.umask(old)


def test_feature_index_and_matrix_disagreeing_is_an_error(store_dir, tmp_path):
    import numpy as np

    s = _copy(store_dir, tmp_path)
    st = Store.open(s)
    m = st.modalities[0]
    idx, _ = st.feature(m)
    assert isinstance(idx, pd.DataFrame)
    np.save(s / "features" / f"{m}.npy", np.zeros((1, 2), np.float32))
    with pytest.raises(StoreCorruptedError, match=f"{m}.npy"):
        Store(s, st.manifest).feature(m)
