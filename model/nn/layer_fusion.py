"""Fusing the outputs e^(0..L) of the propagation layers into one vector per node.

KGAT concatenates them with equal weight. Here a learned query attends over a projection of
each layer's state, per node, so a node whose deep neighbourhood is noise can lean on its
shallow layers:

    s_l = qᵀ tanh(P_l e^(l)),   α = softmax_l(s),
    [α_0 e^(0) ‖ … ‖ α_L e^(L)] · (L+1)   (keeps every layer; uniform α reproduces plain concatenation)

(An attention-weighted sum of the projected layers, Σ_l α_l P_l e^(l), lowered validation
accuracy in every measurement and was removed.)

``layer_mean`` is LightGCN's combination, (1/(L+1)) Σ_l e^(l). Under an inner product it differs
from plain concatenation: concat scores Σ_l u^(l)·i^(l), one term per layer, while the mean also
pairs a user's layer l with an item's layer m, so a user's own embedding meets the item's
neighbourhood. It needs every layer the same size.

Shapes: states: list of (N, d_l); returns (N, Σ d_l).
"""

from __future__ import annotations

import torch
from torch import nn


def plain_concat(states: list[torch.Tensor]) -> torch.Tensor:
    return torch.cat(states, dim=-1)


def layer_mean(states: list[torch.Tensor]) -> torch.Tensor:
    return torch.stack(states).mean(0)


class LayerAttention(nn.Module):
    def __init__(self, dims: list[int], att_dim: int = 32):
        super().__init__()
        self.dims, self.att_dim = list(dims), att_dim
        self.proj = nn.ModuleList(nn.Linear(d, att_dim) for d in dims)
        self.query = nn.Parameter(torch.empty(att_dim))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for p in self.proj:
            nn.init.xavier_uniform_(p.weight)
            nn.init.zeros_(p.bias)
        nn.init.normal_(self.query, std=0.1)

    @property
    def out_dim(self) -> int:
        return sum(self.dims)

    def weights(self, states: list[torch.Tensor]) -> torch.Tensor:
        """(N, L+1) attention of each node over its layers."""
        projected = [torch.tanh(p(h)) for p, h in zip(self.proj, states)]
        scores = torch.stack([(z * self.query).sum(-1) for z in projected], dim=-1)
        return torch.softmax(scores, dim=-1)

    def forward(self, states: list[torch.Tensor]) -> torch.Tensor:
        alpha = self.weights(states)
        n_layers = len(states)
        return torch.cat([alpha[:, l : l + 1] * h * n_layers for l, h in enumerate(states)], dim=-1)

    def __repr__(self) -> str:
        return f"LayerAttention(dims={self.dims}, att_dim={self.att_dim})"
