"""``featknn``: content-based item k-NN -- items most similar in feature space to the user's history.

The content floor for cold start: no parameter is learned from interactions, so an item with
features but no interaction is scored exactly like any other.

Item vectors: each modality is standardised per dimension (z-score over the items that have
it, so a few high-variance dimensions of a 384-d text embedding do not decide every cosine),
L2-normalised per item so that every modality weighs the same whatever its size, concatenated,
and L2-normalised again; an item without a modality has zeros there. Similarity is the cosine
of these vectors, s(i, j) = f_iᵀ f_j.

Score, over the user's training items R(u):

    neighbours = 0:  y(u, i) = Σ_{j ∈ R(u)} s(j, i) = (Σ_{j ∈ R(u)} f_j)ᵀ f_i     (O(n_items · d) per user)
    neighbours = k:  y(u, i) = Σ_{j ∈ R(u)} s(j, i) · [i among the k most similar items of j]

The truncated form is classic item-kNN (Sarwar et al., WWW 2001) with content similarities; it
keeps a sparse (n_items x n_items) matrix of k entries per row, built once in closed form.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch

from ckgrec.model.core.search_space import Categorical
from ckgrec.model.data.train_data import TrainData
from ckgrec.model.models.base import ModelConfig, Recommender, option
from ckgrec.model.nn.graph_ops import to_torch_csr
from ckgrec.schemas.errors import ConfigError


@dataclass(frozen=True, kw_only=True)
class FeatKNNConfig(ModelConfig):
    neighbours: int = option(
        0,
        "keep only the k most similar items of each history item (0 = every item: a similarity-weighted profile)",
        low=0,
    )


def standardised_features(blocks: list[tuple[np.ndarray, np.ndarray]], n_items: int) -> np.ndarray:
    """Unit item vectors (n_items, Σ d_m) from per-modality (matrix (n_items, d_m), present (n_items,)) blocks."""
    parts = []
    for x, present in blocks:
        z = np.zeros_like(x, dtype=np.float32)
        if present.any():
            rows = x[present].astype(np.float64)
            sd = rows.std(0)
            z[present] = ((rows - rows.mean(0)) / np.where(sd > 0, sd, 1.0)).astype(np.float32)
        parts.append(z / np.maximum(np.linalg.norm(z, axis=1, keepdims=True), 1e-12))
    if not parts:
        return np.zeros((n_items, 0), dtype=np.float32)
    f = np.concatenate(parts, axis=1)
    return f / np.maximum(np.linalg.norm(f, axis=1, keepdims=True), 1e-12)


def raw_modality_blocks(store, n_items: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per modality: (matrix (n_items, d_m) with zeros where missing, present mask (n_items,))."""
    blocks = []
    for m in store.modalities:
        index, matrix = store.feature(m)
        x = np.zeros((n_items, matrix.shape[1]), dtype=np.float32)
        items = index["item"].to_numpy()
        x[items] = np.asarray(matrix, dtype=np.float32)[index["row"].to_numpy()]
        present = np.zeros(n_items, dtype=bool)
        present[items] = True
        blocks.append((x, present))
    return blocks


class FeatKNN(Recommender):
    name = "featknn"
    description = "content item-kNN: cosine of standardised modality vectors to the user's training items (closed form)"
    paper = "item-based kNN (Sarwar et al., WWW 2001) over content features"
    Config = FeatKNNConfig
    trainable = False
    # Sarwar et al. 2001 vary the neighbourhood size from 10 to 200; 0 keeps every item
    search_space = {"neighbours": Categorical("model", (0, 10, 20, 50, 100, 200))}
    is_baseline = True
    can_score_cold_items = True

    def __init__(self, n_users: int, n_items: int, features: torch.Tensor, neighbours: int):
        super().__init__(n_users, n_items)
        self.neighbours = int(neighbours)
        self.register_buffer("features", features, persistent=False)  # (n_items, D) unit rows, rebuilt from the store
        self._x: sp.csr_matrix | None = None  # training matrix, set by build()
        self._knn: sp.csr_matrix | None = None  # (n_items, n_items) truncated similarities, neighbours > 0

    @classmethod
    def build(cls, data: TrainData, config: FeatKNNConfig, device: torch.device) -> "FeatKNN":
        if data.store is None or not data.store.modalities:
            raise ConfigError(
                "featknn needs item feature vectors: build the store with features (see 'ckg datasets', --feature NAME=PATH)"
            )
        f = standardised_features(raw_modality_blocks(data.store, data.n_items), data.n_items)
        model = cls(data.n_users, data.n_items, torch.from_numpy(f), config.neighbours).to(device)
        model._x = data.train
        return model

    def fit_closed_form(self, data: TrainData) -> None:
        self._x = data.train
        if self.neighbours > 0:
            self._knn = self._truncated_similarities()

    def _truncated_similarities(self, chunk: int = 1024) -> sp.csr_matrix:
        """Row j keeps s(j, i) for the k items i most similar to j (itself excluded)."""
        f = self.features
        k = min(self.neighbours, self.n_items - 1)
        rows, cols, vals = [], [], []
        for s in range(0, self.n_items, chunk):
            sim = f[s : s + chunk] @ f.T
            idx = torch.arange(s, min(s + chunk, self.n_items), device=f.device)
            sim[torch.arange(len(idx), device=f.device), idx] = -torch.inf
            v, c = torch.topk(sim, k, dim=1)
            rows.append(idx.repeat_interleave(k).cpu().numpy())
            cols.append(c.reshape(-1).cpu().numpy())
            vals.append(v.reshape(-1).cpu().numpy())
        m = sp.csr_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
            shape=(self.n_items, self.n_items),
            dtype=np.float32,
        )
        m.sort_indices()
        return m

    def score_users(self, users: torch.Tensor) -> torch.Tensor:
        if self._x is None:
            raise RuntimeError("featknn: build() was not called")
        history = self._x[users.cpu().numpy()]
        if self.neighbours > 0:
            if self._knn is None:
                self._knn = self._truncated_similarities()
            return torch.from_numpy((history @ self._knn).toarray()).to(self.features.device)
        profile = torch.sparse.mm(to_torch_csr(history, self.features.device), self.features)  # (B, D)
        return profile @ self.features.T
