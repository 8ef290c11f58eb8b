"""Which builder writes a store: in memory or out of core (``ckg build --memory-limit``).

Both write the same store byte for byte, so the choice is only about time and peak memory:

* ``none`` / ``off`` / ``0``: in memory;
* a size (``4GB``): out of core with that limit, whatever the input's size;
* ``auto`` (``ckg build``'s default): out of core with :func:`~.engine.auto_memory_limit` when the
  source is a native ``interactions.csv|.tsv|.parquet`` of at least :data:`AUTO_MIN_BYTES` (Parquet:
  uncompressed); in memory
  below that (DuckDB's start-up then costs more than it saves, and the in-memory peak is small) and
  for other layouts (their adapter reads the interactions into a frame either way).

A configuration the out-of-core build does not cover yet (cold-start protocols; a rating column read as
weights or bins, known only once the column is read) is built in memory instead, never refused; the
:class:`Choice`'s :meth:`~Choice.line` says which builder ran and why.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from ckgrec.kgbuild.config import BuildConfig
from ckgrec.kgbuild.outofcore.core import unsupported_reason
from ckgrec.kgbuild.outofcore.engine import (
    DEFAULT_FRACTION,
    auto_memory_limit,
    format_bytes,
    is_auto,
    parse_memory_limit,
)

AUTO_MIN_BYTES = 64 * 10**6  # auto: a native interactions file this large or larger is built out of core


@dataclass(frozen=True)
class Choice:
    out_of_core: bool
    memory_limit: int  # bytes given to DuckDB; 0 in memory
    reason: str
    setting: str  # how the limit was set: "auto", "4GB", "none", "not set"

    @property
    def engine(self) -> str:
        return "out-of-core" if self.out_of_core else "in-memory"

    def line(self) -> str:
        """One line for the build summary."""
        if self.out_of_core:
            how = f"auto: {DEFAULT_FRACTION:.0%} of memory" if self.setting == "auto" else self.setting
            return f"engine: out-of-core (DuckDB, memory limit {format_bytes(self.memory_limit)}, {how}): {self.reason}"
        return f"engine: in-memory: {self.reason}"

    def fallback(self, reason: str) -> Choice:
        return Choice(False, 0, reason + "; built in memory instead", self.setting)


def choose(source: str | Path, fmt: str, cfg: BuildConfig, memory_limit: str | int | None) -> Choice:
    """The builder for ``source`` under ``memory_limit`` (None: not set, in memory; see the module)."""
    if memory_limit is None:
        return Choice(False, 0, "no memory limit set", "not set")
    limit = parse_memory_limit(memory_limit)  # a bad value is an error whichever builder would run
    setting = "auto" if is_auto(memory_limit) else str(memory_limit).strip()
    if limit == 0:
        return Choice(False, 0, f"--memory-limit {setting}", setting)
    why = unsupported_reason(cfg)
    if why:
        return Choice(False, 0, why, setting)
    if importlib.util.find_spec("duckdb") is None:
        return Choice(False, 0, "duckdb is not installed (the out-of-core build needs it)", setting)
    if not is_auto(memory_limit):
        return Choice(True, limit, f"--memory-limit {setting}", setting)
    from ckgrec.kgbuild.adapters import detect_format
    from ckgrec.kgbuild.tabular import find_table

    try:
        fmt = detect_format(source) if fmt == "auto" else fmt
    except Exception:  # the in-memory builder reports an unreadable source in its own words
        return Choice(False, 0, "the source's layout was not recognised", setting)
    if fmt != "native":
        return Choice(
            False,
            0,
            f"the {fmt} adapter reads the interactions into memory either way (auto builds a native "
            "interactions file out of core; --memory-limit SIZE forces it)",
            setting,
        )
    path = find_table(Path(source), "interactions")
    if path is None:
        return Choice(False, 0, "no native interactions file found", setting)
    size, what = _size(path)
    if size < AUTO_MIN_BYTES:
        return Choice(
            False,
            0,
            f"{path.name} is {format_bytes(size)}{what}, below the {format_bytes(AUTO_MIN_BYTES)} from which auto builds "
            "out of core (--memory-limit SIZE forces it)",
            setting,
        )
    return Choice(
        True,
        auto_memory_limit(),
        f"{path.name} is {format_bytes(size)}{what}, at least {format_bytes(AUTO_MIN_BYTES)}",
        setting,
    )


def _size(path: Path) -> tuple[int, str]:
    """The file's bytes; for Parquet its uncompressed size (from the footer), so that a compressed file
    of many rows is not mistaken for a small one."""
    if path.suffix == ".parquet":
        try:
            import pyarrow.parquet as pq

            meta = pq.ParquetFile(path).metadata
            return sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups)), " uncompressed"
        except Exception:  # not readable as Parquet: the builder reports it
            pass
    return path.stat().st_size, ""
