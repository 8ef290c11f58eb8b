"""The README and docs/ stay true: the results table is the generated one, and every link resolves."""

from __future__ import annotations

import re
from pathlib import Path

from benchmarks.readme_table import render

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", ROOT / "benchmarks" / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def test_the_readme_results_table_is_the_generated_one():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert render(readme) == readme, "run: python benchmarks/readme_table.py"


def test_the_readme_python_example_is_the_tested_one():
    """tests/test_api.py runs the first python block of docs/python-api.md; the README shows the same."""
    first = lambda text: re.search(r"```python\n(.*?)```", text, re.S).group(1)  # noqa: E731
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert first(readme) == first((ROOT / "docs" / "python-api.md").read_text(encoding="utf-8"))


def test_every_relative_link_of_the_docs_resolves():
    broken = []
    for page in PAGES:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            if "://" not in target and not (page.parent / target).exists():
                broken.append(f"{page.relative_to(ROOT)} -> {target}")
    assert not broken, broken
