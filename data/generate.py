#!/usr/bin/env python3
"""Generate ckgrec's embedded default micro-video dataset (synthetic, seeded, deterministic).

Usage::

    python data/generate.py                 # rewrites the files beside this script
    python data/generate.py --out /tmp/mv   # writes them elsewhere
    python data/generate.py --seed 7        # another draw of the same process

Only numpy and pandas are used, and nothing from ckgrec is imported, so the dataset can be
regenerated without the project installed. The generative process (latent topics -> items,
modality features, user tastes -> interactions) is documented in ``data/README.md``;
:func:`build` also returns the latent variables (topic mixtures, tastes, popularity) so a
signal check can score an oracle recommender.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

DEFAULT_SEED = 2026

N_USERS = 1000
N_ITEMS = 2000

# --- topics and categories -------------------------------------------------------------------
CATEGORIES = ("music", "dance", "cooking", "gaming", "pets", "travel", "comedy", "sports")
# Latent topics. The first eight are "about" one category each; the last two are cross-cutting
# styles whose clips are filed under several categories.
TOPICS = ("music", "dance", "cooking", "gaming", "pets", "travel", "comedy", "sports", "fashion", "howto")
K = len(TOPICS)
TOPIC_PREVALENCE = np.array([0.13, 0.10, 0.11, 0.12, 0.09, 0.08, 0.13, 0.10, 0.07, 0.07])
# P(category | dominant topic) for the cross-cutting topics; topics 0..7 keep their own category
# with probability CATEGORY_FIDELITY and otherwise pick a uniformly random category.
CATEGORY_FIDELITY = 0.85
CROSS_TOPIC_CATEGORIES = {
    "fashion": {"dance": 0.35, "music": 0.20, "comedy": 0.15, "travel": 0.30},
    "howto": {"cooking": 0.35, "gaming": 0.30, "sports": 0.20, "music": 0.15},
}
# Item topic mixture ~ Dirichlet(ITEM_BASE_CONC everywhere + ITEM_DOMINANT_CONC on the dominant topic).
ITEM_BASE_CONC = 0.10
ITEM_DOMINANT_CONC = 2.0

# --- tags --------------------------------------------------------------------------------------
TAGS = (
    "tutorial",
    "challenge",
    "funny",
    "cute",
    "asmr",
    "live",
    "remix",
    "cover",
    "recipe",
    "street_food",
    "esports",
    "speedrun",
    "kitten",
    "puppy",
    "roadtrip",
    "nature",
    "prank",
    "highlights",
    "workout",
    "outfit",
)
# topic -> tags it tends to carry (weight 1.0); every tag also has a small base weight.
TOPIC_TAGS = {
    "music": ("cover", "remix", "live"),
    "dance": ("challenge", "remix", "tutorial"),
    "cooking": ("recipe", "street_food", "asmr"),
    "gaming": ("esports", "speedrun", "funny"),
    "pets": ("kitten", "puppy", "cute"),
    "travel": ("roadtrip", "nature", "street_food"),
    "comedy": ("prank", "funny", "challenge"),
    "sports": ("highlights", "workout", "live"),
    "fashion": ("outfit", "challenge", "cute"),
    "howto": ("tutorial", "asmr", "workout"),
}
TAG_BASE_WEIGHT = 0.04

# --- modalities: dimension and noise level (noise std relative to a unit-variance signal) ------
MODALITIES = {"visual": (64, 1.1), "acoustic": (32, 1.6), "text": (48, 0.7)}
VISUAL_STYLE_SHARE = 0.6  # visual also shows the item style, at this weight relative to topics
SILENT_FRACTION = 0.03  # items without an acoustic row
FEATURE_DECIMALS = 5  # features are rounded so files are identical across BLAS builds

# --- users -------------------------------------------------------------------------------------
AGE_GROUPS = ((13, 17), (18, 24), (25, 34), (35, 49), (50, 65))
AGE_GROUP_P = np.array([0.15, 0.32, 0.27, 0.17, 0.09])
GENDERS = ("F", "M")
REGIONS = ("north_america", "latin_america", "europe", "east_asia", "south_asia", "africa")
REGION_P = np.array([0.18, 0.15, 0.20, 0.22, 0.15, 0.10])
DEVICES = ("android", "ios", "web")
# P(device | age group): the young are on phones, web use grows with age.
DEVICE_P = np.array(
    [
        [0.55, 0.42, 0.03],
        [0.52, 0.43, 0.05],
        [0.50, 0.40, 0.10],
        [0.48, 0.32, 0.20],
        [0.45, 0.20, 0.35],
    ]
)
# Topic-preference logit shifts (columns follow TOPICS). Hand-set for face validity.
#                      music dance cook  game  pets  trvl  cmdy  sprt  fash  howto
AGE_PREF = np.array(
    [
        [1.0, 1.1, -1.0, 1.4, -0.2, -1.2, 0.9, 0.0, 0.4, -0.6],  # 13-17
        [0.8, 0.7, -0.4, 0.9, -0.1, -0.2, 0.8, 0.2, 0.5, -0.1],  # 18-24
        [0.1, 0.0, 0.5, 0.2, 0.3, 0.6, 0.3, 0.2, 0.1, 0.5],  # 25-34
        [-0.4, -0.6, 1.0, -0.5, 0.6, 0.8, -0.1, 0.3, -0.3, 0.8],  # 35-49
        [-0.3, -1.0, 1.2, -1.2, 0.9, 1.0, -0.3, -0.1, -0.6, 0.6],  # 50-65
    ]
)
GENDER_PREF = np.array(
    [
        [0.1, 0.6, 0.3, -0.7, 0.3, 0.1, -0.1, -0.6, 0.9, 0.0],  # F
        [0.0, -0.5, -0.2, 0.7, -0.2, 0.0, 0.2, 0.7, -0.8, 0.2],  # M
    ]
)
REGION_PREF_STD = 0.5  # region shifts are drawn at random (one vector per region)
DEVICE_PREF_STD = 0.15
INDIVIDUAL_STD = 0.45  # user-specific taste noise
TASTE_TEMPERATURE = 0.7  # taste = softmax(logits / T)

# --- interactions ------------------------------------------------------------------------------
POP_ZIPF = 1.0  # latent popularity of the item at popularity rank r is r ** -POP_ZIPF
ALPHA = 0.55  # weight of log popularity in the choice model
BETA = 16.0  # weight of taste . topic in the choice model
# A small "style" factor that no profile explains: item style vectors and user style preferences
# are independent normals, so only collaborative signal (and, partly, the visual modality) sees it.
STYLE_DIM = 8
GAMMA = 1.0  # weight of user_style . item_style / sqrt(STYLE_DIM) in the choice model
MIN_PER_USER = 10
ACTIVITY_MEDIAN = 11.0  # lognormal extra interactions on top of MIN_PER_USER
ACTIVITY_SIGMA = 1.0
MAX_PER_USER = 400
# behaviours of a pair: like only, like + favorite, favorite only; favourites lean to liked topics.
FAV_BASE_LOGIT = -1.25
FAV_AFFINITY_SLOPE = 0.8
FAV_ONLY_SHARE = 0.16  # of favourite pairs, the share without a like row
# time: a ~90-day window starting 2025-01-06 00:00:00 UTC
T0 = 1736121600
WINDOW_DAYS = 90


def _softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    z = x - x.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


def _items(rng: np.random.Generator) -> dict:
    dominant = rng.choice(K, size=N_ITEMS, p=TOPIC_PREVALENCE / TOPIC_PREVALENCE.sum())
    conc = np.full((N_ITEMS, K), ITEM_BASE_CONC)
    conc[np.arange(N_ITEMS), dominant] += ITEM_DOMINANT_CONC
    theta = np.vstack([rng.dirichlet(c) for c in conc])

    category = np.empty(N_ITEMS, dtype=object)
    for i, t in enumerate(dominant):
        name = TOPICS[t]
        if name in CROSS_TOPIC_CATEGORIES:
            cats = list(CROSS_TOPIC_CATEGORIES[name])
            p = np.array(list(CROSS_TOPIC_CATEGORIES[name].values()))
            category[i] = cats[rng.choice(len(cats), p=p / p.sum())]
        elif rng.random() < CATEGORY_FIDELITY:
            category[i] = name
        else:
            category[i] = CATEGORIES[rng.integers(len(CATEGORIES))]

    tag_topic = np.full((K, len(TAGS)), TAG_BASE_WEIGHT)
    for t, name in enumerate(TOPICS):
        for tag in TOPIC_TAGS[name]:
            tag_topic[t, TAGS.index(tag)] = 1.0
    tag_p = theta @ tag_topic
    tag_p /= tag_p.sum(axis=1, keepdims=True)
    n_tags = rng.choice([2, 3], size=N_ITEMS, p=[0.55, 0.45])
    tags = []
    for i in range(N_ITEMS):
        chosen = rng.choice(len(TAGS), size=n_tags[i], replace=False, p=tag_p[i])
        tags.append("|".join(TAGS[j] for j in sorted(chosen)))

    counters = {c: 0 for c in CATEGORIES}
    names = []
    for c in category:
        counters[c] += 1
        names.append(f"{c} clip {counters[c]}")

    # Power-law popularity: a random popularity rank per item, weight rank ** -POP_ZIPF.
    rank = rng.permutation(N_ITEMS) + 1
    popularity = rank.astype(float) ** -POP_ZIPF

    table = pd.DataFrame(
        {
            "item_id": [f"v{i + 1:05d}" for i in range(N_ITEMS)],
            "name": names,
            "category": category,
            "tags": tags,
        }
    )
    style = rng.normal(size=(N_ITEMS, STYLE_DIM))
    return {"table": table, "theta": theta, "dominant": dominant, "popularity": popularity, "style": style}


def _features(rng: np.random.Generator, theta: np.ndarray, style: np.ndarray, item_ids: pd.Series) -> dict:
    centred = theta - theta.mean(axis=0)
    out = {}
    for name, (dim, noise) in MODALITIES.items():
        w = rng.normal(size=(K, dim))
        signal = centred @ w
        signal /= signal.std()
        if name == "visual":
            s = style @ rng.normal(size=(STYLE_DIM, dim))
            signal = signal + VISUAL_STYLE_SHARE * s / s.std()
            signal /= signal.std()
        x = signal + noise * rng.normal(size=signal.shape)
        x = np.round(x, FEATURE_DECIMALS).astype(np.float32)
        keep = np.ones(N_ITEMS, dtype=bool)
        if name == "acoustic":
            silent = rng.choice(N_ITEMS, size=int(round(SILENT_FRACTION * N_ITEMS)), replace=False)
            keep[silent] = False
        index = pd.DataFrame({"item_id": item_ids[keep].to_numpy(), "row": np.arange(int(keep.sum()))})
        out[name] = (np.ascontiguousarray(x[keep]), index)
    return out


def _users(rng: np.random.Generator) -> dict:
    group = rng.choice(len(AGE_GROUPS), size=N_USERS, p=AGE_GROUP_P)
    age = np.array([rng.integers(AGE_GROUPS[g][0], AGE_GROUPS[g][1] + 1) for g in group])
    gender = rng.integers(2, size=N_USERS)
    region = rng.choice(len(REGIONS), size=N_USERS, p=REGION_P)
    device = np.array([rng.choice(len(DEVICES), p=DEVICE_P[g]) for g in group])

    region_pref = REGION_PREF_STD * rng.normal(size=(len(REGIONS), K))
    device_pref = DEVICE_PREF_STD * rng.normal(size=(len(DEVICES), K))
    profile_logits = AGE_PREF[group] + GENDER_PREF[gender] + region_pref[region] + device_pref[device]
    logits = profile_logits + INDIVIDUAL_STD * rng.normal(size=(N_USERS, K))
    taste = _softmax(logits / TASTE_TEMPERATURE)
    style_pref = rng.normal(size=(N_USERS, STYLE_DIM))

    table = pd.DataFrame(
        {
            "user_id": [f"u{u + 1:04d}" for u in range(N_USERS)],
            "age": age,
            "gender": [GENDERS[g] for g in gender],
            "region": [REGIONS[r] for r in region],
            "device": [DEVICES[d] for d in device],
        }
    )
    return {
        "table": table,
        "taste": taste,
        "style_pref": style_pref,
        "age_group": group,
        "profile_logits": profile_logits,
    }


def _interactions(rng: np.random.Generator, users: dict, items: dict) -> pd.DataFrame:
    taste, theta, pop = users["taste"], items["theta"], items["popularity"]
    affinity = taste @ theta.T  # [users, items] in [0, 1]
    style = users["style_pref"] @ items["style"].T / np.sqrt(STYLE_DIM)
    log_w = ALPHA * np.log(pop)[None, :] + BETA * affinity + GAMMA * style
    n = MIN_PER_USER + np.floor(rng.lognormal(np.log(ACTIVITY_MEDIAN), ACTIVITY_SIGMA, size=N_USERS)).astype(int)
    n = np.minimum(n, MAX_PER_USER)

    span_total = WINDOW_DAYS * 86400
    user_ids = users["table"]["user_id"].to_numpy()
    item_ids = items["table"]["item_id"].to_numpy()
    rows_u, rows_i, rows_b, rows_t = [], [], [], []
    for u in range(N_USERS):
        # n[u] distinct items drawn without replacement, P ∝ exp(log_w) (Gumbel top-k).
        keys = log_w[u] + rng.gumbel(size=N_ITEMS)
        chosen = np.argpartition(-keys, n[u])[: n[u]]
        chosen = chosen[rng.permutation(n[u])]  # history order
        # activity window: joins sometime in the first 2/3, stays active for a while.
        start = rng.uniform(0, span_total * 2 / 3)
        span = rng.uniform(0.25, 1.0) * (span_total - start)
        gaps = rng.exponential(size=n[u] + 1)
        times = start + span * np.cumsum(gaps)[:-1] / gaps.sum()
        times = times + rng.normal(0, 1800, size=n[u])  # some noise (not strictly increasing)
        times = np.clip(times, 0, span_total - 7200)
        # favourite propensity grows with the user's topic affinity, relative to their other picks
        a = affinity[u, chosen]
        z = (a - a.mean()) / max(a.std(), 1e-6)
        p_fav = 1 / (1 + np.exp(-(FAV_BASE_LOGIT + FAV_AFFINITY_SLOPE * z)))
        fav = rng.random(n[u]) < p_fav
        fav_only = fav & (rng.random(n[u]) < FAV_ONLY_SHARE)
        fav_delay = rng.exponential(1200, size=n[u]) + 5
        for k, i in enumerate(chosen):
            t = int(T0 + times[k])
            if not fav_only[k]:
                rows_u.append(user_ids[u])
                rows_i.append(item_ids[i])
                rows_b.append("like")
                rows_t.append(t)
            if fav[k]:
                rows_u.append(user_ids[u])
                rows_i.append(item_ids[i])
                rows_b.append("favorite")
                rows_t.append(t + int(fav_delay[k]) if not fav_only[k] else t)
    df = pd.DataFrame(
        {"user_id": rows_u, "item_id": rows_i, "behavior": rows_b, "timestamp": np.array(rows_t, dtype=np.int64)}
    )
    df = df.sort_values(["user_id", "timestamp", "item_id", "behavior"], kind="mergesort").reset_index(drop=True)
    return df


def build(seed: int = DEFAULT_SEED) -> dict:
    """Draw the whole dataset; returns tables, feature matrices and the latent variables."""
    rng = np.random.default_rng(seed)
    items = _items(rng)
    features = _features(rng, items["theta"], items["style"], items["table"]["item_id"])
    users = _users(rng)
    interactions = _interactions(rng, users, items)
    return {
        "interactions": interactions,
        "users": users["table"],
        "items": items["table"],
        "features": features,
        "latent": {
            "item_topics": items["theta"],
            "item_dominant_topic": items["dominant"],
            "item_popularity": items["popularity"],
            "item_style": items["style"],
            "user_style": users["style_pref"],
            "user_taste": users["taste"],
            "user_age_group": users["age_group"],
            "user_profile_logits": users["profile_logits"],
            "alpha": ALPHA,
            "beta": BETA,
            "gamma": GAMMA,
        },
    }


def write(out: Path, seed: int = DEFAULT_SEED) -> list[Path]:
    ds = build(seed)
    out.mkdir(parents=True, exist_ok=True)
    (out / "features").mkdir(exist_ok=True)
    written = []

    def csv(df: pd.DataFrame, path: Path) -> None:
        df.to_csv(path, index=False, encoding="utf-8", lineterminator="\n", float_format="%.6f")
        written.append(path)

    csv(ds["interactions"], out / "interactions.csv")
    csv(ds["users"], out / "users.csv")
    csv(ds["items"], out / "items.csv")
    for name, (matrix, index) in ds["features"].items():
        assert matrix.dtype == np.float32 and np.isfinite(matrix).all()
        path = out / "features" / f"{name}.npy"
        np.save(path, matrix, allow_pickle=False)
        written.append(path)
        csv(index, out / "features" / f"{name}.csv")
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(__file__).resolve().parent,
        help="output directory (default: beside this script)",
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")
    args = parser.parse_args(argv)
    for path in write(args.out, args.seed):
        print(f"{path}  {path.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
