"""main-model.md's blocks: a dataset's full table, its 'later rows' block, and the README cells made of both."""

from __future__ import annotations

import pytest

from benchmarks import bench_main_model as M
from benchmarks import readme_table as R


def _table(rows: dict[str, tuple[str, str]], setting: str = "tuned (12 trials)") -> str:
    lines = ["| row | setting | seeds | recall@20 | ndcg@20 |", "|---|---|---|---|---|"]
    lines += [f"| {label} | {setting} | 3 | {r} ± 0.0010 | {n} ± 0.0010 |" for label, (r, n) in rows.items()]
    return "\n".join(lines)


def _file(tmp_path, monkeypatch, text: str):
    path = tmp_path / "main-model.md"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setattr("benchmarks.results.section_path", lambda name: path)
    monkeypatch.setattr(R, "RESULTS", path)
    return path


FULL = {"dualkgat": ("0.3903", "0.3521"), "ease": ("0.3818", "0.3447")}
LATER = {"kgat": ("0.3500", "0.3100"), "ease": ("0.3818", "0.3447"), "dualkgat": ("0.3899", "0.3519")}


def test_later_rows_sit_below_their_dataset_and_fill_only_the_missing_readme_cells(tmp_path, monkeypatch):
    start = "## title\n\nintro\n\n### embedded\n\n" + _table(FULL) + "\n\n### ml100k\n\n" + _table(FULL) + "\n"
    path = _file(tmp_path, monkeypatch, start)
    body = M.merged_results("ml100k", _table(LATER), later=True)
    assert [line for line in body.splitlines() if line.startswith("### ")] == [
        "### embedded",
        "### ml100k",
        "### ml100k, later rows",
    ]
    path.write_text("## title\n\n" + body, encoding="utf-8")
    cells = R._cells("ml100k")
    assert cells["kgat"] == "0.3500 / 0.3100 (tuned (12 trials)) †"  # missing from the full table: taken, marked
    assert cells["dualkgat"] == "0.3903 / 0.3521 (tuned (12 trials))"  # the full table's run wins
    assert "kgat" not in R._cells("embedded")
    assert "† run later" in R.table()


def test_a_full_block_drops_the_later_rows_only_once_it_has_all_of_them(tmp_path, monkeypatch):
    path = _file(tmp_path, monkeypatch, "## t\n\n### ml100k\n\n" + _table(FULL) + "\n")
    path.write_text("## t\n\n" + M.merged_results("ml100k", _table(LATER), later=True), encoding="utf-8")
    again = M.merged_results("ml100k", _table(FULL))  # a full run that still lacks kgat keeps the later block
    assert "### ml100k, later rows" in again
    path.write_text("## t\n\n" + again, encoding="utf-8")
    complete = M.merged_results("ml100k", _table({**FULL, **LATER}))
    assert "later rows\n" not in complete and "### ml100k\n" in complete


def test_a_heading_inside_a_block_stays_in_it():
    text = "## t\n\n### ml100k\n\nA\n\n### some note\n\nB\n\n### ml100k, later rows\n\nC\n"
    blocks = M._blocks(text)
    assert set(blocks) == {"ml100k", "ml100k, later rows"}
    assert "### some note" in blocks["ml100k"] and blocks["ml100k, later rows"].endswith("C")


def test_later_rows_need_the_rows_they_add():
    with pytest.raises(SystemExit, match="--later-rows needs --only"):
        M.main(["--dataset", "ml100k", "--later-rows"])
