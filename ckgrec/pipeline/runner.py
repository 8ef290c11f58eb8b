"""Run the stages in order, skipping each step whose inputs are unchanged and whose outputs are intact.

A stage yields steps (build yields one, train one per model and seed); each step says what it
reads (``inputs``, hashed), how to check that what it wrote is still there (``intact``) and,
for training, which part of its inputs a resume may not change (``resume_inputs``). Steps are
produced lazily, after the previous stage finished, because a later stage's inputs are the
earlier stages' outputs (the store's fingerprint, the pretrained tensors' hashes).

Decision per step: skip when the recorded input hash equals the current one, the record says
``done`` and the outputs are intact; resume when a ``running`` or ``failed`` record carries the
same resume key and the step finds its checkpoint; run from scratch otherwise.
"""

from __future__ import annotations

import contextlib
import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from ckgrec.pipeline.config import PipelineConfig
from ckgrec.pipeline.fingerprints import digest
from ckgrec.pipeline.resources import ResourceMonitor
from ckgrec.pipeline.state import PipelineState, StageRecord, now
from ckgrec.schemas.errors import ConfigError

Log = Callable[[str], None]

STAGES = ("build", "pretrain", "tune", "train", "evaluate", "compare", "examples", "report")


@dataclass
class Step:
    name: str  # unique within the pipeline: "build", "train:dualkgat/seed-1"
    stage: str
    title: str  # for progress lines
    inputs: dict[str, Any]
    run: Callable[[bool], dict[str, Any]]  # resume -> outputs (JSON-able)
    intact: Callable[[dict[str, Any]], bool] = lambda outputs: True
    resume_inputs: dict[str, Any] | None = None
    can_resume: Callable[[], bool] = lambda: False


@dataclass
class Context:
    """What the stages share: the config, the state file, and lazily opened store / training data."""

    cfg: PipelineConfig
    state: PipelineState
    log: Log
    progress: bool = False
    force: bool = False
    device: str | None = None  # --device override of [train]/[pretrain] device
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    _store: Any = None
    _data: Any = None

    def store(self):
        from ckgrec.schemas.store import Store

        if self._store is None:
            self._store = Store.open(self.cfg.store_path)
        return self._store

    def data(self):
        from ckgrec.model.data.train_data import TrainData

        if self._data is None:
            data = TrainData.from_store(self.store())
            data.require_heldout()  # as 'ckg train': nothing to select on, or to score, without held-out pairs
            self._data = data
        return self._data

    def store_changed(self) -> None:
        self._store = self._data = None


@dataclass
class PipelineResult:
    out: Path
    steps: dict[str, str]  # step name -> ran | resumed | skipped
    outputs: dict[str, dict[str, Any]]


def _stage_module(name: str):
    return importlib.import_module(f"ckgrec.pipeline.stages.{name}")


def _decide(ctx: Context, step: Step) -> tuple[str, str, str | None]:
    """('skip'|'resume'|'run', input hash, resume key)."""
    h = digest(step.inputs)
    rk = digest(step.resume_inputs) if step.resume_inputs is not None else None
    rec = ctx.state.get(step.name)
    if ctx.force or rec is None:
        return "run", h, rk
    if rec.status == "done" and rec.inputs == h and step.intact(rec.outputs):
        return "skip", h, rk
    if rk is not None and rec.status in ("running", "failed") and rec.resume_key == rk and step.can_resume():
        return "resume", h, rk
    return "run", h, rk


def _execute(ctx: Context, step: Step) -> str:
    action, h, rk = _decide(ctx, step)
    state = ctx.state
    if action == "skip":
        ctx.log(f"[run] {step.title}: inputs unchanged, kept")
        ctx.outputs[step.name] = state.get(step.name).outputs
        state.note(step.name, "skipped")
        return "skipped"
    resume = action == "resume"
    ctx.log(f"[run] {step.title}: {'resuming' if resume else 'running'} ...")
    rec = StageRecord(stage=step.stage, inputs=h, resume_key=rk, status="running", started=now(), resumed=resume)
    state.put(step.name, rec)
    monitor = ResourceMonitor()
    try:
        with monitor:
            outputs = step.run(resume)
    except BaseException as e:
        rec.status, rec.finished = "failed", now()
        rec.error = f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
        state.put(step.name, rec)
        what = "interrupted" if isinstance(e, KeyboardInterrupt) else "failed"
        state.note(step.name, what)
        ctx.log(f"[run] {step.title}: {what}")
        raise
    u = monitor.usage
    rec.status, rec.finished, rec.outputs = "done", now(), outputs
    rec.seconds, rec.cpu_seconds = round(u.seconds, 3), round(u.cpu_seconds, 3)
    rec.rss_start_mib = round(u.rss_start_mib, 1) if u.rss_start_mib is not None else None
    rec.peak_rss_mib = round(u.peak_rss_mib, 1) if u.peak_rss_mib is not None else None
    state.put(step.name, rec)
    what = "resumed" if resume else "ran"
    state.note(step.name, what)
    ctx.outputs[step.name] = outputs
    ctx.log(f"[run] {step.title}: done in {u.seconds:.1f}s")
    return what


def run_pipeline(
    cfg: PipelineConfig,
    *,
    force: bool = False,
    until: str | None = None,
    device: str | None = None,
    log: Log | None = None,
    progress: bool = False,
) -> PipelineResult:
    """Run (or continue) the pipeline of ``cfg`` into ``cfg.out``; ``until`` stops after that stage."""
    if until is not None and until not in STAGES:
        raise ConfigError(f"--until {until}: choose one of {', '.join(STAGES)}")
    with exclusive(cfg.out):
        state = PipelineState.load(cfg.out)
        state.begin_invocation(cfg.path)
        ctx = Context(cfg, state, log or (lambda _m: None), progress=progress, force=force, device=device)
        steps: dict[str, str] = {}
        for stage in STAGES:
            gen: Iterator[Step] = _stage_module(stage).steps(ctx)
            for step in gen:
                steps[step.name] = _execute(ctx, step)
            if stage == until:
                break
    return PipelineResult(cfg.out, steps, ctx.outputs)


LOCK_FILE = ".pipeline.lock"


@contextlib.contextmanager
def exclusive(out: Path):
    """Hold ``OUT``'s lock for the whole run: two runs writing one directory would mix their records.
    The lock (:func:`ckgrec.schemas.locks.exclusive_lock`) holds the holder's pid; the kernel drops it
    when the process dies, so a killed run leaves only a stale lock file that the next run takes over."""
    from ckgrec.schemas.locks import exclusive_lock

    out.mkdir(parents=True, exist_ok=True)
    with exclusive_lock(out / LOCK_FILE, f"pipeline output {out}", command="another 'ckg run'"):
        yield
