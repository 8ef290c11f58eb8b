"""Top-K recommendations for one user from a trained run, with the KG paths that explain them."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import torch

from ckgrec.model.data.train_data import TrainData
from ckgrec.model.inference.explain import Path, best_paths
from ckgrec.model.models.base import Recommender
from ckgrec.schemas.errors import ConfigError


@dataclass
class Recommendation:
    rank: int
    item: int  # store id
    label: str  # source id
    name: str | None
    score: float
    cold: bool  # the item has no training interaction
    paths: list[dict] = field(default_factory=list)


def resolve_user(data: TrainData, user: str) -> int:
    users = data.store.table("users")
    hit = users.index[users["label"] == str(user)]
    if len(hit) == 0:
        raise ConfigError(
            f"unknown user '{user}' in {data.store.path} (users are named by their source id, e.g. '{users['label'].iloc[0]}')"
        )
    return int(users.loc[hit[0], "user"])


def recommend(
    model: Recommender, data: TrainData, user: int, k: int = 10, explain: bool = False, paths_per_graph: int = 2
) -> list[Recommendation]:
    known = data.train[user].indices.tolist() + data.valid[user].indices.tolist() + data.test[user].indices.tolist()
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 1:
        raise ConfigError(f"-k {k}: must be an integer >= 1 (the number of items to recommend)")
    if paths_per_graph < 0:
        raise ConfigError(f"--paths {paths_per_graph}: must be >= 0 (paths per graph with --explain)")
    with model.scoring():
        scores = model.score_users(torch.tensor([user], device=model.device))[0].float().cpu().numpy()
        if np.isnan(scores).any():
            raise ConfigError(
                f"the model scores {int(np.isnan(scores).sum())} of {len(scores)} items as NaN (a diverged run); "
                "retrain it, e.g. with a smaller learning rate"
            )
        scores[known] = -np.inf  # never recommend what the user already has
        candidates = int((scores > -np.inf).sum())  # unseen items the model can rank (-inf: excluded by the model)
        if k > candidates:
            raise ConfigError(
                f"-k {k}: must be between 1 and {candidates} (the items this user has not interacted with "
                "that the model can rank); pass a smaller -k"
            )
        top = np.argsort(-scores, kind="stable")[:k]
        items = data.store.table("items").set_index("item")
        train_counts = np.asarray(data.train.sum(axis=0)).ravel()
        out = []
        for rank, i in enumerate(top, start=1):
            rec = Recommendation(
                rank,
                int(i),
                str(items.at[int(i), "label"]),
                items.at[int(i), "name"],
                float(scores[i]),
                bool(train_counts[i] == 0),
            )
            if explain:
                rec.paths = [asdict(p) | {"text": p.text()} for p in explain_pair(model, user, int(i), paths_per_graph)]
            out.append(rec)
    return out


FILTER_GRAPH = "knowledge_filter"  # the Path.graph of the filter's evidence


def explain_pair(model: Recommender, user: int, item: int, top: int = 2) -> list[Path]:
    """Highest-attention paths user → item in each graph of a KG model (empty for other models), then,
    when a knowledge filter carries part of the score (dualkgat), the user's training items with the
    largest filter weight towards the item: user —interacted→ j —filter→ item, scored by B[j, item]."""
    encoders = getattr(model, "encoders", None)
    if encoders is None:
        return []
    paths: list[Path] = []
    for enc in encoders:
        g = enc.graph
        head, rel, tail, weight = (x.detach().cpu().numpy() for x in enc.attention())
        src, dst = int(g.user_entity[user]), int(g.item_entity[item])
        paths += best_paths(g.graph, head, rel, tail, weight, g.labels, g.relation_names, src, dst, top=top)
    evidence = getattr(model, "filter_evidence", None)
    if evidence is not None:
        g = encoders[0].graph
        user_label, item_label = str(g.labels[int(g.user_entity[user])]), str(g.labels[int(g.item_entity[item])])
        for j, w in evidence(user, item, top):
            nodes = (user_label, str(g.labels[int(g.item_entity[j])]), item_label)
            paths.append(Path(FILTER_GRAPH, w, nodes, ("interacted", "filter")))
    return paths
