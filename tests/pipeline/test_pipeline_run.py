"""``ckg run`` end to end on the test world: every stage's output, skipping, partial reruns, interruption, foreign stores."""

from __future__ import annotations

import json
import re

import pytest

from ckgrec.pipeline.config import load_config
from ckgrec.pipeline.fingerprints import file_digest
from ckgrec.pipeline.runner import run_pipeline
from ckgrec.schemas.errors import OutputLockedError, StoreError, StoreMismatchError
from tests.pipeline.conftest import MODELS, config_text, write_config

OTHER_STEPS = ("build", "pretrain", "evaluate", "compare", "examples", "report")


def _digests(out):
    """Content hash of every file under ``out`` (relative path -> sha256)."""
    return {str(p.relative_to(out)): file_digest(p) for p in sorted(out.rglob("*")) if p.is_file()}


def _no_temporary_files(out):
    return [p for p in out.rglob("*") if p.name.endswith(".tmp") or ".building." in p.name]


def test_a_run_writes_every_stage_output(finished):
    cfg, result, lines = finished
    out = cfg.out
    assert set(result.steps.values()) == {"ran"}
    assert set(result.steps) == {
        *OTHER_STEPS,
        "train:mostpop/seed-2020",
        *(f"train:{m}/seed-{s}" for m in ("bprmf", "dualkgat", "dk-no-gi") for s in (1, 2)),
    }
    assert (out / "store" / "manifest.json").is_file() and (
        out / "store" / "pretrained" / "user_side.safetensors"
    ).is_file()
    for m, s, run in cfg.runs():
        assert json.loads((run / "config.json").read_text())["train"]["seed"] == s and (run / "scores.json").is_file()
    compare = json.loads((out / "compare.json").read_text())
    assert {g["label"] for g in compare["groups"]} == {"mostpop", "bprmf", "dualkgat", "dk-no-gi"}
    assert compare["reference"] in ("mostpop", "bprmf")  # the best baseline
    [ablation] = compare["ablations"]
    assert ablation["base"] == "dualkgat" and ablation["variants"][1]["changes"] == {
        "options.use_item_side": [True, False]
    }
    groups = json.loads((out / "evaluation.json").read_text())["runs"]["bprmf"]["1"]["groups"]
    assert {"activity_q1", "activity_q4"} <= set(groups)
    examples = json.loads((out / "examples.json").read_text())
    assert examples["label"] == "dualkgat" and len(examples["users"]) == 2
    assert all(r["paths"] for u in examples["users"] for r in u["recommendations"])  # dualkgat explains with KG paths
    assert (out / "report" / "report.html").is_file() and (out / "report" / "report.md").is_file()
    state = json.loads((out / "pipeline.json").read_text())["stages"]
    assert all(r["status"] == "done" and r["seconds"] is not None and r["peak_rss_mib"] > 0 for r in state.values())
    assert any("training bprmf" in line for line in lines) and not _no_temporary_files(out)


def test_a_second_run_keeps_everything(finished_copy):
    out = finished_copy.parent / "out"
    before = _digests(out)
    result = run_pipeline(load_config(finished_copy))
    assert set(result.steps.values()) == {"skipped"}
    after = _digests(out)
    after.pop("pipeline.json"), before.pop("pipeline.json")
    assert after == before


def test_changing_one_model_reruns_only_it_and_what_depends_on_it(finished_copy, world_dir):
    text = finished_copy.read_text().replace("train = { epochs = 3 }", "train = { epochs = 4 }")
    finished_copy.write_text(text)
    result = run_pipeline(load_config(finished_copy))
    ran = {n for n, what in result.steps.items() if what == "ran"}
    assert ran == {"train:bprmf/seed-1", "train:bprmf/seed-2", "evaluate", "compare", "report"}
    assert (
        json.loads((finished_copy.parent / "out" / "runs" / "bprmf" / "seed-1" / "scores.json").read_text())["epochs"]
        == 4
    )


def test_a_damaged_output_is_recomputed(finished_copy):
    out = finished_copy.parent / "out"
    (out / "compare.json").write_text("{}")
    (out / "store" / "pretrained" / "item_side.safetensors").unlink()
    result = run_pipeline(load_config(finished_copy))
    assert result.steps["pretrain"] == "ran" and result.steps["compare"] == "ran"
    # new embeddings: the models that start from them retrain, the others are kept
    assert result.steps["train:dualkgat/seed-1"] == "ran" and result.steps["train:bprmf/seed-1"] == "skipped"
    assert json.loads((out / "compare.json").read_text())["groups"]


def _interrupt_at(label: str, epoch: int):
    """A log that raises KeyboardInterrupt (as Ctrl-C would) when ``label``'s training reaches ``epoch``."""
    state = {"in": False}

    def log(msg: str) -> None:
        if msg.startswith("[run] train "):
            state["in"] = msg.startswith(f"[run] train {label} ")
        if state["in"] and re.match(rf"\s*epoch\s+{epoch}\s", msg):
            raise KeyboardInterrupt

    return log


def test_an_interrupted_run_resumes_and_matches_an_uninterrupted_one(tmp_path, world_dir):
    models = '[[models]]\nname = "mostpop"\n\n[[models]]\nname = "bprmf"\nseeds = [1]\ntrain = { epochs = 6, patience = 0 }\n'
    text = config_text(world_dir, models, pretrain=False)
    straight = run_pipeline(load_config(write_config(tmp_path / "a", text)))
    assert straight.steps["train:bprmf/seed-1"] == "ran"

    path = write_config(tmp_path / "b", text)
    out = tmp_path / "b" / "out"
    with pytest.raises(KeyboardInterrupt):
        run_pipeline(load_config(path), log=_interrupt_at("bprmf", 4))
    run = out / "runs" / "bprmf" / "seed-1"
    state = json.loads((out / "pipeline.json").read_text())
    assert state["stages"]["train:bprmf/seed-1"]["status"] == "failed"
    assert state["last_invocation"]["steps"]["train:bprmf/seed-1"] == "interrupted"
    assert (run / "checkpoint.pt").is_file() and not (run / "scores.json").exists()
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in records] == [1, 2, 3]  # whole lines only, up to the last checkpoint
    assert not _no_temporary_files(out)
    kept = {p: file_digest(out / p) for p in ("store/manifest.json", "runs/mostpop/seed-2020/scores.json")}

    lines: list[str] = []
    resumed = run_pipeline(load_config(path), log=lines.append)
    assert resumed.steps["train:bprmf/seed-1"] == "resumed" and resumed.steps["build"] == "skipped"
    assert resumed.steps["train:mostpop/seed-2020"] == "skipped"
    assert any("resuming" in line and "after epoch 3" in line for line in lines)
    assert {p: file_digest(out / p) for p in kept} == kept
    assert [json.loads(line)["epoch"] for line in (run / "metrics.jsonl").read_text().splitlines()] == [
        1,
        2,
        3,
        4,
        5,
        6,
    ]
    a = json.loads((tmp_path / "a" / "out" / "runs" / "bprmf" / "seed-1" / "scores.json").read_text())
    b = json.loads((run / "scores.json").read_text())
    assert a["test"] == b["test"] and a["valid"] == b["valid"]  # bit-identical resume on the CPU


@pytest.mark.parametrize("other", ["ids", "split"])
def test_a_store_replaced_by_another_build_is_refused(finished_copy, world_dir, other):
    from ckgrec.kgbuild.build import build
    from ckgrec.kgbuild.config import BuildConfig
    from tests.world import make_world

    out = finished_copy.parent / "out"
    old = json.loads((out / "store" / "manifest.json").read_text())["fingerprint"]
    if other == "ids":  # another dataset: other id spaces
        build(make_world(finished_copy.parent / "raw2", n_users=30), out / "store", fmt="native", force=True)
    else:  # the same ids, another split
        build(world_dir, out / "store", fmt="native", config=BuildConfig(seed=99), force=True)
    new = json.loads((out / "store" / "manifest.json").read_text())["fingerprint"]
    assert new != old  # the fingerprint covers the triples, and another split makes other (training-only) graphs
    runs_before = _digests(out / "runs")
    with pytest.raises(StoreMismatchError) as e:
        run_pipeline(load_config(finished_copy))
    msg = str(e.value)
    assert str(out / "store") in msg and old in msg and new in msg and "--force" in msg
    assert "replaced by another build" in msg  # another split makes other graphs, hence another fingerprint
    assert _digests(out / "runs") == runs_before  # nothing trained on the foreign store, nothing lost


def test_a_store_this_pipeline_did_not_build_is_not_overwritten(tmp_path, world_dir, store_dir):
    import shutil

    path = write_config(tmp_path, config_text(world_dir, MODELS, pretrain=False))
    shutil.copytree(store_dir, tmp_path / "out" / "store")
    with pytest.raises(StoreError, match=r"has no record of building it.*\[data\] store"):
        run_pipeline(load_config(path))
    assert file_digest(tmp_path / "out" / "store" / "manifest.json") == file_digest(store_dir / "manifest.json")


def test_an_existing_store_can_be_the_data_source(tmp_path, store_dir):
    import shutil

    store = shutil.copytree(store_dir, tmp_path / "store")  # a copy: the pipeline may add pretrained embeddings to it
    text = config_text(tmp_path, '[[models]]\nname = "mostpop"\n', pretrain=False).replace(
        f'source = "{tmp_path}"\nformat = "native"', f'store = "{store}"'
    )
    result = run_pipeline(load_config(write_config(tmp_path / "conf", text)))
    assert result.steps["build"] == "ran" and not (tmp_path / "conf" / "out" / "store").exists()
    assert json.loads((tmp_path / "conf" / "out" / "compare.json").read_text())["groups"][0]["label"] == "mostpop"


@pytest.mark.slow
def test_a_killed_ckg_run_resumes_where_it_stopped(tmp_path, world_dir):
    """SIGKILL (no cleanup at all) in the middle of training, then the same command again."""
    import os
    import signal
    import subprocess
    import sys
    import time

    models = '[[models]]\nname = "bprmf"\nseeds = [1]\ntrain = { epochs = 200, patience = 0 }\n'
    path = write_config(tmp_path, config_text(world_dir, models, pretrain=False))
    out = tmp_path / "out"
    metrics = out / "runs" / "bprmf" / "seed-1" / "metrics.jsonl"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from ckgrec.cli import main; sys.exit(main())",
            "run",
            str(path),
            "--quiet",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if metrics.is_file() and len(metrics.read_text().splitlines()) >= 5:
                break
            time.sleep(0.02)
        assert proc.poll() is None, "training finished before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    for p in out.rglob("*.json"):
        if not p.name.startswith("."):
            json.loads(p.read_text())  # every finished file is whole
    killed_at = len(metrics.read_text().splitlines())
    assert 5 <= killed_at < 200
    assert json.loads((out / "pipeline.json").read_text())["stages"]["train:bprmf/seed-1"]["status"] == "running"

    lines: list[str] = []
    result = run_pipeline(load_config(path), log=lines.append)
    assert result.steps["build"] == "skipped" and result.steps["train:bprmf/seed-1"] == "resumed"
    assert any(re.search(r"resuming .* after epoch \d+", line) for line in lines)
    assert [json.loads(line)["epoch"] for line in metrics.read_text().splitlines()] == list(range(1, 201))
    assert (out / "report" / "report.html").is_file()


def test_ctrl_c_says_where_and_the_same_command_continues(tmp_path, world_dir, monkeypatch, capsys):
    from ckgrec.cli import main
    from ckgrec.model.training.trainer import Trainer

    models = '[[models]]\nname = "bprmf"\nseeds = [1]\ntrain = { epochs = 4, patience = 0 }\n'
    path = write_config(tmp_path, config_text(world_dir, models, pretrain=False))
    one_epoch = Trainer._one_epoch

    def interrupted(self, model, sampler, optimizers, generator, device, epoch):
        if epoch == 3:
            raise KeyboardInterrupt
        return one_epoch(self, model, sampler, optimizers, generator, device, epoch)

    monkeypatch.setattr(Trainer, "_one_epoch", interrupted)
    assert main(["run", str(path), "--quiet"]) == 130
    err = capsys.readouterr().err
    assert "interrupted during train:bprmf/seed-1" in err and "Run the same command again" in err
    monkeypatch.setattr(Trainer, "_one_epoch", one_epoch)
    assert main(["run", str(path), "--quiet"]) == 0
    steps = json.loads((tmp_path / "out" / "pipeline.json").read_text())["last_invocation"]["steps"]
    assert steps["train:bprmf/seed-1"] == "resumed" and steps["build"] == "skipped"


def test_until_stops_after_a_stage_and_the_next_run_continues(tmp_path, world_dir):
    from ckgrec.cli.run_cmd import STAGES
    from ckgrec.pipeline import runner

    assert STAGES == runner.STAGES  # the CLI's copy (kept import-free for --help) is the runner's list
    path = write_config(tmp_path, config_text(world_dir, '[[models]]\nname = "mostpop"\n', pretrain=False))
    first = run_pipeline(load_config(path), until="build")
    assert list(first.steps) == ["build"] and not (tmp_path / "out" / "runs").exists()
    second = run_pipeline(load_config(path))
    assert second.steps["build"] == "skipped" and second.steps["report"] == "ran"


def test_two_runs_on_one_output_directory_are_refused(tmp_path, world_dir):
    import fcntl
    import os

    path = write_config(tmp_path, config_text(world_dir, '[[models]]\nname = "mostpop"\n', pretrain=False))
    (tmp_path / "out").mkdir()
    with open(tmp_path / "out" / ".pipeline.lock", "a+") as held:  # as another process's run would hold it
        fd = os.open(held.name, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            held.write("4242")
            held.flush()
            with pytest.raises(OutputLockedError, match=r"being written by another 'ckg run' \(pid 4242,"):
                run_pipeline(load_config(path))
        finally:
            os.close(fd)
    assert run_pipeline(load_config(path)).steps["build"] == "ran"  # released: the next run goes ahead
