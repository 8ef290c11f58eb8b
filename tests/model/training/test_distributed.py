"""Data-parallel training (``nproc`` > 1, gloo on the CPU) on the tiny world: a 2-process run
finishes, matches the 1-process run within tolerance, is deterministic, and resumes after a kill
exactly as one process does (``stop_after`` here; a real SIGKILL in the slow test). Each
2-process run spawns two ranks, a few seconds each to start."""

from __future__ import annotations

import json
import math
import shutil

import pytest
import torch

from ckgrec.model.core import checkpoint as ckpt
from ckgrec.model.core.options import build_config
from ckgrec.model.core.run_dir import RunDir
from ckgrec.model.models.base import Batch
from ckgrec.model.models.registry import get_model
from ckgrec.model.training import distributed as dd
from ckgrec.model.training.config import TrainConfig
from ckgrec.model.training.trainer import train
from ckgrec.schemas.errors import ConfigError

TC = dict(epochs=4, batch_size=64, lr=0.01, patience=0, ks=(5, 10), valid_metric="recall@10", threads=1)
OPTIONS = {"bprmf": {"embedding_dim": 8}, "lightgcn": {"embedding_dim": 8, "layers": 2}}


def _mc(name):
    return build_config(get_model(name).Config, OPTIONS[name])


def _state(run) -> dict[str, torch.Tensor]:
    return ckpt.load(RunDir(run).file("best.pt"))["model"]


def _losses(run) -> list[float]:
    return [r["loss"] for r in RunDir(run).read_metrics()]


def _equal_states(a, b) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_shard_gives_every_row_to_exactly_one_rank():
    n = 13
    batch = Batch(torch.arange(n), torch.arange(n) + 100, torch.arange(n).view(-1, 1) + 200)
    for world in (1, 2, 3, 5, 20):
        parts = [dd.shard(batch, dd.Dist(r, world)) for r in range(world)]
        assert torch.equal(torch.cat([p.users for p in parts]), batch.users)
        assert torch.equal(torch.cat([p.neg for p in parts]), batch.neg)
        sizes = [len(p) for p in parts]
        assert max(sizes) - min(sizes) <= 1 and sum(sizes) == n


def test_two_processes_match_one_and_a_killed_run_resumes_exactly(world_data, tmp_path):
    """lightgcn: every rank computes the full-graph propagation and takes its half of the batch,
    so the same total batch gives the 1-process result up to floating-point order. A 2-process
    run killed after epoch 2 (``stop_after``) and started again equals the uninterrupted one
    (losses, scores, parameters): fresh epochs are deterministic and the resume is exact."""
    tc, mc = TrainConfig(**TC), _mc("lightgcn")
    one = train(world_data, "lightgcn", tmp_path / "one", model_config=mc, train_config=tc)
    full = train(world_data, "lightgcn", tmp_path / "full", model_config=mc, train_config=tc, nproc=2)
    assert _losses(tmp_path / "full") == pytest.approx(_losses(tmp_path / "one"), rel=1e-4)
    for split in ("valid", "test"):
        for k, v in one[split].items():
            assert full[split][k] == pytest.approx(v, abs=0.02), (split, k)
    s1, s2 = _state(tmp_path / "one"), _state(tmp_path / "full")
    assert all(torch.allclose(s1[k], s2[k], atol=1e-4) for k in s1)
    assert json.loads(RunDir(tmp_path / "full").file("config.json").read_text())["train"]["world_size"] == 2
    assert "world_size" not in json.loads(RunDir(tmp_path / "one").file("config.json").read_text())["train"]
    assert not RunDir(tmp_path / "full").has_checkpoint  # rank 0 removed it once finished

    run = tmp_path / "killed"
    assert train(world_data, "lightgcn", run, model_config=mc, train_config=tc, nproc=2, stop_after=2) is None
    assert RunDir(run).has_checkpoint and not RunDir(run).is_complete
    payload = ckpt.load(RunDir(run).file("checkpoint.pt"))
    assert len(payload["rng_ranks"]) == 2 and payload["state"]["epoch"] == 2
    # resuming with another world size is refused (its random states are per rank), naming the key
    other = tmp_path / "other"
    shutil.copytree(run, other)
    with pytest.raises(ConfigError, match="world_size"):
        train(world_data, "lightgcn", other, model_config=mc, train_config=tc)
    resumed = train(world_data, "lightgcn", run, model_config=mc, train_config=tc, nproc=2)
    assert resumed["test"] == full["test"] and resumed["valid"] == full["valid"]
    assert resumed["epochs"] == full["epochs"] == 4 and resumed["best_epoch"] == full["best_epoch"]
    assert _losses(run) == _losses(tmp_path / "full")
    assert _equal_states(_state(run), _state(tmp_path / "full"))


def test_closed_form_and_bad_nproc(world_data, tmp_path):
    """A closed-form model is fitted once, by this process, whatever nproc says."""
    tc = TrainConfig(**TC)
    scores = train(world_data, "ease", tmp_path / "ease", train_config=tc, nproc=2)
    assert scores["epochs"] == 0 and not math.isnan(scores["test"]["recall@10"])
    assert "world_size" not in json.loads(RunDir(tmp_path / "ease").file("config.json").read_text())["train"]
    with pytest.raises(ConfigError, match="nproc"):
        train(world_data, "bprmf", tmp_path / "bad", train_config=tc, nproc=0)


@pytest.mark.slow
def test_sigkilled_launcher_resumes_exactly(store_dir, tmp_path):
    """A real kill: SIGKILL to ``ckg train --nproc 2`` mid-run takes its ranks down with it (they
    hold no lock then), and the same command finishes with the uninterrupted run's best.pt."""
    import os
    import signal
    import subprocess
    import sys
    import time

    ckg = [sys.executable, "-c", "import sys; from ckgrec.cli import main; sys.exit(main())"]
    flags = ["train", str(store_dir), "--model", "lightgcn", "--epochs", "30", "--batch-size", "16"]
    flags += ["--threads", "1", "--patience", "0", "--nproc", "2", "--quiet", "--set", "embedding_dim=8"]
    subprocess.run([*ckg, *flags, "--out", str(tmp_path / "ref")], check=True, capture_output=True)
    run = tmp_path / "killed"
    proc = subprocess.Popen([*ckg, *flags, "--out", str(run)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while len(RunDir(run).read_metrics()) < 3 if RunDir(run).file("metrics.jsonl").exists() else True:
        assert proc.poll() is None and time.monotonic() < deadline, "the run ended before it could be killed"
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert RunDir(run).has_checkpoint and not RunDir(run).is_complete
    subprocess.run([*ckg, *flags, "--out", str(run)], check=True, capture_output=True)
    assert RunDir(run).file("best.pt").read_bytes() == RunDir(tmp_path / "ref").file("best.pt").read_bytes()
    assert _losses(run) == _losses(tmp_path / "ref")


def test_ckg_run_and_ckg_train_read_nproc_from_the_train_table(store_dir, tmp_path):
    """``[train] nproc`` is taken out of the trainer table (not a TrainConfig field, so config.json
    and the pipeline's fingerprints of a 1-process run are unchanged) by ``ckg run`` and ``ckg train --config``."""
    import argparse

    from ckgrec.cli import train_cmd
    from ckgrec.pipeline.config import load_config

    def job(train_table: str):
        path = tmp_path / "job.toml"
        text = f'out = "out"\n[data]\nstore = "{store_dir}"\n[train]\nepochs = 2\n{train_table}\n[[models]]\nname = "bprmf"\n'
        path.write_text(text)
        return load_config(path)

    assert job("nproc = 2").nproc == 2 and job("").nproc == 1
    assert job("nproc = 2").train == job("").train
    with pytest.raises(ConfigError, match="nproc"):
        job("nproc = 0")
    cfg = tmp_path / "train.toml"
    cfg.write_text("[train]\nnproc = 3\nepochs = 2\n")
    args = argparse.Namespace(model="bprmf", config=str(cfg), ks=None, set=[], nproc=None)
    args.__dict__.update({flag: None for flag in train_cmd.FLAG_TO_FIELD})
    cls, mc, tc, nproc = train_cmd.load_configs_nproc(args)
    assert nproc == 3 and tc.epochs == 2
    args.nproc = 2
    assert train_cmd.load_configs_nproc(args)[3] == 2
