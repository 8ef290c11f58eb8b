"""Vectorised BPR triple sampling: (user, positive, negatives not among the user's training items).

An epoch is one pass over every training pair in a random order (as RecBole and the LightGCN
reference code do), each pair drawing ``num_negatives`` items uniformly. Membership in the
training set is tested for all rows at once with :func:`torch.searchsorted` on the sorted keys
``user * n_items + item``; rows whose negative hits a training item are redrawn together until
none does. Users with nearly every item in train make rejection slow, so after ``max_rounds``
the few rows left draw from their user's explicit complement.

Sampling runs on the CPU with the trainer's :class:`torch.Generator`, so it is identical on every
device and its state can be checkpointed; batches are moved to the model's device afterwards.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np
import scipy.sparse as sp
import torch

from ckgrec.model.models.base import Batch
from ckgrec.schemas.errors import ConfigError


class BPRSampler:
    """Draws BPR batches from a training CSR matrix.

    :param train: CSR ``[n_users, n_items]``, sorted indices (as :class:`ckgrec.model.data.train_data.TrainData` holds it).
    :param num_negatives: k negatives per positive; ``Batch.neg`` has shape (B, k).
    :param negatives_from: ``"all"`` items, or only ``"trained"`` ones (with a training pair), so
        that never-seen (cold) items are not pushed down by being negatives and nothing else.
    """

    def __init__(self, train: sp.csr_matrix, num_negatives: int = 1, max_rounds: int = 50, negatives_from: str = "all"):
        if num_negatives < 1:
            raise ConfigError(f"num_negatives = {num_negatives}: must be >= 1")
        train = train.tocsr()
        train.sort_indices()
        self.n_users, self.n_items = train.shape
        self.num_negatives = int(num_negatives)
        self.max_rounds = int(max_rounds)
        self._indptr = train.indptr.astype(np.int64)
        self._indices = train.indices.astype(np.int64)
        degree = np.diff(self._indptr)
        full = np.flatnonzero(degree >= self.n_items)
        if len(full):
            raise ConfigError(
                f"{len(full)} user(s) (e.g. user {full[0]}) have every item in train, so no negative exists for them; "
                "drop them from the data (k-core / max-items filter)"
            )
        users = np.repeat(np.arange(self.n_users, dtype=np.int64), degree)
        self.users = torch.from_numpy(users)
        self.items = torch.from_numpy(self._indices.copy())
        # sorted because CSR rows are in user order and indices sorted within a row
        self.keys = self.users * self.n_items + self.items
        if negatives_from not in ("all", "trained"):
            raise ConfigError(f"negatives_from = {negatives_from!r}: use 'all' or 'trained'")
        # None = every item; else the candidate items negatives are drawn from
        self.candidates = (
            None
            if negatives_from == "all"
            else torch.from_numpy(np.flatnonzero(np.bincount(self._indices, minlength=self.n_items) > 0))
        )
        if self.candidates is not None:
            short = np.flatnonzero(degree >= len(self.candidates))
            if len(short):
                raise ConfigError(
                    f"{len(short)} user(s) (e.g. user {short[0]}) have every trained item in train; use negatives_from = 'all'"
                )

    def __len__(self) -> int:
        return int(self.users.numel())

    def num_batches(self, batch_size: int) -> int:
        return -(-len(self) // batch_size)

    def is_train(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        """Boolean tensor, same shape as ``items``: whether (user, item) is a training pair."""
        key = users * self.n_items + items
        pos = torch.searchsorted(self.keys, key).clamp_(max=max(len(self.keys) - 1, 0))
        return self.keys[pos] == key if len(self.keys) else torch.zeros_like(key, dtype=torch.bool)

    def sample_negatives(self, users: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """(len(users), k) items, each not a training item of its user."""
        n, k = users.numel(), self.num_negatives
        neg = self._draw((n, k), generator)
        u = users.view(-1, 1).expand(n, k)
        bad = self.is_train(u, neg).nonzero(as_tuple=True)
        for _ in range(self.max_rounds):
            if bad[0].numel() == 0:
                return neg
            redraw = self._draw((bad[0].numel(),), generator)
            neg[bad] = redraw
            still = self.is_train(u[bad], redraw)
            bad = (bad[0][still], bad[1][still])
        for r, c in zip(bad[0].tolist(), bad[1].tolist()):  # the rare rows of near-complete users
            user = int(users[r])
            seen = self._indices[self._indptr[user] : self._indptr[user + 1]]
            pool = np.arange(self.n_items) if self.candidates is None else self.candidates.numpy()
            free = np.setdiff1d(pool, seen, assume_unique=True)
            neg[r, c] = int(free[int(torch.randint(len(free), (1,), generator=generator))])
        return neg

    def _draw(self, shape: tuple[int, ...], generator: torch.Generator) -> torch.Tensor:
        if self.candidates is None:
            return torch.randint(self.n_items, shape, generator=generator)
        return self.candidates[torch.randint(len(self.candidates), shape, generator=generator)]

    def draw_epoch(self, generator: torch.Generator) -> Batch:
        """Every training pair once, shuffled, with fresh negatives, as one big batch.

        All randomness of the epoch is drawn here (permutation, then negatives), so an epoch
        depends only on the generator state at its start.
        """
        perm = torch.randperm(len(self), generator=generator)
        users = self.users[perm]
        return Batch(users, self.items[perm], self.sample_negatives(users, generator))

    @staticmethod
    def split(drawn: Batch, batch_size: int) -> Iterator[Batch]:
        """Consecutive batches of ``batch_size`` rows of a drawn epoch; the last may be short."""
        if batch_size < 1:
            raise ConfigError(f"batch_size = {batch_size}: must be >= 1")
        for start in range(0, len(drawn), batch_size):
            sl = slice(start, start + batch_size)
            yield Batch(drawn.users[sl], drawn.pos[sl], drawn.neg[sl])

    def epoch(self, batch_size: int, generator: torch.Generator) -> Iterator[Batch]:
        """:meth:`draw_epoch` split into batches."""
        return self.split(self.draw_epoch(generator), batch_size)
