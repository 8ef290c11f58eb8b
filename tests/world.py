"""A tiny generated world in ckgrec's native layout, shared by every stage's tests.

Small enough to build in well under a second, but with every kind of input: two behaviours
with timestamps, profiles with a numeric and a categorical column, items with a multi-valued
attribute, two modalities (one with a missing row), and an external KG with links that cover
only some items.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd


def make_world(root: Path, seed: int = 7, n_users: int = 40, n_items: int = 60, topics: int = 4) -> Path:
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    user_topic = rng.integers(0, topics, n_users)
    item_topic = np.arange(n_items) % topics
    rows = []
    for u in range(n_users):
        n = int(rng.integers(6, 14))
        p = np.where(item_topic == user_topic[u], 8.0, 1.0)
        p /= p.sum()
        chosen = rng.choice(n_items, size=n, replace=False, p=p)
        for k, i in enumerate(chosen):
            ts = 1_600_000_000 + 3600 * (10 * u + k)
            rows.append((f"u{u}", f"i{i}", "like", ts))
            if rng.random() < 0.25:
                rows.append((f"u{u}", f"i{i}", "favorite", ts + 60))
    pd.DataFrame(rows, columns=["user_id", "item_id", "behavior", "timestamp"]).to_csv(
        root / "interactions.csv", index=False
    )
    pd.DataFrame(
        {
            "user_id": [f"u{u}" for u in range(n_users)],
            "age": rng.integers(15, 60, n_users),
            "gender": np.where(user_topic % 2 == 0, "F", "M"),
        }
    ).to_csv(root / "users.csv", index=False)
    tags = ["fun", "calm", "loud", "short"]
    pd.DataFrame(
        {
            "item_id": [f"i{i}" for i in range(n_items)],
            "name": [f"clip {i}" for i in range(n_items)],
            "category": [f"cat{t}" for t in item_topic],
            "tags": ["|".join(sorted({tags[t], tags[(t + i) % 4]})) for i, t in enumerate(item_topic)],
        }
    ).to_csv(root / "items.csv", index=False)
    feats = root / "features"
    feats.mkdir(exist_ok=True)
    centers = rng.normal(size=(topics, 8))
    visual = (centers[item_topic] + 0.1 * rng.normal(size=(n_items, 8))).astype(np.float32)
    np.save(feats / "visual.npy", visual)
    pd.DataFrame({"item_id": [f"i{i}" for i in range(n_items)], "row": range(n_items)}).to_csv(
        feats / "visual.csv", index=False
    )
    keep = np.arange(1, n_items)  # item i0 has no text vector
    text = (rng.normal(size=(topics, 4))[item_topic[keep]] + 0.1 * rng.normal(size=(len(keep), 4))).astype(np.float32)
    np.save(feats / "text.npy", text)
    pd.DataFrame({"item_id": [f"i{i}" for i in keep], "row": range(len(keep))}).to_csv(feats / "text.csv", index=False)
    kg = [(f"m{i}", "directed_by", f"d{i % 5}") for i in range(0, n_items, 2)] + [
        (f"d{k}", "born_in", f"c{k % 2}") for k in range(5)
    ]
    pd.DataFrame(kg, columns=["head", "relation", "tail"]).to_csv(root / "kg.csv", index=False)
    pd.DataFrame(
        {"item_id": [f"i{i}" for i in range(0, n_items, 2)], "entity_id": [f"m{i}" for i in range(0, n_items, 2)]}
    ).to_csv(root / "links.csv", index=False)
    return root
