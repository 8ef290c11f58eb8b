"""RP3β: a 3-step random walk item→user→item with a popularity penalty (Paudel et al.,
"Updatable, Accurate, Diverse, and Scalable Recommendations for Interactive Applications",
ACM TiiS 2016; the configuration of Dacrema et al., RecSys 2019).

With X (U, I) the binary training matrix, transition probabilities raised to the power α:

    P_ui = (D_U^{-1} X)^α          (U, I)  user → item, rows of D_U^{-1} X sum to 1
    P_iu = (D_I^{-1} Xᵀ)^α         (I, U)  item → user, rows of D_I^{-1} Xᵀ sum to 1
    W[i, j] = (P_iu P_ui)[i, j] / pop(j)^β,    W[j, j] = 0,    pop(j) = Σ_u X[u, j]
    keep the k largest W[i, j] of each row i;     score(u, j) = Σ_{i ∈ I_u} W[i, j]   (scores = X W)

Shapes: W (I, I) sparse with k entries per row, stored as (I, k) neighbour ids and weights.
α = 1, β = 0 is P³ (the plain 3-step walk); β > 0 moves long-tail items up. Closed form; the
walk matrix is formed one block of rows at a time (:mod:`ckgrec.model.models.neighbourhood`).

Defaults α = 1, β = 0.5, k = 100; Dacrema et al. search α in [0, 2], β in [0, 2] and k in
[5, 1000] per dataset, so tune them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch

from ckgrec.model.core.search_space import Categorical, Float
from ckgrec.model.data.train_data import TrainData
from ckgrec.model.models.base import ModelConfig, option
from ckgrec.model.models.neighbourhood import ItemNeighbourhood, binary_history, csr_row_block
from ckgrec.model.nn.graph_ops import to_torch_csr


@dataclass(frozen=True, kw_only=True)
class RP3betaConfig(ModelConfig):
    alpha: float = option(1.0, "exponent α applied to each transition probability", low=0.0)
    beta: float = option(0.5, "popularity penalty β: column j of the walk matrix is divided by pop(j)^β", low=0.0)
    k: int = option(100, "entries kept per item row of the walk matrix (the k largest)", low=1)


def transition(m: sp.csr_matrix, alpha: float) -> sp.csr_matrix:
    """Row-stochastic ``D^{-1} m`` with each entry raised to ``alpha`` (float32 CSR, sorted)."""
    m = sp.csr_matrix(m, dtype=np.float32, copy=True)
    m.data[:] = 1.0
    deg = np.asarray(m.sum(1)).ravel()
    inv = np.zeros_like(deg)
    np.divide(1.0, deg, out=inv, where=deg > 0)
    p = (sp.diags(inv.astype(np.float32)) @ m).tocsr()
    p.data = np.power(p.data, alpha, dtype=np.float32)
    p.sort_indices()
    return p


class RP3beta(ItemNeighbourhood):
    name = "rp3beta"
    description = "3-step item→user→item random walk with popularity penalty β, top-k per item (closed form)"
    paper = "Paudel et al., ACM TiiS 2016; setup of Dacrema et al., RecSys 2019"
    Config = RP3betaConfig
    search_space = {
        "alpha": Float("model", 0.0, 2.0),
        "beta": Float("model", 0.0, 1.0),
        "k": Categorical("model", (10, 20, 50, 100, 200, 500)),
    }
    is_baseline = True
    rows_are_targets = False

    def __init__(self, n_users: int, n_items: int, alpha: float, beta: float, k: int, history: torch.Tensor):
        super().__init__(n_users, n_items, k, history)
        self.alpha = float(alpha)
        self.beta = float(beta)
        self._fit: tuple[np.ndarray, torch.Tensor, torch.Tensor, torch.Tensor] | None = None

    @classmethod
    def build(cls, data: TrainData, config: RP3betaConfig, device: torch.device) -> "RP3beta":
        return cls(data.n_users, data.n_items, config.alpha, config.beta, config.k, binary_history(data, device)).to(
            device
        )

    def prepare_fit(self, data: TrainData) -> None:
        p_ui = transition(data.train, self.alpha)
        p_iu = transition(data.train.T.tocsr(), self.alpha)
        pop = np.asarray(data.item_popularity, dtype=np.float64)
        penalty = np.zeros_like(pop)
        np.power(pop, -self.beta, out=penalty, where=pop > 0)  # items without users have no walks into them
        dev = self.weights.device
        self._fit = (
            p_iu.indptr,
            to_torch_csr(p_iu, dev),
            to_torch_csr(p_ui, dev),
            torch.from_numpy(penalty.astype(np.float32)).to(dev),
        )

    def release_fit(self) -> None:
        self._fit = None

    def similarity_rows(self, start: int, stop: int) -> torch.Tensor:
        """W[i, ·] for the items i in ``start:stop``: (stop - start, I)."""
        indptr, p_iu, p_ui, penalty = self._fit
        walk = torch.sparse.mm(csr_row_block(indptr, p_iu, start, stop), p_ui).to_dense()  # (P_iu P_ui)[i, ·]
        return walk * penalty[None, :]

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, alpha={self.alpha}, beta={self.beta}"
