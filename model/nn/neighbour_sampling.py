"""Confidence-based neighbour sampling: keep at most S edges per head node per epoch.

The cost of an epoch grows with the heaviest nodes (a hit video with 100k viewers); sampling
caps every neighbourhood at S edges. Edges are drawn without replacement with probability
rising with their confidence (favourite > like > view, or the rating), by the exponential-race
form of weighted reservoir sampling (Efraimidis & Spirakis): key = U^(1/w), keep the S largest
keys per head. All vectorised: one sort, no loop over nodes.
"""

from __future__ import annotations

import torch


def sample_neighbours(
    head: torch.Tensor, confidence: torch.Tensor, max_per_head: int, generator: torch.Generator
) -> torch.Tensor:
    """Boolean mask over edges: True for the kept ones. Heads with <= S edges keep them all."""
    u = torch.rand(head.shape, generator=generator, device="cpu").to(head.device)
    key = torch.log(u.clamp_min(1e-12)) / confidence.clamp_min(1e-6)  # log(U^(1/w)), order-preserving
    # sort by head, then key descending: stable two-pass sort
    order = torch.argsort(key, descending=True, stable=True)
    order = order[torch.argsort(head[order], stable=True)]
    sorted_head = head[order]
    n = head.numel()
    is_start = torch.ones(n, dtype=torch.bool, device=head.device)
    is_start[1:] = sorted_head[1:] != sorted_head[:-1]
    starts = torch.nonzero(is_start).squeeze(-1)
    group_start = starts[torch.cumsum(is_start.long(), 0) - 1]
    rank = torch.arange(n, device=head.device) - group_start
    keep = torch.zeros(n, dtype=torch.bool, device=head.device)
    keep[order] = rank < max_per_head
    return keep
