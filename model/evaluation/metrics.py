"""Top-K ranking metrics per user, from the hit pattern of a ranked list.

Input: ``hits`` (B, K) bool -- whether the item at rank r (0-based) is a held-out positive of
the user -- and ``n_pos`` (B,) -- how many held-out positives the user has. For each k in ``ks``:

* ``precision@k`` = |hits in top k| / k
* ``recall@k``    = |hits in top k| / n_pos          (RecBole's definition; not min(n_pos, k))
* ``ndcg@k``      = DCG / IDCG, DCG = Σ_{r<k} hit_r / log2(r + 2),
  IDCG = Σ_{r<min(n_pos, k)} 1 / log2(r + 2)          (binary relevance)
* ``hit@k``       = 1 if any hit in top k
* ``mrr@k``       = 1 / (rank of the first hit + 1) if it is in the top k, else 0

Metric keys are ``name@k`` in lower case (the run directory contract).
"""

from __future__ import annotations

import re

import torch

from ckgrec.schemas.errors import ConfigError

METRICS = ("precision", "recall", "ndcg", "hit", "mrr")
_KEY = re.compile(r"^([a-z]+)@(\d+)$")


def metric_key(name: str, k: int) -> str:
    return f"{name}@{k}"


def parse_metric(key: str) -> tuple[str, int]:
    """``'recall@20'`` -> ``('recall', 20)``; a ConfigError naming the valid forms otherwise."""
    m = _KEY.match(key.strip().lower())
    if not m or m.group(1) not in METRICS or int(m.group(2)) < 1:
        raise ConfigError(
            f"metric '{key}': expected NAME@K with NAME in {', '.join(METRICS)} and K >= 1, e.g. recall@20"
        )
    return m.group(1), int(m.group(2))


def metric_keys(ks: tuple[int, ...]) -> list[str]:
    return [metric_key(n, k) for k in ks for n in METRICS]


def topk_metrics(hits: torch.Tensor, n_pos: torch.Tensor, ks: tuple[int, ...]) -> dict[str, torch.Tensor]:
    """Per-user metrics ``{name@k: (B,) float64}``.

    ``hits`` must have at least ``max(ks)`` columns (pad with False when fewer items exist).
    Users with ``n_pos == 0`` get NaN recall/ndcg; callers skip such users before.
    """
    if hits.dim() != 2 or hits.shape[1] < max(ks):
        raise ValueError(f"hits must be (B, >= {max(ks)}), got {tuple(hits.shape)}")
    h = hits.to(torch.float64)
    n_pos = n_pos.to(torch.float64)
    ranks = torch.arange(h.shape[1], dtype=torch.float64, device=h.device)
    discount = 1.0 / torch.log2(ranks + 2.0)  # (K,)
    ideal = torch.cumsum(discount, 0)  # IDCG for 1..K positives
    cum_hits = torch.cumsum(h, 1)
    first = torch.where(
        hits.any(1), hits.to(torch.int8).argmax(1), torch.full_like(n_pos, h.shape[1], dtype=torch.long)
    )
    out: dict[str, torch.Tensor] = {}
    for k in ks:
        got = cum_hits[:, k - 1]
        dcg = (h[:, :k] * discount[:k]).sum(1)
        n_ideal = torch.clamp(n_pos, max=k).long().clamp(min=1)
        idcg = ideal[n_ideal - 1]
        out[metric_key("precision", k)] = got / k
        out[metric_key("recall", k)] = got / n_pos
        out[metric_key("ndcg", k)] = dcg / idcg
        out[metric_key("hit", k)] = (got > 0).to(torch.float64)
        out[metric_key("mrr", k)] = torch.where(
            first < k, 1.0 / (first.to(torch.float64) + 1.0), torch.zeros_like(n_pos)
        )
    return out
