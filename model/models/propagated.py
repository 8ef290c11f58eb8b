"""Shared behaviour of graph-propagation models (NGCF, LightGCN, SimGCL, FREEDOM, KGIN).

Each propagates its embeddings over a graph and scores by inner products of the propagated user
and item vectors; they differ in :meth:`propagate`. BPR loss, the L2 of the batch's *ego*
embeddings (as NGCF and LightGCN regularise; models that penalise otherwise override
:meth:`regularization`), and the scoring cache live here once.
"""

from __future__ import annotations

import abc

import torch

from ckgrec.model.models.base import Batch, Recommender
from ckgrec.model.nn.losses import bpr_loss, embedding_l2


class PropagatedBPR(Recommender):
    _cache: tuple[torch.Tensor, torch.Tensor] | None = None

    @abc.abstractmethod
    def propagate(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(users (n_users, D), items (n_items, D)) after propagation."""

    def loss(self, batch: Batch) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        loss = self.ranking_loss(*self.propagate(), batch)
        return loss, {"bpr": loss.detach()}

    @staticmethod
    def ranking_loss(users: torch.Tensor, items: torch.Tensor, batch: Batch) -> torch.Tensor:
        """BPR of the batch on given user (n_users, D) and item (n_items, D) vectors."""
        u = users[batch.users]
        return bpr_loss((u * items[batch.pos]).sum(-1), (u.unsqueeze(1) * items[batch.neg]).sum(-1))

    def regularization(self, batch: Batch) -> torch.Tensor:
        e = self.embedding
        return embedding_l2(e(batch.users), e(batch.pos + self.n_users), e(batch.neg.flatten() + self.n_users))

    def prepare_scoring(self) -> None:
        self._cache = self.propagate()

    def release_scoring(self) -> None:
        self._cache = None

    def score_users(self, users: torch.Tensor) -> torch.Tensor:
        u, i = self._cache if self._cache is not None else self.propagate()
        return u[users] @ i.T
