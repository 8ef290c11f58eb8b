"""The triples a TransR pretraining run sees: mapped ids straight from a store, split for evaluation.

The trainer (:mod:`ckgrec.model.pretraining.pretrain`) takes a :class:`KGSplits` - integer triples plus id->label
lists - and never labelled triples: PyKEEN's ``from_labeled_triples`` deduplicates, drops and
reorders, which would silently break the store's dense id space. A store graph becomes a
``KGSplits`` through :func:`splits_from_store`; a PyKEEN dataset (Nations, for the comparison
with PyKEEN's own pipeline) through :func:`splits_from_pykeen`, so both go through the same
trainer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ckgrec.schemas.errors import ConfigError, StoreError
from ckgrec.schemas.store import Store
from ckgrec.schemas.tables import GRAPHS


@dataclass(frozen=True)
class KGSplits:
    """One knowledge graph's forward triples in dense ids, split into train / valid / test.

    ``valid`` drives early stopping, ``test`` is reported once at the end; both may be empty
    (no evaluation). Every held-out triple's head, relation and tail occur in ``train``.

    Shapes: ``train`` ``(n_train, 3)``, ``valid`` ``(n_valid, 3)``, ``test`` ``(n_test, 3)``,
    int64 columns (head, relation, tail).
    """

    name: str
    train: torch.Tensor
    valid: torch.Tensor
    test: torch.Tensor
    entity_labels: tuple[str, ...]
    relation_names: tuple[str, ...]  # forward relations only; inverse ids are r + R in a store

    def __post_init__(self) -> None:
        n, r = len(self.entity_labels), len(self.relation_names)
        if len(set(self.entity_labels)) != n:
            raise StoreError(f"{self.name}: entity labels are not unique; PyKEEN needs a one-to-one id<->label map")
        for part in ("train", "valid", "test"):
            x = getattr(self, part)
            if x.dtype != torch.long or x.ndim != 2 or x.shape[1] != 3:
                raise StoreError(
                    f"{self.name}: {part} triples must be an int64 (n, 3) tensor, got {x.dtype} {tuple(x.shape)}"
                )
            if len(x) and (x.min() < 0 or x[:, [0, 2]].max() >= n or x[:, 1].max() >= r):
                raise StoreError(
                    f"{self.name}: {part} triples use ids outside the id space "
                    f"(entities 0..{n - 1}, forward relations 0..{r - 1}; max head/tail {int(x[:, [0, 2]].max())}, "
                    f"max relation {int(x[:, 1].max())}); inverse relations must not appear as stored triples"
                )
        if len(self.train) == 0:
            raise StoreError(f"{self.name}: no training triples")

    @property
    def num_entities(self) -> int:
        return len(self.entity_labels)

    @property
    def num_relations(self) -> int:
        return len(self.relation_names)

    def triples_factory(self, triples: torch.Tensor):
        """A PyKEEN ``TriplesFactory`` over ``triples`` with this graph's full id<->label maps."""
        from pykeen.triples import TriplesFactory

        return TriplesFactory(
            mapped_triples=triples,
            entity_to_id={label: i for i, label in enumerate(self.entity_labels)},
            relation_to_id={name: i for i, name in enumerate(self.relation_names)},
            create_inverse_triples=False,
        )


def split_holdout(triples: np.ndarray, holdout: float, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hold out about ``holdout`` of the triples, half for validation and half for test.

    A sampled triple stays in training if its head, tail or relation would otherwise be
    missing from training (it could not be ranked fairly). Returning a triple only adds
    training occurrences, so one pass suffices.

    :param triples: shape ``(n, 3)`` int64
    :return: train, valid, test, each ``(n_part, 3)``; valid and test in random order
    """
    if not 0.0 <= holdout < 1.0:
        raise ConfigError(f"holdout share must lie in [0, 1), got {holdout}")
    n = len(triples)
    n_hold = int(round(holdout * n))
    rng = np.random.default_rng(seed)
    perm = rng.permutation(n)
    cand = perm[:n_hold]
    num_e = int(triples[:, [0, 2]].max()) + 1 if n else 0
    num_r = int(triples[:, 1].max()) + 1 if n else 0
    ent_all = np.bincount(triples[:, [0, 2]].ravel(), minlength=num_e)
    rel_all = np.bincount(triples[:, 1], minlength=num_r)
    c = triples[cand]
    ent_train = ent_all - np.bincount(c[:, [0, 2]].ravel(), minlength=num_e)
    rel_train = rel_all - np.bincount(c[:, 1], minlength=num_r)
    safe = (ent_train[c[:, 0]] > 0) & (ent_train[c[:, 2]] > 0) & (rel_train[c[:, 1]] > 0)
    held = cand[safe]
    keep = np.ones(n, dtype=bool)
    keep[held] = False
    half = len(held) // 2
    return triples[keep], triples[held[:half]], triples[held[half:]]


def splits_from_store(store: Store, graph: str, *, holdout: float, seed: int) -> KGSplits:
    """Read one graph of a store (forward triples, id->label maps) and hold out a share for evaluation."""
    if graph not in GRAPHS:
        raise ConfigError(f"unknown graph '{graph}'; graphs: {', '.join(GRAPHS)}")
    ents = store.graph_table("entities", graph, columns=["entity", "label"]).sort_values("entity")
    rels = store.graph_table("relations", graph, columns=["relation", "name", "inverse", "is_inverse"]).sort_values(
        "relation"
    )
    trip = store.graph_table("triples", graph, columns=["head", "relation", "tail"])
    n_e = len(ents)
    if not np.array_equal(ents["entity"].to_numpy(), np.arange(n_e)):
        raise StoreError(f"{store.path}: {graph} entity ids are not dense 0..{n_e - 1}")
    fwd = rels[~rels["is_inverse"]]
    n_r = len(fwd)
    ids = rels["relation"].to_numpy()
    if not np.array_equal(ids, np.arange(2 * n_r)) or not np.array_equal(
        fwd["inverse"].to_numpy(), np.arange(n_r) + n_r
    ):
        raise StoreError(
            f"{store.path}: {graph} relations must be forward ids 0..R-1 with inverses R..2R-1 "
            f"(R={n_r}); found ids {ids.tolist()}"
        )
    triples = trip.to_numpy(dtype=np.int64)
    train, valid, test = split_holdout(triples, holdout, seed)
    return KGSplits(
        name=graph,
        train=torch.from_numpy(train),
        valid=torch.from_numpy(valid),
        test=torch.from_numpy(test),
        entity_labels=tuple(ents["label"].astype(str)),
        relation_names=tuple(fwd["name"].astype(str)),
    )


def splits_from_pykeen(dataset) -> KGSplits:
    """A PyKEEN dataset's own train/valid/test (e.g. ``pykeen.datasets.Nations()``) as :class:`KGSplits`."""
    tf = dataset.training
    entity_labels = tuple(label for label, _ in sorted(tf.entity_to_id.items(), key=lambda kv: kv[1]))
    relation_names = tuple(name for name, _ in sorted(tf.relation_to_id.items(), key=lambda kv: kv[1]))
    return KGSplits(
        name=type(dataset).__name__.lower(),
        train=tf.mapped_triples.long(),
        valid=dataset.validation.mapped_triples.long(),
        test=dataset.testing.mapped_triples.long(),
        entity_labels=entity_labels,
        relation_names=relation_names,
    )
