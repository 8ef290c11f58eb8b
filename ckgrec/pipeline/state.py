"""``OUT/pipeline.json``: per stage, the hash of its inputs, what it wrote, and what it cost.

Written through a temporary file and a rename after every change, so a run killed at any
moment leaves either the previous record or the new one, never half of one. A stage is marked
``running`` (with its input hash) before it starts: a rerun then knows that a checkpoint it
finds belongs to this configuration and may be resumed.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ckgrec.pipeline.files import atomic_write_bytes
from ckgrec.schemas.errors import StoreError

STATE_FILE = "pipeline.json"
STATE_VERSION = 1


def now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class StageRecord:
    """One stage step (``build``, ``train:dualkgat/seed-1``, ...) as last executed."""

    stage: str
    inputs: str  # digest of everything the step read
    resume_key: str | None = None  # digest of the inputs a resume may not change
    status: str = "running"  # running | done | failed
    outputs: dict[str, Any] = field(default_factory=dict)
    seconds: float | None = None
    cpu_seconds: float | None = None
    rss_start_mib: float | None = None
    peak_rss_mib: float | None = None
    started: str = ""
    finished: str | None = None
    resumed: bool = False
    error: str | None = None


class PipelineState:
    """The records of one output directory, plus what the latest invocation did with each step."""

    def __init__(self, out: Path, records: dict[str, StageRecord], meta: dict[str, Any]):
        self.out = out
        self.records = records
        self.meta = meta

    @property
    def path(self) -> Path:
        return self.out / STATE_FILE

    @classmethod
    def load(cls, out: str | Path) -> "PipelineState":
        out = Path(out)
        p = out / STATE_FILE
        if not p.is_file():
            return cls(out, {}, {"version": STATE_VERSION, "last_invocation": {}})
        try:
            body = json.loads(p.read_text(encoding="utf-8"))
            records = {name: StageRecord(**rec) for name, rec in body.get("stages", {}).items()}
        except (json.JSONDecodeError, TypeError) as e:
            raise StoreError(
                f"{p}: not a pipeline state file ({e}); remove it (every stage then reruns) or choose another out"
            ) from e
        meta = {k: v for k, v in body.items() if k != "stages"}
        meta.setdefault("last_invocation", {})
        return cls(out, records, meta)

    def get(self, name: str) -> StageRecord | None:
        return self.records.get(name)

    def put(self, name: str, record: StageRecord) -> None:
        self.records[name] = record
        self.save()

    def note(self, name: str, what: str) -> None:
        """What the current invocation did with ``name``: ran, resumed, skipped, failed, interrupted."""
        self.meta["last_invocation"].setdefault("steps", {})[name] = what
        self.save()

    def begin_invocation(self, config_path: Path) -> None:
        self.meta["last_invocation"] = {"started": now(), "config": str(config_path), "steps": {}}
        self.save()

    def save(self) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        body = {
            **self.meta,
            "version": STATE_VERSION,
            "stages": {n: dataclasses.asdict(r) for n, r in self.records.items()},
        }
        atomic_write_bytes(self.path, (json.dumps(body, indent=2, sort_keys=True, default=str) + "\n").encode("utf-8"))
