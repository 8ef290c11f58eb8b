"""NGCF (Wang et al., "Neural Graph Collaborative Filtering", SIGIR 2019).

Embedding propagation with feature transforms and the bi-interaction term (Eq. 7), on the
Laplacian ``L = D^{-1/2} A D^{-1/2}`` of the bipartite graph:

    E^{(l)} = LeakyReLU( (L + I) E^{(l-1)} W_1^{(l)} + (L E^{(l-1)}) ⊙ E^{(l-1)} W_2^{(l)} )

with message dropout on E^{(l)}; each layer's output is L2-normalised and the final embedding
concatenates layers 0..L (Eq. 9, dimension d + Σ hidden); ``s(u, i) = e_uᵀ e_i``. Trained with
BPR plus ``l2 · ½‖E^{(0)}_batch‖² / B``. Optional node dropout removes each edge with
probability p (rescaling the kept ones) for every training batch. The next layer takes the raw
(unnormalised) output, as in the reference code; ``normalized_input`` feeds it the normalised
one, as RecBole does (on ML-100K it made no difference).

Paper defaults: d = 64, three layers of 64, LeakyReLU slope 0.2, message dropout 0.1, node
dropout 0 (0.1 helps on some data), Adam, L2 1e-5, batch 1024. The paper's lr is 1e-4; the
default here is 1e-3 (RecBole's, with batch 2048); 1e-4 would need many times more epochs.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ckgrec.model.core.search_space import Categorical, Float
from ckgrec.model.data.train_data import TrainData
from ckgrec.model.models.base import ModelConfig, option
from ckgrec.model.models.propagated import PropagatedBPR
from ckgrec.model.nn.graph_ops import bipartite_adjacency, propagate, to_torch_csr


@dataclass(frozen=True, kw_only=True)
class NGCFConfig(ModelConfig):
    embedding_dim: int = option(64, "dimension d of the layer-0 user and item embeddings", low=1)
    hidden: tuple[int, ...] = option((64, 64, 64), "output size of each propagation layer (comma-separated)", low=1)
    message_dropout: float = option(
        0.1, "dropout on each layer's output during training", low=0.0, high=1.0, high_open=True
    )
    node_dropout: float = option(
        0.0, "probability of dropping each graph edge per training batch", low=0.0, high=1.0, high_open=True
    )
    negative_slope: float = option(0.2, "LeakyReLU slope")
    normalized_input: bool = option(
        False,
        "feed each layer the L2-normalised output of the previous one (RecBole) instead of the raw one (reference code)",
    )


class NGCF(PropagatedBPR):
    name = "ngcf"
    description = "graph propagation with feature transforms and bi-interaction messages, layers concatenated"
    paper = "Wang et al., SIGIR 2019"
    Config = NGCFConfig
    train_defaults = {"lr": 1e-3, "batch_size": 2048, "l2": 1e-5}
    # Wang et al. 2019: lr in {1e-4, 5e-4, 1e-3, 5e-3}, dropouts in {0.0, ..., 0.8}, depth 1-4 of 64-wide layers
    search_space = {
        "lr": Float("train", 1e-4, 5e-3, log=True),
        "l2": Float("train", 1e-6, 1e-2, log=True),
        "message_dropout": Float("model", 0.0, 0.8, step=0.1),
        "node_dropout": Float("model", 0.0, 0.8, step=0.1),
        "hidden": Categorical("model", ((64,), (64, 64), (64, 64, 64), (64, 64, 64, 64))),
    }
    is_baseline = True

    def __init__(
        self,
        n_users: int,
        n_items: int,
        adjacency: torch.Tensor,
        embedding_dim: int,
        hidden: tuple[int, ...],
        message_dropout: float = 0.1,
        node_dropout: float = 0.0,
        negative_slope: float = 0.2,
        normalized_input: bool = False,
    ):
        super().__init__(n_users, n_items)
        self.adjacency = adjacency  # (N, N) sparse CSR, symmetric
        self.message_dropout = float(message_dropout)
        self.node_dropout = float(node_dropout)
        self.negative_slope = float(negative_slope)
        self.normalized_input = bool(normalized_input)
        self.embedding = nn.Embedding(n_users + n_items, embedding_dim)
        sizes = [embedding_dim, *hidden]
        self.w1 = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.w2 = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self._cache: tuple[torch.Tensor, torch.Tensor] | None = None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.xavier_uniform_(self.embedding.weight)
        for lin in [*self.w1, *self.w2]:
            nn.init.xavier_uniform_(lin.weight)
            nn.init.zeros_(lin.bias)

    @classmethod
    def build(cls, data: TrainData, config: NGCFConfig, device: torch.device) -> "NGCF":
        adj = to_torch_csr(bipartite_adjacency(data.train), device)
        return cls(
            data.n_users,
            data.n_items,
            adj,
            config.embedding_dim,
            tuple(config.hidden),
            config.message_dropout,
            config.node_dropout,
            config.negative_slope,
            config.normalized_input,
        ).to(device)

    def _dropped_adjacency(self) -> torch.Tensor:
        """The adjacency with edges dropped (training only); symmetric drop keeps Â symmetric."""
        adj = self.adjacency
        coo = adj.to_sparse_coo().coalesce()
        idx, val = coo.indices(), coo.values()
        upper = idx[0] < idx[1]
        keep_upper = torch.rand(int(upper.sum()), device=val.device) >= self.node_dropout
        i, v = idx[:, upper][:, keep_upper], val[upper][keep_upper] / (1.0 - self.node_dropout)
        both = torch.cat([i, i.flip(0)], 1)
        return torch.sparse_coo_tensor(both, torch.cat([v, v]), adj.shape).coalesce().to_sparse_csr()

    def propagate(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Final embeddings (users (U, D), items (I, D)), D = d + Σ hidden."""
        adj = self._dropped_adjacency() if self.training and self.node_dropout > 0 else self.adjacency
        ego = self.embedding.weight
        outs = [ego]
        for w1, w2 in zip(self.w1, self.w2):
            side = propagate(adj, ego)  # L E
            ego = F.leaky_relu(w1(side + ego) + w2(side * ego), self.negative_slope)
            ego = F.dropout(ego, self.message_dropout, self.training)
            normed = F.normalize(ego, p=2, dim=1)
            outs.append(normed)
            if self.normalized_input:
                ego = normed
        final = torch.cat(outs, 1)
        return final[: self.n_users], final[self.n_users :]
