"""Writing into the one results file, ``benchmarks/RESULTS.md``.

Each benchmark owns one section, delimited by HTML comments, and replaces only that section,
so benchmarks can run in any order and a rerun updates its figures in place. Every section
states the command, the machine and the date next to its figures.
"""
from __future__ import annotations

import datetime as _dt
import fcntl
import os
import platform
import re
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
HEADER = "# ckgrec benchmark results\n\nEach section is rewritten by the benchmark named in it; figures are measured, never typed in.\n"


def machine() -> str:
    cores = os.cpu_count()
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
        mem = f", {kb / 2**20:.0f} GiB RAM"
    except OSError:
        pass
    cpu = platform.processor() or platform.machine()
    return f"{cpu}, {cores} cores{mem}, Python {platform.python_version()}"


def update_section(name: str, title: str, command: str, body: str, results: Path = RESULTS) -> None:
    """Replace (or append) the section ``name`` with ``body`` plus command/machine/date lines."""
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    block = (
        f"<!-- section:{name} -->\n## {title}\n\n"
        f"- command: `{command}`\n- machine: {machine()}\n- date: {stamp}\n\n{body.strip()}\n"
        f"<!-- /section:{name} -->\n"
    )
    lock = results.with_suffix(".lock")
    with open(lock, "w") as lf:
        fcntl.flock(lf, fcntl.LOCK_EX)
        text = results.read_text(encoding="utf-8") if results.exists() else HEADER
        pattern = re.compile(rf"<!-- section:{re.escape(name)} -->.*?<!-- /section:{re.escape(name)} -->\n", re.S)
        text = pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + block
        tmp = results.with_suffix(".tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, results)
