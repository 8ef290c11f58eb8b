"""The vectorised BPR sampler."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from ckgrec.model.training.sampler import BPRSampler
from ckgrec.schemas.errors import ConfigError


def _random_train(n_users=50, n_items=30, density=0.3, seed=0):
    rng = np.random.default_rng(seed)
    m = sp.csr_matrix((rng.random((n_users, n_items)) < density).astype(np.float32))
    m.sort_indices()
    return m


def test_negatives_are_never_training_items_and_positives_always_are():
    train = _random_train()
    s = BPRSampler(train, num_negatives=3)
    dense = train.toarray().astype(bool)
    batches = list(s.epoch(64, torch.Generator().manual_seed(1)))
    users = torch.cat([b.users for b in batches]).numpy()
    pos = torch.cat([b.pos for b in batches]).numpy()
    neg = torch.cat([b.neg for b in batches]).numpy()
    assert neg.shape == (train.nnz, 3)
    assert dense[users, pos].all()
    assert not dense[users[:, None], neg].any()
    # one epoch is every training pair exactly once
    assert sorted(zip(users.tolist(), pos.tolist())) == sorted(zip(*train.nonzero()))


def test_near_complete_users_still_get_valid_negatives():
    train = sp.csr_matrix(np.ones((3, 40), dtype=np.float32))
    train[0, 7] = 0  # user 0 has exactly one negative
    train[1, 3] = 0
    train[2, 39] = 0
    train.eliminate_zeros()
    s = BPRSampler(train, max_rounds=2)
    neg = s.sample_negatives(torch.tensor([0, 0, 1, 2] * 50), torch.Generator().manual_seed(0))
    assert (
        set(neg[0::4, 0].tolist()) == {7} and set(neg[2::4, 0].tolist()) == {3} and set(neg[3::4, 0].tolist()) == {39}
    )


def test_a_user_with_every_item_is_refused():
    with pytest.raises(ConfigError, match="every item in train"):
        BPRSampler(sp.csr_matrix(np.ones((2, 5), dtype=np.float32)))


def test_same_generator_state_same_epoch():
    s = BPRSampler(_random_train())
    a = s.draw_epoch(torch.Generator().manual_seed(5))
    b = s.draw_epoch(torch.Generator().manual_seed(5))
    assert torch.equal(a.users, b.users) and torch.equal(a.neg, b.neg)


def test_negatives_from_trained_items_never_draws_an_item_without_training_pairs():
    """Under item cold start a never-seen item must not be a negative and nothing else."""
    import numpy as np
    import scipy.sparse as sp
    import torch

    from ckgrec.model.training.sampler import BPRSampler

    rng = np.random.default_rng(0)
    dense = rng.random((30, 40)) < 0.2
    dense[:, 30:] = False  # items 30..39 have no training pair (cold)
    train = sp.csr_matrix(dense.astype(np.float32))
    g = torch.Generator().manual_seed(0)
    drawn = BPRSampler(train, num_negatives=3, negatives_from="trained").draw_epoch(g)
    assert drawn.neg.max() < 30
    assert not dense[drawn.users.numpy()[:, None].repeat(3, 1), drawn.neg.numpy()].any()
    everything = BPRSampler(train, num_negatives=3).draw_epoch(torch.Generator().manual_seed(0))
    assert (everything.neg >= 30).any()  # the default still draws them
