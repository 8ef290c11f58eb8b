"""Softmax over each node's incoming edge list, on the device, without dense N×N matrices.

Shapes:
    logits: (E,) one score per edge; index: (E,) the node whose neighbourhood the edge is in.
    returns: (E,) weights that sum to 1 over the edges of each node.

The maximum is taken on detached logits (it only shifts the exponent for stability and cancels
in the ratio), so autograd differentiates exactly softmax: d a_e / d s_f = a_e (δ_ef − a_f)
within one node, 0 across nodes.
"""

from __future__ import annotations

import torch


def edge_softmax(logits: torch.Tensor, index: torch.Tensor, num_nodes: int) -> torch.Tensor:
    neg_inf = torch.full((num_nodes,), float("-inf"), dtype=logits.dtype, device=logits.device)
    node_max = neg_inf.scatter_reduce(0, index, logits.detach(), reduce="amax", include_self=True)
    z = torch.exp(logits - node_max[index])
    denom = torch.zeros(num_nodes, dtype=logits.dtype, device=logits.device).index_add(0, index, z)
    return z / denom[index].clamp_min(torch.finfo(logits.dtype).tiny)
