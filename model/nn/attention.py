"""Knowledge-aware attention logits, Equation (4) of KGAT:

    π'(h, r, t) = (W_r e_t)ᵀ tanh(W_r e_h + e_r)

computed one relation segment at a time: edges arrive sorted by relation, so each segment is a
plain (n_r, d) @ (d, k) matmul with that relation's projection, instead of gathering an
(E, d, k) tensor of projections.

Shapes:
    entity: (N, d); relation: (R, k); projection: (R, d, k)
    head, tail: (E,) sorted by relation; offsets: (R + 1,) segment bounds, edges of relation r
    are [offsets[r], offsets[r + 1]).
    returns: (E,)
"""

from __future__ import annotations

import torch


def attention_logits(
    entity: torch.Tensor,
    relation: torch.Tensor,
    projection: torch.Tensor,
    head: torch.Tensor,
    tail: torch.Tensor,
    offsets: list[int],
) -> torch.Tensor:
    parts = []
    for r in range(len(offsets) - 1):
        s, e = offsets[r], offsets[r + 1]
        if s == e:
            continue
        w = projection[r]
        ph = entity[head[s:e]] @ w
        pt = entity[tail[s:e]] @ w
        parts.append((pt * torch.tanh(ph + relation[r])).sum(-1))
    if not parts:
        return entity.new_zeros(0)
    return torch.cat(parts)
