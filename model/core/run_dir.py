"""The run directory: what a training run leaves behind, in a layout scripts rely on.

``RUN/config.json``
    model name, model config, resolved trainer config, store path and fingerprint, versions.
``RUN/metrics.jsonl``
    one JSON object per epoch: ``epoch``, losses, ``seconds_sample`` / ``seconds_train`` /
    ``seconds_eval``, and on evaluated epochs ``valid`` = {"recall@20": ..., ...} and ``best``.
``RUN/scores.json``
    {"valid": {"recall@20": ...}, "test": {...}, "protocol": "full", "epochs": ...,
    "best_epoch": ..., "seconds_per_epoch": ..., "groups": ..., ...}; written last, so its
    presence means the run finished. Metric keys are ``name@K`` in lower case.

    ``groups`` holds the same metrics per user/item group (definitions and candidate sets in
    :mod:`ckgrec.model.evaluation.groups`)::

        "groups": {"test":  {"warm": {"recall@20": 0.31, "ndcg@20": 0.27, ..., "n_users": 812},
                             "cold_items_all": {...} | "n/a", "cold_items_only": {...} | "n/a",
                             "cold_users": {...}, "activity_q1": {...}, ..., "activity_q4": {...}},
                   "valid": {...}}

    A group the split does not have (no cold users in valid, no cold items in a store built
    without them) is absent. ``"n/a"`` -- a string, never 0 -- marks a cold-item group of a
    model that cannot score cold items (``can_score_cold_items = False``: an ID-only model
    ranks a never-seen item by its untrained initialisation or by a popularity of 0); what that
    ranking gave anyway is kept apart under ``groups_uninformed`` (same shape, only those groups).
``RUN/per_user_test.parquet``, ``RUN/per_user_valid.parquet``
    one row per evaluated user (``user`` + one column per metric), for paired tests.
``RUN/per_user_groups_test.parquet``, ``RUN/per_user_groups_valid.parquet``
    one row per (user, group) the model has figures for (``user``, ``group`` + one column per
    metric): the paired tests of ``ckg compare``'s per-group tables. A user sits in several
    groups (``warm`` and an activity quartile), and ``n/a`` groups have no rows.
``RUN/best.pt``
    the model state with the best validation metric (``ckg evaluate`` loads it).
``RUN/checkpoint.pt``
    the full training state after the last finished epoch (resume); removed once finished.
``RUN/scores_sampled.json``
    only from ``ckg evaluate --protocol sampled``; never mixed into scores.json.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ckgrec.schemas.errors import ConfigError, InputNotFoundError, StoreMismatchError
from ckgrec.schemas.store import atomic_write_bytes

CONFIG = "config.json"
# The layout of a run directory. A reader refuses a run written in a newer layout; a change of
# layout raises it, so that old runs are recognised instead of patched up by special code.
RUN_FORMAT_VERSION = 1
METRICS = "metrics.jsonl"
SCORES = "scores.json"
BEST = "best.pt"
CHECKPOINT = "checkpoint.pt"
SAMPLED = "scores_sampled.json"

# config.json keys whose change does not change what a resumed run computes
RESUMABLE_CHANGES = ("train.device", "train.threads", "train.epochs", "store.path", "versions")


def _read_json(path: Path, what: str) -> Any:
    """A run file as JSON; a damaged one is one error naming it (a disk fault, an editor, a copy cut short)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(
            f"{path}: {what} is not valid JSON ({e}); the run directory is damaged: retrain it with "
            "'ckg train ... --force' (or restore the file)"
        ) from e


def _atomic_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def _flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, key + "."))
        else:
            out[key] = v
    return out


def config_differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Human-readable ``key: old -> new`` lines, ignoring keys a resume may change."""
    a, b = _flatten(old), _flatten(new)
    diffs = []
    for k in sorted(set(a) | set(b)):
        if any(k == r or k.startswith(r + ".") for r in RESUMABLE_CHANGES):
            continue
        if a.get(k) != b.get(k):
            diffs.append(f"{k}: {a.get(k)!r} -> {b.get(k)!r}")
    return diffs


class RunDir:
    """Paths and readers/writers of one run directory."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"RunDir({str(self.path)!r})"

    def file(self, name: str) -> Path:
        return self.path / name

    @property
    def is_complete(self) -> bool:
        return self.file(SCORES).is_file()

    @property
    def has_checkpoint(self) -> bool:
        return self.file(CHECKPOINT).is_file()

    def require(self) -> "RunDir":
        """Raise a clear error unless this looks like a run directory."""
        if not self.file(CONFIG).is_file():
            raise InputNotFoundError(
                f"{self.path} is not a run directory: {CONFIG} is missing (create one with 'ckg train')"
            )
        return self

    # ---- config ----------------------------------------------------------------------------
    def write_config(self, config: dict[str, Any]) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        _atomic_text(self.file(CONFIG), json.dumps(config, indent=2, sort_keys=True) + "\n")

    def read_config(self) -> dict[str, Any]:
        self.require()
        config = _read_json(self.file(CONFIG), "the run's configuration")
        version = config.get("format_version", 1) if isinstance(config, dict) else None
        if not isinstance(version, int) or version > RUN_FORMAT_VERSION:
            raise ConfigError(
                f"{self.file(CONFIG)}: run format version {version!r}; this ckgrec reads runs up to "
                f"version {RUN_FORMAT_VERSION} (upgrade ckgrec, or retrain the run)"
            )
        return config

    def check_store(self, fingerprint: str, store_path: str | Path | None = None) -> None:
        """Refuse a store whose fingerprint differs from the one this run was trained on."""
        cfg = self.read_config()
        want = cfg.get("store", {}).get("fingerprint")
        if want != fingerprint:
            where = f" ({store_path})" if store_path else ""
            raise StoreMismatchError(
                f"run {self.path} was trained on the store with fingerprint {want} ({cfg.get('store', {}).get('path')}), "
                f"but the store given{where} has fingerprint {fingerprint}: it comes from another build, so its ids differ. "
                "Use the original store, or train a new run on this one"
            )

    # ---- metrics per epoch -----------------------------------------------------------------
    def append_metrics(self, record: dict[str, Any]) -> None:
        with open(self.file(METRICS), "a", encoding="utf-8") as f:
            f.write(json.dumps(record, sort_keys=True) + "\n")
            f.flush()

    def read_metrics(self) -> list[dict[str, Any]]:
        p = self.file(METRICS)
        if not p.is_file():
            return []
        records = []
        lines = [line for line in p.read_text(encoding="utf-8").splitlines() if line.strip()]
        for i, line in enumerate(lines):
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                if i == len(lines) - 1:  # a line cut off by a kill mid-append: that epoch is redone on resume
                    break
                raise
        return records

    def truncate_metrics(self, n_lines: int) -> None:
        """Keep the first ``n_lines`` records (drop epochs logged after the last checkpoint)."""
        records = self.read_metrics()[:n_lines]
        _atomic_text(self.file(METRICS), "".join(json.dumps(r, sort_keys=True) + "\n" for r in records))

    # ---- final scores ----------------------------------------------------------------------
    def write_scores(self, scores: dict[str, Any], name: str = SCORES) -> None:
        _atomic_text(self.file(name), json.dumps(scores, indent=2, sort_keys=True) + "\n")

    def read_scores(self, name: str = SCORES) -> dict[str, Any]:
        p = self.file(name)
        if not p.is_file():
            raise InputNotFoundError(
                f"{p} not found: the run has not finished (resume it with the same 'ckg train' command)"
            )
        return _read_json(p, "the run's scores")

    def write_per_user(self, split: str, users: np.ndarray, per_user: dict[str, np.ndarray]) -> None:
        df = pd.DataFrame(
            {
                "user": np.asarray(users, dtype=np.int64),
                **{k: np.asarray(v, dtype=np.float64) for k, v in per_user.items()},
            }
        )
        p = self.file(f"per_user_{split}.parquet")
        tmp = p.with_name(f".{p.name}.{os.getpid()}.tmp")
        df.to_parquet(tmp, index=False)
        os.replace(tmp, p)

    def write_per_user_groups(self, split: str, groups: dict[str, Any]) -> None:
        """``groups``: name -> :class:`ckgrec.model.evaluation.groups.GroupScores` (users + per-user metric arrays)."""
        frames = [
            pd.DataFrame(
                {
                    "user": np.asarray(g.users, dtype=np.int64),
                    "group": name,
                    **{k: np.asarray(v, dtype=np.float64) for k, v in g.per_user.items()},
                }
            )
            for name, g in groups.items()
        ]
        df = (
            pd.concat(frames, ignore_index=True)
            if frames
            else pd.DataFrame({"user": np.empty(0, np.int64), "group": np.empty(0, object)})
        )
        p = self.file(f"per_user_groups_{split}.parquet")
        tmp = p.with_name(f".{p.name}.{os.getpid()}.tmp")
        df.to_parquet(tmp, index=False)
        os.replace(tmp, p)

    def read_per_user_groups(self, split: str = "test") -> pd.DataFrame | None:
        """None for a run written before group scores existed."""
        p = self.file(f"per_user_groups_{split}.parquet")
        return pd.read_parquet(p) if p.is_file() else None

    def read_per_user(self, split: str = "test") -> pd.DataFrame:
        p = self.file(f"per_user_{split}.parquet")
        if not p.is_file():
            raise InputNotFoundError(f"{p} not found: the run has not finished or was written by an older ckgrec")
        return pd.read_parquet(p)

    LOCK = ".run.lock"

    def lock(self, command: str = "another 'ckg train'"):
        """The run directory's exclusive lock (:func:`ckgrec.schemas.locks.exclusive_lock`); hold it while writing."""
        from ckgrec.schemas.locks import exclusive_lock

        self.path.mkdir(parents=True, exist_ok=True)
        return exclusive_lock(self.file(self.LOCK), f"run directory {self.path}", command=command)

    def check_writable(self) -> None:
        """Refuse to write a run into a non-empty directory that is not a run directory (a user's own files)."""
        from ckgrec.schemas.errors import UnsafeOutputError

        if self.path.exists() and not self.path.is_dir():
            raise UnsafeOutputError(f"--out {self.path} is a file, not a run directory; choose another --out")
        if not self.path.is_dir() or self.file(CONFIG).is_file():
            return
        foreign = sorted(p.name for p in self.path.iterdir() if p.name != self.LOCK and not p.name.endswith(".tmp"))
        if foreign:
            raise UnsafeOutputError(
                f"--out {self.path} is a non-empty directory that is not a run directory (no {CONFIG}; holds "
                f"{', '.join(foreign[:3])}{' ...' if len(foreign) > 3 else ''}); a run is written only into a new, empty or run "
                "directory, and --force replaces only a run's own files. Choose another --out"
            )

    def remove_debris(self) -> list[str]:
        """Temporary files of writes killed half way (``.NAME.<...>.tmp``); call while holding the lock."""
        removed = []
        for p in self.path.glob(".*.tmp"):
            p.unlink(missing_ok=True)
            removed.append(p.name)
        return removed

    def clear(self) -> None:
        """Remove the files a run writes (``--force``); other files in the directory stay."""
        for name in (
            CONFIG,
            METRICS,
            SCORES,
            BEST,
            CHECKPOINT,
            SAMPLED,
            "per_user_test.parquet",
            "per_user_valid.parquet",
            "per_user_groups_test.parquet",
            "per_user_groups_valid.parquet",
        ):
            p = self.file(name)
            if p.exists():
                p.unlink()


def describe_config_mismatch(run: RunDir, diffs: list[str]) -> ConfigError:
    shown = "\n  ".join(diffs[:12])
    return ConfigError(
        f"{run.path} holds a run started with other settings, so it cannot be resumed with these:\n  {shown}\n"
        "repeat the original options to resume, choose another --out, or pass --force to start over"
    )
