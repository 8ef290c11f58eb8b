"""LightGCN (He et al., "LightGCN: Simplifying and Powering Graph Convolution Network for
Recommendation", SIGIR 2020).

Propagation without transforms or non-linearities on the normalised bipartite graph
``Â = D^{-1/2} A D^{-1/2}`` (users and items as one node set, Eq. 3):

    E^{(l+1)} = Â E^{(l)},        E = 1/(L+1) Σ_{l=0..L} E^{(l)}        (Eq. 4, α_l = 1/(L+1))

and ``s(u, i) = e_uᵀ e_i`` (Eq. 5), trained with BPR plus ``l2 · ½‖E^{(0)}_batch‖² / B`` on the
ego (layer-0) embeddings of the batch (Eq. 15).

Training computes the last layer only at the batch's nodes (its users, positives and negatives):
``E^{(L)}_b = (Â E^{(L-1)})_b`` from the CSR rows of ``b`` (:func:`ckgrec.model.nn.graph_ops.propagate_rows`),
so a batch costs L - 1 full sparse products forward and backward instead of L; the loss is the
same function of the weights (scores and evaluation use the full :meth:`LightGCN.propagate`).

Paper defaults: d = 64, L = 3 layers, Adam, lr 1e-3, batch 2048, L2 1e-4, embeddings
initialised N(0, 0.1²) (the reference code). RecBole uses L = 2 and L2 1e-5.

Changed here: batch 8192 with the learning rate scaled with it (4 x 1e-3). Every batch pays
L - 1 full propagations forward and backward whatever its size, so 4x fewer batches make an
epoch about 3.5x cheaper on large graphs (1M pairs: 163 -> 44 s/epoch on one thread,
benchmarks/results/harness-speed.md); on ML-100K (seed 2020, patience 30) validation Recall@20
at convergence was 0.3500 against 0.3456 at the paper's batch 2048 / lr 1e-3, reached in 57 s
instead of 107 s. ``--batch-size 2048 --lr 1e-3`` restores the paper's setting.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ckgrec.model.core.search_space import Categorical, Float, Int
from ckgrec.model.data.train_data import TrainData
from ckgrec.model.models.base import Batch, ModelConfig, option
from ckgrec.model.models.propagated import PropagatedBPR
from ckgrec.model.nn.graph_ops import bipartite_adjacency, propagate, propagate_rows, to_torch_csr


@dataclass(frozen=True, kw_only=True)
class LightGCNConfig(ModelConfig):
    embedding_dim: int = option(64, "dimension d of the layer-0 user and item embeddings", low=1)
    layers: int = option(3, "number L of propagation layers (0 = matrix factorisation)", low=0)
    init_std: float = option(
        0.1, "standard deviation of the normal initialisation of the embeddings", low=0.0, low_open=True
    )


class LightGCN(PropagatedBPR):
    name = "lightgcn"
    description = "linear propagation of ID embeddings on the normalised user-item graph, layer mean"
    paper = "He et al., SIGIR 2020"
    Config = LightGCNConfig
    train_defaults = {"lr": 4e-3, "batch_size": 8192, "l2": 1e-4}  # paper: lr 1e-3, batch 2048 (module doc)
    # He et al. 2020: L2 searched in {1e-6, ..., 1e-2}, layers 1-4, d = 64; lr around Adam's 1e-3
    search_space = {
        "lr": Float("train", 1e-4, 1e-2, log=True),
        "l2": Float("train", 1e-6, 1e-2, log=True),
        "layers": Int("model", 1, 4),
        "embedding_dim": Categorical("model", (32, 64, 128)),
    }
    is_baseline = True
    defaults_source = "ckg tune (12 trials per dataset, benchmarks/results/default-vs-tuned.md) kept them on embedded, ML-100K and tiktok-sample; on ML-100K 20% d = 32, L = 1, L2 5e-3 scored 12% higher on validation"

    def __init__(
        self,
        n_users: int,
        n_items: int,
        adjacency: torch.Tensor,
        embedding_dim: int,
        layers: int,
        init_std: float = 0.1,
    ):
        super().__init__(n_users, n_items)
        self.layers = int(layers)
        self.init_std = float(init_std)
        self.adjacency = adjacency  # (N, N) sparse CSR, symmetric; not a parameter, rebuilt from data
        self.embedding = nn.Embedding(n_users + n_items, embedding_dim)  # users first, then items
        self._cache: tuple[torch.Tensor, torch.Tensor] | None = None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.normal_(self.embedding.weight, std=self.init_std)

    @classmethod
    def build(cls, data: TrainData, config: LightGCNConfig, device: torch.device) -> "LightGCN":
        adj = to_torch_csr(bipartite_adjacency(data.train), device)
        return cls(data.n_users, data.n_items, adj, config.embedding_dim, config.layers, config.init_std).to(device)

    def propagate(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Final embeddings (users (U, d), items (I, d)): the mean of layers 0..L."""
        x = self.embedding.weight
        total = x
        for _ in range(self.layers):
            x = propagate(self.adjacency, x)
            total = total + x
        final = total / (self.layers + 1)
        return final[: self.n_users], final[self.n_users :]

    def batch_vectors(self, nodes: torch.Tensor) -> torch.Tensor:
        """Final embeddings of the node ids ``nodes`` (n,) (users first, then items): (n, d).

        Equal to ``cat(self.propagate())[nodes]``, but the last layer is computed only at ``nodes``
        and the layer sum only over them."""
        x = self.embedding.weight
        total = x[nodes]
        for layer in range(self.layers):
            if layer == self.layers - 1:
                total = total + propagate_rows(self.adjacency, nodes, x)
            else:
                x = propagate(self.adjacency, x)
                total = total + x[nodes]
        return total / (self.layers + 1)

    def loss(self, batch: Batch) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        b = len(batch)
        ids = torch.cat([batch.users, batch.pos + self.n_users, batch.neg.flatten() + self.n_users])
        nodes, where = torch.unique(ids, return_inverse=True)
        vectors = self.batch_vectors(nodes)  # users and items of the batch, one table
        local = Batch(where[:b], where[b : 2 * b], where[2 * b :].view_as(batch.neg))
        loss = self.ranking_loss(vectors, vectors, local)
        return loss, {"bpr": loss.detach()}
