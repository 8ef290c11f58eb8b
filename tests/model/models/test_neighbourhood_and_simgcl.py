"""Numerics of itemknn, rp3beta and simgcl against dense references, and XSimGCL's known answer."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import torch
import torch.nn.functional as F

from ckgrec.model.core.options import build_config
from ckgrec.model.data.train_data import TrainData
from ckgrec.model.models import neighbourhood
from ckgrec.model.models.itemknn import ItemKNN, ItemKNNConfig
from ckgrec.model.models.rp3beta import RP3beta, RP3betaConfig
from ckgrec.model.models.simgcl import SimGCL, SimGCLConfig, perturb
from ckgrec.model.nn.losses import info_nce
from ckgrec.model.training.config import TrainConfig
from ckgrec.model.training.trainer import train


def _random_data(n_users=40, n_items=30, density=0.2, seed=0) -> TrainData:
    rng = np.random.default_rng(seed)
    x = sp.random(n_users, n_items, density=density, random_state=rng, format="coo")
    return TrainData.from_pairs(n_users, n_items, (x.row, x.col))


def _keep_top_k(w: np.ndarray, k: int, axis: int) -> np.ndarray:
    """Zero all but the k largest entries along ``axis`` (rows: 1, columns: 0)."""
    order = np.argsort(-w, axis=axis, kind="stable")
    keep = np.zeros_like(w, dtype=bool)
    np.put_along_axis(keep, np.take(order, np.arange(k), axis=axis), True, axis=axis)
    return np.where(keep, w, 0.0)


def _itemknn_reference(x: np.ndarray, k: int, shrink: float) -> np.ndarray:
    n = np.sqrt(x.sum(0))
    sim = x.T @ x / (n[:, None] * n[None, :] + shrink)
    np.fill_diagonal(sim, 0.0)
    return _keep_top_k(sim, k, axis=0)  # the k neighbours of each target item j (column)


def _rp3beta_reference(x: np.ndarray, alpha: float, beta: float, k: int) -> np.ndarray:
    p_ui = x / np.maximum(x.sum(1, keepdims=True), 1)
    p_iu = x.T / np.maximum(x.T.sum(1, keepdims=True), 1)
    pop = x.sum(0)
    w = (p_iu**alpha) @ (p_ui**alpha) * np.where(pop > 0, np.maximum(pop, 1) ** -beta, 0.0)[None, :]
    np.fill_diagonal(w, 0.0)
    return _keep_top_k(w, k, axis=1)  # the k largest of each row i


def _scores(model, data: TrainData) -> np.ndarray:
    model.fit_closed_form(data)
    with model.scoring():
        return model.score_users(torch.arange(data.n_users)).numpy()


@pytest.mark.parametrize("block_elements", [2**24, 7 * 30])  # one block; blocks of 7 rows
@pytest.mark.parametrize("k", [3, 100])  # truncated; every other item (k > n_items - 1)
def test_itemknn_and_rp3beta_equal_their_dense_reference(monkeypatch, block_elements, k):
    monkeypatch.setattr(neighbourhood, "BLOCK_ELEMENTS", block_elements)
    data = _random_data()
    x = data.train.toarray().astype(np.float64)
    kk = min(k, data.n_items - 1)
    knn = ItemKNN.build(data, ItemKNNConfig(k=k, shrink=2.0), torch.device("cpu"))
    rp3 = RP3beta.build(data, RP3betaConfig(alpha=0.7, beta=0.4, k=k), torch.device("cpu"))
    for model, w in ((knn, _itemknn_reference(x, kk, 2.0)), (rp3, _rp3beta_reference(x, 0.7, 0.4, kk))):
        got = _scores(model, data)
        if kk == data.n_items - 1:  # nothing truncated: the scores are X W exactly
            np.testing.assert_allclose(got, x @ w, atol=1e-5)
        # truncated: co-counts tie, so compare the kept weights of each row (row = target for itemknn)
        rows = w.T if model.rows_are_targets else w
        want = -np.sort(-rows, 1)[:, :kk]
        np.testing.assert_allclose(-np.sort(-model.weights.numpy(), 1), want, atol=1e-6)


def test_perturb_adds_noise_of_norm_eps_in_the_orthant_of_each_row():
    torch.manual_seed(0)
    e = torch.randn(50, 16)
    delta = perturb(e, 0.3) - e
    torch.testing.assert_close(delta.norm(dim=1), torch.full((50,), 0.3))
    assert bool(((delta * e) >= 0).all())


def test_info_nce_is_cross_entropy_of_cosine_logits():
    torch.manual_seed(0)
    a, b = torch.randn(12, 8), torch.randn(12, 8)
    logits = F.cosine_similarity(a[:, None], b[None], dim=-1) / 0.2
    torch.testing.assert_close(info_nce(a, b, 0.2), F.cross_entropy(logits, torch.arange(12)))


def test_simgcl_scores_with_the_noise_free_mean_of_layers_1_to_L(block_data):
    model = SimGCL.build(block_data, SimGCLConfig(embedding_dim=8, layers=2), torch.device("cpu"))
    adj = model.adjacency.to_dense()
    e0 = model.embedding.weight.detach()
    final = (adj @ e0 + adj @ adj @ e0) / 2
    with model.scoring():
        got = model.score_users(torch.arange(block_data.n_users))
    torch.testing.assert_close(got, final[: block_data.n_users] @ final[block_data.n_users :].T)


def test_xsimgcl_ranks_the_withheld_block_item_first(block_data, tmp_path):
    from tests.model.models.test_model_baselines import FAST

    cfg = build_config(SimGCLConfig, {"embedding_dim": 16, "layers": 2, "xsimgcl": True})
    scores = train(block_data, "simgcl", tmp_path / "x", model_config=cfg, train_config=TrainConfig(**FAST))
    assert scores["test"]["hit@1"] >= 0.9


def test_xsimgcl_refuses_to_contrast_the_final_vectors_with_themselves():
    from ckgrec.schemas.errors import ConfigError

    with pytest.raises(ConfigError, match="with themselves"):
        build_config(SimGCLConfig, {"layers": 1, "xsimgcl": True})
    build_config(SimGCLConfig, {"layers": 1, "xsimgcl": True, "cl_layer": 0})  # ego vs final is a real contrast


@pytest.mark.parametrize("entries", [2**21, 5])  # one chunk; chunks of a few W entries
def test_neighbourhood_scores_are_the_history_times_the_kept_weights(monkeypatch, entries):
    monkeypatch.setattr(neighbourhood, "SCORE_ENTRIES", entries)
    data = _random_data(n_users=25, n_items=30, density=0.15, seed=3)
    x = data.train.toarray().astype(np.float64)
    users = torch.tensor([7, 0, 24, 7, 13])
    assert x[users.numpy()].sum() > 0
    for model in (
        ItemKNN.build(data, ItemKNNConfig(k=4, shrink=1.0), torch.device("cpu")),
        RP3beta.build(data, RP3betaConfig(alpha=0.7, beta=0.4, k=4), torch.device("cpu")),
    ):
        model.fit_closed_form(data)
        w = np.zeros((data.n_items, data.n_items))  # W[source, target] from the kept (neighbour, weight) rows
        owner = np.repeat(np.arange(data.n_items), model.k)
        other = model.neighbours.numpy().ravel()
        src, dst = (other, owner) if model.rows_are_targets else (owner, other)
        np.add.at(w, (src, dst), model.weights.numpy().ravel())
        with model.scoring():
            got = model.score_users(users).numpy()  # the CPU path (scipy)
            elsewhere = neighbourhood.pairwise_scores(model._history, model._scoring, users).numpy()  # CUDA's
        np.testing.assert_allclose(got, x[users.numpy()] @ w, atol=1e-5)
        np.testing.assert_allclose(elsewhere, x[users.numpy()] @ w, atol=1e-5)
