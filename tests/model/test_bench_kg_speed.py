"""The KG speed benchmark times what the trainer runs: its optimizer, its phases, its epoch."""

from __future__ import annotations

import pytest

pytest.importorskip("torch")


def test_speed_child_times_the_trainers_epoch_and_splits_it_by_operator(store_dir, monkeypatch):
    import ckgrec.model.training.trainer as trainer
    from benchmarks import bench_kg_speed as bench

    made = []
    real = trainer.make_optimizer
    monkeypatch.setattr(trainer, "make_optimizer", lambda *a, **k: made.append(real(*a, **k)) or made[-1])
    r = bench.child(str(store_dir), "kgat", 16, 2, "cpu", 1, profile_steps=1)
    # both phases step the trainer's optimizers (fused Adam where torch has it), not an Adam of their own
    assert len(made) == 2 and all(o.state for o in made)
    assert r["kg_batches"] > 0 and r["cf_batches"] > 1
    assert r["epoch_s"] == pytest.approx(
        r["cf_step_s"] * r["cf_batches"] + r["kg_step_s"] * r["kg_batches"] + r["refresh_s"]
    )
    prof = r["profile"]
    assert set(prof["cf"]) == set(prof["kg"]) == {*bench.KINDS, bench.OTHER}
    assert (
        prof["cf"]["matrix products (dense and sparse)"] > 0
        and prof["cf"]["random numbers (dropout masks, samples)"] > 0
    )  # kgat: dropout 0.1
    table = bench.profile_table([r])
    assert table.count("\n") == 2 + len(prof["cf"]) - 1 and "matrix products" in table


def test_speed_child_runs_one_whole_epoch_through_the_trainers_loop(store_dir, monkeypatch):
    import ckgrec.model.training.trainer as trainer
    from benchmarks import bench_kg_speed as bench

    epochs = []
    real = trainer.Trainer._one_epoch
    monkeypatch.setattr(trainer.Trainer, "_one_epoch", lambda self, *a: epochs.append(a[-1]) or real(self, *a))
    r = bench.child(str(store_dir), "kgat", 16, 1, "cpu", 1, full_epoch=True)
    assert epochs == [1] and r["full_epoch"]["cpu_s"] > 0 and r["full_epoch"]["wall_s"] > 0
    assert "—" not in bench.table([r], 1).splitlines()[2].split("|")[13]


def test_speed_targets_are_read_off_the_records():
    from benchmarks import bench_kg_speed as bench

    kinds = [*bench.KINDS, bench.OTHER]
    prof = {"cf": dict.fromkeys(kinds, 0.01), "kg": dict.fromkeys(kinds, 0.0)}
    ml = {
        "store": "ml100k-text",
        "model": "kgat",
        "device": "cpu",
        "threads": 1,
        "epoch_s": 10.0,
        "cf_batches": 40,
        "kg_batches": 88,
        "profile": prof,
    }
    big = {
        "store": "store",
        "model": "kgat",
        "device": "cpu",
        "threads": 2,
        "epoch_s": 620.0,
        "epoch_wall_s": 700.0,
        "full_epoch": {"wall_s": 340.0},
    }
    text = bench.targets([ml, big])
    assert "0.40 CPU s per epoch" in text and "less than the target" in text  # 40 x 0.01 s of products against 9.4 / 5
    assert "340 s per epoch (one whole epoch, wall" in text and ": met." in text
    prof["cf"][kinds[0]] = 0.05  # 2.0 s of products: more than 1.88 s
    assert "out of reach" in bench.targets([ml])
    assert ": missed." in bench.targets([{**big, "full_epoch": None}])  # the extrapolated 700 s wall


def test_recbole_measured_side_by_side_replaces_the_issues_figure():
    """With RecBole timed in the same run, ratios and the 5x goal come from that measurement at
    the same thread count, and ours is the whole epoch when there is one (RecBole's is)."""
    from benchmarks import bench_kg_speed as bench

    ml = {
        "store": "ml100k-text",
        "model": "kgat",
        "device": "cpu",
        "threads": 1,
        "epoch_s": 12.0,
        "epoch_wall_s": 12.0,
        "cf_batches": 40,
        "kg_batches": 88,
        "cf_step_s": 0.25,
        "cf_step_wall_s": 0.25,
        "kg_step_s": 0.02,
        "kg_step_wall_s": 0.02,
        "refresh_s": 0.5,
        "batch_size": 2048,
        "entities": {"user_side": 10},
        "edges": {"user_side": 20},
        "peak_rss_mib": 100.0,
        "full_epoch": {"cpu_s": 13.0, "wall_s": 13.1},
    }
    recbole = {1: {"cpu_s": 26.0, "wall_s": 26.1}}
    text = bench.targets([ml], recbole)
    assert (
        "13.0 CPU s per epoch (one whole epoch) against RecBole's 26.0 s (side by side): 2.00× as fast; the 5× target is 5.20 s"
        in text
    )
    assert "2.17× faster (26.0 s, side by side)" in bench.table(
        [ml], 5, recbole
    )  # the table's ratio is of the extrapolated 12.0 s
    assert "(9.4 s, the issue's figure)" in bench.table(
        [{**ml, "threads": 2}], 5, recbole
    )  # no RecBole run at 2 threads


def test_dgl_stand_in_builds_recboles_starting_adjacency(monkeypatch):
    """The stand-in for DGL's graph calls gives RecBole's KGAT constructor the adjacency DGL >= 0.5
    would: rows are source nodes, a relation's subgraph keeps every node, duplicate edges add up."""
    import sys

    import numpy as np
    import torch

    from benchmarks import recbole_kgat_epoch as runner

    monkeypatch.delitem(sys.modules, "dgl", raising=False)
    runner._install_dgl_stand_in()
    dgl = sys.modules["dgl"]
    monkeypatch.delitem(sys.modules, "dgl")
    graph = dgl.graph((torch.tensor([0, 0, 1, 2, 2]), torch.tensor([1, 3, 2, 0, 0])))
    graph.edata["relation_id"] = torch.tensor([1, 2, 1, 1, 1])
    edges = graph.filter_edges(lambda e: e.data["relation_id"] == 1)
    assert edges.tolist() == [0, 2, 3, 4]
    sub = dgl.edge_subgraph(graph, edges, preserve_nodes=True)
    dense = sub.adjacency_matrix(transpose=False, scipy_fmt="coo").toarray()
    expected = np.zeros((4, 4))
    expected[0, 1] = expected[1, 2] = 1
    expected[2, 0] = 2  # the repeated edge 2 -> 0
    assert np.array_equal(dense, expected)
    assert np.array_equal(sub.adjacency_matrix(transpose=True, scipy_fmt="coo").toarray(), expected.T)
