"""The README's results table, generated from the benchmark result files (never typed in).

Reads the rows of the main models from ``results/kg-models-embedded.md`` and
``results/kg-models-ml100k.md`` (written by ``bench_kg_models.py``) and rewrites the table
between ``<!-- results-table -->`` markers in README.md. ``tests/test_docs.py`` checks that
the README holds exactly what this script generates.

    python benchmarks/readme_table.py
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
DATASETS = {"kg-models-embedded": "embedded (synthetic micro-video)", "kg-models-ml100k": "ML-100K + Freebase + text"}
# README row -> the row label in the results tables
ROWS = {
    "mostpop": "mostpop",
    "ease": "ease",
    "lightgcn": "lightgcn",
    "kgat": "kgat",
    "dualkgat (defaults)": "dualkgat",
}
MARK = re.compile(r"(<!-- results-table -->\n).*?(<!-- /results-table -->)", re.S)


def _cells(section: str) -> dict[str, tuple[str, str]]:
    """label -> (recall@20 mean, ndcg@20 mean) of a results table."""
    text = (RESULTS / f"{section}.md").read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(text) if line.startswith("| model |") and "recall@20" in line)
    lines = [text[start]]
    for line in text[start + 1 :]:
        if not line.startswith("|"):
            break
        lines.append(line)
    head = [c.strip() for c in lines[0].strip("|").split("|")]
    r, n = head.index("recall@20"), head.index("ndcg@20")
    out = {}
    for line in lines[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        mean = lambda c: c.replace("*", "").split(" ± ")[0]  # noqa: E731
        out[cells[0]] = (mean(cells[r]), mean(cells[n]))
    return out


def table() -> str:
    tables = {s: _cells(s) for s in DATASETS}
    lines = ["| model | " + " | ".join(DATASETS.values()) + " |", "|---" * (len(DATASETS) + 1) + "|"]
    for shown, label in ROWS.items():
        lines.append(f"| {shown} | " + " | ".join(" / ".join(tables[s][label]) for s in DATASETS) + " |")
    return "\n".join(lines) + "\n"


def render(readme: str) -> str:
    if not MARK.search(readme):
        raise SystemExit("README.md has no <!-- results-table --> ... <!-- /results-table --> block")
    return MARK.sub(lambda m: m.group(1) + table() + m.group(2), readme)


if __name__ == "__main__":
    path = ROOT / "README.md"
    path.write_text(render(path.read_text(encoding="utf-8")), encoding="utf-8")
    print(table())
