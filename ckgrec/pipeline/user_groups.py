"""Test metrics per user group, for runs whose ``scores.json`` does not carry ``groups`` yet.

The trainer writes ``scores.json["groups"]["test"]`` (warm, cold items, cold users, activity
quartiles; see ``model/evaluation/groups.py``) and those figures are always preferred. A run written before
that has only ``per_user_test.parquet``; from it the activity quartiles can still be computed
exactly as ``model.groups.activity_quartiles`` defines them -- cut points at the quartiles of
the training degree (training pairs per user) over non-cold users with a training pair, a user
at a cut point falling in the lower quartile -- and averaged per group. The cold-start groups
need each user's held-out targets split by item, which per-user averages cannot give, so they
appear only when the trainer wrote them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ckgrec.model.evaluation.groups import activity_quartiles

ACTIVITY = tuple(f"activity_q{q}" for q in range(1, 5))


def training_degree(store) -> np.ndarray:
    """Training (user, item) pairs per user, indexed by the store's dense user id."""
    df = store.table("interactions", columns=["user", "item", "split"])
    train = df.loc[df["split"] == "train", ["user", "item"]].drop_duplicates()
    return np.bincount(train["user"].to_numpy(np.int64), minlength=store.num_users)


def cold_users(store) -> np.ndarray:
    """Users the split reduced to their profile (protocol ``cold_user``); empty without that protocol."""
    df = store.table("interactions", columns=["user", "protocol"])
    return np.unique(df.loc[df["protocol"].astype(str).str.startswith("cold_user"), "user"].to_numpy(np.int64))


def activity_groups(per_user: pd.DataFrame, degree: np.ndarray, cold: np.ndarray) -> dict[str, Any]:
    """``{"activity_q1": {metric: mean, ..., "n_users": n, "degree": [min, max]}, ...}`` from per-user test metrics."""
    quartile = activity_quartiles(degree, cold)
    users = per_user["user"].to_numpy(np.int64)
    q = quartile[users]
    metrics = [c for c in per_user.columns if c != "user"]
    out: dict[str, Any] = {}
    for k, name in enumerate(ACTIVITY, start=1):
        mask = q == k
        if not mask.any():
            continue
        sub = per_user.loc[mask, metrics]
        d = degree[users[mask]]
        out[name] = {
            **{m: float(sub[m].mean()) for m in metrics},
            "n_users": int(mask.sum()),
            "degree": [int(d.min()), int(d.max())],
        }
    return out
