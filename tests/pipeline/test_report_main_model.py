"""The report opens with the main model: its figure, its margin over the strongest baseline, and p."""

from __future__ import annotations

from ckgrec.report.sections.summary import main_model_line


def _group(label, model, mean, p=None):
    return {
        "label": label,
        "model": model,
        "mean": {"recall@20": mean},
        "std": {"recall@20": 0.001},
        "p_value": {"recall@20": p},
    }


def test_the_main_model_line_gives_margin_rank_and_p_against_the_reference():
    compare = {
        "metrics": ["recall@20"],
        "reference": "ease",
        "groups": [
            _group("lightgcn", "lightgcn", 0.30, 0.2),
            _group("dualkgat", "dualkgat", 0.275, 0.003),
            _group("ease", "ease", 0.25),
        ],
    }
    line = main_model_line(compare)
    assert line.startswith("Main model dualkgat: test recall@20 0.2750")
    assert "rank 2 of 3" in line and "+10.0% against ease" in line and "p = 0.003" in line


def test_no_line_without_the_main_model():
    assert (
        main_model_line({"metrics": ["recall@20"], "reference": "ease", "groups": [_group("ease", "ease", 0.25)]})
        is None
    )
