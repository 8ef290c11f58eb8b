"""EASE^R (Steck, "Embarrassingly Shallow Autoencoders for Sparse Data", WWW 2019).

Closed-form item-item model with a zero diagonal:

    P = (XᵀX + λI)^{-1},    B = I - P · diag(1 / diag(P)),    score(u) = X_u B

where X is the binary training matrix (users x items). A strong linear anchor on datasets with
up to a few ten thousand items; the dense (n_items x n_items) Gram matrix and its inverse need
about ``3 · 8 · n_items²`` bytes, so :attr:`EASEConfig.max_items` refuses larger catalogues
with a clear message instead of exhausting memory.

Default λ = 500: the paper tunes λ per dataset and reports optima in the hundreds (ML-20M and
Netflix); RecBole's default is 250. Tune with ``--set reg=...`` and compare on valid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ckgrec.model.core.search_space import Float
from ckgrec.model.data.train_data import TrainData
from ckgrec.model.models.base import ModelConfig, Recommender, option
from ckgrec.model.nn.graph_ops import to_torch_csr
from ckgrec.schemas.errors import ConfigError


@dataclass(frozen=True, kw_only=True)
class EASEConfig(ModelConfig):
    reg: float = option(500.0, "L2 weight λ added to the diagonal of the Gram matrix XᵀX", low=0.0, low_open=True)
    max_items: int = option(
        40_000, "refuse catalogues larger than this (the dense item x item inverse needs ~24·n² bytes)", low=1
    )


class EASE(Recommender):
    name = "ease"
    description = "closed-form item-item linear autoencoder with zero diagonal (strong linear anchor)"
    paper = "Steck, WWW 2019"
    Config = EASEConfig
    trainable = False
    # Steck 2019: λ tuned per dataset, 200 .. 3000 on the paper's data; searched over four decades
    search_space = {"reg": Float("model", 1.0, 1e4, log=True)}
    is_baseline = True
    defaults_source = "ckg tune (12 trials per dataset, benchmarks/results/default-vs-tuned.md) kept λ on embedded and ML-100K; ML-100K 20% and tiktok-sample chose their own (+2% and +26% on validation)"

    def __init__(self, n_users: int, n_items: int, reg: float):
        super().__init__(n_users, n_items)
        self.reg = float(reg)
        self.register_buffer("weights", torch.zeros(n_items, n_items))
        self._x = None  # scipy CSR training matrix, set by build()

    @classmethod
    def build(cls, data: TrainData, config: EASEConfig, device: torch.device) -> "EASE":
        if data.n_items > config.max_items:
            raise ConfigError(
                f"ease: {data.n_items:,} items exceed ease.max_items = {config.max_items:,}; the dense item x item inverse "
                f"would need ~{24 * data.n_items**2 / 2**30:.0f} GiB. Raise it with --set max_items=N if the memory is there"
            )
        model = cls(data.n_users, data.n_items, config.reg).to(device)
        model._x = data.train
        return model

    def fit_closed_form(self, data: TrainData) -> None:
        x = data.train
        gram = torch.from_numpy((x.T @ x).toarray().astype(np.float64))
        gram.diagonal().add_(self.reg)
        p = torch.linalg.inv(gram)
        b = -p / p.diagonal().unsqueeze(0)
        b.diagonal().zero_()
        self.weights.copy_(b.to(self.weights))

    def score_users(self, users: torch.Tensor) -> torch.Tensor:
        if self._x is None:
            raise RuntimeError("ease: build() was not called")
        rows = to_torch_csr(self._x[users.cpu().numpy()], self.weights.device)
        return torch.sparse.mm(rows, self.weights)
