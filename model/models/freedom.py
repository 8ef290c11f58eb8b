"""FREEDOM (Zhou & Shen, "A Tale of Two Graphs: Freezing and Denoising Graph Structures for
Multimodal Recommendation", ACM MM 2023; reference code: MMRec ``src/models/freedom.py``).

Two graphs, one frozen and one denoised.

**Frozen item-item graph** (built once from the store's modality vectors, never learned). For
each modality m with row-L2-normalised vectors f_i^m (items without the modality have none):

    s^m_ij = f_iᵀ f_j                                    (cosine)
    S^m_ij = 1 if j ∈ top-k_j s^m_ij else 0              (k neighbours per item, the item itself included,
                                                          as in the reference code)
    Ŝ^m = (D^m)^{-1/2} S^m (D^m)^{-1/2},   D^m = diag(S^m 1)   (rows with no neighbour stay zero)
    S = Σ_m α_m Ŝ^m,     α_m ≥ 0, Σ_m α_m = 1             (``modality_weights``; default equal; the paper's
                                                          text/image 0.9/0.1 is ``modality_weights=0.9,0.1``
                                                          in the store's modality order)
    H^{(0)} = E_item,   H^{(l+1)} = S H^{(l)},   h_i = H^{(L_ii)}_i        (``item_layers``, default 1)

S is (I, I) sparse with at most k·M entries per row; it is not symmetric (top-k is not), so its
backward pass multiplies by the stored Sᵀ.

**Denoised user-item graph.** At the start of every training epoch, keep a share 1 - ρ of the
training edges, drawn without replacement with probability ∝ 1/sqrt(d_u d_i) (full-graph degrees):
edges between high-degree nodes are the likelier to be pruned (degree-sensitive edge pruning;
the reference code's ``torch.multinomial(edge_values, (1 - dropout)·|E|)``). The kept graph A' is
normalised again, Â' = D'^{-1/2} A' D'^{-1/2}, and LightGCN propagates the ID embeddings on it:

    E^{(0)} = [E_user; E_item] (N = U + I rows),   E^{(l+1)} = Â' E^{(l)},   Ē = 1/(L+1) Σ_{l=0..L} E^{(l)}

Scoring uses the full graph Â instead of Â' (as the reference code's ``full_sort_predict``).

**Representations and score:**  e_u = Ē_u,   e_i = Ē_i + h_i,   s(u, i) = e_uᵀ e_i.

**Loss** over BPR triples (u, i, j), with p_i^m = W_m f_i^m + b_m (each modality projected to d):

    L = BPR(e_u, e_i, e_j) + λ Σ_m BPR(e_u, p_i^m, p_j^m) + l2 · ½‖E^{(0)}_batch‖² / B

(the projections enter only this alignment term; the L2 is the trainer's, on the batch's ego
embeddings, as LightGCN here). Shapes: E_user (U, d), E_item (I, d), f^m (I, d_m), W_m (d, d_m).

Paper / reference-code defaults: d = 64, k = 10, L_ii = 1, L = 2, ρ = 0.8 (searched in {0.8, 0.9}),
λ (``reg_weight``) searched in {0, 1e-5, 1e-4, 1e-3}, Adam lr 1e-3, batch 2048, no weight decay,
Xavier-uniform embeddings, fine-tuned raw features. Changed here: the raw features stay frozen
(only the projections learn), embeddings start N(0, 0.1²) as LightGCN here, and the default
learning rate is 5e-3 (see ``train_defaults``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn

from ckgrec.model.core.search_space import Float, Int
from ckgrec.model.data.item_features import modality_blocks
from ckgrec.model.data.train_data import TrainData
from ckgrec.model.models.base import Batch, ModelConfig, option
from ckgrec.model.models.propagated import PropagatedBPR
from ckgrec.model.nn.graph_ops import bipartite_adjacency, propagate, propagate_directed, to_torch_csr
from ckgrec.model.nn.losses import bpr_loss
from ckgrec.schemas.errors import ConfigError


@dataclass(frozen=True, kw_only=True)
class FREEDOMConfig(ModelConfig):
    embedding_dim: int = option(
        64, "dimension d of the user and item ID embeddings and of the feature projections", low=1
    )
    layers: int = option(2, "number L of LightGCN layers on the (pruned) user-item graph", low=0)
    item_layers: int = option(
        1, "number of propagation layers of the item ID embeddings on the frozen item-item graph", low=0
    )
    knn_k: int = option(10, "k: neighbours per item (the item itself included) in each modality's kNN graph", low=1)
    modality_weights: tuple[float, ...] = option(
        (),
        "weight α_m of each modality's graph, in the store's modality order, normalised to sum 1 (empty = equal)",
        low=0.0,
    )
    prune_ratio: float = option(
        0.8,
        "ρ: share of user-item edges pruned each epoch, degree-sensitively (0 = none)",
        low=0.0,
        high=1.0,
        high_open=True,
    )
    align_weight: float = option(
        1e-3, "λ: weight of the BPR loss of the users against each modality's projected features", low=0.0
    )
    init_std: float = option(
        0.1, "standard deviation of the normal initialisation of the ID embeddings", low=0.0, low_open=True
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.modality_weights and sum(self.modality_weights) <= 0:
            raise ConfigError(f"modality_weights = {self.modality_weights}: need at least one positive weight")


# ---- the frozen item-item graph ---------------------------------------------------------------
def knn_graph(x: np.ndarray, present: np.ndarray, k: int, chunk: int = 2048) -> sp.csr_matrix:
    """Ŝ = D^{-1/2} S D^{-1/2} of the binary top-k cosine graph of one modality: (I, I) float32 CSR.

    :param x: (I, d_m) item vectors; rows are L2-normalised here (cosine similarity)
    :param present: (I,) bool, items that have the modality; only they get and are neighbours
    :param k: neighbours per item, the item itself included; at most the number of present items
    """
    n = x.shape[0]
    items = np.flatnonzero(present)
    if items.size == 0:
        return sp.csr_matrix((n, n), dtype=np.float32)
    k = min(int(k), items.size)
    f = x[items].astype(np.float32)
    f = f / np.maximum(np.linalg.norm(f, axis=1, keepdims=True), 1e-12)
    cols = np.empty((items.size, k), dtype=np.int64)
    for start in range(0, items.size, chunk):
        sim = f[start : start + chunk] @ f.T  # (c, |present|)
        cols[start : start + chunk] = np.argpartition(-sim, k - 1, axis=1)[:, :k]
    rows = np.repeat(items, k)
    s = sp.csr_matrix((np.ones(rows.size, dtype=np.float32), (rows, items[cols.ravel()])), shape=(n, n))
    deg = np.asarray(s.sum(1)).ravel()
    inv = np.zeros_like(deg)
    np.power(deg, -0.5, out=inv, where=deg > 0)
    d = sp.diags(inv.astype(np.float32))
    return (d @ s @ d).tocsr().astype(np.float32)


def item_item_graph(
    blocks: list[tuple[np.ndarray, np.ndarray]], k: int, weights: tuple[float, ...] = ()
) -> sp.csr_matrix:
    """S = Σ_m α_m Ŝ^m over per-modality (matrix (I, d_m), present (I,)) blocks; α normalised to sum 1."""
    w = np.asarray(weights if weights else [1.0] * len(blocks), dtype=np.float64)
    w = w / w.sum()
    n = blocks[0][0].shape[0]
    total = sp.csr_matrix((n, n), dtype=np.float32)
    for (x, present), a in zip(blocks, w):
        if a > 0:
            total = total + np.float32(a) * knn_graph(x, present, k)
    total = total.tocsr()
    total.sort_indices()
    return total.astype(np.float32)


# ---- the model ------------------------------------------------------------------------------------
class FREEDOM(PropagatedBPR):
    name = "freedom"
    description = "LightGCN on a degree-pruned user-item graph + ID propagation on a frozen modality kNN item graph"
    paper = "Zhou & Shen, ACM MM 2023"
    Config = FREEDOMConfig
    # paper: lr 1e-3, batch 2048, no weight decay; lr 5e-3 and l2 1e-4 here, as lightgcn learns on small data
    train_defaults = {"lr": 5e-3, "batch_size": 2048, "l2": 1e-4}
    # Zhou & Shen 2023 / MMRec: ρ in {0.8, 0.9}, λ in {0, 1e-5, ..., 1e-3}, k = 10, layers 1-3; lr around 1e-3
    search_space = {
        "lr": Float("train", 1e-4, 1e-2, log=True),
        "l2": Float("train", 1e-6, 1e-2, log=True),
        "align_weight": Float("model", 1e-5, 1e-1, log=True),
        "knn_k": Int("model", 5, 50),
        "prune_ratio": Float("model", 0.0, 0.9),
        "layers": Int("model", 1, 4),
        "item_layers": Int("model", 1, 3),
    }
    is_baseline = True
    defaults_source = "ckg tune (12 trials per dataset, benchmarks/results/default-vs-tuned.md) kept them on embedded, ML-100K and tiktok-sample; on ML-100K 20% k = 31, two item layers, ρ = 0.22, L2 5e-3 scored 5% higher on validation"
    # a never-interacted item still gets h_i, the mean of its feature neighbours' trained ID embeddings
    can_score_cold_items = True

    def __init__(
        self,
        n_users: int,
        n_items: int,
        train: sp.csr_matrix,
        item_graph: sp.csr_matrix,
        features: list[torch.Tensor],
        cfg: FREEDOMConfig,
        device: torch.device | str = "cpu",
    ):
        super().__init__(n_users, n_items)
        self.layers = int(cfg.layers)
        self.item_layers = int(cfg.item_layers)
        self.prune_ratio = float(cfg.prune_ratio)
        self.align_weight = float(cfg.align_weight)
        self.init_std = float(cfg.init_std)
        # graphs are not parameters: rebuilt from the data by build()
        self.adjacency = to_torch_csr(bipartite_adjacency(train), device)  # full Â (N, N), for scoring
        self.item_graph = to_torch_csr(item_graph, device)  # S (I, I)
        self.item_graph_t = to_torch_csr(item_graph.T.tocsr(), device)
        coo = train.tocoo()
        self._edge_users = np.asarray(coo.row, dtype=np.int64)
        self._edge_items = np.asarray(coo.col, dtype=np.int64)
        du = np.bincount(self._edge_users, minlength=n_users).astype(np.float64)
        di = np.bincount(self._edge_items, minlength=n_items).astype(np.float64)
        self._edge_prob = torch.from_numpy(
            1.0 / np.sqrt(du[self._edge_users] * di[self._edge_items])
        )  # (E,) on the CPU
        self._pruned: torch.Tensor | None = None  # Â' of the current epoch
        for i, f in enumerate(features):
            self.register_buffer(f"feature_{i}", f, persistent=False)  # (I, d_m), rebuilt from the store
        self.n_modalities = len(features)
        self.embedding = nn.Embedding(n_users + n_items, cfg.embedding_dim)  # users first, then items
        self.projections = nn.ModuleList(nn.Linear(f.shape[1], cfg.embedding_dim) for f in features)
        self._cache: tuple[torch.Tensor, torch.Tensor] | None = None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.normal_(self.embedding.weight, std=self.init_std)
        for p in self.projections:
            nn.init.xavier_normal_(p.weight)
            nn.init.zeros_(p.bias)

    @classmethod
    def build(cls, data: TrainData, config: FREEDOMConfig, device: torch.device) -> "FREEDOM":
        blocks = modality_blocks(data.store, data.n_items) if data.store is not None else []
        if not blocks:
            raise ConfigError(
                "freedom needs item feature vectors (its item-item graph is built from them), and this data has none: "
                "build the store with one or more modalities, 'ckg build DATA --out STORE --feature NAME=PATH' "
                "(PATH: a .npy matrix with an id table beside it; see 'ckg datasets')"
            )
        if config.modality_weights and len(config.modality_weights) != len(blocks):
            raise ConfigError(
                f"modality_weights = {config.modality_weights}: the store has {len(blocks)} modalities "
                f"({', '.join(data.store.modalities)}); give one weight each, in that order, or none for equal weights"
            )
        graph = item_item_graph(blocks, config.knn_k, config.modality_weights)
        feats = [torch.from_numpy(x) for x, _ in blocks]
        return cls(data.n_users, data.n_items, data.train, graph, feats, config, device).to(device)

    # ---- the denoised user-item graph --------------------------------------------------------
    def pruned_adjacency(self, generator: torch.Generator) -> torch.Tensor:
        """Â' of a degree-sensitively pruned copy of the training graph: keep (1-ρ)|E| edges ∝ 1/sqrt(d_u d_i)."""
        keep = int(self._edge_prob.numel() * (1.0 - self.prune_ratio))
        idx = torch.multinomial(self._edge_prob, max(keep, 1), replacement=False, generator=generator).numpy()
        kept = sp.csr_matrix(
            (np.ones(idx.size, dtype=np.float32), (self._edge_users[idx], self._edge_items[idx])),
            shape=(self.n_users, self.n_items),
        )
        return to_torch_csr(bipartite_adjacency(kept), self.embedding.weight.device)

    def on_epoch_start(self, epoch: int, generator: torch.Generator) -> None:
        self._pruned = self.pruned_adjacency(generator) if self.prune_ratio > 0 else None

    # ---- the equations ------------------------------------------------------------------------
    def item_graph_vectors(self) -> torch.Tensor:
        """h = S^{L_ii} E_item: (I, d)."""
        h = self.embedding.weight[self.n_users :]
        for _ in range(self.item_layers):
            h = propagate_directed(self.item_graph, self.item_graph_t, h)
        return h

    def propagate(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(e_u (U, d), e_i (I, d)): LightGCN layer mean on Â' when training (Â when scoring), items plus h."""
        adj = self._pruned if (self.training and self._pruned is not None) else self.adjacency
        x = self.embedding.weight
        total = x
        for _ in range(self.layers):
            x = propagate(adj, x)
            total = total + x
        final = total / (self.layers + 1)
        return final[: self.n_users], final[self.n_users :] + self.item_graph_vectors()

    def loss(self, batch: Batch) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        users, items = self.propagate()
        bpr = self.ranking_loss(users, items, batch)
        u = users[batch.users]
        align = torch.zeros((), device=u.device)
        for m, proj in enumerate(self.projections):
            f = getattr(self, f"feature_{m}")
            p_pos, p_neg = proj(f[batch.pos]), proj(f[batch.neg])  # (B, d), (B, k, d)
            align = align + bpr_loss((u * p_pos).sum(-1), (u.unsqueeze(1) * p_neg).sum(-1))
        return bpr + self.align_weight * align, {"bpr": bpr.detach(), "align": align.detach()}

    def extra_repr(self) -> str:
        return (
            f"{super().extra_repr()}, layers={self.layers}, item_layers={self.item_layers}, "
            f"modalities={self.n_modalities}, prune_ratio={self.prune_ratio}, align_weight={self.align_weight}"
        )
