"""Trainer: resume equals an uninterrupted run, determinism, validation-only selection, refusals."""

from __future__ import annotations

import json

import pytest
import torch

import ckgrec.model.training.trainer as trainer_mod
from ckgrec.model.core import checkpoint as ckpt
from ckgrec.model.core.options import build_config
from ckgrec.model.core.run_dir import RunDir
from ckgrec.model.models.registry import get_model
from ckgrec.model.training.config import TrainConfig
from ckgrec.model.training.trainer import train
from ckgrec.schemas.errors import ConfigError, StoreMismatchError

TC = dict(epochs=6, batch_size=64, lr=0.01, patience=0, ks=(5, 10), valid_metric="recall@10")


def _state(run) -> dict[str, torch.Tensor]:
    return ckpt.load(RunDir(run).file("best.pt"))["model"]


def _losses(run) -> list[float]:
    return [r["loss"] for r in RunDir(run).read_metrics()]


KGAT_SMALL = {"dim": 8, "relation_dim": 8, "layer_dims": (8,), "init": "random"}


@pytest.mark.parametrize(
    "name,options",
    [
        ("bprmf", {"embedding_dim": 8}),
        ("ngcf", {"embedding_dim": 8, "hidden": (8,)}),
        ("kgat", {**KGAT_SMALL, "kg_optimizer": "shared"}),
    ],
)
def test_resumed_run_equals_uninterrupted_run(world_data, tmp_path, name, options):
    """ngcf uses dropout, so this also checks that torch's global generator is restored; kgat
    with a shared optimizer, that one optimizer saved under two phases resumes as one."""
    mc = build_config(get_model(name).Config, options)
    tc = TrainConfig(**TC)
    full = train(world_data, name, tmp_path / "full", model_config=mc, train_config=tc)
    run = tmp_path / "killed"
    assert train(world_data, name, run, model_config=mc, train_config=tc, stop_after=2) is None
    assert RunDir(run).has_checkpoint and not RunDir(run).is_complete
    # a kill between the metrics line and the checkpoint leaves a line the checkpoint does not know
    RunDir(run).append_metrics({"epoch": 3, "loss": 123.0})
    assert train(world_data, name, run, model_config=mc, train_config=tc, stop_after=3) is None
    resumed = train(world_data, name, run, model_config=mc, train_config=tc)
    assert resumed["test"] == full["test"] and resumed["valid"] == full["valid"]
    assert resumed["best_epoch"] == full["best_epoch"] and resumed["epochs"] == full["epochs"] == 6
    assert _losses(run) == _losses(tmp_path / "full")
    a, b = _state(run), _state(tmp_path / "full")
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not RunDir(run).has_checkpoint  # removed once finished


def test_a_phase_that_shares_the_cf_optimizer_steps_it(world_data):
    """kg_optimizer = shared: the TransR phase steps the CF phase's Adam (RecBole's KGAT), so its
    steps count in the same moments; own (KGAT's code, the default) gives it an Adam of its own."""
    cls = get_model("kgat")
    tc = TrainConfig(**TC).resolved(cls)
    shared = cls.build(
        world_data, build_config(cls.Config, {**KGAT_SMALL, "kg_optimizer": "shared"}), torch.device("cpu")
    )
    opts = trainer_mod.make_optimizers(shared, tc)
    assert opts["kg"] is opts["cf"]
    own = cls.build(world_data, build_config(cls.Config, KGAT_SMALL), torch.device("cpu"))
    opts = trainer_mod.make_optimizers(own, tc)
    assert opts["kg"] is not opts["cf"]


def test_same_seed_same_result_other_seed_other_result(world_data, tmp_path):
    tc = TrainConfig(**{**TC, "epochs": 3})
    a = train(world_data, "bprmf", tmp_path / "a", train_config=tc)
    b = train(world_data, "bprmf", tmp_path / "b", train_config=tc)
    train(world_data, "bprmf", tmp_path / "c", train_config=TrainConfig(**{**TC, "epochs": 3, "seed": 7}))
    assert a["test"] == b["test"] and _losses(tmp_path / "a") == _losses(tmp_path / "b")
    assert _losses(tmp_path / "a") != _losses(tmp_path / "c")


def test_selection_looks_at_validation_only_and_test_once(world_data, tmp_path, monkeypatch):
    calls = []
    real = trainer_mod.evaluate

    def spy(model, data, split, *args, **kwargs):
        calls.append(split)
        return real(model, data, split, *args, **kwargs)

    monkeypatch.setattr(trainer_mod, "evaluate", spy)
    scores = train(
        world_data, "bprmf", tmp_path / "r", train_config=TrainConfig(**{**TC, "epochs": 4, "eval_every": 2})
    )
    assert calls == ["valid", "valid", "valid", "test"]  # epochs 2 and 4, then the final valid + test
    assert scores["protocol"] == "full" and set(scores["test"]) == set(scores["valid"])


def test_early_stopping_keeps_the_best_epoch(world_data, tmp_path):
    # a huge learning rate makes validation worse after the first evaluation
    scores = train(
        world_data, "bprmf", tmp_path / "r", train_config=TrainConfig(**{**TC, "epochs": 50, "lr": 0.5, "patience": 2})
    )
    lines = RunDir(tmp_path / "r").read_metrics()
    best = max(lines, key=lambda r: r["valid"]["recall@10"])
    assert scores["stopped_early"] and scores["epochs"] < 50
    assert scores["best_epoch"] == best["epoch"]
    assert scores["valid"]["recall@10"] == pytest.approx(best["valid"]["recall@10"])


def test_run_directory_contract(world_data, tmp_path):
    run = RunDir(tmp_path / "r")
    scores = train(
        world_data,
        "lightgcn",
        run.path,
        model_config=build_config(get_model("lightgcn").Config, {"embedding_dim": 8}),
        train_config=TrainConfig(**{**TC, "epochs": 2}),
    )
    cfg = json.loads(run.file("config.json").read_text())
    assert (
        cfg["model"] == "lightgcn"
        and cfg["store"]["fingerprint"] == world_data.fingerprint
        and cfg["train"]["l2"] == 1e-4
    )
    lines = run.file("metrics.jsonl").read_text().splitlines()
    assert [json.loads(x)["epoch"] for x in lines] == [1, 2]
    on_disk = json.loads(run.file("scores.json").read_text())
    assert on_disk == json.loads(json.dumps(scores))
    for key in ("valid", "test", "protocol", "epochs", "seconds_per_epoch"):
        assert key in on_disk
    assert set(on_disk["test"]) == {f"{n}@{k}" for n in ("precision", "recall", "ndcg", "hit", "mrr") for k in (5, 10)}
    per_user = run.read_per_user("test")
    assert list(per_user.columns[:1]) == ["user"] and len(per_user) == on_disk["users_evaluated"]["test"]


def test_resume_with_other_settings_is_refused(world_data, tmp_path):
    tc = TrainConfig(**TC)
    train(world_data, "bprmf", tmp_path / "r", train_config=tc, stop_after=1)
    with pytest.raises(ConfigError, match=r"train.lr: 0.01 -> 0.02"):
        train(world_data, "bprmf", tmp_path / "r", train_config=TrainConfig(**{**TC, "lr": 0.02}))
    done = train(world_data, "bprmf", tmp_path / "r", train_config=TrainConfig(**{**TC, "lr": 0.02}), force=True)
    assert done["epochs"] == 6


def test_checkpoint_of_another_store_build_is_refused(world_data, tmp_path):
    train(world_data, "bprmf", tmp_path / "r", train_config=TrainConfig(**TC), stop_after=1)
    with pytest.raises(StoreMismatchError, match=f"fingerprint {world_data.fingerprint}.*fingerprint abc"):
        ckpt.load(tmp_path / "r" / "checkpoint.pt", fingerprint="abc")


def test_bad_trainer_options_are_config_errors():
    with pytest.raises(ConfigError, match="its K must be one of"):
        TrainConfig(valid_metric="recall@50")
    with pytest.raises(ConfigError, match="optimizer"):
        TrainConfig(optimizer="adamw2")


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("name", ["lightgcn", "ngcf", "neumf", "ease"])
def test_training_and_scoring_on_cuda(world_data, tmp_path, name):
    scores = train(world_data, name, tmp_path / name, train_config=TrainConfig(**{**TC, "epochs": 2, "device": "cuda"}))
    assert scores["device"].startswith("cuda") and 0.0 <= scores["test"]["recall@10"] <= 1.0
    from ckgrec.model.inference.load import load_model

    model, _ = load_model(tmp_path / name, world_data, "cpu")  # a CUDA checkpoint loads on the CPU
    assert model.device.type == "cpu"
