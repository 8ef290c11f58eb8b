"""Sparse propagation on the user-item bipartite graph (LightGCN, NGCF), never a dense N x N.

The graph has ``N = n_users + n_items`` nodes (users first, then items) and the adjacency
``A = [[0, R], [Rᵀ, 0]]`` of the training matrix ``R``. The symmetric normalisation
``Â = D^{-1/2} A D^{-1/2}`` (zero-degree rows stay zero) is stored as a torch CSR tensor;
:func:`propagate` multiplies it with an (N, d) dense tensor. Because ``Â`` is symmetric, the
backward pass ``Âᵀ g`` is ``Â g``: the custom autograd function reuses the forward CSR product
instead of letting autograd transpose the sparse matrix (about 3x faster on the CPU).
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


class _SymmetricSpMM(torch.autograd.Function):
    @staticmethod
    def forward(ctx, adj: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        ctx.adj = adj
        return torch.sparse.mm(adj, x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        return None, torch.sparse.mm(ctx.adj, grad.contiguous())


def propagate(adj: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``adj @ x`` for a symmetric sparse ``adj`` (N, N) and dense ``x`` (N, d) -> (N, d)."""
    if torch.is_grad_enabled() and x.requires_grad:
        return _SymmetricSpMM.apply(adj, x)
    return torch.sparse.mm(adj, x)
