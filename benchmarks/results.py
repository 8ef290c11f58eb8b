"""Writing benchmark results: one file per table, ``benchmarks/results/<name>.md``.

Every file states the command, the machine and the date next to its figures;
``benchmarks/RESULTS.md`` is an index of them, regenerated on every write.
"""

from __future__ import annotations

import datetime as _dt
import fcntl
import os
import platform
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parent / "results"
HEADER = (
    "# ckgrec benchmark results\n\nOne file per benchmark table in `results/`, each rewritten by the benchmark "
    "named in it (command, machine, date); figures are measured, never typed in. This index is generated.\n"
)


# heading suffix of a main-model block holding rows the dataset's full run did not reach (bench_main_model.py)
LATER_ROWS = ", later rows"


def markdown_table(block: str, header_start: str) -> tuple[list[str], list[list[str]]]:
    """(header cells, cells of each body row) of the first table in ``block`` whose header line starts with
    ``header_start``; ([], []) when it has none."""
    lines = block.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith(header_start)), None)
    if start is None:
        return [], []
    split = lambda line: [c.strip() for c in line.strip().strip("|").split("|")]  # noqa: E731
    body = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        body.append(split(line))
    return split(lines[start]), body


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


def section_path(name: str, results_dir: Path = RESULTS_DIR) -> Path:
    return results_dir / f"{name}.md"


def update_section(name: str, title: str, command: str, body: str, results_dir: Path = RESULTS_DIR) -> Path:
    """Rewrite ``results/<name>.md`` with ``body`` plus command/machine/date lines, then the index.

    Each benchmark owns its files, so benchmarks run in any order and a rerun replaces its
    figures; the write is a temporary file renamed into place.
    """
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    text = f"## {title}\n\n- command: `{command}`\n- machine: {machine()}\n- date: {stamp}\n\n{body.strip()}\n"
    results_dir.mkdir(parents=True, exist_ok=True)
    lock = results_dir / ".lock"
    with open(lock, "w") as lf:
        fcntl.flock(lf, fcntl.LOCK_EX)
        target = section_path(name, results_dir)
        _atomic_write(target, text)
        write_index(results_dir)
    return target


def write_index(results_dir: Path = RESULTS_DIR, index: Path | None = None) -> Path:
    """``RESULTS.md``: one line per results file, with its title and date, generated from the files."""
    index = index or results_dir.parent / "RESULTS.md"
    lines = [HEADER]
    for f in sorted(results_dir.glob("*.md")):
        body = f.read_text(encoding="utf-8")
        title = next((line[3:] for line in body.splitlines() if line.startswith("## ")), f.stem)
        date = next((line[len("- date: ") :] for line in body.splitlines() if line.startswith("- date: ")), "")
        lines.append(f"- [{title}](results/{f.name}) — `{f.stem}`, {date}")
    _atomic_write(index, "\n".join(lines) + "\n")
    return index


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def seed_mean(values, *, one_seed: str = "") -> str:
    """``mean ± std`` over seeds (sample std, 4 digits) of a table cell; one value prints as itself + ``one_seed``."""
    import numpy as np

    x = np.asarray(values, dtype=float)
    return f"{x.mean():.4f} ± {x.std(ddof=1):.4f}" if len(x) > 1 else f"{x.mean():.4f}{one_seed}"


TEST_METRICS = ["recall@20", "ndcg@20", "recall@10", "ndcg@10"]


def test_cells(rows: list[list[dict]], metrics: list[str] = TEST_METRICS) -> list[list[str]]:
    """Per row (the ``scores.json`` of each seed), the :func:`seed_mean` of each test metric, the best
    mean of each column in bold."""
    import numpy as np

    means = [[np.mean([s["test"][m] for s in runs]) for m in metrics] for runs in rows]
    best = np.max(means, axis=0) if means else []
    return [
        [
            f"**{seed_mean([s['test'][m] for s in runs])}**"
            if np.isclose(mean[k], best[k])
            else seed_mean([s["test"][m] for s in runs])
            for k, m in enumerate(metrics)
        ]
        for runs, mean in zip(rows, means)
    ]


def epochs_cell(runs: list[dict]) -> str:
    """``epochs (best epoch)`` averaged over seeds, or ``closed form`` for a model fitted without epochs."""
    import numpy as np

    if not runs[0]["epochs"]:
        return "closed form"
    return f"{np.mean([s['epochs'] for s in runs]):.0f} ({np.mean([s['best_epoch'] for s in runs]):.0f})"


def seconds_cell(runs: list[dict]) -> str:
    """Mean seconds per epoch over the seeds that report it (``—`` if none do)."""
    import numpy as np

    spe = [s["seconds_per_epoch"] for s in runs if s.get("seconds_per_epoch")]
    return f"{np.mean(spe):.1f}" if spe else "—"
