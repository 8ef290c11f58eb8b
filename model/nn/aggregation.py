"""Neighbourhood aggregation and the bi-interaction aggregator (KGAT Equations (3) and (8)).

    e_{N_h} = Σ_{(h,r,t) ∈ N_h} π(h,r,t) e_t
    e_h'    = LeakyReLU(W1 (e_h + e_{N_h})) + LeakyReLU(W2 (e_h ⊙ e_{N_h}))

The layer's forward and backward are written out (:class:`_BiInteractionStep`), with a cheaper
dropout mask (:func:`keep_mask`): on a CPU these passes over (N, d) states, not the products,
were most of a KGAT step.

Two ways to form e_{N_h}: with attention held fixed (KGAT refreshes it once per epoch), a CSR
sparse matrix times the dense states (the fastest path); with gradients into the
attention, gather + index_add, because back-propagating into sparse *values* through
torch.sparse.mm allocates a dense N×N gradient.
"""

from __future__ import annotations

import math
import warnings

import torch
import torch.nn.functional as F
from torch import nn

from ckgrec.model.nn.graph_ops import propagate_directed


class Adjacency:
    """A fixed attention matrix A (rows ``heads``, N columns) as CSR, with its transpose kept.

    Multiplying by A inside autograd needs Aᵀ in the backward pass; left to itself, torch
    transposes the CSR tensor on every backward (a sort of all E edges). A changes only when attention is
    refreshed (once per epoch), so both are built then and
    :func:`~ckgrec.model.nn.graph_ops.propagate_directed` reuses Aᵀ.
    """

    def __init__(self, a: torch.Tensor, a_t: torch.Tensor):
        self.a, self.a_t = a, a_t

    @property
    def shape(self) -> torch.Size:
        return self.a.shape

    def __matmul__(self, x: torch.Tensor) -> torch.Tensor:
        return propagate_directed(self.a, self.a_t, x)


def _csr(rows: torch.Tensor, cols: torch.Tensor, weight: torch.Tensor, shape: tuple[int, int]) -> torch.Tensor:
    coo = torch.sparse_coo_tensor(torch.stack([rows, cols]), weight, shape, check_invariants=False).coalesce()
    with warnings.catch_warnings():  # "CSR support is in beta": the operations used here are stable
        warnings.simplefilter("ignore", UserWarning)
        return coo.to_sparse_csr()


def sparse_adjacency(
    head: torch.Tensor, tail: torch.Tensor, weight: torch.Tensor, num_nodes: int, rows: torch.Tensor | None = None
) -> Adjacency:
    """A[h, t] = weight of edge (h, t), duplicate (h, t) pairs adding up.

    :param rows: keep only these heads, in this order (distinct): A is then (len(rows), N), the
        last propagation layer's matrix when only users and items need its output.
    """
    weight = weight.detach()
    if rows is None:
        return Adjacency(
            _csr(head, tail, weight, (num_nodes, num_nodes)), _csr(tail, head, weight, (num_nodes, num_nodes))
        )
    position = torch.full((num_nodes,), -1, dtype=torch.long, device=head.device)
    position[rows] = torch.arange(len(rows), device=head.device)
    keep = position[head] >= 0
    h, t, w = position[head[keep]], tail[keep], weight[keep]
    return Adjacency(_csr(h, t, w, (len(rows), num_nodes)), _csr(t, h, w, (num_nodes, len(rows))))


def aggregate(states: torch.Tensor, adjacency: Adjacency) -> torch.Tensor:
    """e_{N_h} for every row of the adjacency with fixed attention. states: (N, d) -> (rows, d)."""
    return adjacency @ states


def aggregate_differentiable(
    states: torch.Tensor, head: torch.Tensor, tail: torch.Tensor, weight: torch.Tensor
) -> torch.Tensor:
    """e_{N_h} with gradients into ``weight`` as well. states: (N, d); weight: (E,)."""
    return torch.zeros_like(states).index_add(0, head, weight.unsqueeze(-1) * states[tail])


def keep_mask(shape: tuple[int, ...], p: float, device: torch.device) -> tuple[torch.Tensor, float]:
    """A dropout mask (True = keep, each element with probability 1 − p′) and the scale 1/(1 − p′)
    that keeps the expectation; p′ is p rounded to a multiple of 2⁻¹⁶.

    Each element takes 16 bits of a full-range int64 draw from the device's default generator
    (so ``torch.manual_seed`` governs it, as it does nn.Dropout). On a CPU without MKL's
    Intel-only vector generator, ``bernoulli_`` is several times slower than this integer draw
    (the speed figures are in the kg-speed benchmark)."""
    n = math.prod(shape)
    threshold = round(p * 65536)
    if not 0 <= threshold < 65536:
        raise ValueError(f"dropout probability must be in [0, 1) after rounding to 2^-16, got {p}")
    words = torch.empty((n + 3) // 4, dtype=torch.int64, device=device).random_(-(2**63), None)
    mask = (words.view(torch.int16)[:n] >= threshold - 32768).view(shape)
    return mask, 1.0 / (1.0 - threshold / 65536)


def message_dropout(x: torch.Tensor, p: float, training: bool) -> torch.Tensor:
    """nn.Dropout with :func:`keep_mask`'s cheaper mask (the mask is kept as bools, not floats)."""
    if not training or p <= 0:
        return x
    mask, scale = keep_mask(tuple(x.shape), p, x.device)
    return x.mul(mask).mul_(scale)


class _BiInteractionStep(torch.autograd.Function):
    """The bi-interaction layer with its message dropout, forward and backward written out.

    Composed of autograd's operators, one layer makes about twenty passes over (N, d) tensors,
    each a fresh allocation; written out, the
    activations run in place, leaky ReLU's derivative is read off its output's sign (the slope
    is positive, so the sign is the pre-activation's), the mask is bools, and each input's
    gradient is one fused multiply-add.
    """

    @staticmethod
    def forward(ctx, ego, neighbours, w_sum, b_sum, w_prod, b_prod, slope: float, p: float, training: bool):
        summed = ego + neighbours
        product = ego * neighbours
        act_sum = F.leaky_relu_(torch.addmm(b_sum, summed, w_sum.t()), slope)
        act_prod = F.leaky_relu_(torch.addmm(b_prod, product, w_prod.t()), slope)
        out = act_sum + act_prod
        mask, scale = None, 1.0
        if training and p > 0:
            mask, scale = keep_mask(tuple(out.shape), p, out.device)
            out.mul_(mask).mul_(scale)
        ctx.save_for_backward(ego, neighbours, summed, product, act_sum, act_prod, w_sum, w_prod, mask)
        ctx.slope, ctx.scale = slope, scale
        return out

    @staticmethod
    def backward(ctx, grad):
        ego, neighbours, summed, product, act_sum, act_prod, w_sum, w_prod, mask = ctx.saved_tensors
        if mask is not None:
            grad = grad.mul(mask).mul_(ctx.scale)
        g_sum = torch.ops.aten.leaky_relu_backward(grad, act_sum, ctx.slope, True)
        g_prod = torch.ops.aten.leaky_relu_backward(grad, act_prod, ctx.slope, True)
        need = ctx.needs_input_grad
        g_w_sum = g_sum.t() @ summed if need[2] else None
        g_b_sum = g_sum.sum(0) if need[3] else None
        g_w_prod = g_prod.t() @ product if need[4] else None
        g_b_prod = g_prod.sum(0) if need[5] else None
        g_ego = g_neighbours = None
        if need[0] or need[1]:
            through_sum = g_sum @ w_sum  # d/d(ego + neighbours)
            through_prod = g_prod @ w_prod  # d/d(ego ⊙ neighbours)
            if need[1]:
                g_neighbours = torch.addcmul(through_sum, through_prod, ego)
            if need[0]:
                g_ego = through_sum.addcmul_(through_prod, neighbours)
        return g_ego, g_neighbours, g_w_sum, g_b_sum, g_w_prod, g_b_prod, None, None, None


class BiInteraction(nn.Module):
    """One propagation layer's aggregator, with message dropout and L2 normalisation of the output
    (KGAT normalises each layer so that deep layers do not dominate by scale)."""

    def __init__(
        self, in_dim: int, out_dim: int, dropout: float = 0.1, negative_slope: float = 0.2, normalize: bool = True
    ):
        super().__init__()
        if negative_slope < 0:
            raise ValueError(
                f"negative_slope must be >= 0 (the backward reads the derivative off the output's sign), got {negative_slope}"
            )
        self.in_dim, self.out_dim = in_dim, out_dim
        self.w_sum = nn.Linear(in_dim, out_dim)
        self.w_prod = nn.Linear(in_dim, out_dim)
        self.dropout = dropout
        self.negative_slope = negative_slope
        self.normalize = normalize
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for lin in (self.w_sum, self.w_prod):
            nn.init.xavier_uniform_(lin.weight)
            nn.init.zeros_(lin.bias)

    def forward(self, ego: torch.Tensor, neighbours: torch.Tensor) -> torch.Tensor:
        out = _BiInteractionStep.apply(
            ego,
            neighbours,
            self.w_sum.weight,
            self.w_sum.bias,
            self.w_prod.weight,
            self.w_prod.bias,
            self.negative_slope,
            self.dropout,
            self.training,
        )
        return F.normalize(out, dim=-1) if self.normalize else out

    def __repr__(self) -> str:
        return f"BiInteraction({self.in_dim}, {self.out_dim}, dropout={self.dropout})"


class LinearAggregator(nn.Module):
    """e_h' = e_{N_h}: propagation without weights or non-linearity (LightGCN's and KGIN's
    choice), kept beside the bi-interaction to measure what its transforms cost or buy."""

    def __init__(self, dim: int, dropout: float = 0.0):
        super().__init__()
        self.in_dim = self.out_dim = dim
        self.dropout = dropout

    def forward(self, ego: torch.Tensor, neighbours: torch.Tensor) -> torch.Tensor:
        return message_dropout(neighbours, self.dropout, self.training)

    def __repr__(self) -> str:
        return f"LinearAggregator({self.in_dim}, dropout={self.dropout})"
