"""The report: self-contained HTML, the same tables as Markdown, and each section's rules (best marked, n/a kept)."""

from __future__ import annotations

import base64
import dataclasses
import io
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest


class _Page(HTMLParser):
    """Tags, attributes and table header rows of an HTML page."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.headers: list[list[str]] = []
        self._th: list[str] | None = None
        self._in_th = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "thead":
            self._th = []
        elif tag == "th":
            self._in_th = True
            self._th.append("")

    def handle_endtag(self, tag):
        if tag == "th":
            self._in_th = False
        elif tag == "thead":
            self.headers.append(self._th)
            self._th = None

    def handle_data(self, data):
        if self._in_th:
            self._th[-1] += data


def _page(cfg) -> tuple[str, _Page]:
    text = (cfg.out / "report" / "report.html").read_text(encoding="utf-8")
    p = _Page()
    p.feed(text)
    return text, p


def test_the_html_page_is_self_contained(finished):
    from PIL import Image

    cfg, _, _ = finished
    text, page = _page(cfg)
    names = {t for t, _ in page.tags}
    assert not names & {"script", "link", "iframe", "object", "embed"}
    imgs = [a for t, a in page.tags if t == "img"]
    assert len(imgs) >= 3  # training curves, metric by K, user groups
    for a in imgs:
        assert a["src"].startswith("data:image/png;base64,") and a.get("alt")
        png = Image.open(io.BytesIO(base64.b64decode(a["src"].split(",", 1)[1])))
        assert png.format == "PNG" and png.size[0] > 300
    for _, a in page.tags:
        for key in ("src", "href"):
            assert not a.get(key, "").startswith(("http:", "https:", "//", "file:"))


def test_markdown_holds_the_same_tables_and_the_figures(finished):
    cfg, _, _ = finished
    _, page = _page(cfg)
    md = (cfg.out / "report" / "report.md").read_text(encoding="utf-8")
    md_headers = [
        [c.strip() for c in line.strip("|").split(" | ")]
        for line, nxt in zip(md.splitlines(), md.splitlines()[1:])
        if line.startswith("| ") and nxt.startswith("|---")
    ]
    assert md_headers == page.headers and len(md_headers) >= 8
    for name in ("training_curves", "metric_by_k", "user_groups"):
        assert f"(figures/{name}.png)" in md and (cfg.out / "report" / "figures" / f"{name}.png").stat().st_size > 1000


def test_every_section_is_on_the_page(finished):
    cfg, _, _ = finished
    text, _ = _page(cfg)
    for title in (
        "Dataset and graphs",
        "Comparison",
        "Training curves",
        "Metrics by cut-off K",
        "Ablations",
        "Results per user group",
        "Example recommendations",
        "Time and memory",
        "Configuration",
    ):
        assert f">{title}</h2>" in text
    assert "use_item_side: true → false" in text and "±" in text and "Wilcoxon" in text


def test_the_best_value_of_each_comparison_column_is_marked(finished):
    import json

    from ckgrec.report.sections.comparison import from_compare

    cfg, _, _ = finished
    c = json.loads((cfg.out / "compare.json").read_text())
    [table] = from_compare(c).blocks
    for j, m in enumerate(c["metrics"]):
        col = 3 + j  # model, role, seeds, metrics...
        best = max(g["mean"][m] for g in c["groups"])
        marked = [row[0].text for row in table.rows if row[col].best]
        assert marked == [g["label"] for g in c["groups"] if g["mean"][m] == best]
    ref = next(row for row in table.rows if row[0].text == c["reference"])
    assert ref[-1].text == "ref" and ref[-2].text == "—"


def test_group_cells_keep_n_a_and_mark_the_best_of_each_row(finished):
    from ckgrec.pipeline.state import PipelineState
    from ckgrec.report.collect import collect
    from ckgrec.report.sections import groups
    from ckgrec.report.tables import Table

    cfg, _, _ = finished
    d = collect(cfg, PipelineState.load(cfg.out))
    entry = lambda v: {"recall@20": v, "ndcg@20": v / 2, "n_users": 7}  # noqa: E731
    seeds = lambda g: {"1": {"source": "scores.json", "groups": g}, "2": {"source": "scores.json", "groups": g}}  # noqa: E731
    ev = {
        "split": "test",
        "runs": {
            "mostpop": {"2020": {"source": "scores.json", "groups": {"warm": entry(0.1), "cold_items_all": "n/a"}}},
            "bprmf": seeds({"warm": entry(0.3), "cold_items_all": "n/a"}),
            "dualkgat": seeds({"warm": entry(0.2), "cold_items_all": entry(0.05)}),
            "dk-no-gi": seeds({"warm": entry(0.25), "cold_items_all": entry(0.04)}),
        },
    }
    section = groups.build(dataclasses.replace(d, evaluation=ev))
    recall = next(b for b in section.blocks if isinstance(b, Table) and "recall@20" in b.caption)
    rows = {r[0].text: r for r in recall.rows}
    assert [c.text for c in rows["cold_items_all"][2:]] == ["n/a", "n/a", "0.0500 ± 0.0000", "0.0400 ± 0.0000"]
    assert [c.best for c in rows["cold_items_all"][2:]] == [False, False, True, False]
    assert [c.best for c in rows["warm"][2:]] == [False, True, False, False] and rows["warm"][1].text == "7"


def test_activity_quartiles_from_per_user_metrics():
    from ckgrec.pipeline.user_groups import activity_groups

    degree = np.array([1, 2, 3, 4, 5, 6, 7, 8, 0, 9])  # user 8 has no training pair; user 9 is cold
    per_user = pd.DataFrame({"user": np.arange(10), "recall@20": np.arange(10) / 10.0})
    g = activity_groups(per_user, degree, np.array([9]))
    assert sorted(g) == ["activity_q1", "activity_q2", "activity_q3", "activity_q4"]
    assert sum(v["n_users"] for v in g.values()) == 8
    assert g["activity_q1"]["degree"][0] == 1 and g["activity_q4"]["degree"][1] == 8
    assert g["activity_q1"]["n_users"] == 2 and g["activity_q1"]["recall@20"] == pytest.approx(0.05)  # users 0 and 1


def test_the_time_and_memory_table_lists_every_step(finished):
    from ckgrec.pipeline.state import PipelineState
    from ckgrec.report.collect import collect
    from ckgrec.report.sections import resources

    cfg, result, _ = finished
    table = resources.build(collect(cfg, PipelineState.load(cfg.out))).blocks[0]
    steps = [r[0].text for r in table.rows[:-1]]
    assert set(steps) == set(result.steps) - {"report"} and steps[0] == "build"
    assert all(float(r[4].text) >= 0 and float(r[6].text.replace(",", "")) > 0 for r in table.rows[:-1])
