"""Full-ranking evaluation: every item is ranked for every user, seen items masked.

For split ``valid`` the user's training items are masked; for ``test`` the training and
validation items. Users without a positive in the split are skipped and counted. Users are
processed in batches whose score matrix ``B x n_items`` stays under a fixed budget
(:data:`SCORE_BUDGET` floats, 128 MiB), so memory is bounded whatever the number of users and
items (100k x 100k runs in batches of 335 users). Per batch: scores -> ``-inf`` on masked items
-> :func:`torch.topk` -> hit pattern against a dense boolean target of the batch ->
:func:`ckgrec.model.evaluation.metrics.topk_metrics`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
import torch

from ckgrec.model.data.train_data import TrainData
from ckgrec.model.evaluation.groups import GroupRanker, GroupScores, Protocols
from ckgrec.model.evaluation.metrics import metric_keys, topk_metrics
from ckgrec.model.models.base import Recommender
from ckgrec.schemas.errors import ConfigError

SCORE_BUDGET = 1 << 25  # floats per score batch (128 MiB in float32)


@dataclass
class EvalResult:
    """Mean metrics of a split plus the per-user values they average (for paired tests)."""

    split: str
    metrics: dict[str, float]
    users: np.ndarray  # (n,) evaluated user ids, ascending
    per_user: dict[str, np.ndarray] = field(repr=False)  # name@k -> (n,) float64
    skipped_users: int = 0  # users without a positive in the split
    seconds: float = 0.0
    groups: dict[str, GroupScores] = field(default_factory=dict, repr=False)  # only with evaluate(groups=...)

    @property
    def n_users(self) -> int:
        return int(len(self.users))


def user_batch_size(n_items: int, requested: int = 0, budget: int = SCORE_BUDGET) -> int:
    """Users per scoring batch: ``requested`` if given, else as many as fit ``budget`` floats."""
    if requested > 0:
        return requested
    return max(1, budget // max(1, n_items))


def _rows_coo(m: sp.csr_matrix, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(batch row position, column) of the nonzeros of ``m[rows]``."""
    sub = m[rows]
    counts = np.diff(sub.indptr)
    return np.repeat(np.arange(len(rows), dtype=np.int64), counts), sub.indices.astype(np.int64)


def evaluate(
    model: Recommender,
    data: TrainData,
    split: str,
    ks: tuple[int, ...] = (10, 20),
    *,
    users: np.ndarray | None = None,
    batch_users: int = 0,
    progress: bool = False,
    groups: Protocols | None = None,
) -> EvalResult:
    """Rank all items for the users of ``split`` and average the top-K metrics.

    :param users: restrict to these users (e.g. a fixed validation subsample); users among them
        without positives are still skipped.
    :param batch_users: users per scoring batch; 0 picks it from :data:`SCORE_BUDGET`.
    :param groups: the split's cold-start protocols; also score the groups of :mod:`ckgrec.model.evaluation.groups`
        (``EvalResult.groups``). Needs all users (``users=None``): a group is a share of them.
    """
    if not ks or min(ks) < 1:
        raise ConfigError(f"ks = {ks}: need at least one K >= 1")
    if groups is not None and users is not None:
        raise ConfigError("group scores need every user of the split; pass users=None with groups")
    start = time.perf_counter()
    positives = data.split(split)
    exclude = data.exclusion(split)
    candidates = np.arange(data.n_users) if users is None else np.unique(np.asarray(users, dtype=np.int64))
    n_pos_all = np.diff(positives.indptr)
    eval_users = candidates[n_pos_all[candidates] > 0]
    skipped = int(len(candidates) - len(eval_users))
    max_k = max(ks)
    keys = metric_keys(tuple(ks))
    per_user: dict[str, list[np.ndarray]] = {k: [] for k in keys}
    device = model.device
    bs = user_batch_size(data.n_items, batch_users)
    ranker = GroupRanker(data, split, groups, tuple(ks)) if groups is not None else None
    batches = range(0, len(eval_users), bs)
    if progress:
        from tqdm import tqdm

        batches = tqdm(batches, desc=f"eval {split}", unit="batch", leave=False)
    with model.scoring():
        for s in batches:
            rows = eval_users[s : s + bs]
            u = torch.from_numpy(rows).to(device)
            scores = model.score_users(u).float()
            if scores._is_view() or not scores.is_contiguous():  # never write -inf into a model's cache
                scores = scores.clone()
            if scores.shape != (len(rows), data.n_items):
                raise RuntimeError(
                    f"{model.name}.score_users returned {tuple(scores.shape)}, expected ({len(rows)}, {data.n_items})"
                )
            r, c = _rows_coo(exclude, rows)
            if len(r):
                scores[torch.from_numpy(r).to(device), torch.from_numpy(c).to(device)] = -torch.inf
            k = min(max_k, data.n_items)
            top = torch.topk(scores, k, dim=1).indices
            pr, pc = _rows_coo(positives, rows)
            target = torch.zeros(len(rows), data.n_items, dtype=torch.bool, device=device)
            target[torch.from_numpy(pr).to(device), torch.from_numpy(pc).to(device)] = True
            hits = target.gather(1, top)
            if k < max_k:
                hits = torch.cat([hits, torch.zeros(len(rows), max_k - k, dtype=torch.bool, device=device)], 1)
            n_pos = torch.from_numpy(n_pos_all[rows]).to(device)
            for key, v in topk_metrics(hits, n_pos, tuple(ks)).items():
                per_user[key].append(v.cpu().numpy())
            if ranker is not None:
                ranker.add_batch(rows, scores, target, hits)
            del scores, target
    arrays = {k: (np.concatenate(v) if v else np.empty(0)) for k, v in per_user.items()}
    means = {k: (float(v.mean()) if len(v) else float("nan")) for k, v in arrays.items()}
    by_group = ranker.result() if ranker is not None else {}
    return EvalResult(split, means, eval_users, arrays, skipped, time.perf_counter() - start, by_group)
