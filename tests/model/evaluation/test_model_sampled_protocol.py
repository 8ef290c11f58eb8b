"""The sampled-negative protocol: correct ranks, never a seen item as negative, labelled as such."""

from __future__ import annotations

import numpy as np
import torch

from ckgrec.model.data.train_data import TrainData
from ckgrec.model.evaluation.sampled_protocol import evaluate_sampled
from ckgrec.model.models.base import Recommender


class Oracle(Recommender):
    """Scores the test items 1, everything else 0 (or the reverse)."""

    name = "oracle"

    def __init__(self, data: TrainData, invert: bool = False):
        super().__init__(data.n_users, data.n_items)
        s = torch.as_tensor(data.test.toarray(), dtype=torch.float32)
        self.register_buffer("s", 1 - s if invert else s)

    @classmethod
    def build(cls, data, config, device):
        raise NotImplementedError

    def score_users(self, users):
        return self.s[users]


def _data(n_users=30, n_items=200, seed=0):
    rng = np.random.default_rng(seed)
    pairs = {(int(u), int(i)) for u, i in zip(rng.integers(0, n_users, 1500), rng.integers(0, n_items, 1500))}
    u, i = map(np.array, zip(*sorted(pairs)))
    split = rng.integers(0, 3, len(u))
    return TrainData.from_pairs(
        n_users, n_items, (u[split == 0], i[split == 0]), (u[split == 1], i[split == 1]), (u[split == 2], i[split == 2])
    )


def test_oracle_is_perfect_and_anti_oracle_is_last_and_output_is_labelled():
    data = _data()
    good = evaluate_sampled(Oracle(data), data, "test", num_negatives=50, ks=(1, 10))
    assert good["protocol"] == "sampled" and "compare with papers" in good["warning"] and good["negatives"] == 50
    assert good["test"]["hit@1"] == 1.0 and good["test"]["ndcg@10"] == 1.0 and good["pairs"] == data.test.nnz
    bad = evaluate_sampled(Oracle(data, invert=True), data, "test", num_negatives=50, ks=(10,))
    assert bad["test"]["hit@10"] == 0.0


def test_ties_count_against_the_held_out_item():
    data = _data()
    model = Oracle(data)
    model.s.zero_()
    assert evaluate_sampled(model, data, "test", num_negatives=5, ks=(1,))["test"]["hit@1"] == 0.0


def test_negatives_are_unseen_items():
    """Seen items score above the held-out item: any of them drawn as a negative would cost hit@1."""
    data = _data()
    model = Oracle(data)
    model.s += 2 * torch.as_tensor((data.train + data.valid).toarray(), dtype=torch.float32)
    res = evaluate_sampled(model, data, "test", num_negatives=150, ks=(1,))
    assert res["test"]["hit@1"] == 1.0
