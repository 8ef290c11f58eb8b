"""The Python API (:mod:`ckgrec.api`): each stage on the shared test world, and the documented example.

Tiny settings (two or three epochs, mostpop and bprmf, a one-epoch 8-dimensional TransR) so the
file runs in seconds; what the stages compute is tested by their own test files.
"""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import ckgrec
from ckgrec import api
from ckgrec.schemas.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
TRAIN = {"epochs": 2, "threads": 1, "ks": [10, 20]}


@pytest.fixture(scope="module")
def runs(store_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("api-runs")
    bprmf = [
        ckgrec.train(store_dir, "bprmf", out=out / f"bprmf-{s}", seed=s, train=TRAIN, device="cpu") for s in (1, 2)
    ]
    mostpop = ckgrec.train(store_dir, "mostpop", out=out / "mostpop", train=TRAIN, device="cpu")
    return {"bprmf": bprmf, "mostpop": mostpop}


def test_import_ckgrec_is_light_and_exports_the_api_lazily():
    code = (
        "import sys, ckgrec\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in {'torch', 'pandas', 'pykeen', 'ckgrec'} and m != 'ckgrec')\n"
        "assert not heavy, heavy\n"
        "ckgrec.build\n"
        "assert 'ckgrec.api' in sys.modules and 'torch' not in sys.modules\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert set(ckgrec._API) == set(api.__all__)
    assert all(getattr(ckgrec, name) is getattr(api, name) for name in api.__all__)
    with pytest.raises(AttributeError):
        ckgrec.no_such_function  # noqa: B018


def test_build_returns_a_handle_of_the_store(world_dir, tmp_path):
    handle = ckgrec.build(world_dir, tmp_path / "store", fmt="native", config={"seed": 3})
    store = handle.open()
    assert handle.path == store.path.resolve() and handle.fingerprint == store.fingerprint
    assert handle.counts["users"] == store.num_users == 40 and set(handle.seconds) >= {"read", "write"}
    assert api.StoreHandle.load(handle.path).fingerprint == handle.fingerprint
    assert "users" in handle.summary()
    with pytest.raises(dataclasses.FrozenInstanceError):
        handle.path = tmp_path
    with pytest.raises(ConfigError, match="did you mean 'seed'"):
        ckgrec.build(world_dir, tmp_path / "other", fmt="native", config={"sed": 3})


def test_pretrain_returns_paths_and_held_out_metrics(world_dir, tmp_path):
    store = ckgrec.build(world_dir, tmp_path / "store", fmt="native")  # its own store: pretraining writes into it
    result = ckgrec.pretrain(
        store,
        graphs=["user_side"],
        epochs=1,
        warm_start="none",
        embedding_dim=8,
        relation_dim=8,
        patience=0,
        holdout=0.2,
        device="cpu",
    )
    g = result["user_side"]
    assert set(result.graphs) == {"user_side"} and g.tensors.is_file() and g.sidecar.is_file()
    assert g.tensors.parent == store.path / "pretrained"
    assert g.metrics["epochs_run"] == 1 and g.test["triples"] > 0
    assert result.config["embedding_dim"] == 8
    with pytest.raises(ConfigError, match="did you mean 'epochs'"):
        ckgrec.pretrain(store, epoch=1)
    with pytest.raises(ConfigError, match="unknown graph"):
        ckgrec.pretrain(store, graphs=["items"])


def test_train_returns_the_run_with_scores_and_history(runs, store_dir):
    run = runs["bprmf"][0]
    assert run.model == "bprmf" and run.complete and run.store == Path(store_dir).resolve()
    assert set(run.scores) >= {"valid", "test"} and 0 <= run.scores["test"]["recall@20"] <= 1
    assert run.test == run.scores["test"]
    assert list(run.history["epoch"]) == [1, 2] and "valid.recall@20" in run.history.columns
    loaded = api.Run.load(run.path)
    assert loaded == run and loaded.history.equals(run.history)
    assert json.loads((run.path / "config.json").read_text())["train"]["seed"] == 1


def test_train_refuses_bad_options_before_training(store_dir, tmp_path):
    with pytest.raises(ConfigError, match="did you mean 'epochs'"):
        ckgrec.train(store_dir, "bprmf", out=tmp_path / "r", train={"epoch": 2})
    with pytest.raises(ConfigError, match="disagree"):
        ckgrec.train(store_dir, "bprmf", out=tmp_path / "r", seed=1, train={"seed": 2})
    with pytest.raises(ConfigError):
        ckgrec.train(store_dir, "bprmf", out=tmp_path / "r", options={"no_such_option": 1})
    assert not (tmp_path / "r" / "config.json").exists()


def test_evaluate_reproduces_the_runs_scores(runs):
    run = runs["bprmf"][0]
    test = ckgrec.evaluate(run, split="test")
    assert test == pytest.approx(run.scores["test"])
    assert ckgrec.evaluate(str(run.path), split="valid") == pytest.approx(run.scores["valid"])
    assert set(ckgrec.evaluate(run, ks=[5])) == {"precision@5", "recall@5", "ndcg@5", "hit@5", "mrr@5"}
    with pytest.raises(ConfigError, match="split"):
        ckgrec.evaluate(run, split="train")


def test_the_cli_reads_a_run_the_api_trained(runs, capsys):
    from ckgrec.cli import main

    run = runs["bprmf"][1]
    assert main(["evaluate", str(run.path), "--json", "--split", "test"]) == 0
    assert json.loads(capsys.readouterr().out)["test"] == pytest.approx(ckgrec.evaluate(run))


def test_recommend_returns_typed_recommendations(runs, store):
    recs = ckgrec.recommend(runs["bprmf"][0], "u3", k=5)
    assert [r.rank for r in recs] == [1, 2, 3, 4, 5]
    assert all(isinstance(r, api.Recommendation) and r.paths == () for r in recs)
    scores = [r.score for r in recs]
    assert scores == sorted(scores, reverse=True)
    items = store.table("items").set_index("item")
    assert all(items.at[r.item, "label"] == r.label and r.name == items.at[r.item, "name"] for r in recs)
    with pytest.raises(ConfigError, match="unknown user"):
        ckgrec.recommend(runs["bprmf"][0], "nobody")


def test_compare_returns_a_dataframe_one_row_per_method(runs):
    df = ckgrec.compare([*runs["bprmf"], runs["mostpop"]], metrics=["ndcg@20"])
    assert list(df.index) == sorted(df.index, key=lambda label: -df.at[label, "recall@20"])
    assert set(df.index) == {"bprmf", "mostpop"} and df.at["bprmf", "seeds"] == (1, 2)
    assert {"recall@20", "recall@20 std", "recall@20 p", "recall@20 delta", "ndcg@20"} <= set(df.columns)
    mean = sum(r.scores["test"]["recall@20"] for r in runs["bprmf"]) / 2
    assert df.at["bprmf", "recall@20"] == pytest.approx(mean)
    assert df.attrs["split"] == "test" and df.attrs["reference"] in df.index


def test_run_config_runs_the_pipeline(world_dir, tmp_path):
    config = tmp_path / "exp.toml"
    config.write_text(
        f"""out = "out"

[data]
source = "{world_dir.as_posix()}"
format = "native"

[pretrain]
enabled = false

[train]
threads = 1

[[models]]
name = "mostpop"

[[models]]
name = "bprmf"
seeds = [1, 2]
train = {{ epochs = 2 }}

[evaluate]
ks = [10, 20]
metrics = ["recall@20", "ndcg@20"]

[report]
examples = 1
top_k = 2
""",
        encoding="utf-8",
    )
    result = ckgrec.run_config(config, until="compare")
    assert result.out == (tmp_path / "out").resolve() and result.store == result.out / "store"
    assert [(r.model, r.path.name) for r in result.runs] == [
        ("mostpop", "seed-2020"),
        ("bprmf", "seed-1"),
        ("bprmf", "seed-2"),
    ]
    assert result.report is None  # stopped before the report stage
    assert set(result.compare().index) == {"mostpop", "bprmf"}
    again = ckgrec.run_config(config, until="compare")
    assert set(again.steps.values()) == {"skipped"} and again.runs == result.runs


def readme_example() -> str:
    text = (ROOT / "docs" / "python-api.md").read_text(encoding="utf-8")
    match = re.search(r"```python\n(.*?)```", text, re.S)
    assert match, "docs/python-api.md has no ```python block"
    return match.group(1)


def test_the_documented_example_runs(tmp_path, monkeypatch, capsys):
    code = readme_example()
    fast, n = re.subn(r'("epochs":\s*|epochs\s*=\s*)\d+', r"\g<1>2", code)  # a smoke run: two epochs
    assert n >= 1, "the example no longer sets epochs; keep this test fast by updating the substitution"
    monkeypatch.chdir(tmp_path)
    exec(compile(fast, "docs/python-api.md", "exec"), {"__name__": "__main__"})
    out = capsys.readouterr().out
    assert re.search(r"test recall@20 \d\.\d{4}", out), out
    assert (tmp_path / "runs" / "bprmf" / "scores.json").is_file()
    assert sum(1 for line in out.splitlines() if re.match(r"[1-5] v\d+", line)) == 5, out
