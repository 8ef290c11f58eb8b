"""Per-dimension importance in the prediction layer:

    y(u, i) = (w(u) ⊙ u)ᵀ i,   w(u) = 2 σ(A u + b)

w depends only on the user, so full ranking stays one matrix product per batch of users:
scores = (w(U) ⊙ U) Iᵀ. A starts at zero, so w ≡ 1 and training begins from the plain inner
product; the factor 2 lets a dimension be up- as well as down-weighted.

Shapes: users: (B, D); items: (M, D); returns (B, M).
"""

from __future__ import annotations

import torch
from torch import nn


class DimensionImportance(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.dim = dim
        self.linear = nn.Linear(dim, dim)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.zeros_(self.linear.weight)
        nn.init.zeros_(self.linear.bias)

    def weights(self, users: torch.Tensor) -> torch.Tensor:
        return 2.0 * torch.sigmoid(self.linear(users))

    def weigh(self, users: torch.Tensor) -> torch.Tensor:
        return self.weights(users) * users

    def forward(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        return self.weigh(users) @ items.T

    def pair_scores(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        """y for aligned rows: users (B, D), items (B, D) -> (B,)."""
        return (self.weigh(users) * items).sum(-1)

    def __repr__(self) -> str:
        return f"DimensionImportance({self.dim})"
