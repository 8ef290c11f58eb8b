"""The evaluator's block-maxima top-K equals torch.topk exactly, ties and -inf/NaN included."""

from __future__ import annotations

import pytest
import torch

from ckgrec.model.evaluation.evaluator import topk_indices


def _cases():
    g = torch.Generator().manual_seed(0)
    for trial in range(60):
        b = int(torch.randint(1, 40, (1,), generator=g))
        n = int(torch.randint(1, 20_000, (1,), generator=g))
        k = min(int(torch.randint(1, 40, (1,), generator=g)), n)
        kind = trial % 5
        s = torch.randn(b, n, generator=g)
        if kind == 1:  # many exact ties
            s = torch.randint(0, 5, (b, n), generator=g).float()
        elif kind == 2:  # most items masked
            s[torch.rand(b, n, generator=g) < 0.95] = -torch.inf
        elif kind == 3:
            s[torch.rand(b, n, generator=g) < 0.001] = float("nan")
        elif kind == 4:  # a few ties among otherwise distinct scores
            s = s.half().float()
        yield s, k


@pytest.mark.parametrize("case", range(60))
def test_topk_indices_equals_torch_topk(case):
    s, k = list(_cases())[case]
    assert torch.equal(topk_indices(s, k), torch.topk(s, k, dim=1).indices)


def test_block_path_is_taken_and_exact_on_a_large_catalogue():
    s = torch.randn(64, 50_000, generator=torch.Generator().manual_seed(1))
    s[:, ::7] = -torch.inf  # masked items
    s[3, 100:200] = 5.0  # a row whose top is all ties: the fallback
    assert torch.equal(topk_indices(s, 20), torch.topk(s, 20, dim=1).indices)
    assert torch.equal(topk_indices(s, 20, block=32), torch.topk(s, 20, dim=1).indices)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_topk_indices_on_cuda_equals_torch_topk_on_cuda():
    s = torch.randn(128, 30_000, generator=torch.Generator().manual_seed(2)).cuda()
    s[:, ::5] = -torch.inf
    s[7, :300] = 1e9  # ties: the fallback
    assert torch.equal(topk_indices(s, 20), torch.topk(s, 20, dim=1).indices)
