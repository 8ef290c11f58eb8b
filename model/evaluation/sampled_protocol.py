"""SAMPLED-NEGATIVE PROTOCOL -- for comparison with papers that report it, never for model selection.

Each held-out (user, item) pair is ranked against ``num_negatives`` items drawn uniformly among
the items the user never interacted with (in any split); ``hit@k`` / ``ndcg@k`` / ``mrr@k``
come from the rank of the held-out item among those 1 + N candidates (ties count against it)
and are averaged over pairs. This is the NCF-style protocol (He et al. 2017: 100 negatives).
Sampled metrics are inflated and can even reorder models relative to full ranking (Krichene &
Rendle, "On Sampled Metrics for Item Recommendation", KDD 2020); :mod:`ckgrec.model.evaluation.evaluator` is the
protocol this project reports. Every result of this module carries ``"protocol": "sampled"``
and a ``"warning"`` saying so.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch

from ckgrec.model.data.train_data import TrainData
from ckgrec.model.evaluation.evaluator import score_budget, user_batch_size
from ckgrec.model.models.base import Recommender
from ckgrec.schemas.errors import ConfigError

WARNING = (
    "sampled-negative protocol (each held-out item ranked against N random unseen items): reported only to compare "
    "with papers that use it; it inflates scores and can reorder models. The project's results are the full-ranking "
    "scores in scores.json"
)


def evaluate_sampled(
    model: Recommender,
    data: TrainData,
    split: str = "test",
    num_negatives: int = 100,
    ks: tuple[int, ...] = (1, 5, 10),
    seed: int = 2020,
    batch_users: int = 0,
) -> dict[str, Any]:
    """Mean ``hit@k``, ``ndcg@k``, ``mrr@k`` over the held-out pairs of ``split``; see the module note."""
    if num_negatives < 1:
        raise ConfigError(f"--negatives {num_negatives}: must be >= 1")
    start = time.perf_counter()
    seen = (data.train + data.valid + data.test).tocsr()
    seen.sort_indices()
    seen_keys = torch.from_numpy(
        np.repeat(np.arange(data.n_users, dtype=np.int64), np.diff(seen.indptr)) * data.n_items
        + seen.indices.astype(np.int64)
    )
    degree = np.diff(seen.indptr)
    pos = data.split(split).tocoo()
    order = np.lexsort((pos.col, pos.row))
    users = pos.row[order].astype(np.int64)
    items = pos.col[order].astype(np.int64)
    keep = degree[users] < data.n_items  # a user who saw every item has no negatives
    users, items = users[keep], items[keep]
    gen = torch.Generator().manual_seed(seed)
    u_t = torch.from_numpy(users)
    neg = torch.randint(data.n_items, (len(users), num_negatives), generator=gen)

    def is_seen(u: torch.Tensor, i: torch.Tensor) -> torch.Tensor:
        key = u * data.n_items + i
        idx = torch.searchsorted(seen_keys, key).clamp_(max=len(seen_keys) - 1)
        return seen_keys[idx] == key

    bad = is_seen(u_t.unsqueeze(1).expand_as(neg), neg).nonzero(as_tuple=True)
    while bad[0].numel():
        redraw = torch.randint(data.n_items, (bad[0].numel(),), generator=gen)
        neg[bad] = redraw
        still = is_seen(u_t[bad[0]], redraw)
        bad = (bad[0][still], bad[1][still])
    ranks = np.empty(len(users), dtype=np.int64)
    unique_users, first = np.unique(users, return_index=True)
    bounds = np.append(first, len(users))
    device = model.device
    bs = user_batch_size(data.n_items, batch_users, score_budget(device))
    with model.scoring():
        for s in range(0, len(unique_users), bs):
            lo, hi = bounds[s], bounds[min(s + bs, len(unique_users))]
            batch_users = torch.from_numpy(unique_users[s : s + bs]).to(device)
            scores = model.score_users(batch_users).float()
            row = torch.from_numpy(np.searchsorted(unique_users[s : s + bs], users[lo:hi])).to(device)
            sc_pos = scores[row, torch.from_numpy(items[lo:hi]).to(device)].unsqueeze(1)
            sc_neg = scores[row.unsqueeze(1), neg[lo:hi].to(device)]
            ranks[lo:hi] = ((sc_neg >= sc_pos).sum(1)).cpu().numpy()
    out: dict[str, float] = {}
    for k in ks:
        inside = ranks < k
        out[f"hit@{k}"] = float(inside.mean()) if len(ranks) else float("nan")
        out[f"ndcg@{k}"] = (
            float(np.where(inside, 1.0 / np.log2(ranks + 2.0), 0.0).mean()) if len(ranks) else float("nan")
        )
        out[f"mrr@{k}"] = float(np.where(inside, 1.0 / (ranks + 1.0), 0.0).mean()) if len(ranks) else float("nan")
    return {
        "protocol": "sampled",
        "warning": WARNING,
        "negatives": int(num_negatives),
        "seed": int(seed),
        "split": split,
        "pairs": int(len(ranks)),
        split: out,
        "seconds": time.perf_counter() - start,
    }
