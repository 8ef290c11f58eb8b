"""``ckg compare`` prints one table per user/item group, "n/a" where a model cannot score it."""

from __future__ import annotations

import json

import pytest

from ckgrec.cli import main
from tests.model.block_store import cold_world_store

FAST = ["--epochs", "1", "--batch-size", "64", "--lr", "0.01", "--quiet", "--threads", "1"]


@pytest.fixture(scope="module")
def cold_runs(world_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("coldruns")
    store = cold_world_store(world_dir, root / "store").path
    for seed in (1, 2):
        assert (
            main(
                [
                    "train",
                    str(store),
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
    assert main(["train", str(store), "--model", "featknn", "--out", str(root / "knn"), "--quiet"]) == 0
    return [str(root / n) for n in ("bpr1", "bpr2", "knn")]


def _table(out: str, group: str) -> list[str]:
    block = out.split(f"group {group} (")[1].split("\n\n")[1]
    return [line for line in block.splitlines() if line.startswith("| ")]


def test_compare_prints_a_table_per_group_with_na_not_zero(cold_runs, capsys):
    assert main(["compare", *cold_runs, "--metrics", "recall@20,ndcg@20"]) == 0
    out = capsys.readouterr().out
    for group in ("warm", "cold_items_all", "cold_items_only", "cold_users"):
        assert f"group {group} (" in out
    rows = {line.split("|")[1].strip(): line for line in _table(out, "cold_items_only")[1:]}
    assert rows.keys() == {"bprmf", "featknn"}
    assert "n/a" in rows["bprmf"] and "0.0000" not in rows["bprmf"]
    assert "n/a" not in rows["featknn"] and "ref" in rows["featknn"]  # the only method with figures is the reference
    warm = {line.split("|")[1].strip(): line for line in _table(out, "warm")[1:]}
    assert "±" in warm["bprmf"] and "n/a" not in warm["bprmf"]


def test_compare_json_carries_the_group_tables(cold_runs, capsys):
    assert main(["compare", *cold_runs, "--metrics", "recall@20", "--format", "json"]) == 0
    tables = {t["group"]: t for t in json.loads(capsys.readouterr().out)["group_tables"]}
    rows = {r["label"]: r for r in tables["cold_items_all"]["rows"]}
    assert rows["bprmf"]["value"] == "n/a" and rows["featknn"]["mean"]["recall@20"] >= 0
    warm = {r["label"]: r for r in tables["warm"]["rows"]}
    other = "featknn" if tables["warm"]["reference"] == "bprmf" else "bprmf"
    p = warm[other]["p_value"]["recall@20"]
    assert p is None or 0 <= p <= 1  # None: fewer than MIN_PAIRED users differ in this tiny store


def test_group_tables_can_be_switched_off(cold_runs, capsys):
    assert main(["compare", *cold_runs, "--group-metrics", ""]) == 0
    assert "group warm" not in capsys.readouterr().out


def test_evaluate_reports_the_groups_of_the_final_scores(cold_runs, capsys):
    from ckgrec.model.core.run_dir import RunDir

    assert main(["evaluate", cold_runs[0], "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    saved = RunDir(cold_runs[0]).read_scores()["groups"]
    assert out["groups"]["test"]["cold_items_all"] == "n/a"
    assert out["groups"]["test"]["warm"] == pytest.approx(saved["test"]["warm"])
