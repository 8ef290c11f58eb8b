"""Neighbourhood aggregation and the bi-interaction aggregator (KGAT Equations (3) and (8)).

    e_{N_h} = Σ_{(h,r,t) ∈ N_h} π(h,r,t) e_t
    e_h'    = LeakyReLU(W1 (e_h + e_{N_h})) + LeakyReLU(W2 (e_h ⊙ e_{N_h}))

Two ways to form e_{N_h}: with attention held fixed (KGAT refreshes it once per epoch), a CSR
sparse matrix times the dense states, the fastest path measured here; with gradients into the
attention, gather + index_add, because back-propagating into sparse *values* through
torch.sparse.mm allocates a dense N×N gradient.
"""
from __future__ import annotations

import warnings

import torch
import torch.nn.functional as F
from torch import nn


class Adjacency:
    """A fixed attention matrix A (rows ``heads``, N columns) as CSR, with its transpose kept.

    Multiplying by A inside autograd needs Aᵀ in the backward pass; left to itself, torch
    transposes the CSR tensor on every backward (a sort of all E edges: an eighth of a KGAT
    step on ML-100K). A changes only when attention is refreshed (once per epoch), so both are
    built then and :class:`_FixedSpMM` reuses Aᵀ.
    """

    def __init__(self, a: torch.Tensor, a_t: torch.Tensor):
        self.a, self.a_t = a, a_t

    @property
    def shape(self) -> torch.Size:
        return self.a.shape

    def __matmul__(self, x: torch.Tensor) -> torch.Tensor:
        if torch.is_grad_enabled() and x.requires_grad:
            return _FixedSpMM.apply(self.a, self.a_t, x)
        return self.a @ x


class _FixedSpMM(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a: torch.Tensor, a_t: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        ctx.a_t = a_t
        return a @ x

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        return None, None, ctx.a_t @ grad.contiguous()


def _csr(rows: torch.Tensor, cols: torch.Tensor, weight: torch.Tensor, shape: tuple[int, int]) -> torch.Tensor:
    coo = torch.sparse_coo_tensor(torch.stack([rows, cols]), weight, shape, check_invariants=False).coalesce()
    with warnings.catch_warnings():  # "CSR support is in beta": the operations used here are stable
        warnings.simplefilter("ignore", UserWarning)
        return coo.to_sparse_csr()


def sparse_adjacency(head: torch.Tensor, tail: torch.Tensor, weight: torch.Tensor, num_nodes: int, rows: torch.Tensor | None = None) -> Adjacency:
    """A[h, t] = weight of edge (h, t), duplicate (h, t) pairs adding up.

    :param rows: keep only these heads, in this order (distinct): A is then (len(rows), N), the
        last propagation layer's matrix when only users and items need its output.
    """
    weight = weight.detach()
    if rows is None:
        return Adjacency(_csr(head, tail, weight, (num_nodes, num_nodes)), _csr(tail, head, weight, (num_nodes, num_nodes)))
    position = torch.full((num_nodes,), -1, dtype=torch.long, device=head.device)
    position[rows] = torch.arange(len(rows), device=head.device)
    keep = position[head] >= 0
    h, t, w = position[head[keep]], tail[keep], weight[keep]
    return Adjacency(_csr(h, t, w, (len(rows), num_nodes)), _csr(t, h, w, (num_nodes, len(rows))))


def aggregate(states: torch.Tensor, adjacency: Adjacency) -> torch.Tensor:
    """e_{N_h} for every row of the adjacency with fixed attention. states: (N, d) -> (rows, d)."""
    return adjacency @ states


def aggregate_differentiable(states: torch.Tensor, head: torch.Tensor, tail: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """e_{N_h} with gradients into ``weight`` as well. states: (N, d); weight: (E,)."""
    return torch.zeros_like(states).index_add(0, head, weight.unsqueeze(-1) * states[tail])


class BiInteraction(nn.Module):
    """One propagation layer's aggregator, with message dropout and L2 normalisation of the output
    (KGAT normalises each layer so that deep layers do not dominate by scale)."""

    def __init__(self, in_dim: int, out_dim: int, dropout: float = 0.1, negative_slope: float = 0.2, normalize: bool = True):
        super().__init__()
        self.in_dim, self.out_dim = in_dim, out_dim
        self.w_sum = nn.Linear(in_dim, out_dim)
        self.w_prod = nn.Linear(in_dim, out_dim)
        self.dropout = nn.Dropout(dropout)
        self.negative_slope = negative_slope
        self.normalize = normalize
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for lin in (self.w_sum, self.w_prod):
            nn.init.xavier_uniform_(lin.weight)
            nn.init.zeros_(lin.bias)

    def forward(self, ego: torch.Tensor, neighbours: torch.Tensor) -> torch.Tensor:
        out = F.leaky_relu(self.w_sum(ego + neighbours), self.negative_slope) + F.leaky_relu(
            self.w_prod(ego * neighbours), self.negative_slope
        )
        out = self.dropout(out)
        return F.normalize(out, dim=-1) if self.normalize else out

    def __repr__(self) -> str:
        return f"BiInteraction({self.in_dim}, {self.out_dim}, dropout={self.dropout.p})"


class LinearAggregator(nn.Module):
    """e_h' = e_{N_h}: propagation without weights or non-linearity (LightGCN's and KGIN's
    choice), kept beside the bi-interaction to measure what its transforms cost or buy."""

    def __init__(self, dim: int, dropout: float = 0.0):
        super().__init__()
        self.in_dim = self.out_dim = dim
        self.dropout = nn.Dropout(dropout)

    def forward(self, ego: torch.Tensor, neighbours: torch.Tensor) -> torch.Tensor:
        return self.dropout(neighbours)

    def __repr__(self) -> str:
        return f"LinearAggregator({self.in_dim}, dropout={self.dropout.p})"
