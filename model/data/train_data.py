"""Train / valid / test interaction matrices of a store, at the (user, item) pair level.

A store's ``interactions`` table holds one row per (user, item, behaviour); a pair liked and
favourited has two rows, always in the same split. Recommenders here learn and are evaluated on
pairs, so behaviours are collapsed: a pair is a positive once, whatever its behaviours. Models
that need the behaviours or the graphs read them from :attr:`TrainData.store`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import scipy.sparse as sp

from ckgrec.schemas.errors import ConfigError, StoreError
from ckgrec.schemas.store import Store

SPLITS = ("train", "valid", "test")


def _pairs_matrix(users: np.ndarray, items: np.ndarray, n_users: int, n_items: int) -> sp.csr_matrix:
    m = sp.csr_matrix(
        (np.ones(len(users), dtype=np.float32), (np.asarray(users, dtype=np.int64), np.asarray(items, dtype=np.int64))),
        shape=(n_users, n_items),
    )
    m.sum_duplicates()
    m.data[:] = 1.0  # duplicates (several behaviours) count once
    m.sort_indices()
    return m


@dataclass(frozen=True, eq=False)
class TrainData:
    """The three splits as CSR matrices ``[n_users, n_items]`` of float32 ones (sorted indices).

    ``fingerprint`` is the store's id-space fingerprint (checkpoints and run directories record
    it); ``store`` is the open store for models that read graphs or features (None when built
    from plain arrays in tests).
    """

    n_users: int
    n_items: int
    train: sp.csr_matrix
    valid: sp.csr_matrix
    test: sp.csr_matrix
    fingerprint: str
    store: Store | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        for name in SPLITS:
            m = getattr(self, name)
            if m.shape != (self.n_users, self.n_items):
                raise StoreError(f"{name} matrix has shape {m.shape}, expected ({self.n_users}, {self.n_items})")
        overlap = (
            self.train.multiply(self.valid).nnz
            + self.train.multiply(self.test).nnz
            + self.valid.multiply(self.test).nnz
        )
        if overlap:
            raise StoreError(
                f"{overlap} (user, item) pairs sit in more than one split; the store's split is broken (rebuild it)"
            )

    # ---- construction ---------------------------------------------------------------------
    @classmethod
    def from_store(cls, store: Store) -> "TrainData":
        """Read ``interactions`` (user, item, split) from ``store`` and collapse behaviours."""
        df = store.table("interactions", columns=["user", "item", "split"])
        n_users, n_items = store.num_users, store.num_items
        users = df["user"].to_numpy(np.int64)
        items = df["item"].to_numpy(np.int64)
        if len(df) and (users.min() < 0 or users.max() >= n_users or items.min() < 0 or items.max() >= n_items):
            raise StoreError(
                f"{store.path}: interaction ids outside 0..{n_users - 1} / 0..{n_items - 1}; the store is corrupted"
            )
        split = df["split"].to_numpy()
        unknown = set(np.unique(split)) - set(SPLITS)
        if unknown:
            raise StoreError(f"{store.path}: interactions.split has values {sorted(unknown)}; expected {SPLITS}")
        mats = {s: _pairs_matrix(users[split == s], items[split == s], n_users, n_items) for s in SPLITS}
        return cls(n_users, n_items, mats["train"], mats["valid"], mats["test"], store.fingerprint, store)

    def require_heldout(self) -> None:
        """Refuse data whose validation or test split is empty, saying why (``ckg train`` calls it).

        Without validation pairs there is nothing to choose the best epoch on and no validation
        score; without test pairs there is no test score. Training anyway would report scores
        of nobody.
        """
        where = str(self.store.path) if self.store is not None else "the data"
        fix = (
            "rebuild the store so that it holds some out: give [build.split] ratios a share for it, lower "
            "min_pairs_for_holdout (users with fewer pairs keep them all in train), or, with a given split, "
            "use a source whose split has it"
        )
        for name, what, why in (
            ("valid", "validation", "there is nothing to select the best epoch on (early stopping)"),
            ("test", "test", "there is nothing to score the trained model on"),
        ):
            if self.split(name).nnz == 0:
                built = ""
                if self.store is not None:
                    said = [
                        w for w in self.store.manifest.get("warnings", []) if w.startswith(f"split: the {what} split")
                    ]
                    built = f" (the build said: {said[0]})" if said else ""
                raise StoreError(f"{where} has no {what} pairs, so {why}{built}; {fix}")

    @classmethod
    def from_pairs(
        cls,
        n_users: int,
        n_items: int,
        train: tuple[np.ndarray, np.ndarray],
        valid: tuple[np.ndarray, np.ndarray] = (np.empty(0, np.int64), np.empty(0, np.int64)),
        test: tuple[np.ndarray, np.ndarray] = (np.empty(0, np.int64), np.empty(0, np.int64)),
    ) -> "TrainData":
        """Build from (users, items) arrays per split (tests, generated benchmarks)."""
        mats = [_pairs_matrix(u, i, n_users, n_items) for u, i in (train, valid, test)]
        h = hashlib.sha256(f"{n_users}x{n_items}".encode())
        for m in mats:
            h.update(m.indptr.tobytes())
            h.update(m.indices.tobytes())
        return cls(n_users, n_items, *mats, fingerprint="pairs-" + h.hexdigest()[:26])

    # ---- views ---------------------------------------------------------------------------
    def split(self, name: str) -> sp.csr_matrix:
        if name not in SPLITS:
            raise ConfigError(f"unknown split '{name}'; use one of {', '.join(SPLITS)}")
        return getattr(self, name)

    def exclusion(self, name: str) -> sp.csr_matrix:
        """Items never ranked when evaluating split ``name``: train for valid, train + valid for test."""
        if name == "train":
            return sp.csr_matrix((self.n_users, self.n_items), dtype=np.float32)
        if name == "valid":
            return self.train
        if name == "test":
            return self._train_valid
        raise ConfigError(f"unknown split '{name}'; use one of {', '.join(SPLITS)}")

    @cached_property
    def _train_valid(self) -> sp.csr_matrix:
        m = (self.train + self.valid).tocsr()
        m.sort_indices()
        return m

    @cached_property
    def item_popularity(self) -> np.ndarray:
        """Training users per item, shape (n_items,), int64."""
        return np.bincount(self.train.indices, minlength=self.n_items).astype(np.int64)

    @cached_property
    def user_degree(self) -> np.ndarray:
        """Training items per user, shape (n_users,), int64."""
        return np.diff(self.train.indptr).astype(np.int64)

    @cached_property
    def cold_items(self) -> np.ndarray:
        """Items without a training interaction."""
        return np.flatnonzero(self.item_popularity == 0)

    def train_pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """(users, items) of the training pairs, sorted by user then item."""
        users = np.repeat(np.arange(self.n_users, dtype=np.int64), np.diff(self.train.indptr))
        return users, self.train.indices.astype(np.int64)

    def users_with_positives(self, name: str) -> np.ndarray:
        return np.flatnonzero(np.diff(self.split(name).indptr) > 0)

    def summary(self) -> str:
        n = {s: self.split(s).nnz for s in SPLITS}
        return (
            f"{self.n_users:,} users x {self.n_items:,} items; pairs train {n['train']:,} / valid {n['valid']:,} / test {n['test']:,}; "
            f"{len(self.cold_items):,} items without training pairs"
        )
