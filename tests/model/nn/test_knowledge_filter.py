"""The knowledge-aware closed-form filter: EASE plus side-information Gram matrices."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch

from ckgrec.model.data.graph_tensors import GraphTensors
from ckgrec.model.data.train_data import TrainData
from ckgrec.model.nn.knowledge_filter import KnowledgeFilter, side_incidence, standardised


def _ease(x: np.ndarray, reg: float) -> np.ndarray:
    p = np.linalg.inv(x.T @ x + reg * np.eye(x.shape[1]))
    b = -p / np.diag(p)[None, :]
    np.fill_diagonal(b, 0.0)
    return b


def test_without_side_information_it_is_ease_with_a_relative_lambda():
    rng = np.random.default_rng(0)
    x = (rng.random((40, 12)) < 0.3).astype(np.float64)
    kf = KnowledgeFilter(sp.csr_matrix(x), None, None)
    scale = np.diag(x.T @ x).mean()
    assert np.allclose(kf.fit(2.0, 0.5, 0.5).double().numpy(), _ease(x, 2.0 * scale), atol=1e-5)
    assert not kf.has_side and not kf.has_features


def test_side_rows_act_as_extra_users_rescaled_to_the_interactions_diagonal():
    """Collective EASE: appending side rows sqrt(w)·A to X is the same as adding w·AᵀA to the Gram."""
    rng = np.random.default_rng(1)
    x = (rng.random((30, 10)) < 0.3).astype(np.float64)
    a = (rng.random((4, 10)) < 0.5).astype(np.float64)
    f = rng.normal(size=(10, 3))
    kf = KnowledgeFilter(sp.csr_matrix(x), sp.csr_matrix(a), f)
    scale = np.diag(x.T @ x).mean()
    wa = 0.5 * scale / np.diag(a.T @ a).mean()
    wf = 0.25 * scale / np.diag(f @ f.T).mean()
    stacked_gram = x.T @ x + wa * a.T @ a + wf * f @ f.T
    p = np.linalg.inv(stacked_gram + 3.0 * scale * np.eye(10))
    expected = -p / np.diag(p)[None, :]
    np.fill_diagonal(expected, 0.0)
    assert np.allclose(kf.fit(3.0, 0.5, 0.25).double().numpy(), expected, atol=1e-5)


def test_side_incidence_links_items_to_their_non_user_neighbours(store):
    g = GraphTensors.from_store(store, "user_side")
    data = TrainData.from_store(store)
    inc = side_incidence(g, data.n_items)
    assert inc.shape[1] == data.n_items and inc.nnz > 0 and set(np.unique(inc.data)) == {1.0}
    kinds = np.asarray(g.kinds)
    h, t = g.triples[:, 0].numpy(), g.triples[:, 2].numpy()
    item_heads = (kinds[h] == "item") & (kinds[t] != "user") & (kinds[t] != "item")
    assert inc.nnz == len({(int(a), int(b)) for a, b in zip(h[item_heads], t[item_heads])})


def test_standardised_rows_have_mean_zero_and_unit_std():
    s = standardised(torch.tensor([[1.0, 2.0, 3.0], [10.0, 10.0, 40.0]]))
    assert torch.allclose(s.mean(-1), torch.zeros(2), atol=1e-6) and torch.allclose(s.std(-1), torch.ones(2))


def test_profile_popularity_sums_each_profile_groups_item_shares():
    """Attribute a: users 0, 1, 3; attribute b: users 1, 2, 3; user 3 has no history, user 4 no profile. A group's
    size counts its users with or without history, so a new user dilutes its groups as it should."""
    import numpy as np
    import scipy.sparse as sp

    from ckgrec.model.nn.knowledge_filter import ProfilePopularity

    train = sp.csr_matrix(np.array([[1, 0, 0], [0, 1, 0], [0, 1, 1], [0, 0, 0], [0, 0, 0]], dtype=np.float32))
    profiles = sp.csr_matrix(np.array([[1, 0], [1, 1], [0, 1], [1, 1], [0, 0]], dtype=np.float32))
    scores = ProfilePopularity(train, profiles).scores(np.array([3, 4, 0]))
    # group a = users 0, 1, 3 (3 has no history): (1/3, 1/3, 0); group b = users 1, 2, 3: (0, 2/3, 1/3)
    np.testing.assert_allclose(scores, [[1 / 3, 1.0, 1 / 3], [0, 0, 0], [1 / 3, 1 / 3, 0]])
