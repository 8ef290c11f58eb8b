"""Metric functions against values computed by hand."""

from __future__ import annotations

import math

import pytest
import torch

from ckgrec.model.evaluation.metrics import parse_metric, topk_metrics
from ckgrec.schemas.errors import ConfigError

L2, L3, L4, L5 = 1.0, math.log2(3), 2.0, math.log2(5)


def test_metrics_match_hand_computed_values():
    hits = torch.tensor([[1, 0, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0]], dtype=torch.bool)
    n_pos = torch.tensor([3, 1, 2])
    m = {k: v.tolist() for k, v in topk_metrics(hits, n_pos, (2, 4)).items()}
    assert m["precision@2"] == pytest.approx([1 / 2, 0, 0])
    assert m["recall@2"] == pytest.approx([1 / 3, 0, 0])
    assert m["ndcg@2"] == pytest.approx([1 / (1 + 1 / L3), 0, 0])  # DCG 1, IDCG 1 + 1/log2 3
    assert m["hit@2"] == pytest.approx([1, 0, 0])
    assert m["mrr@2"] == pytest.approx([1, 0, 0])
    assert m["precision@4"] == pytest.approx([2 / 4, 1 / 4, 0])
    assert m["recall@4"] == pytest.approx([2 / 3, 1, 0])
    # user 0: DCG = 1 + 1/log2(4); IDCG (3 positives) = 1 + 1/log2 3 + 1/log2 4
    # user 1: DCG = 1/log2(5); IDCG (1 positive) = 1
    assert m["ndcg@4"] == pytest.approx([(1 + 1 / L4) / (1 + 1 / L3 + 1 / L4), 1 / L5, 0])
    assert m["hit@4"] == pytest.approx([1, 1, 0])
    assert m["mrr@4"] == pytest.approx([1, 1 / 4, 0])


def test_ndcg_ideal_is_capped_at_k_and_perfect_list_scores_one():
    hits = torch.ones(1, 3, dtype=torch.bool)
    m = topk_metrics(hits, torch.tensor([10]), (3,))
    assert m["ndcg@3"].item() == pytest.approx(1.0)  # IDCG uses min(n_pos, k) = 3 positions
    assert m["recall@3"].item() == pytest.approx(0.3)  # recall divides by all 10 positives


def test_metric_names_are_parsed_strictly():
    assert parse_metric("Recall@20") == ("recall", 20)
    for bad in ("recall", "auc@10", "ndcg@0", "ndcg@x"):
        with pytest.raises(ConfigError, match="NAME@K"):
            parse_metric(bad)
