"""A knowledge-aware closed-form item–item filter: EASE with the KG and the modality vectors as side information.

EASE (Steck, WWW 2019) is the strongest linear model of the harness and leads on dense data; the
collective form (Jeunen et al., "Closed-form models for collaborative filtering with
side-information", RecSys 2020) appends side information as extra rows of the training matrix,
which adds its Gram matrix to the item–item Gram:

    G = XᵀX + a·AᵀA + b·F Fᵀ,    P = (G + λI)⁻¹,    B = I − P · diag(1 / diag(P)),    s(u) = X_u B

* X (n_users, n_items): the binary training matrix;
* A (n_side, n_items): item → side-entity incidence of the user-side graph G_u (item attributes,
  modality concepts, external-KG entities; users excluded), from training data only;
* F (n_items, f): the items' row-normalised modality vectors.

Why in the recommender: read as a graph filter (Shen et al., GF-CF, CIKM 2021), LightGCN's
propagation is a low-pass filter of X; this term is the sharp item–item part a low-pass filter
misses, and the KG and features shape it. A never-seen item has a zero column in X but not in A or
F, so it is scored from warm items that share its attributes or look like it.

The weights a, b and λ are relative to the mean diagonal of XᵀX (an item's mean training
popularity), so one grid fits datasets of any density; :meth:`KnowledgeFilter.fit` takes the
relative values. Memory while fitting: up to three dense (n_items, n_items) float64 Gram matrices
(built as needed), the matrix being inverted and its inverse, then B in float32.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch

from ckgrec.model.data.graph_tensors import GraphTensors

MAX_ITEMS = 20_000  # above this the dense item x item fit (up to ~44·n² bytes, 17.6 GB at 20k) is not attempted


def _links(graph: GraphTensors, kind: str, entity: torch.Tensor, n: int) -> sp.csr_matrix:
    """(n_side, n) 0/1: which non-user, non-item entity each ``kind`` node (dense id, via ``entity``) is
    linked to in ``graph`` (either direction of a stored triple); entities linked to none are left out."""
    kinds = np.asarray(graph.kinds)
    h, t = graph.triples[:, 0].cpu().numpy(), graph.triples[:, 2].cpu().numpy()
    dense_of = np.full(graph.num_entities, -1, dtype=np.int64)
    dense_of[entity.cpu().numpy()] = np.arange(n)
    rows, cols = [], []
    for a, b in ((h, t), (t, h)):
        keep = (kinds[a] == kind) & (kinds[b] != "item") & (kinds[b] != "user")
        rows.append(b[keep])
        cols.append(dense_of[a[keep]])
    rows, cols = np.concatenate(rows), np.concatenate(cols)
    m = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(graph.num_entities, n))
    m.data[:] = 1.0  # a triple stored both ways counts once
    return m[np.asarray(m.getnnz(axis=1)) > 0]


def side_incidence(graph: GraphTensors, n_items: int) -> sp.csr_matrix:
    """(n_side, n_items) 0/1: which non-user, non-item entity each item is linked to in ``graph``
    (either direction of a stored triple); entities linked to no item are left out."""
    return _links(graph, "item", graph.item_entity, n_items)


class ProfilePopularity:
    """The filter's row for a user without training pairs, from its profile (G_i's user attributes):

        p(u) = Σ_{a ∈ profile(u)} X̄_a,    X̄_a = (1 / |U_a|) Σ_{v ∈ U_a} X_v    (n_items,)

    with U_a the users that have attribute a: how popular each item is within each of the user's
    profile groups (age band, occupation, ...), summed. X_u B is zero for such a user, so without this
    the filter knows nothing of it. No parameter: measured on a validation proxy (warm users scored
    from their profile alone, Recall@20 against MostPop's), 1.93× MostPop on the embedded data and
    1.02× on ML-100K, where shrinkage and IDF weights of the attributes changed neither by more
    than 0.1×.
    """

    def __init__(self, train: sp.csr_matrix, profiles: sp.csr_matrix):
        self._profiles = profiles.tocsr()  # (n_users, n_attributes) 0/1
        sizes = np.asarray(self._profiles.sum(axis=0), dtype=np.float64).ravel()
        group = (self._profiles.T @ train.astype(np.float64)).tocsr()  # (n_attributes, n_items) counts
        self._group = sp.diags(1.0 / np.maximum(sizes, 1.0)) @ group

    @classmethod
    def from_graph(cls, train: sp.csr_matrix, graph: GraphTensors) -> "ProfilePopularity | None":
        """From ``graph``'s user → attribute triples (G_i's profile edges); None when no user has any."""
        profiles = _links(graph, "user", graph.user_entity, train.shape[0]).T
        return cls(train, profiles) if profiles.nnz else None

    def scores(self, users: np.ndarray) -> np.ndarray:
        """(len(users), n_items) float64 p(u); zero rows for users without a profile."""
        return (self._profiles[users] @ self._group).toarray()


class KnowledgeFilter:
    """One training matrix with its side information, fitted to B for given relative (λ, a, b).

    The Gram matrices are built on first use and kept while a caller searches (λ, a, b), each only once
    a fit needs it (a = b = 0 needs XᵀX alone); :meth:`release` drops them once the search is done, so a
    model that scores with its chosen filter holds B only.
    """

    def __init__(self, train: sp.csr_matrix, side: sp.csr_matrix | None, features: np.ndarray | None):
        self._x = train.astype(np.float64)
        self._side = side if side is not None and side.nnz > 0 else None
        f = None if features is None else np.asarray(features, dtype=np.float64)
        self._features = f if f is not None and bool(np.any(f)) else None
        self._grams: dict[str, torch.Tensor | None] = {}

    def _gram(self, name: str) -> torch.Tensor | None:
        if name not in self._grams:
            if name == "x":
                self._grams["x"] = torch.from_numpy((self._x.T @ self._x).toarray())
            elif name == "a":
                side = self._side
                self._grams["a"] = self._relative(
                    torch.from_numpy((side.T @ side).toarray()) if side is not None else None
                )
            else:
                f = None if self._features is None else torch.from_numpy(self._features)
                self._grams["f"] = self._relative(f @ f.T if f is not None else None)
        return self._grams[name]

    @property
    def scale(self) -> float:
        """mean diag(XᵀX): an item's mean training popularity, the unit of λ, a and b."""
        return float(self._gram("x").diagonal().mean().clamp_min(1e-12))

    def _relative(self, gram: torch.Tensor | None) -> torch.Tensor | None:
        """``gram`` rescaled so that its mean diagonal equals XᵀX's (None when empty)."""
        if gram is None or float(gram.diagonal().mean()) <= 0:
            return None
        return gram.mul_(self.scale / float(gram.diagonal().mean()))

    @property
    def has_side(self) -> bool:
        return self._side is not None

    @property
    def has_features(self) -> bool:
        return self._features is not None

    def release(self) -> None:
        """Drop the Gram matrices (3 dense n_items² float64 at most); a later fit builds them again."""
        self._grams.clear()

    def fit(self, reg: float, a: float, b: float) -> torch.Tensor:
        """(n_items, n_items) float32 B with a zero diagonal; ``reg``, ``a``, ``b`` relative to mean diag(XᵀX)."""
        g = self._gram("x").clone()
        if a > 0 and self._gram("a") is not None:
            g += a * self._gram("a")
        if b > 0 and self._gram("f") is not None:
            g += b * self._gram("f")
        g.diagonal().add_(reg * self.scale)
        p = torch.linalg.inv(g)
        del g
        p.div_(-p.diagonal().clone().unsqueeze(0))  # B = −P diag(1/diag P), in place
        p.diagonal().zero_()
        return p.float()


def standardised(scores: torch.Tensor) -> torch.Tensor:
    """(B, n) scores shifted and scaled per row to mean 0, std 1, so two scorers on different
    scales can be mixed by one weight."""
    return (scores - scores.mean(-1, keepdim=True)) / scores.std(-1, keepdim=True).clamp_min(1e-12)
