"""ItemKNN: item-based collaborative filtering with shrunk cosine similarity (Sarwar et al.,
WWW 2001; the configuration of Dacrema et al., "Are We Really Making Much Progress?", RecSys 2019).

With X (U, I) the binary training matrix and x_i its column of item i (the item's users):

    sim(i, j) = x_iᵀ x_j / (‖x_i‖ ‖x_j‖ + shrink),      sim(j, j) = 0
    N_k(j)    = the k items i with the largest sim(i, j)                     (neighbours of the target j)
    score(u, j) = Σ_{i ∈ I_u ∩ N_k(j)} sim(i, j)          i.e.  scores = X W,  W[i, j] = sim(i, j)·[i ∈ N_k(j)]

Shapes: W (I, I) sparse with k entries per column, stored as (I, k) neighbour ids and weights.
The shrink term damps similarities resting on few common users. Closed form; the Gram matrix
XᵀX is formed one block of rows at a time (:mod:`ckgrec.model.models.neighbourhood`).

Defaults k = 100, shrink = 10; Dacrema et al. search k in [5, 1000] and shrink in [0, 1000]
per dataset, so tune both.
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
class ItemKNNConfig(ModelConfig):
    k: int = option(100, "neighbours kept per target item (the k most similar items)", low=1)
    shrink: float = option(10.0, "shrinkage added to the cosine's denominator ‖x_i‖‖x_j‖", low=0.0)


class ItemKNN(ItemNeighbourhood):
    name = "itemknn"
    description = "item-based kNN: shrunk cosine of item interaction columns, top-k neighbours per item (closed form)"
    paper = "Sarwar et al., WWW 2001; setup of Dacrema et al., RecSys 2019"
    Config = ItemKNNConfig
    search_space = {
        "k": Categorical("model", (10, 20, 50, 100, 200, 500)),
        "shrink": Float("model", 0.0, 100.0),
    }
    is_baseline = True
    rows_are_targets = True

    def __init__(self, n_users: int, n_items: int, k: int, shrink: float, history: torch.Tensor):
        super().__init__(n_users, n_items, k, history)
        self.shrink = float(shrink)
        self._fit: tuple[np.ndarray, torch.Tensor, torch.Tensor, torch.Tensor] | None = None

    @classmethod
    def build(cls, data: TrainData, config: ItemKNNConfig, device: torch.device) -> "ItemKNN":
        return cls(data.n_users, data.n_items, config.k, config.shrink, binary_history(data, device)).to(device)

    def prepare_fit(self, data: TrainData) -> None:
        x = sp.csr_matrix(data.train, dtype=np.float32)
        x.data[:] = 1.0
        xt = x.T.tocsr()
        xt.sort_indices()
        dev = self.weights.device
        norms = torch.from_numpy(np.sqrt(np.asarray(x.sum(0)).ravel()).astype(np.float32)).to(
            dev
        )  # ‖x_i‖ of binary columns
        self._fit = (xt.indptr, to_torch_csr(xt, dev), to_torch_csr(x, dev), norms)

    def release_fit(self) -> None:
        self._fit = None

    def similarity_rows(self, start: int, stop: int) -> torch.Tensor:
        """sim(j, ·) for the targets j in ``start:stop``: (stop - start, I); symmetric, so also sim(·, j)."""
        indptr, xt, x, norms = self._fit
        co = torch.sparse.mm(csr_row_block(indptr, xt, start, stop), x).to_dense()  # x_jᵀ x_i
        denominator = norms[start:stop, None] * norms[None, :] + self.shrink
        return torch.where(denominator > 0, co / denominator.clamp_min(1e-12), torch.zeros_like(co))

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, shrink={self.shrink}"
