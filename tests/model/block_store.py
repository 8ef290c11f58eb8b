"""A store version of ``block_pairs`` for models that need item features (featknn, vbpr).

Users of block b interacted with every item of block b; each item carries a feature vector
that names its block (one-hot plus noise). With ``cold_per_block`` extra items per block that
have features but no interaction (listed in items.csv only), a content model must rank the
cold item of the user's own block above the others.

The store splits each user's 8 pairs 6 / 1 / 1 (train / valid / test), so after masking train
and valid the test item is the only unseen item of the user's block: a model that learned the
blocks ranks it first (hit@1), as in :func:`tests.model.conftest.block_pairs`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd


def cold_item(block: int) -> str:
    return f"c{block}"


def write_block_world(
    root: Path, n_blocks: int = 4, size: int = 8, cold_per_block: int = 0, seed: int = 3, profiles: bool = False
) -> Path:
    """``profiles``: every user gets a profile column (``group``) naming its block."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    rows = [(f"u{b * size + j}", f"i{b * size + k}") for b in range(n_blocks) for j in range(size) for k in range(size)]
    pd.DataFrame(rows, columns=["user_id", "item_id"]).to_csv(root / "interactions.csv", index=False)
    if profiles:
        users = [(f"u{b * size + j}", f"g{b}") for b in range(n_blocks) for j in range(size)]
        pd.DataFrame(users, columns=["user_id", "group"]).to_csv(root / "users.csv", index=False)
    items = [(f"i{b * size + k}", b) for b in range(n_blocks) for k in range(size)]
    items += [
        (cold_item(b) if cold_per_block == 1 else f"c{b}_{k}", b)
        for b in range(n_blocks)
        for k in range(cold_per_block)
    ]
    pd.DataFrame({"item_id": [i for i, _ in items]}).to_csv(root / "items.csv", index=False)
    feats = root / "features"
    feats.mkdir(exist_ok=True)
    x = np.eye(n_blocks, dtype=np.float32)[[b for _, b in items]] + 0.05 * rng.normal(
        size=(len(items), n_blocks)
    ).astype(np.float32)
    np.save(feats / "visual.npy", x)
    pd.DataFrame({"item_id": [i for i, _ in items], "row": range(len(items))}).to_csv(feats / "visual.csv", index=False)
    return root


def block_store(tmp: Path, cold_per_block: int = 0, profiles: bool = False, cold_users: float = 0.0):
    """``cold_users``: share of users held out as k = 0 cold users (all their pairs to test)."""
    from ckgrec.kgbuild.build import build
    from ckgrec.kgbuild.config import BuildConfig, SplitConfig
    from ckgrec.schemas.store import Store

    raw = write_block_world(tmp / "raw", cold_per_block=cold_per_block, profiles=profiles)
    cfg = BuildConfig(split=SplitConfig(cold_users=cold_users, cold_user_train=0)) if cold_users else None
    return Store.open(build(raw, tmp / "store", fmt="native", **({"config": cfg} if cfg else {})).store)


def cold_world_store(world_dir: Path, out: Path, cold_user_train: int = 0):
    """The shared tiny world with 10% cold items and 10% cold users."""
    from ckgrec.kgbuild.build import build
    from ckgrec.kgbuild.config import BuildConfig, SplitConfig
    from ckgrec.schemas.store import Store

    cfg = BuildConfig(split=SplitConfig(cold_items=0.1, cold_users=0.1, cold_user_train=cold_user_train))
    return Store.open(build(world_dir, out, fmt="native", config=cfg).store)
