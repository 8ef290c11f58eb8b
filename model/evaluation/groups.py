"""Scores per user/item group, from the same scored batch as the overall full ranking.

A single figure over all test users hides where side information has to pay: items nobody has
interacted with yet, users with almost no history. The cold-start protocols of the split
(``interactions.protocol``, see :func:`ckgrec.kgbuild.split.assign_cold_start`) decide the groups:

* **cold items** -- items held out with all their interactions (protocol ``cold_item``);
* **cold users** -- users reduced to their profile and at most k training pairs (``cold_user``).

Groups of a split (each user's targets are the split's held-out pairs named below; seen items
are masked as in the overall ranking):

``warm``
    non-cold users, their held-out pairs on non-cold items. Candidates: every item except the
    cold items, so the figure means what it means on a store without cold start, whatever a
    model does with new items.
``cold_users``
    cold users, their held-out pairs (on non-cold items); candidates as for ``warm``.
``activity_q1`` .. ``activity_q4``
    ``warm`` split by the user's number of training pairs: quartile cut points over all
    non-cold users with a training pair (q1 = least active). A user with a degree equal to a
    cut point falls in the lower quartile, so equal degrees share a quartile and the sizes are
    only roughly equal.
``cold_items_all``
    non-cold users, their held-out pairs on cold items, ranked among ALL items. The user's other
    held-out pairs of the split (on warm items) are removed from the candidates -- they are
    known positives, neither hits nor misses -- so warm items compete only as negatives.
``cold_items_only``
    the same users and targets, ranked among the cold items only: can the model order new items
    at all, with established ones out of the way.

Cold users' pairs on cold items belong to neither cold group (two cold starts at once); they
count only in the overall figure. A group without users in a split is absent.

A model whose class says ``can_score_cold_items = False`` (ID-only: a never-seen item keeps its
untrained initialisation or a popularity of 0) gets ``"n/a"`` for both cold-item groups instead
of numbers. Likewise ``can_score_cold_users = False`` (the model has nothing to go on for a user
without history: an untrained ID embedding, or an empty history for a neighbourhood model) gets
``"n/a"`` for ``cold_users`` when no cold user has a training pair (the k = 0 protocol); with
k > 0 pairs every model has a history to work from, so the group is scored. What the ranking
gave anyway goes to ``groups_uninformed`` for anyone who wants to see it, never into the tables.

Cost: per user batch, at most three extra :func:`torch.topk` calls on the score matrix the
overall ranking already produced (none for the known-item ranking when the store has no cold
items: it is then the overall ranking itself).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch

from ckgrec.model.evaluation.metrics import metric_keys, topk_metrics

WARM = "warm"
COLD_ITEMS_ALL = "cold_items_all"
COLD_ITEMS_ONLY = "cold_items_only"
COLD_USERS = "cold_users"
ACTIVITY = tuple(f"activity_q{q}" for q in range(1, 5))
GROUPS = (WARM, COLD_ITEMS_ALL, COLD_ITEMS_ONLY, COLD_USERS, *ACTIVITY)
COLD_ITEM_GROUPS = (COLD_ITEMS_ALL, COLD_ITEMS_ONLY)
NOT_APPLICABLE = "n/a"


@dataclass(frozen=True)
class Protocols:
    """Which items and users the split's cold-start protocols held out (sorted dense ids)."""

    cold_items: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    cold_users: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    # True when the cold users kept no training pair at all (k = 0): only a model that can rank
    # for a user without history (popularity, a content bias, profile edges) is scored on them.
    cold_users_without_history: bool = False

    @classmethod
    def from_store(cls, store) -> "Protocols":
        df = store.table("interactions", columns=["user", "item", "split", "protocol"])
        cold_user = (df["protocol"] == "cold_user").to_numpy()
        cold_users = np.unique(df.loc[cold_user, "user"].to_numpy(np.int64))
        trained = np.isin(df["user"].to_numpy(np.int64), cold_users) & (df["split"] == "train").to_numpy()
        return cls(
            np.unique(df.loc[df["protocol"] == "cold_item", "item"].to_numpy(np.int64)),
            cold_users,
            cold_users_without_history=bool(len(cold_users)) and not trained.any(),
        )

    @classmethod
    def of(cls, data) -> "Protocols":
        """The store's protocols, or none for data built from plain arrays."""
        return cls.from_store(data.store) if data.store is not None else cls()


def activity_quartiles(user_degree: np.ndarray, cold_users: np.ndarray) -> np.ndarray:
    """Quartile 1..4 of each user's training degree among non-cold users with a training pair; 0 otherwise."""
    out = np.zeros(len(user_degree), dtype=np.int64)
    eligible = user_degree > 0
    eligible[cold_users] = False
    if not eligible.any():
        return out
    cuts = np.quantile(user_degree[eligible], [0.25, 0.5, 0.75])
    out[eligible] = np.searchsorted(cuts, user_degree[eligible], side="left") + 1
    return out


@dataclass
class GroupScores:
    """Per-user values of one group (users ascending) and their means."""

    users: np.ndarray
    per_user: dict[str, np.ndarray]

    @property
    def n_users(self) -> int:
        return int(len(self.users))

    def means(self) -> dict[str, float]:
        return {k: float(v.mean()) for k, v in self.per_user.items()}


class GroupRanker:
    """Accumulates the group rankings of one split, batch by batch, inside :func:`ckgrec.model.evaluation.evaluator.evaluate`.

    Shapes: ``scores`` (B, n_items) with seen items already ``-inf``; ``target`` (B, n_items)
    bool, the split's held-out pairs of the batch's users.
    """

    def __init__(self, data, split: str, protocols: Protocols, ks: tuple[int, ...]):
        self.ks = tuple(ks)
        self.max_k = max(ks)
        self.n_items = data.n_items
        positives: sp.csr_matrix = data.split(split)
        is_cold_item = np.zeros(data.n_items, dtype=bool)
        is_cold_item[protocols.cold_items] = True
        self.cold_items = np.flatnonzero(is_cold_item)
        self.is_cold_user = np.zeros(data.n_users, dtype=bool)
        self.is_cold_user[protocols.cold_users] = True
        n_pos = np.diff(positives.indptr)
        self.n_pos_cold = (
            np.asarray(positives[:, self.cold_items].sum(1)).ravel().astype(np.int64)
            if len(self.cold_items)
            else np.zeros(data.n_users, np.int64)
        )
        self.n_pos_known = n_pos - self.n_pos_cold
        self.quartile = activity_quartiles(data.user_degree, protocols.cold_users)
        self._cold_t: torch.Tensor | None = None
        self._known: dict[str, list] = {"users": [], **{k: [] for k in metric_keys(self.ks)}}
        self._cold: dict[str, dict[str, list]] = {
            g: {"users": [], **{k: [] for k in metric_keys(self.ks)}} for g in COLD_ITEM_GROUPS
        }

    def _topk_hits(self, scores: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """(B, max_k) hits of the top of ``scores``; a -inf (masked) item is never a hit."""
        k = min(self.max_k, scores.shape[1])
        vals, top = torch.topk(scores, k, dim=1)
        hits = target.gather(1, top) & torch.isfinite(vals)
        if k < self.max_k:
            hits = torch.cat([hits, torch.zeros(len(hits), self.max_k - k, dtype=torch.bool, device=hits.device)], 1)
        return hits

    @staticmethod
    def _add(store: dict[str, list], users: np.ndarray, metrics: dict[str, torch.Tensor]) -> None:
        store["users"].append(users)
        for key, v in metrics.items():
            store[key].append(v.cpu().numpy())

    def add_batch(
        self, rows: np.ndarray, scores: torch.Tensor, target: torch.Tensor, overall_hits: torch.Tensor
    ) -> None:
        """Rank the batch for every group; may overwrite ``scores`` (the evaluator is done with it)."""
        device = scores.device
        if len(self.cold_items):
            cold_t = self._cold_t
            if cold_t is None or cold_t.device != device:
                cold_t = self._cold_t = torch.from_numpy(self.cold_items).to(device)
            sel = np.flatnonzero((self.n_pos_cold[rows] > 0) & ~self.is_cold_user[rows])
            if len(sel):
                sel_t = torch.from_numpy(sel).to(device)
                sub, sub_target = scores[sel_t], target[sel_t]
                n_pos = torch.from_numpy(self.n_pos_cold[rows[sel]]).to(device)
                only = self._topk_hits(sub[:, cold_t], sub_target[:, cold_t])
                self._add(self._cold[COLD_ITEMS_ONLY], rows[sel], topk_metrics(only, n_pos, self.ks))
                known_pos = sub_target.clone()
                known_pos[:, cold_t] = False
                sub[known_pos] = -torch.inf  # the user's other held-out pairs: neither hit nor miss
                self._add(
                    self._cold[COLD_ITEMS_ALL],
                    rows[sel],
                    topk_metrics(self._topk_hits(sub, sub_target), n_pos, self.ks),
                )
        sel = np.flatnonzero(self.n_pos_known[rows] > 0)
        if not len(sel):
            return
        sel_t = torch.from_numpy(sel).to(device)
        if len(self.cold_items):
            scores[:, self._cold_t] = -torch.inf
            hits = self._topk_hits(scores[sel_t], target[sel_t])
        else:  # no cold items: the known-item ranking is the overall ranking
            hits = overall_hits[sel_t]
        n_pos = torch.from_numpy(self.n_pos_known[rows[sel]]).to(device)
        self._add(self._known, rows[sel], topk_metrics(hits, n_pos, self.ks))

    def result(self) -> dict[str, GroupScores]:
        """Every group with at least one user, in :data:`GROUPS` order."""

        def done(store: dict[str, list]) -> GroupScores:
            users = np.concatenate(store["users"]) if store["users"] else np.empty(0, np.int64)
            return GroupScores(
                users, {k: (np.concatenate(v) if v else np.empty(0)) for k, v in store.items() if k != "users"}
            )

        known = done(self._known)
        cold_user = self.is_cold_user[known.users]
        masks = {WARM: ~cold_user, COLD_USERS: cold_user}
        for q, name in enumerate(ACTIVITY, start=1):
            masks[name] = ~cold_user & (self.quartile[known.users] == q)
        out: dict[str, GroupScores] = {}
        for name in GROUPS:
            if name in COLD_ITEM_GROUPS:
                g = done(self._cold[name])
            else:
                m = masks[name]
                g = GroupScores(known.users[m], {k: v[m] for k, v in known.per_user.items()})
            if g.n_users:
                out[name] = g
        return out


def unscorable_groups(model, protocols: Protocols) -> frozenset[str]:
    """The groups this model gets "n/a" for, from its ``can_score_cold_items`` /
    ``can_score_cold_users`` (read from the instance: a graph model's answer can depend on which
    graphs it was built with)."""
    out: set[str] = set()
    if not getattr(model, "can_score_cold_items", False):
        out.update(COLD_ITEM_GROUPS)
    if protocols.cold_users_without_history and not getattr(model, "can_score_cold_users", False):
        out.add(COLD_USERS)
    return frozenset(out)


def group_scores(
    results: dict[str, dict[str, GroupScores]], unscorable: frozenset[str] | set[str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``scores.json``'s ``groups`` (``{split: {group: {metric: mean, "n_users": n} | "n/a"}}``)
    and ``groups_uninformed`` (the figures of the groups in ``unscorable``, see
    :func:`unscorable_groups`)."""
    groups: dict[str, Any] = {}
    uninformed: dict[str, Any] = {}
    for split, per_group in results.items():
        groups[split] = {}
        for name, g in per_group.items():
            entry = {**g.means(), "n_users": g.n_users}
            if name in unscorable:
                groups[split][name] = NOT_APPLICABLE
                uninformed.setdefault(split, {})[name] = entry
            else:
                groups[split][name] = entry
    return groups, uninformed


def scored_groups(per_group: dict[str, GroupScores], unscorable: frozenset[str] | set[str]) -> dict[str, GroupScores]:
    """The groups whose per-user values mean something for this model (paired tests use only these)."""
    return {n: g for n, g in per_group.items() if n not in unscorable}
