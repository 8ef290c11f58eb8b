"""LightGCN's batch loss (last layer at the batch's nodes only) equals the full-propagation loss,
and graph_ops' fast CPU product equals torch.sparse.mm bit for bit."""

from __future__ import annotations

import pytest
import scipy.sparse as sp
import torch

from ckgrec.model.models.base import Batch
from ckgrec.model.models.lightgcn import LightGCN
from ckgrec.model.models.propagated import PropagatedBPR
from ckgrec.model.nn.graph_ops import bipartite_adjacency, csr_rows, propagate_rows, sparse_mm, to_torch_csr


def _adj(seed=1, users=300, items=500):
    return to_torch_csr(bipartite_adjacency(sp.random(users, items, density=0.05, random_state=seed, format="csr")))


def test_sparse_mm_is_torch_sparse_mm():
    adj = _adj()
    x = torch.randn(800, 16)
    assert torch.equal(sparse_mm(adj, x), torch.sparse.mm(adj, x))


def test_propagate_rows_and_its_gradient():
    adj = _adj()
    rows = torch.tensor([0, 5, 299, 300, 799])
    x = torch.randn(800, 8, requires_grad=True)
    full = torch.sparse.mm(adj, x)[rows]
    part = propagate_rows(adj, rows, x)
    assert torch.allclose(part, full, atol=1e-6)
    w = torch.randn_like(part)
    (g_full,) = torch.autograd.grad((full * w).sum(), x)
    (g_part,) = torch.autograd.grad((part * w).sum(), x)
    assert torch.allclose(g_full, g_part, atol=1e-6)
    assert csr_rows(adj, rows).to_dense().equal(adj.to_dense()[rows])


def test_lightgcn_batch_loss_equals_full_propagation_loss():
    adj = _adj()
    for layers in (0, 1, 3):
        torch.manual_seed(0)
        model = LightGCN(300, 500, adj, 16, layers)
        batch = Batch(torch.randint(0, 300, (64,)), torch.randint(0, 500, (64,)), torch.randint(0, 500, (64, 2)))
        fast, _ = model.loss(batch)
        full, _ = PropagatedBPR.loss(model, batch)
        (g_fast,) = torch.autograd.grad(fast, model.embedding.weight)
        (g_full,) = torch.autograd.grad(full, model.embedding.weight)
        assert torch.allclose(fast, full, rtol=0, atol=1e-7)
        assert torch.allclose(g_fast, g_full, rtol=0, atol=1e-9)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_lightgcn_batch_loss_on_cuda_matches_the_cpu():
    adj = _adj()
    torch.manual_seed(0)
    cpu = LightGCN(300, 500, adj, 16, 3)
    gpu = LightGCN(300, 500, adj.to("cuda"), 16, 3)
    gpu.load_state_dict(cpu.state_dict())
    gpu = gpu.cuda()
    batch = Batch(torch.randint(0, 300, (64,)), torch.randint(0, 500, (64,)), torch.randint(0, 500, (64, 2)))
    a, _ = cpu.loss(batch)
    b, _ = gpu.loss(batch.to("cuda"))
    (ga,) = torch.autograd.grad(a, cpu.embedding.weight)
    (gb,) = torch.autograd.grad(b, gpu.embedding.weight)
    assert torch.allclose(a, b.cpu(), atol=1e-5) and torch.allclose(ga, gb.cpu(), atol=1e-6)
