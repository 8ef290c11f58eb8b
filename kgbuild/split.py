"""Filtering and per-user splitting of (user, item) pairs.

The unit is the pair, not the interaction row: a pair liked and favourited goes wholly to one
split, otherwise the favourite could sit in train while the like is the test target, and the
test would reward remembering rather than predicting.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ckgrec.kgbuild.config import SplitConfig


def filter_pairs(pairs: pd.DataFrame, cfg: SplitConfig) -> tuple[pd.DataFrame, dict[str, int]]:
    """Apply the min-pairs filters once, then the k-core filter until stable.

    Returns the kept pairs and how many users/items/pairs were dropped (for the manifest).
    """
    before_u, before_i, before_p = pairs["user_id"].nunique(), pairs["item_id"].nunique(), len(pairs)
    kept = _drop_sparse(pairs, cfg.min_user_pairs, cfg.min_item_pairs)
    if cfg.k_core > 0:
        while True:
            nxt = _drop_sparse(kept, cfg.k_core, cfg.k_core)
            if len(nxt) == len(kept):
                break
            kept = nxt
    dropped = {
        "users": int(before_u - kept["user_id"].nunique()),
        "items": int(before_i - kept["item_id"].nunique()),
        "pairs": int(before_p - len(kept)),
    }
    return kept, dropped


def _drop_sparse(pairs: pd.DataFrame, min_user: int, min_item: int) -> pd.DataFrame:
    if min_user <= 1 and min_item <= 1:
        return pairs
    u = pairs.groupby("user_id")["item_id"].transform("size")
    i = pairs.groupby("item_id")["user_id"].transform("size")
    return pairs[(u >= min_user) & (i >= min_item)]


def assign_splits(pairs: pd.DataFrame, cfg: SplitConfig, seed: int) -> np.ndarray:
    """Split label ('train' | 'valid' | 'test') for each row of ``pairs``.

    ``pairs`` has dense ``user``, ``item`` and ``first_ts`` (first timestamp of the pair, may
    be missing), sorted by (user, item). Per user with n pairs: n_valid = round(n * r_valid),
    n_test = round(n * r_test), each at least 1 when its ratio is positive, unless
    n < ``min_pairs_for_holdout`` in which case all n stay in train. The held-out pairs are the
    last ones in a seeded random order ('random') or in time order ('temporal', ties broken by
    item id).
    """
    n_rows = len(pairs)
    if cfg.method == "temporal":
        if pairs["first_ts"].isna().any():
            from ckgrec.schemas.errors import ConfigError

            raise ConfigError("split.method = 'temporal' needs a timestamp on every interaction")
        key = pairs["first_ts"].to_numpy(dtype=np.float64)
    else:
        key = np.random.default_rng(seed).random(n_rows)
    users = pairs["user"].to_numpy()
    order = np.lexsort((pairs["item"].to_numpy(), key, users))
    sorted_users = users[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_users)) + 1]
    counts = np.diff(np.r_[starts, n_rows])
    position = np.arange(n_rows) - np.repeat(starts, counts)
    n = np.repeat(counts, counts)
    _, r_valid, r_test = cfg.ratios
    holdout = n >= cfg.min_pairs_for_holdout
    n_test = np.where(holdout & (r_test > 0), np.maximum(1, np.floor(n * r_test + 0.5)), 0).astype(np.int64)
    n_valid = np.where(holdout & (r_valid > 0), np.maximum(1, np.floor(n * r_valid + 0.5)), 0).astype(np.int64)
    labels_sorted = np.full(n_rows, "train", dtype=object)
    labels_sorted[position >= n - n_test] = "test"
    labels_sorted[(position >= n - n_test - n_valid) & (position < n - n_test)] = "valid"
    labels = np.empty(n_rows, dtype=object)
    labels[order] = labels_sorted
    return labels


def assign_cold_start(pairs: pd.DataFrame, cfg: SplitConfig, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Cold-start holdouts drawn before the ordinary split: (split labels, protocol labels).

    * Item cold start: a seeded share of items loses ALL its interactions to held-out sets
      (each pair to valid or test with equal chance). The items stay in the store with their
      features, attributes and KG edges, but have no interaction edge in any graph.
    * User cold start: a seeded share of the remaining users keeps at most ``cold_user_train``
      random pairs in train; the rest of their pairs go to test.

    Returns, per row of ``pairs`` (sorted by user, item), the split ('' where the ordinary
    per-user split still decides) and the protocol ('warm', 'cold_item' or 'cold_user').
    """
    n = len(pairs)
    split = np.full(n, "", dtype=object)
    protocol = np.full(n, "warm", dtype=object)
    rng = np.random.default_rng([seed, 8])  # a stream of its own: the warm split stays as without cold start
    items = np.unique(pairs["item"].to_numpy())
    users = np.unique(pairs["user"].to_numpy())
    if cfg.cold_items > 0:
        n_cold = max(1, int(round(cfg.cold_items * len(items))))
        cold_items = rng.choice(items, size=n_cold, replace=False)
        mask = np.isin(pairs["item"].to_numpy(), cold_items)
        split[mask] = np.where(rng.random(mask.sum()) < 0.5, "valid", "test")
        protocol[mask] = "cold_item"
    if cfg.cold_users > 0:
        n_cold = max(1, int(round(cfg.cold_users * len(users))))
        cold_users = rng.choice(users, size=n_cold, replace=False)
        mask = np.isin(pairs["user"].to_numpy(), cold_users) & (protocol == "warm")
        rows = np.flatnonzero(mask)
        key = rng.random(len(rows))
        u = pairs["user"].to_numpy()[rows]
        order = np.lexsort((key, u))
        sorted_u = u[order]
        starts = np.r_[0, np.flatnonzero(np.diff(sorted_u)) + 1] if len(sorted_u) else np.array([], dtype=int)
        counts = np.diff(np.r_[starts, len(sorted_u)])
        position = np.arange(len(sorted_u)) - np.repeat(starts, counts)
        labels = np.where(position < cfg.cold_user_train, "train", "test")
        split[rows[order]] = labels
        protocol[rows[order]] = "cold_user"
    return split, protocol


def train_fraction_mask(pairs: pd.DataFrame, fraction: float, seed: int) -> np.ndarray:
    """Which rows of ``pairs`` to keep when only ``fraction`` of each user's training pairs is wanted.

    ``pairs`` has dense ``user``, ``item`` and ``split``, sorted by (user, item). Per user with t
    training pairs, max(1, round(t * fraction)) of them are kept: the first in a seeded random order
    (ties by item), drawn from a stream of its own so the split itself is the same as without the
    option. Valid and test rows are always kept; ``fraction = 1`` keeps everything.
    """
    keep = np.ones(len(pairs), dtype=bool)
    if fraction >= 1.0:
        return keep
    rows = np.flatnonzero(pairs["split"].to_numpy(dtype=object) == "train")
    if len(rows) == 0:
        return keep
    users = pairs["user"].to_numpy()[rows]
    key = np.random.default_rng([seed, 9]).random(len(rows))
    order = np.lexsort((pairs["item"].to_numpy()[rows], key, users))
    sorted_users = users[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_users)) + 1]
    counts = np.diff(np.r_[starts, len(rows)])
    position = np.arange(len(rows)) - np.repeat(starts, counts)
    n_keep = np.maximum(1, np.floor(np.repeat(counts, counts) * fraction + 0.5)).astype(np.int64)
    keep[rows[order[position >= n_keep]]] = False
    return keep


def resolve_method(cfg: SplitConfig, has_given: bool) -> str:
    """The split method a build uses: ``auto`` is ``given`` when the source carries a split
    (and no cold-start protocol is asked for, which needs its own draw), else ``random``."""
    if cfg.method == "auto":
        return "given" if has_given and cfg.cold_items == 0 and cfg.cold_users == 0 else "random"
    return cfg.method


def assign_given(pairs: pd.DataFrame, cfg: SplitConfig, seed: int) -> tuple[np.ndarray, str]:
    """The source's own split label per row of ``pairs`` (column ``given``), and how validation
    was obtained.

    When the source has no validation pairs at all (KGAT ships train.txt and test.txt only),
    validation is carved from each user's given training pairs by the seeded per-user draw of
    :func:`assign_splits`, with the share r_valid / (r_train + r_valid) of ``cfg.ratios``; test
    pairs stay exactly as given.
    """
    labels = pairs["given"].to_numpy(dtype=object).copy()
    if (labels == "valid").any():
        return labels, "from the source"
    r_train, r_valid, _ = cfg.ratios
    if r_valid == 0:
        return labels, "none (split.ratios gives validation 0)"
    share = r_valid / (r_train + r_valid)
    train_rows = np.flatnonzero(labels == "train")
    sub = pairs.iloc[train_rows]
    from dataclasses import replace

    drawn = assign_splits(sub, replace(cfg, method="random", ratios=(1.0 - share, share, 0.0)), seed)
    labels[train_rows] = drawn
    return labels, f"drawn from each user's training pairs (share {share:.3f}, seed {seed})"


def empty_split_reason(pairs: pd.DataFrame, split: str, cfg: SplitConfig, method: str, origin: str) -> str:
    """Why ``split`` holds no pair, for the build warning."""
    k = {"valid": 1, "test": 2}[split]
    if method == "given" and split == "test":
        return f"the source's split ({origin}) has no {split} pairs"
    if cfg.ratios[k] == 0:
        return "split.ratios gives it 0"
    per_user = pairs.groupby("user").size()
    if not (per_user >= cfg.min_pairs_for_holdout).any():
        return (
            f"no user has {cfg.min_pairs_for_holdout} or more pairs (split.min_pairs_for_holdout = "
            f"{cfg.min_pairs_for_holdout}), so every pair stays in train"
        )
    return "no user had a pair to spare for it"
