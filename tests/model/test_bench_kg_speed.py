"""The KG speed benchmark times what the trainer runs: its optimizer, its phases, its epoch."""
from __future__ import annotations

import pytest

pytest.importorskip("torch")


def test_speed_child_times_the_trainers_epoch_and_splits_it_by_operator(store_dir, monkeypatch):
    import model.trainer as trainer
    from benchmarks import bench_kg_speed as bench

    made = []
    real = trainer.make_optimizer
    monkeypatch.setattr(trainer, "make_optimizer", lambda *a, **k: made.append(real(*a, **k)) or made[-1])
    r = bench.child(str(store_dir), "kgat", 16, 2, "cpu", 1, profile_steps=1)
    # both phases step the trainer's optimizers (fused Adam where torch has it), not an Adam of their own
    assert len(made) == 2 and all(o.state for o in made)
    assert r["kg_batches"] > 0 and r["cf_batches"] > 1
    assert r["epoch_s"] == pytest.approx(r["cf_step_s"] * r["cf_batches"] + r["kg_step_s"] * r["kg_batches"] + r["refresh_s"])
    prof = r["profile"]
    assert set(prof["cf"]) == set(prof["kg"]) == {*bench.KINDS, bench.OTHER}
    assert prof["cf"]["matrix products (dense and sparse)"] > 0 and prof["cf"]["random numbers (dropout masks, samples)"] > 0  # kgat: dropout 0.1
    table = bench.profile_table([r])
    assert table.count("\n") == 2 + len(prof["cf"]) - 1 and "matrix products" in table
