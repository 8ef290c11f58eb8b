"""The DuckDB connection an out-of-core build runs in, and the memory limit it obeys.

DuckDB is used because its operators (sort, hash aggregate, window, join) spill to disk when
they pass ``memory_limit``, so the build's relational steps are bounded by the limit and not by
the input. The database file and the spill files live in one temporary directory beside the
output store (same filesystem, removed when the build ends), never in the store itself.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from ckgrec.schemas.errors import ConfigError
from ckgrec.schemas.locks import pid_alive

DEFAULT_FRACTION = 0.4  # of the machine's memory, for --memory-limit auto: DuckDB's share; Python holds the rest
OFF = ("none", "off", "0")  # --memory-limit none: the in-memory builder
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|tb|kib|mib|gib|tib)?\s*$", re.IGNORECASE)
_UNIT = {"b": 1, "kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12, "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}
_MIN = 64 * 2**20
_CGROUP_LIMITS = ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes")


def physical_memory() -> int:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def machine_memory() -> int:
    """Physical RAM, or the container's (cgroup) memory limit when that is lower."""
    ram = physical_memory()
    for f in _CGROUP_LIMITS:
        try:
            text = Path(f).read_text().strip()
        except OSError:
            continue
        if text.isdigit() and 0 < int(text) < ram:
            return int(text)
    return ram


def auto_memory_limit() -> int:
    """``--memory-limit auto``: :data:`DEFAULT_FRACTION` of :func:`machine_memory`, at least 64MB."""
    return max(_MIN, int(machine_memory() * DEFAULT_FRACTION))


def is_off(value: str | int | None) -> bool:
    """``none`` / ``off`` / ``0``: no limit, the in-memory builder."""
    return (isinstance(value, int) and not isinstance(value, bool) and value == 0) or (
        isinstance(value, str) and value.strip().lower() in OFF
    )


def is_auto(value: str | int | None) -> bool:
    return value is None or (isinstance(value, str) and value.strip().lower() == "auto")


def parse_memory_limit(value: str | int | None) -> int:
    """Bytes from ``"4GB"``, ``"512MiB"``, a plain number of bytes, ``auto`` / None (:func:`auto_memory_limit`),
    or 0 for ``none`` / ``off`` / ``0`` (no limit: the in-memory builder)."""
    if is_auto(value):
        return auto_memory_limit()
    if is_off(value):
        return 0
    if isinstance(value, int) and not isinstance(value, bool):
        n = value
    else:
        m = _SIZE.match(str(value))
        if not m:
            raise ConfigError(
                f"--memory-limit {value!r}: give a size such as 4GB, 1500MB or 2GiB, 'auto' or 'none' (in memory)"
            )
        n = int(float(m.group(1)) * _UNIT[(m.group(2) or "b").lower()])
    if n < _MIN:
        raise ConfigError(f"--memory-limit {value!r}: at least 64MB is needed (or 'none' to build in memory)")
    return n


def format_bytes(n: int | float) -> str:
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{int(n)} B"


@contextmanager
def connect(out: Path, memory_limit: int, threads: int | None = None) -> Iterator:
    """A DuckDB connection on a scratch database beside ``out``, limited to ``memory_limit`` bytes.

    Results never depend on ``threads``: every query that feeds the store orders fully.
    """
    import duckdb

    out.parent.mkdir(parents=True, exist_ok=True)
    _remove_debris(out)
    scratch = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.outofcore.{os.getpid()}."))
    con = None
    try:
        con = duckdb.connect(str(scratch / "build.duckdb"))
        con.execute(f"SET memory_limit = '{memory_limit // 2**20}MiB'")
        con.execute(f"SET temp_directory = '{scratch / 'spill'}'")
        con.execute("SET preserve_insertion_order = true")
        if threads:
            con.execute(f"SET threads = {int(threads)}")
        yield con
    finally:
        if con is not None:
            con.close()
        shutil.rmtree(scratch, ignore_errors=True)


def _remove_debris(out: Path) -> None:
    """Scratch directories of killed out-of-core builds of ``out`` (their pid is gone); the caller
    holds ``out``'s build lock, so no live build of it can own one."""
    for d in out.parent.glob(f".{out.name}.outofcore.*"):
        pid = d.name[len(f".{out.name}.outofcore.") :].split(".")[0]
        if pid.isdigit() and int(pid) != os.getpid() and not pid_alive(int(pid)):
            shutil.rmtree(d, ignore_errors=True)
