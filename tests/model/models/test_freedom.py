"""FREEDOM's frozen item-item graph against a dense numpy reference, its pruning, and its refusal
of data without item features."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ckgrec.model.models.base import Batch
from ckgrec.model.models.freedom import FREEDOM, FREEDOMConfig, item_item_graph, knn_graph
from ckgrec.model.nn.graph_ops import propagate_directed
from ckgrec.schemas.errors import ConfigError


def dense_knn(x: np.ndarray, present: np.ndarray, k: int) -> np.ndarray:
    """Reference: D^{-1/2} S D^{-1/2} of the binary top-k cosine graph, item itself included, dense."""
    n = len(x)
    f = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    sim = f @ f.T
    sim[:, ~present] = -np.inf
    s = np.zeros((n, n))
    for i in np.flatnonzero(present):
        s[i, np.argsort(-sim[i], kind="stable")[:k]] = 1.0
    deg = s.sum(1)
    inv = np.where(deg > 0, 1 / np.sqrt(np.where(deg > 0, deg, 1)), 0.0)
    return inv[:, None] * s * inv[None, :]


def _modalities(seed: int = 0, n: int = 40):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(n, 6)).astype(np.float32)
    b = rng.normal(size=(n, 3)).astype(np.float32)
    present_b = rng.random(n) > 0.2
    b[~present_b] = 0.0
    return [(a, np.ones(n, dtype=bool)), (b, present_b)]


def test_knn_graph_is_the_dense_top_k_with_symmetric_normalisation():
    (a, pa), (b, pb) = _modalities()
    for x, present in ((a, pa), (b, pb)):
        got = knn_graph(x, present, k=5, chunk=7).toarray()  # chunks of 7 rows exercise the chunking
        assert np.allclose(got, dense_knn(x, present, 5), atol=1e-6)
        assert ((got[present] > 0).sum(1) == 5).all() and (got[~present] == 0).all() and (got[:, ~present] == 0).all()
        assert np.allclose(np.diag(got)[present], 1 / 5)  # each item is its own nearest neighbour


def test_item_item_graph_is_the_weighted_sum_of_the_modalities():
    blocks = _modalities(1)
    ref = [dense_knn(x, p, 4) for x, p in blocks]
    assert np.allclose(item_item_graph(blocks, 4).toarray(), 0.5 * ref[0] + 0.5 * ref[1], atol=1e-6)
    assert np.allclose(item_item_graph(blocks, 4, (0.9, 0.1)).toarray(), 0.9 * ref[0] + 0.1 * ref[1], atol=1e-6)
    assert np.allclose(item_item_graph(blocks, 4, (3.0, 1.0)).toarray(), 0.75 * ref[0] + 0.25 * ref[1], atol=1e-6)


def test_directed_propagation_has_the_transposed_gradient():
    g = item_item_graph(_modalities(2), 4)
    from ckgrec.model.nn.graph_ops import to_torch_csr

    x = torch.randn(g.shape[0], 3, dtype=torch.float32, requires_grad=True)
    w = torch.randn(g.shape[0], 3)
    (propagate_directed(to_torch_csr(g), to_torch_csr(g.T.tocsr()), x) * w).sum().backward()
    dense = torch.from_numpy(g.toarray())
    assert torch.allclose(x.grad, dense.T @ w, atol=1e-5)


def test_a_store_without_features_is_refused_with_how_to_add_them(block_data):
    with pytest.raises(ConfigError, match=r"freedom needs item feature vectors.*--feature NAME=PATH"):
        FREEDOM.build(block_data, FREEDOMConfig(), torch.device("cpu"))


def test_wrong_number_of_modality_weights_is_refused(tmp_path):
    from ckgrec.model.data.train_data import TrainData
    from tests.model.block_store import block_store

    data = TrainData.from_store(block_store(tmp_path))
    with pytest.raises(ConfigError, match="modality_weights"):
        FREEDOM.build(data, FREEDOMConfig(modality_weights=(0.5, 0.5)), torch.device("cpu"))
    model = FREEDOM.build(data, FREEDOMConfig(embedding_dim=8, knn_k=4), torch.device("cpu"))
    # pruning keeps (1 - ρ)|E| edges, drawn from the generator, and changes the training propagation only
    gen = torch.Generator().manual_seed(0)
    model.on_epoch_start(1, gen)
    kept = model._pruned.to_dense()[: data.n_users, data.n_users :]
    assert int((kept > 0).sum()) == int(data.train.nnz * 0.2)
    model.eval()
    with torch.no_grad():
        full = model.propagate()
    model.train()
    pruned = model.propagate()
    assert not torch.allclose(full[0], pruned[0])
    batch = Batch(torch.tensor([0, 1]), torch.tensor([0, 1]), torch.tensor([[5], [6]]))
    loss, parts = model.loss(batch)
    loss.backward()
    assert set(parts) == {"bpr", "align"} and all(p.grad is not None for p in model.projections.parameters())
