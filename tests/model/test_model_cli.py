"""``ckg train / evaluate / compare / models`` through the real entry point."""

from __future__ import annotations

import json

import pytest

from ckgrec.cli import main
from ckgrec.model.core.run_dir import RunDir

FAST = ["--epochs", "3", "--batch-size", "64", "--lr", "0.01", "--quiet", "--threads", "1"]


@pytest.fixture(scope="module")
def runs(store_dir, tmp_path_factory):
    """bprmf with two seeds, mostpop and ease on the tiny world store."""
    root = tmp_path_factory.mktemp("runs")
    for seed in (1, 2):
        assert (
            main(
                [
                    "train",
                    str(store_dir),
                    "--model",
                    "bprmf",
                    "--out",
                    str(root / f"bpr{seed}"),
                    "--seed",
                    str(seed),
                    *FAST,
                    "--set",
                    "embedding_dim=8",
                ]
            )
            == 0
        )
    for m in ("mostpop", "ease"):
        assert main(["train", str(store_dir), "--model", m, "--out", str(root / m), "--quiet"]) == 0
    return root


def test_train_writes_the_run_directory(runs, capsys):
    run = RunDir(runs / "bpr1")
    cfg = run.read_config()
    assert cfg["model_config"] == {"embedding_dim": 8} and cfg["train"]["seed"] == 1 and cfg["train"]["threads"] == 1
    assert len(run.read_metrics()) == 3 and run.read_scores()["protocol"] == "full"


def test_train_on_a_finished_run_reports_instead_of_retraining(runs, store_dir, capsys):
    before = (runs / "bpr1" / "scores.json").read_text()
    assert (
        main(
            [
                "train",
                str(store_dir),
                "--model",
                "bprmf",
                "--out",
                str(runs / "bpr1"),
                "--seed",
                "1",
                *FAST[:-3],
                "--threads",
                "1",
                "--set",
                "embedding_dim=8",
            ]
        )
        == 0
    )
    assert "already finished" in capsys.readouterr().out
    assert (runs / "bpr1" / "scores.json").read_text() == before


def test_unknown_model_option_suggests_the_closest(store_dir, tmp_path, capsys):
    assert main(["train", str(store_dir), "--model", "lightgcn", "--out", str(tmp_path / "r"), "--set", "layer=2"]) == 2
    assert "unknown key 'layer'; did you mean 'layers'?" in capsys.readouterr().err
    assert main(["train", str(store_dir), "--model", "lightgnc", "--out", str(tmp_path / "r")]) == 2
    assert "did you mean 'lightgcn'?" in capsys.readouterr().err
    assert main(["train", str(store_dir), "--model", "ngcf", "--out", str(tmp_path / "r"), "--set", "hidden=8,x"]) == 2
    assert "not a valid int" in capsys.readouterr().err


def test_config_file_and_flags(store_dir, tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text("[train]\nepochs = 2\nbatch_size = 32\nlr = 0.02\n[model]\nhidden = [8]\nembedding_dim = 8\n")
    assert (
        main(
            [
                "train",
                str(store_dir),
                "--model",
                "ngcf",
                "--out",
                str(tmp_path / "r"),
                "--config",
                str(cfg),
                "--epochs",
                "1",
                "--quiet",
            ]
        )
        == 0
    )
    c = RunDir(tmp_path / "r").read_config()
    assert c["train"]["epochs"] == 1 and c["train"]["batch_size"] == 32 and c["model_config"]["hidden"] == [8]


def test_evaluate_full_and_sampled(runs, capsys):
    assert main(["evaluate", str(runs / "bpr1"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["protocol"] == "full" and out["test"] == pytest.approx(RunDir(runs / "bpr1").read_scores()["test"])
    assert main(["evaluate", str(runs / "bpr1"), "--protocol", "sampled", "--negatives", "20"]) == 0
    text = capsys.readouterr().out
    assert "SAMPLED PROTOCOL" in text and "compare with papers" in text and "[sampled-20]" in text
    sampled = json.loads((runs / "bpr1" / "scores_sampled.json").read_text())
    assert sampled["protocol"] == "sampled" and "warning" in sampled
    assert RunDir(runs / "bpr1").read_scores()["protocol"] == "full"  # scores.json untouched


def test_evaluate_refuses_a_store_from_another_build(runs, tmp_path, capsys):
    from ckgrec.kgbuild.build import build
    from tests.world import make_world

    other = build(make_world(tmp_path / "raw", n_users=30), tmp_path / "other", fmt="native").store
    from ckgrec.schemas.store import Store

    want = RunDir(runs / "bpr1").read_config()["store"]["fingerprint"]
    assert main(["evaluate", str(runs / "bpr1"), "--store", str(other)]) == 2
    err = capsys.readouterr().err
    assert want in err and Store.open(other).fingerprint in err and "another build" in err
    assert (
        main(["train", str(other), "--model", "bprmf", "--out", str(tmp_path / "x"), *FAST]) == 0
    )  # a new run is fine


def test_compare_table(runs, capsys):
    paths = [str(runs / n) for n in ("bpr1", "bpr2", "mostpop", "ease")]
    assert main(["compare", *paths, "--metrics", "recall@20,ndcg@20"]) == 0
    out = capsys.readouterr().out
    assert "| model" in out and "bprmf" in out and "±" in out and "Wilcoxon" in out
    assert main(["compare", *paths, "--metrics", "recall@20", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    groups = {g["model"]: g for g in data["groups"]}
    assert groups["bprmf"]["seeds"] == [1, 2] and len(groups) == 3
    ref = data["reference"]
    assert ref == max(groups.values(), key=lambda g: g["mean"]["recall@20"])["label"]
    assert all(g["p_value"]["recall@20"] is None or 0 <= g["p_value"]["recall@20"] <= 1 for g in data["groups"])


def test_compare_refuses_duplicate_seeds(runs, capsys):
    assert main(["compare", str(runs / "bpr1"), str(runs / "bpr1")]) == 2
    assert "same configuration and seed" in capsys.readouterr().err


def test_models_lists_every_model_with_options(capsys):
    from ckgrec.model.models.registry import MODELS

    assert main(["models"]) == 0
    out = capsys.readouterr().out
    for name in MODELS:
        assert f"{name}  --" in out
    assert "--set layers" in out and "trainer defaults" in out


def test_a_run_from_before_an_option_existed_is_the_same_method_as_one_recording_its_default(runs):
    """config.json of an older run lacks options added since; they held their default then."""
    from ckgrec.model.evaluation.compare import _method_key

    new = RunDir(runs / "bpr1").read_config()
    new = {
        **new,
        "model": "dualkgat",
        "model_config": {"layer_dims": [64, 32], "edge_weights": "attention_degree", "init": "random"},  # the default
    }
    old = {**new, "model_config": {"layer_dims": [64, 32], "init": "random"}}
    other = {**new, "model_config": {"layer_dims": [64, 32], "edge_weights": "symmetric", "init": "random"}}
    assert _method_key(old) == _method_key(new)
    assert _method_key(other) != _method_key(old)
    assert _method_key({**old, "model_config": {"init": "random"}}) != _method_key(
        old
    )  # layer_dims default (64, 64, 64) differs
    # a tuple default is compared as the list config.json holds
    assert _method_key({**old, "model_config": {"init": "random"}}) == _method_key(
        {**old, "model_config": {"init": "random", "layer_dims": [64, 64, 64]}}
    )


def test_the_paper_config_trains_the_paper_design(store_dir, tmp_path):
    """configs/paper.toml trains dualkgat as the paper designs it (KGAT's bi-interaction layers with
    softmax attention, an attention over the layers, dimension importance, TransR beside BPR, no
    closed-form filter; lr 1e-3, L2 1e-2, batch 1024), not the default design, and is the
    benchmarks' paper row (benchmarks/experiments/shared/paper.toml, the base of the dualkgat rows
    measured before the lean config)."""
    from pathlib import Path

    from benchmarks import experiments

    toml = Path(__file__).resolve().parents[2] / "configs" / "paper.toml"
    common = [str(store_dir), "--model", "dualkgat", "--epochs", "1", "--quiet", "--threads", "1"]
    assert main(["train", *common, "--out", str(tmp_path / "paper"), "--config", str(toml)]) == 0
    flags = experiments.load("shared", "paper").flags()
    assert main(["train", *common, "--out", str(tmp_path / "row"), *flags]) == 0
    assert main(["train", *common, "--out", str(tmp_path / "default")]) == 0
    paper, row, default = (RunDir(tmp_path / n).read_config() for n in ("paper", "row", "default"))
    assert paper["model_config"] == row["model_config"] and paper["train"] == row["train"]
    m, t = paper["model_config"], paper["train"]
    assert {k: m[k] for k in ("aggregator", "edge_weights", "fusion", "layer_dims", "dropout")} == {
        "aggregator": "bi",
        "edge_weights": "attention",
        "fusion": "attention_concat",
        "layer_dims": [64, 32, 16],
        "dropout": 0.3,
    }
    assert m["dimension_importance"] is True and m["kg_weight"] == 1.0 and m["knowledge_filter"] is False
    assert m["init"] == "auto"
    assert (t["lr"], t["l2"], t["batch_size"]) == (0.001, 0.01, 1024)
    # the default is the other design
    assert default["model_config"] != paper["model_config"] and default["train"]["lr"] == 0.002
    assert RunDir(tmp_path / "paper").read_scores()["epochs"] == 1
