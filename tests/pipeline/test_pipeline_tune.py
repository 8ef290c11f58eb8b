"""``ckg run`` with a ``[tune]`` table: the config, the tune stage, tuned seeded runs, skipping and the report."""

from __future__ import annotations

import json
import shutil

import pytest

from ckgrec.pipeline.config import load_config
from ckgrec.pipeline.runner import run_pipeline
from ckgrec.schemas.errors import ConfigError
from tests.pipeline.conftest import config_text, write_config

MODELS = """
[[models]]
name = "mostpop"

[[models]]
name = "bprmf"
seeds = [1, 2]
train = { epochs = 2 }
options = { embedding_dim = 16 }

[[models]]
name = "lightgcn"
seeds = [1]
train = { epochs = 2, lr = 0.005 }
"""

TUNE = """
[tune]
trials = 2
seed = 3
"""


def _text(world_dir, tune: str = TUNE) -> str:
    return config_text(world_dir, MODELS, pretrain=False, extra=tune)


def _load(tmp_path, text):
    return load_config(write_config(tmp_path, text))


def _json(p):
    return json.loads(p.read_text(encoding="utf-8"))


# ---- the config ------------------------------------------------------------------------------


def test_tune_table_parses_and_defaults_to_every_model_with_something_to_search(tmp_path, world_dir):
    cfg = _load(tmp_path, _text(world_dir))
    assert cfg.tune.trials == 2 and cfg.tune.seed == 3 and cfg.tune.timeout is None
    assert cfg.tune.models == ("bprmf", "lightgcn")  # mostpop has no search space
    assert (
        cfg.model("bprmf").given_options == {"embedding_dim": 16} and cfg.model("lightgcn").given_train["lr"] == 0.005
    )
    cfg = _load(tmp_path, _text(world_dir, '[tune]\ntrials = 4\ntimeout = 60\nmodels = ["lightgcn"]\n'))
    assert cfg.tune.models == ("lightgcn",) and cfg.tune.timeout == 60
    assert _load(tmp_path, _text(world_dir, "")).tune is None


@pytest.mark.parametrize(
    "tune, expected",
    [
        ("[tune]\ntrails = 2\n", r"\[tune\]: unknown key 'trails'.*did you mean 'trials'"),
        ("[tune]\ntrials = 2\ntimout = 5\n", r"\[tune\]: unknown key 'timout'.*did you mean 'timeout'"),
        ("[tune]\ntrials = 0\n", r"\[tune\].*trials = 0: must be an integer >= 1"),
        (
            '[tune]\ntrials = 2\nmodels = ["lightgnc"]\n',
            r"\[tune\]: models: 'lightgnc' is not a model label.*did you mean 'lightgcn'",
        ),
        ('[tune]\ntrials = 2\nmodels = ["mostpop"]\n', r"\[tune\]: models: 'mostpop' has nothing to tune"),
        ("[tune]\nseed = 1\n", r"\[tune\]"),  # trials is required
    ],
)
def test_tune_table_mistakes_name_the_key(tmp_path, world_dir, tune, expected):
    with pytest.raises(ConfigError, match=expected):
        _load(tmp_path, _text(world_dir, tune))


def test_cli_lists_the_tune_stage():
    from ckgrec.cli.run_cmd import STAGES

    assert STAGES.index("pretrain") < STAGES.index("tune") < STAGES.index("train")


# ---- the stage -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tuned_run(world_dir, tmp_path_factory):
    path = write_config(tmp_path_factory.mktemp("pipeline-tune"), _text(world_dir))
    cfg = load_config(path)
    lines: list[str] = []
    result = run_pipeline(cfg, log=lines.append)
    return cfg, result, lines


def test_the_tune_stage_runs_one_study_per_model_before_the_seeded_runs(tuned_run):
    cfg, result, lines = tuned_run
    names = list(result.steps)
    assert (
        result.steps["tune:bprmf"] == "ran"
        and result.steps["tune:lightgcn"] == "ran"
        and "tune:mostpop" not in result.steps
    )
    assert names.index("tune:lightgcn") < names.index("train:bprmf/seed-1")
    for label in ("bprmf", "lightgcn"):
        d = cfg.out / "tune" / label
        assert (d / "study.db").is_file() and (d / "best.toml").is_file()
        s = _json(d / "summary.json")
        assert s["budget"]["complete"] + s["budget"]["pruned"] == 2 and s["seed"] == 3
        assert s["best"]["test"] is None  # selection on validation only: the study never reads the test split
        for t in s["trials"]:
            assert _json(d / t["run"] / "scores.json")["test"] is None
    bprmf = _json(cfg.out / "tune" / "bprmf" / "summary.json")
    assert bprmf["fixed"] == {"embedding_dim": 16} and "embedding_dim" not in bprmf["space"]
    lightgcn = _json(cfg.out / "tune" / "lightgcn" / "summary.json")
    assert (
        lightgcn["fixed"] == {"lr": 0.005}
        and "lr" not in lightgcn["space"]
        and {"l2", "layers", "embedding_dim"} <= set(lightgcn["space"])
    )


def test_the_seeded_runs_use_the_tuned_values_under_the_explicit_ones(tuned_run):
    cfg, result, _ = tuned_run
    bprmf = _json(cfg.out / "tune" / "bprmf" / "summary.json")["best"]
    for seed in (1, 2):
        c = _json(cfg.out / "runs" / "bprmf" / f"seed-{seed}" / "config.json")
        assert c["train"]["seed"] == seed
        assert c["train"]["lr"] == pytest.approx(bprmf["train"]["lr"]) and c["train"]["l2"] == pytest.approx(
            bprmf["train"]["l2"]
        )
        assert c["model_config"]["embedding_dim"] == 16  # explicit: fixed, not searched
    lightgcn = _json(cfg.out / "tune" / "lightgcn" / "summary.json")["best"]
    c = _json(cfg.out / "runs" / "lightgcn" / "seed-1" / "config.json")
    assert c["train"]["lr"] == 0.005 and c["train"]["l2"] == pytest.approx(lightgcn["train"]["l2"])
    assert (
        c["model_config"]["layers"] == lightgcn["model"]["layers"]
        and c["model_config"]["embedding_dim"] == lightgcn["model"]["embedding_dim"]
    )
    assert _json(cfg.out / "runs" / "lightgcn" / "seed-1" / "scores.json")[
        "test"
    ]  # the seeded run is the test measurement


def test_the_report_shows_the_budget_and_the_chosen_values(tuned_run):
    cfg, _, _ = tuned_run
    md = (cfg.out / "report" / "report.md").read_text(encoding="utf-8")
    html = (cfg.out / "report" / "report.html").read_text(encoding="utf-8")
    assert "Tuning" in md and "Tuning" in html
    section = md[md.index("Tuning") :]
    assert "2 trials per model" in section and "trials complete / pruned / failed" in section
    layers = _json(cfg.out / "tune" / "lightgcn" / "summary.json")["best"]["model"]["layers"]
    assert f"layers = {layers}" in section and "embedding_dim = 16" in section  # bprmf's fixed value


def test_a_second_run_skips_the_tune_stage(tuned_run, tmp_path):
    cfg, _, _ = tuned_run
    shutil.copytree(cfg.out, tmp_path / "out")
    shutil.copy(cfg.path, tmp_path / "ckg.toml")
    lines: list[str] = []
    result = run_pipeline(load_config(tmp_path / "ckg.toml"), log=lines.append)
    assert set(result.steps.values()) == {"skipped"}
    assert any("tune bprmf" in line and "kept" in line for line in lines)


def test_a_larger_budget_continues_the_study(tuned_run, tmp_path):
    cfg, _, _ = tuned_run
    shutil.copytree(cfg.out, tmp_path / "out")
    write_config(tmp_path, cfg.text.replace("trials = 2", "trials = 3"))
    before = (tmp_path / "out" / "tune" / "lightgcn" / "trials" / "0" / "scores.json").read_bytes()
    result = run_pipeline(load_config(tmp_path / "ckg.toml"), until="tune")
    assert result.steps["tune:lightgcn"] == "ran"
    s = _json(tmp_path / "out" / "tune" / "lightgcn" / "summary.json")
    assert len(s["trials"]) == 3 and s["budget"]["trials_requested"] == 3
    assert (
        tmp_path / "out" / "tune" / "lightgcn" / "trials" / "0" / "scores.json"
    ).read_bytes() == before  # kept, not redone
