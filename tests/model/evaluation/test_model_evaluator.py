"""Full-ranking evaluation: masking of seen items, skipped users, batching."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ckgrec.model.data.train_data import TrainData
from ckgrec.model.evaluation.evaluator import evaluate, score_budget, user_batch_size
from ckgrec.model.models.base import Recommender


class FixedScores(Recommender):
    """Scores given as a dense matrix (tests only)."""

    name = "fixed"

    def __init__(self, scores: np.ndarray):
        super().__init__(*scores.shape)
        self.register_buffer("scores", torch.as_tensor(scores, dtype=torch.float32))

    @classmethod
    def build(cls, data, config, device):
        raise NotImplementedError

    def score_users(self, users):
        return self.scores[users]  # a view: the evaluator must not write into it


def _data():
    # 3 users x 6 items; user 2 has nothing in valid
    train = (np.array([0, 0, 1, 2]), np.array([0, 1, 2, 3]))
    valid = (np.array([0, 1]), np.array([2, 3]))
    test = (np.array([0, 1, 2]), np.array([3, 4, 5]))
    return TrainData.from_pairs(3, 6, train, valid, test)


def test_train_items_are_never_ranked_and_valid_items_are_masked_for_test():
    data = _data()
    s = np.zeros((3, 6))
    s[0] = [100, 90, 50, 10, 0, 0]  # train 0,1 best, then valid 2, then test 3
    s[1] = [0, 0, 100, 50, 10, 0]  # train 2, valid 3, test 4
    s[2] = [0, 0, 0, 100, 0, 10]  # train 3, test 5
    model = FixedScores(s)
    before = model.scores.clone()
    test = evaluate(model, data, "test", (1,))
    assert test.metrics["hit@1"] == 1.0 and test.users.tolist() == [0, 1, 2]
    valid = evaluate(model, data, "valid", (1,))
    assert valid.metrics["hit@1"] == 1.0
    assert valid.skipped_users == 1 and valid.users.tolist() == [0, 1]
    assert torch.equal(model.scores, before)


def test_unmasked_seen_items_would_have_won():
    """Control for the test above: without masking, the train items take rank 1."""
    data = _data()
    s = np.zeros((3, 6))
    s[:, :4] = [[100, 90, 50, 10], [0, 0, 100, 50], [0, 0, 0, 100]]
    out = evaluate(FixedScores(s), data, "train", (1,))
    assert out.metrics["hit@1"] == 1.0  # the 'train' split masks nothing and its items are on top


def test_batching_does_not_change_results(world_data):
    rng = np.random.default_rng(0)
    model = FixedScores(rng.random((world_data.n_users, world_data.n_items)))
    one = evaluate(model, world_data, "test", (5, 10), batch_users=1)
    many = evaluate(model, world_data, "test", (5, 10))
    assert one.metrics == pytest.approx(many.metrics)
    np.testing.assert_allclose(one.per_user["ndcg@10"], many.per_user["ndcg@10"])


def test_cpu_score_blocks_stay_under_glibcs_mmap_threshold_and_cuda_blocks_are_larger():
    # a CPU block above 32 MiB is a fresh mapping per batch whose pages fault in (see evaluator's docstring)
    for n_items in (1_682, 100_000, 1_000_000):
        assert user_batch_size(n_items, 0, score_budget("cpu")) * n_items * 4 <= 16 * 2**20
    assert user_batch_size(100_000, 0, score_budget("cuda")) > 4 * user_batch_size(100_000, 0, score_budget("cpu"))
    assert user_batch_size(100_000, 7, score_budget("cpu")) == 7  # an explicit batch wins


def test_k_larger_than_the_catalogue_is_padded():
    data = _data()
    out = evaluate(FixedScores(np.arange(18, dtype=float).reshape(3, 6)), data, "test", (20,))
    assert out.metrics["recall@20"] == 1.0 and out.metrics["precision@20"] == pytest.approx(1 / 20)
