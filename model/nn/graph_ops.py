"""Sparse propagation on the user-item bipartite graph (LightGCN, NGCF), never a dense N x N.

The graph has ``N = n_users + n_items`` nodes (users first, then items) and the adjacency
``A = [[0, R], [Rᵀ, 0]]`` of the training matrix ``R``. The symmetric normalisation
``Â = D^{-1/2} A D^{-1/2}`` (zero-degree rows stay zero) is stored as a torch CSR tensor;
:func:`propagate` multiplies it with an (N, d) dense tensor. Because ``Â`` is symmetric, the
backward pass ``Âᵀ g`` is ``Â g``: the custom autograd function reuses the forward CSR product
instead of letting autograd transpose the sparse matrix (about 3x faster on the CPU).
:func:`propagate_rows` computes only some rows of ``Â x`` (the rows a training batch needs from
the last layer), from the CSR row slices, differentiable in ``x``.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sp
import torch


def bipartite_adjacency(train: sp.csr_matrix, normalization: str = "sym") -> sp.csr_matrix:
    """The (N, N) normalised adjacency of the training graph as scipy CSR (float32).

    :param normalization: ``"sym"`` for D^{-1/2} A D^{-1/2}, ``"none"`` for A itself.
    """
    n_users, n_items = train.shape
    r = sp.csr_matrix(train, dtype=np.float32)
    r.data[:] = 1.0
    a = sp.bmat([[None, r], [r.T, None]], format="csr", dtype=np.float32)
    if normalization == "sym":
        deg = np.asarray(a.sum(1)).ravel()
        inv = np.zeros_like(deg)
        np.power(deg, -0.5, out=inv, where=deg > 0)
        d = sp.diags(inv.astype(np.float32))
        a = (d @ a @ d).tocsr()
    elif normalization != "none":
        raise ValueError(f"normalization '{normalization}': use 'sym' or 'none'")
    a.sort_indices()
    return a.astype(np.float32)


def to_torch_csr(m: sp.csr_matrix, device: torch.device | str = "cpu") -> torch.Tensor:
    """scipy CSR -> torch sparse CSR tensor on ``device``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "sparse CSR support is in beta"
        t = torch.sparse_csr_tensor(
            torch.from_numpy(m.indptr.astype(np.int64)),
            torch.from_numpy(m.indices.astype(np.int64)),
            torch.from_numpy(m.data.astype(np.float32)),
            size=m.shape,
        )
    return t.to(device)


def sparse_mm(adj: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``torch.sparse.mm(adj, x)`` for a sparse CSR ``adj`` (N, M) and dense ``x`` (M, d) -> (N, d), same values.

    On the CPU ``torch.sparse.mm`` zero-fills its result, computes into a scratch matrix and copies
    it over (two extra passes over N x d floats, more than half of the product's time on 147k x 64);
    ``addmm(out, adj, x, beta=0, out=out)`` into an uninitialised ``out`` writes the result once
    (beta = 0: ``out``'s old contents are ignored). Bit-identical to ``torch.sparse.mm`` (tested).
    """
    if adj.device.type != "cpu" or adj.layout != torch.sparse_csr or (torch.is_grad_enabled() and x.requires_grad):
        return torch.sparse.mm(adj, x)
    x = x.contiguous()
    out = torch.empty(adj.shape[0], x.shape[1], dtype=x.dtype, device=x.device)
    return torch.addmm(out, adj, x, beta=0.0, out=out)


class _SymmetricSpMM(torch.autograd.Function):
    @staticmethod
    def forward(ctx, adj: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        ctx.adj = adj
        return sparse_mm(adj, x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        return None, sparse_mm(ctx.adj, grad.contiguous())


def propagate(adj: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``adj @ x`` for a symmetric sparse ``adj`` (N, N) and dense ``x`` (N, d) -> (N, d)."""
    if torch.is_grad_enabled() and x.requires_grad:
        return _SymmetricSpMM.apply(adj, x)
    return sparse_mm(adj, x)


class _DirectedSpMM(torch.autograd.Function):
    @staticmethod
    def forward(ctx, adj: torch.Tensor, adj_t: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        ctx.adj_t = adj_t
        return sparse_mm(adj, x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        return None, None, sparse_mm(ctx.adj_t, grad.contiguous())


def propagate_directed(adj: torch.Tensor, adj_t: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``adj @ x`` for a sparse (N, M) ``adj`` that is not symmetric, given its transpose ``adj_t`` (M, N), and a
    dense ``x`` (M, d) -> (N, d).

    The backward ``adjᵀ g`` multiplies by the stored transpose instead of letting autograd transpose the
    sparse matrix (as :func:`propagate` does for a symmetric one).
    """
    if torch.is_grad_enabled() and x.requires_grad:
        return _DirectedSpMM.apply(adj, adj_t, x)
    return sparse_mm(adj, x)


def csr_rows(adj: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
    """The rows ``rows`` (n,) of a sparse CSR ``adj`` (N, M) as a sparse CSR tensor (n, M)."""
    crow, col, val = adj.crow_indices(), adj.col_indices(), adj.values()
    start = crow[rows]
    count = crow[rows + 1] - start
    sub_crow = torch.zeros(len(rows) + 1, dtype=crow.dtype, device=crow.device)
    torch.cumsum(count, 0, out=sub_crow[1:])
    entry = torch.repeat_interleave(start - sub_crow[:-1], count) + torch.arange(
        int(sub_crow[-1]), device=crow.device
    )  # positions of the rows' entries in col / val
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return torch.sparse_csr_tensor(sub_crow, col[entry], val[entry], size=(len(rows), adj.shape[1]))


class _SymmetricRowsSpMM(torch.autograd.Function):
    @staticmethod
    def forward(ctx, adj: torch.Tensor, rows: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        ctx.adj = adj
        ctx.save_for_backward(rows)
        return sparse_mm(csr_rows(adj, rows), x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        # d/dx of (Â x)[rows] · g = Â[rows, :]ᵀ g = Â[:, rows] g = Â (g scattered to the rows), Â being symmetric
        (rows,) = ctx.saved_tensors
        full = torch.zeros(ctx.adj.shape[1], grad.shape[1], dtype=grad.dtype, device=grad.device)
        full.index_add_(0, rows, grad)
        return None, None, sparse_mm(ctx.adj, full)


def propagate_rows(adj: torch.Tensor, rows: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``(adj @ x)[rows]`` for a symmetric sparse CSR ``adj`` (N, N), node ids ``rows`` (n,) and dense ``x`` (N, d) -> (n, d).

    The forward product reads only the CSR rows asked for (:func:`csr_rows`); the backward is one full
    product ``adj @ g`` (g scattered to ``rows``), as for :func:`propagate`.
    """
    if torch.is_grad_enabled() and x.requires_grad:
        return _SymmetricRowsSpMM.apply(adj, rows, x)
    return sparse_mm(csr_rows(adj, rows), x)
