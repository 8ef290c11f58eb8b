"""The README's results table, generated from the benchmark result files (never typed in).

Reads the rows of ``results/main-model.md`` (written by ``bench_main_model.py``, one block per
dataset) and rewrites the table between ``<!-- results-table -->`` markers in README.md; a row a
dataset's block does not have yet comes from its "later rows" block (marked †, run later than the
rest of its column) or shows "not run". ``tests/test_docs.py`` checks that the README holds exactly
what this script generates.

    python benchmarks/readme_table.py
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.results import LATER_ROWS, markdown_table  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "main-model.md"
DATASETS = {"embedded": "embedded (synthetic micro-video)", "ml100k": "ML-100K + Freebase + text"}
# README row -> the row label in the results tables
ROWS = {
    "dualkgat (defaults)": "dualkgat",
    "dualkgat, paper design": "dualkgat, paper design",
    "simgcl": "simgcl",
    "lightgcn": "lightgcn",
    "ngcf": "ngcf",
    "ease": "ease",
    "freedom": "freedom",
    "vbpr": "vbpr",
    "kgin": "kgin",
    "kgat": "kgat",
    "mostpop": "mostpop",
}
MARK = re.compile(r"(<!-- results-table -->\n).*?(<!-- /results-table -->)", re.S)


DAGGER = " †"


def _cells(dataset: str) -> dict[str, str]:
    """row label -> "recall@20 / ndcg@20 (setting)" of a dataset's block, rows missing from it taken from
    its later-rows block (marked †); {} when it has neither."""
    cells = _block_cells(dataset)
    for label, cell in _block_cells(dataset + LATER_ROWS).items():
        cells.setdefault(label, cell + DAGGER)
    return cells


def _block_cells(heading: str) -> dict[str, str]:
    """row label -> "recall@20 / ndcg@20 (setting)" of the block under ``### heading``; {} when none."""
    text = RESULTS.read_text(encoding="utf-8").split("\n### ")
    block = next((b for b in text if b.startswith(heading + "\n")), None)
    if block is None:
        return {}
    head, rows = markdown_table(block, "| row |")
    r, n, setting = head.index("recall@20"), head.index("ndcg@20"), head.index("setting")
    out = {}
    for cells in rows:
        mean = lambda c: c.replace("*", "").split(" ± ")[0]  # noqa: E731
        label = cells[0].split(" (")[0]
        out.setdefault(label, f"{mean(cells[r])} / {mean(cells[n])} ({cells[setting]})")
    return out


def table() -> str:
    tables = {s: _cells(s) for s in DATASETS}
    lines = ["| model | " + " | ".join(DATASETS.values()) + " |", "|---" * (len(DATASETS) + 1) + "|"]
    for shown, label in ROWS.items():
        lines.append(f"| {shown} | " + " | ".join(tables[s].get(label, "not run") for s in DATASETS) + " |")
    if any(c.endswith(DAGGER) for t in tables.values() for c in t.values()):
        lines += [
            "",
            "† run later than the rest of its column, with its own paired test: the block "
            "'DATASET, later rows' of the results file.",
        ]
    return "\n".join(lines) + "\n"


def render(readme: str) -> str:
    if not MARK.search(readme):
        raise SystemExit("README.md has no <!-- results-table --> ... <!-- /results-table --> block")
    return MARK.sub(lambda m: m.group(1) + table() + m.group(2), readme)


if __name__ == "__main__":
    path = ROOT / "README.md"
    path.write_text(render(path.read_text(encoding="utf-8")), encoding="utf-8")
    print(table())
