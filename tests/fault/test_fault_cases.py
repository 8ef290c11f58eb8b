"""Every fault case of benchmarks/fault_campaign.py: one clear line, no traceback, no silent result.

The cases marked fast run in CI; the others, the kill/resume trials and the concurrent writers run
under ``-m slow``. ``python benchmarks/fault_campaign.py`` runs the same cases and prints the counts.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys

import pytest

from benchmarks import fault_campaign as fc

CASES = [
    pytest.param(name, setup, id=name, marks=() if fast else pytest.mark.slow) for name, fast, setup in fc.ERROR_CASES
]


@pytest.mark.parametrize("name,setup", CASES)
def test_fault_case_ends_in_one_clear_line(fx, name, setup):
    argv = setup(fx)
    try:
        p = fc.ckg(*argv, cwd=fx.root)
    finally:
        for cm in fx.extra.pop("held", []):
            cm.__exit__(None, None, None)
    outcome, detail = fc.classify_error(p)
    assert outcome == "clear_error", f"{name}: {outcome}: {detail}\n{p.stderr[-2000:]}"
    if name.startswith("second "):
        assert f"pid {os.getpid()}" in detail  # the refusal names the holder
    if name == "build --force onto a user's directory":
        assert (fx.extra["user_dir"] / "thesis.tex").read_text() == "precious"


def test_disk_full_is_one_line_and_keeps_the_previous_output(fx):
    results = fc.disk_full_cases(fx)
    assert [r.outcome for r in results] == ["clear_error"] * len(results), results
    assert all("out of disk space" in r.detail for r in results), results


def test_interrupted_commit_is_restored(fx):
    r = fc.kill_commit(fx, 0)
    assert r.outcome == "ok", r


def test_killed_build_leaves_old_or_new_store_and_reruns_clean(fx):
    r = fc.kill_build(fx, random.Random(1), 0)
    assert r.outcome == "ok", r


def test_sound_store_validates_and_recommend_json_is_strict(fx):
    p = fc.ckg("validate-store", str(fx.store), cwd=fx.root)
    assert p.returncode == 0, p.stderr
    p = fc.ckg("recommend", str(fx.run), "--user", "u1", "-k", "3", "--json", cwd=fx.root)
    assert p.returncode == 0, p.stderr

    def refuse(c):
        raise ValueError(c)

    body = json.loads(p.stdout, parse_constant=refuse)
    assert len(body["items"]) == 3


@pytest.mark.slow
@pytest.mark.parametrize("trial", range(3))
def test_killed_training_resumes_bit_identical(fx, trial):
    ref = fx.root / "train_reference"
    if not (ref / "scores.json").is_file():
        p = fc.ckg(
            "train",
            str(fx.store),
            "--model",
            "bprmf",
            "--out",
            str(ref),
            "--epochs",
            "6",
            "--patience",
            "0",
            "--quiet",
            cwd=fx.root,
        )
        assert p.returncode == 0, p.stderr
    reference = json.loads((ref / "scores.json").read_text())
    r = fc.kill_train(fx, random.Random(100 + trial), 10 + trial, reference)
    assert r.outcome == "ok", r


@pytest.mark.slow
@pytest.mark.parametrize("trial", range(3))
def test_killed_build_at_random_points(fx, trial):
    r = fc.kill_build(fx, random.Random(200 + trial), 10 + trial)
    assert r.outcome == "ok", r


@pytest.mark.slow
def test_killed_pretrain_reruns_clean(fx):
    r = fc.kill_pretrain(fx, random.Random(3), 0)
    assert r.outcome == "ok", r


@pytest.mark.slow
def test_killed_pipeline_reruns_clean(fx):
    r = fc.kill_run(fx, random.Random(4), 0)
    assert r.outcome == "ok", r


@pytest.mark.slow
def test_two_concurrent_builds_one_refused_or_serialised(fx):
    """Two real builds started together into one --out: never both writing; the survivor is a sound store."""
    out = fx.root / "concurrent"
    argv = ["build", str(fx.world), "--out", str(out), "--force", "--quiet"]
    env = {**os.environ, "PYTHONPATH": str(fc.ROOT), "OMP_NUM_THREADS": "1"}
    procs = [
        subprocess.Popen(
            [*fc.CKG, *argv], cwd=fx.root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    errs = [p.communicate()[1] for p in procs]
    codes = [p.returncode for p in procs]
    assert 0 in codes, errs
    for code, err in zip(codes, errs):
        if code:
            assert "is being written by another 'ckg build' (pid " in err, err
    assert fc.store_ok(out)


def test_build_is_deterministic_across_thread_counts(tmp_path):
    """k-means concept edges under OMP_NUM_THREADS=1 and 2: identical (scikit-learn's sums differ otherwise)."""
    code = (
        "import hashlib, numpy as np\n"
        "from ckgrec.kgbuild.concepts import assign_concepts\n"
        "from ckgrec.kgbuild.config import ConceptConfig\n"
        "x = np.random.default_rng(0).normal(size=(6000, 16)).astype(np.float32)\n"
        "ca = assign_concepts(x, ConceptConfig(clusters=64), 1)\n"
        "print(hashlib.sha256(ca.concepts.tobytes() + ca.similarity.tobytes()).hexdigest())\n"
    )
    out = []
    for threads in ("1", "2"):
        env = {**os.environ, "OMP_NUM_THREADS": threads, "OPENBLAS_NUM_THREADS": threads, "MKL_NUM_THREADS": threads}
        p = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, p.stderr
        out.append(p.stdout.strip())
    assert out[0] == out[1]


@pytest.mark.slow
def test_two_concurrent_trainings_into_one_run(fx):
    """Two real trainings started together into one RUN: one is refused naming the other's pid (or, when
    they happen not to overlap, the second finds the run finished); every epoch is logged once."""
    out = fx.root / "concurrent_run"
    argv = [
        "train",
        str(fx.store),
        "--model",
        "bprmf",
        "--out",
        str(out),
        "--epochs",
        "4",
        "--patience",
        "0",
        "--quiet",
    ]
    env = {**os.environ, "PYTHONPATH": str(fc.ROOT), "OMP_NUM_THREADS": "1"}
    procs = [
        subprocess.Popen(
            [*fc.CKG, *argv], cwd=fx.root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outs = [p.communicate() for p in procs]
    codes = [p.returncode for p in procs]
    assert 0 in codes, outs
    for code, (_, err) in zip(codes, outs):
        if code:
            assert "is being written by another 'ckg train' (pid " in err, err
    epochs = [json.loads(line)["epoch"] for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert epochs == sorted(set(epochs)) == list(range(1, len(epochs) + 1))
