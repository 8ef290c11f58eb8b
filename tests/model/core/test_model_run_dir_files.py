"""Run-directory files survive a kill mid-write and are readable by others, like any written file."""

from __future__ import annotations

import os

from ckgrec.model.core.run_dir import RunDir


def test_a_metrics_line_cut_off_by_a_kill_is_dropped_not_fatal(tmp_path):
    (tmp_path / "metrics.jsonl").write_text('{"epoch": 1, "loss": 0.5}\n{"epoch": 2, "lo', encoding="utf-8")
    assert RunDir(tmp_path).read_metrics() == [{"epoch": 1, "loss": 0.5}]


def test_scores_get_the_mode_open_would_give_not_mkstemps_0600(tmp_path):
    RunDir(tmp_path).write_scores({"test": {}})
    mask = os.umask(0)
    os.umask(mask)
    assert os.stat(tmp_path / "scores.json").st_mode & 0o777 == 0o666 & ~mask


def test_checkpoints_get_the_same_mode_as_every_other_run_file(tmp_path):
    from ckgrec.model.core import checkpoint

    checkpoint.save(tmp_path / "best.pt", {"fingerprint": "f", "state": {}})
    mask = os.umask(0)
    os.umask(mask)
    assert os.stat(tmp_path / "best.pt").st_mode & 0o777 == 0o666 & ~mask
    assert checkpoint.load(tmp_path / "best.pt", "f")["state"] == {}
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_a_run_carries_its_format_version_and_a_newer_one_is_refused(tmp_path):
    import json

    import pytest

    from ckgrec.model.core.run_dir import RUN_FORMAT_VERSION, RunDir
    from ckgrec.schemas.errors import ConfigError

    run = RunDir(tmp_path / "run")
    run.write_config({"format_version": RUN_FORMAT_VERSION, "model": "bprmf"})
    assert run.read_config()["format_version"] == RUN_FORMAT_VERSION
    run.file("config.json").write_text(json.dumps({"format_version": RUN_FORMAT_VERSION + 1, "model": "bprmf"}))
    with pytest.raises(ConfigError, match=f"run format version {RUN_FORMAT_VERSION + 1}"):
        run.read_config()
