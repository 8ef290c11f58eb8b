"""Full-ranking evaluation: every item is ranked for every user, seen items masked.

For split ``valid`` the user's training items are masked; for ``test`` the training and
validation items. Users without a positive in the split are skipped and counted. Users are
processed in batches whose score matrix ``B x n_items`` stays under a fixed budget
(:func:`score_budget`: 16 MiB of float32 on CPU, 128 MiB on CUDA), so memory is bounded whatever the
number of users and items (100k x 100k runs in batches of 41 users on CPU). Why 16 MiB on CPU: a block
above glibc's mmap threshold (at most 32 MiB) is a fresh mapping each batch, and the kernel zero-fills
every one of its pages on first touch; on the 1M store of ``benchmarks/bench_harness.py`` (50k users x
97k items, untrained BPR-MF) 128 MiB blocks cost 1.9M minor page faults per 20k users against 37k at
16 MiB, and the whole evaluation took 17 s against 9-10 s on one thread (9.4 s against 5.3-5.5 s on
two); 8 MiB blocks were slower again (12 s, per-batch overhead). Per batch:

1. ``model.score_users`` -> the (B, n_items) score block;
2. ``-inf`` scattered into the block at the seen items' flat indices (no dense mask);
3. the top K by :func:`topk_indices`: the maxima of 64-item blocks pick the K + 1 blocks that
   must hold the top K + 1 scores, and one :func:`torch.topk` over those few columns finds them
   -- one pass over the block instead of a full-row partial sort; a row with a tie (or NaN)
   among its top K + 1 falls back to :func:`torch.topk` on the whole row, so the indices are
   always exactly ``torch.topk(scores, K).indices``;
4. hits = whether each top-K (user, item) is a held-out pair, by a sorted search of the batch's
   held-out pairs (no dense ``B x n_items`` target);
5. :func:`ckgrec.model.evaluation.metrics.topk_metrics` from those K positions only.

Group scores (``groups=``) still build the dense boolean target of the batch, which they index.
Threads: whatever ``torch.get_num_threads()`` is when called (the trainer's ``--threads``).
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

SCORE_BUDGET = 1 << 22  # floats per score batch on CPU (16 MiB in float32; see the module docstring)
SCORE_BUDGET_CUDA = 1 << 25  # on CUDA (128 MiB): no page faults in its caching allocator, fewer kernel launches
TOPK_BLOCK = 64  # items per block of topk_indices' block maxima


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


def score_budget(device: torch.device | str = "cpu") -> int:
    """Floats per score block on ``device``: :data:`SCORE_BUDGET_CUDA` on CUDA, else :data:`SCORE_BUDGET`."""
    return SCORE_BUDGET_CUDA if torch.device(device).type == "cuda" else SCORE_BUDGET


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


def topk_indices(scores: torch.Tensor, k: int, block: int = TOPK_BLOCK) -> torch.Tensor:
    """``torch.topk(scores, k, dim=1).indices`` of a (B, n) float tensor, computed from block maxima.

    Each row is cut into ``n // block`` blocks of ``block`` columns (the last ``n % block``
    columns are always candidates). The ``k + 1`` blocks with the largest maxima hold at least
    ``k + 1`` scores >= the smallest of those maxima ``t``, so every one of the row's top ``k + 1``
    scores is >= ``t`` and lies in a block whose maximum is >= ``t``: when exactly ``k + 1``
    blocks reach ``t``, those blocks (plus the tail) hold the top ``k + 1``, and one topk over
    ``(k + 1) * block`` candidates finds them. With distinct values among the top ``k + 1`` the
    answer is unique, hence equal to a full-row topk; a row with a tie there (equal scores,
    ``-inf`` masks, NaN) or another block reaching ``t`` is recomputed with :func:`torch.topk`
    on the whole row, so ties are broken exactly as before. Returns (B, k) int64.
    """
    b, n = scores.shape
    nb = n // block
    kk = k + 1
    if b == 0 or nb < kk or not scores.is_floating_point() or not scores.is_contiguous():
        return torch.topk(scores, k, dim=1).indices
    device = scores.device
    bmax = scores[:, : nb * block].view(b, nb, block).amax(-1)  # (B, nb)
    bval, bidx = torch.topk(bmax, kk, dim=1)  # (B, k + 1)
    n_reach = (bmax >= bval[:, -1:]).sum(1)
    cols = (bidx.unsqueeze(-1) * block + torch.arange(block, device=device)).reshape(b, kk * block)
    if nb * block < n:
        cols = torch.cat([cols, torch.arange(nb * block, n, device=device).expand(b, -1)], 1)
    val, pos = torch.topk(scores.gather(1, cols), kk, dim=1)
    top = cols.gather(1, pos[:, :k])
    # strictly decreasing top k + 1 (NaN fails every comparison), no NaN block maximum, no other block at t
    exact = (val[:, :-1] > val[:, 1:]).all(1) & (n_reach == kk) & ~torch.isnan(bval).any(1)
    redo = (~exact).nonzero(as_tuple=True)[0]
    if len(redo):
        top[redo] = torch.topk(scores[redo], k, dim=1).indices
    return top


def _flat_keys(r: np.ndarray, c: np.ndarray, n_items: int) -> np.ndarray:
    return r * n_items + c


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
    :param batch_users: users per scoring batch; 0 picks it from :func:`score_budget` of the model's device.
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
    bs = user_batch_size(data.n_items, batch_users, score_budget(device))
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
            if len(r):  # -inf at the seen items' flat indices
                scores.view(-1).index_fill_(0, torch.from_numpy(_flat_keys(r, c, data.n_items)).to(device), -torch.inf)
            k = min(max_k, data.n_items)
            top = topk_indices(scores, k)
            pr, pc = _rows_coo(positives, rows)
            pos_keys = torch.from_numpy(np.sort(_flat_keys(pr, pc, data.n_items))).to(device)
            top_keys = torch.arange(len(rows), device=device).unsqueeze(1) * data.n_items + top
            at = torch.searchsorted(pos_keys, top_keys).clamp_(max=len(pos_keys) - 1)
            hits = pos_keys[at] == top_keys
            if k < max_k:
                hits = torch.cat([hits, torch.zeros(len(rows), max_k - k, dtype=torch.bool, device=device)], 1)
            n_pos = torch.from_numpy(n_pos_all[rows]).to(device)
            for key, v in topk_metrics(hits, n_pos, tuple(ks)).items():
                per_user[key].append(v.cpu().numpy())
            if ranker is not None:
                target = torch.zeros(len(rows), data.n_items, dtype=torch.bool, device=device)
                target[torch.from_numpy(pr).to(device), torch.from_numpy(pc).to(device)] = True
                ranker.add_batch(rows, scores, target, hits)
                del target
            del scores
    arrays = {k: (np.concatenate(v) if v else np.empty(0)) for k, v in per_user.items()}
    means = {k: (float(v.mean()) if len(v) else float("nan")) for k, v in arrays.items()}
    by_group = ranker.result() if ranker is not None else {}
    return EvalResult(split, means, eval_users, arrays, skipped, time.perf_counter() - start, by_group)
