"""``ckg tune``: reproducible, resumable studies that select on valid and read test once, for the best trial."""

from __future__ import annotations

import json

import optuna
import pytest

from ckgrec.cli import main
from ckgrec.model.core.run_dir import RunDir
from ckgrec.model.models.registry import MODELS
from ckgrec.model.tuning.config import TuneConfig
from ckgrec.model.tuning.space import check_space
from ckgrec.model.tuning.tune import tune
from ckgrec.schemas.errors import ConfigError

FAST = {"epochs": 2, "batch_size": 64, "threads": 1}


def _params(summary):
    return [t["params"] for t in summary["trials"]]


@pytest.fixture(scope="module")
def study(store_dir, tmp_path_factory):
    """bprmf, 3 trials of 2 epochs, seed 7, through the command line."""
    out = tmp_path_factory.mktemp("tune") / "bprmf"
    assert (
        main(
            [
                "tune",
                str(store_dir),
                "--model",
                "bprmf",
                "--trials",
                "3",
                "--seed",
                "7",
                "--out",
                str(out),
                "--epochs",
                "2",
                "--threads",
                "1",
                "--quiet",
            ]
        )
        == 0
    )
    return out


def test_the_study_writes_trials_best_toml_and_summary(study):
    summary = json.loads((study / "summary.json").read_text())
    assert (
        summary["budget"]["complete"] == 3
        and summary["budget"]["pruned"] == 0
        and summary["budget"]["wall_seconds"] > 0
    )
    assert sorted(p.name for p in (study / "trials").iterdir()) == ["0", "1", "2"]
    best = summary["best"]
    assert best["valid"] == max(t["value"] for t in summary["trials"])
    assert set(best["train"]) == {"lr", "l2"} and set(best["model"]) == {"embedding_dim"}
    assert best["test"] == RunDir(study / best["run"]).read_scores()["test"]


def test_the_study_is_reproducible_for_a_fixed_seed(study, world_data, tmp_path):
    again = tune(world_data, "bprmf", tmp_path / "again", tune_config=TuneConfig(trials=3, seed=7), train_table=FAST)
    first = json.loads((study / "summary.json").read_text())
    assert _params(again) == _params(first)
    other = tune(world_data, "bprmf", tmp_path / "other", tune_config=TuneConfig(trials=2, seed=8), train_table=FAST)
    assert _params(other)[1] != _params(first)[1]  # trial 0 is the defaults whatever the seed


def test_trial_zero_is_the_models_defaults(study):
    """So the best of a study is never below the untuned model on validation."""
    summary = json.loads((study / "summary.json").read_text())
    assert _params(summary)[0] == {"lr": 1e-3, "l2": 1e-5, "embedding_dim": 64}
    assert summary["best"]["valid"] >= summary["trials"][0]["value"]


def test_best_toml_is_accepted_by_ckg_train_and_reproduces_the_best_trial(study, store_dir, tmp_path):
    summary = json.loads((study / "summary.json").read_text())
    out = tmp_path / "retrain"
    assert (
        main(
            [
                "train",
                str(store_dir),
                "--model",
                "bprmf",
                "--config",
                str(study / "best.toml"),
                "--seed",
                "7",
                "--out",
                str(out),
                "--threads",
                "1",
                "--quiet",
            ]
        )
        == 0
    )
    scores = RunDir(out).read_scores()
    assert scores["valid"]["recall@20"] == pytest.approx(summary["best"]["valid"])
    assert scores["test"] == pytest.approx(summary["best"]["test"])


def test_trials_never_read_the_test_split_and_the_best_is_tested_once(world_data, tmp_path, monkeypatch):
    import ckgrec.model.training.trainer as trainer_module

    splits = []
    real = trainer_module.evaluate

    def spy(model, data, split, *a, **k):
        splits.append(split)
        return real(model, data, split, *a, **k)

    monkeypatch.setattr(trainer_module, "evaluate", spy)
    summary = tune(
        world_data,
        "bprmf",
        tmp_path / "s",
        tune_config=TuneConfig(trials=3, seed=1),
        train_table=FAST,
        log=lambda msg: splits.append("best") if msg.startswith("best:") else None,
    )
    assert splits.count("test") == 1 and splits.index("test") > splits.index("best")
    best = summary["best"]["trial"]
    for t in summary["trials"]:
        run = RunDir(tmp_path / "s" / t["run"])
        assert (run.read_scores()["test"] is None) == (t["number"] != best)
        assert run.file("per_user_test.parquet").exists() == (t["number"] == best)
        assert run.read_config()["train"]["valid_metric"] == "recall@20"


class _PruneTrialOne(optuna.pruners.BasePruner):
    def prune(self, study, trial) -> bool:
        return trial.number == 1


def test_a_pruned_trial_is_recorded_as_pruned(world_data, tmp_path):
    summary = tune(
        world_data,
        "lightgcn",
        tmp_path / "p",
        tune_config=TuneConfig(trials=3, seed=3),
        train_table={**FAST, "epochs": 3},
        model_table={"embedding_dim": 8},
        pruner=_PruneTrialOne(),
    )
    states = {t["number"]: t["state"] for t in summary["trials"]}
    assert states == {0: "complete", 1: "pruned", 2: "complete"}
    assert summary["budget"]["pruned"] == 1 and summary["budget"]["complete"] == 2
    pruned = next(t for t in summary["trials"] if t["number"] == 1)
    assert pruned["last_epoch"] == 1 and not RunDir(tmp_path / "p" / "trials" / "1").is_complete
    assert "embedding_dim" not in summary["trials"][0]["params"] and summary["fixed"] == {"embedding_dim": 8}


def test_an_interrupted_study_resumes_to_the_total_number_of_trials(world_data, tmp_path):
    out = tmp_path / "r"

    def interrupt_in_trial_one(msg: str) -> None:
        if msg.startswith("trial 1:"):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        tune(
            world_data,
            "bprmf",
            out,
            tune_config=TuneConfig(trials=3, seed=5),
            train_table=FAST,
            log=interrupt_in_trial_one,
        )
    # a process killed outright leaves its trial RUNNING in the database
    killed = optuna.load_study(study_name="bprmf", storage=f"sqlite:///{out / 'study.db'}")
    killed.ask()
    summary = tune(world_data, "bprmf", out, tune_config=TuneConfig(trials=3, seed=5), train_table=FAST)
    assert summary["budget"]["complete"] == 3 and summary["budget"]["interrupted"] == 2
    assert [t["state"] for t in summary["trials"]] == ["complete", "fail", "fail", "complete", "complete"]
    again = tune(world_data, "bprmf", out, tune_config=TuneConfig(trials=3, seed=5), train_table=FAST)
    assert len(again["trials"]) == 5  # finished: nothing more to run
    with pytest.raises(ConfigError, match="other settings"):
        tune(world_data, "bprmf", out, tune_config=TuneConfig(trials=4, seed=6), train_table=FAST)


def test_bad_input_is_one_clear_error(store_dir, tmp_path, capsys):
    assert main(["tune", str(store_dir), "--model", "bprnf", "--trials", "2", "--out", str(tmp_path / "a")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "did you mean 'bprmf'?" in err[0]
    with pytest.raises(SystemExit) as e:
        main(["tune", str(store_dir), "--model", "bprmf", "--trials", "0", "--out", str(tmp_path / "b")])
    assert e.value.code == 2 and "--trials: must be an integer >= 1" in capsys.readouterr().err
    assert main(["tune", str(store_dir), "--model", "mostpop", "--trials", "2", "--out", str(tmp_path / "c")]) == 2
    assert "nothing to tune" in capsys.readouterr().err


def test_a_store_without_validation_pairs_is_refused(tmp_path):
    import numpy as np

    from ckgrec.model.data.train_data import TrainData

    data = TrainData.from_pairs(4, 4, (np.array([0, 1, 2]), np.array([0, 1, 2])), test=(np.array([3]), np.array([3])))
    with pytest.raises(ConfigError, match="no validation pairs"):
        tune(data, "bprmf", tmp_path / "v", tune_config=TuneConfig(trials=1))


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_search_space_names_real_options_within_their_ranges(name):
    check_space(MODELS[name])


def test_ckg_models_shows_the_search_space(capsys):
    assert main(["models", "lightgcn"]) == 0
    out = capsys.readouterr().out
    assert (
        "search space (ckg tune):" in out and "lr (train): log-uniform" in out and "layers (model): int [1, 4]" in out
    )


def test_the_default_vs_tuned_table_reads_trial_zero_and_the_best_trial(study, tmp_path, monkeypatch):
    import shutil

    from benchmarks import tuning_table

    shutil.copytree(study, tmp_path / "embedded" / "bprmf")
    summary = json.loads((study / "summary.json").read_text())
    first = next(t for t in summary["trials"] if t["number"] == 0)
    best = summary["best"]
    text = tuning_table.table(tmp_path)
    row = next(line for line in text.splitlines() if line.startswith("| bprmf |")).split(" | ")
    assert row[4] == f"{first['value']:.4f}" and row[5] == f"{best['valid']:.4f} (trial {best['trial']})"
    assert row[6] == f"{100 * (best['valid'] / first['value'] - 1):+.1f}%"
    assert "defaults changed" not in text  # the study ran with today's defaults
    # a default changed after the study ran is named under the table, and the row keeps the study's figures
    current = tuning_table.default_values("bprmf")
    monkeypatch.setattr(tuning_table, "default_values", lambda model: {**current, "lr": 0.123})
    changed = tuning_table.table(tmp_path)
    assert "- bprmf: defaults changed since this study ran, now lr = 0.123" in changed
    assert next(line for line in changed.splitlines() if line.startswith("| bprmf |")).split(" | ")[4] == row[4]


def test_the_default_vs_tuned_table_keeps_the_rows_of_studies_no_longer_on_disk(study, tmp_path):
    """A fresh checkout has no benchmarks/work/: rerunning one study must not erase the others' rows."""
    import shutil

    from benchmarks import tuning_table

    old = (
        "## t\n\n- date: 2026-01-02 10:00 UTC\n\n### embedded\n\n"
        + tuning_table.HEADER
        + "\n|---|---|---|---|---|---|---|---|\n"
        "| ease | 2026-01-02 | 12 / 0 | 7 | 0.2793 | 0.2793 (trial 0) | +0.0% | the defaults |\n"
        "| bprmf | 2026-01-02 | 1 / 0 | 1 | 0.1 | 0.1 (trial 0) | +0.0% | the defaults |\n\n- ease: defaults changed since "
        "this study ran, now reg = 1\n"
    )
    shutil.copytree(study, tmp_path / "embedded" / "bprmf")
    text = tuning_table.table(tmp_path, before=old)
    rows = [line for line in text.splitlines() if line.startswith("| ")][1:]
    assert [r.split(" | ")[0] for r in rows] == ["| bprmf", "| ease"]
    assert rows[1] == "| ease | 2026-01-02 | 12 / 0 | 7 | 0.2793 | 0.2793 (trial 0) | +0.0% | the defaults |"
    assert "- ease: defaults changed since this study ran, now reg = 1" in text
    assert rows[0].split(" | ")[2] != "1 / 0"  # the study on disk replaced the recorded bprmf row
    again = tuning_table.table(tmp_path, before="## t\n\n" + text)  # the new layout reads back unchanged
    assert again == text
