"""NeuMF (He et al., "Neural Collaborative Filtering", WWW 2017): GMF + MLP, fused.

    φ_GMF = p_u ⊙ q_i                                   (GMF embeddings, dimension d_mf)
    φ_MLP = MLP([p'_u ; q'_i])                          (own embeddings d_mlp, ReLU tower)
    s(u, i) = hᵀ [φ_GMF ; φ_MLP]                        (logit of the interaction probability)

trained pointwise with the log loss on each positive and its sampled negatives (Eq. 7).
Scoring all items for a user batch evaluates the tower on every (user, item) pair; the first
layer is split as ``W [p'_u ; q'_i] = W_u p'_u + W_i q'_i`` so each side is projected once, and
users are processed in chunks so the (chunk x n_items x hidden) activations stay bounded.

Defaults: predictive factors 64 for both parts and an MLP tower [128, 64] with dropout 0.1
(RecBole's sizes, inside the paper's 8-64 range), 4 negatives per positive, Adam, lr 1e-3,
no L2 and no GMF/MLP pretraining (the paper's pretraining adds ~1-2% HR).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ckgrec.model.core.search_space import Categorical, Float, Int
from ckgrec.model.data.train_data import TrainData
from ckgrec.model.models.base import Batch, ModelConfig, Recommender, option
from ckgrec.model.nn.losses import bce_loss
from ckgrec.schemas.errors import ConfigError

ACTIVATION_BUDGET = 1 << 24  # floats of the widest tower activation per scoring chunk


@dataclass(frozen=True, kw_only=True)
class NeuMFConfig(ModelConfig):
    mf_dim: int = option(64, "dimension of the GMF user/item embeddings", low=1)
    mlp_dim: int = option(64, "dimension of the MLP user/item embeddings (the tower input is 2x this)", low=1)
    mlp_hidden: tuple[int, ...] = option((128, 64), "sizes of the MLP tower's layers (comma-separated)", low=1)
    dropout: float = option(0.1, "dropout after each MLP layer during training", low=0.0, high=1.0, high_open=True)
    init_std: float = option(0.01, "standard deviation of the normal initialisation of the embeddings")

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.mlp_hidden:
            raise ConfigError("neumf: mlp_hidden needs at least one layer")


class NeuMF(Recommender):
    name = "neumf"
    description = "neural collaborative filtering: generalised MF and an MLP tower fused in one output layer"
    paper = "He et al., WWW 2017"
    Config = NeuMFConfig
    train_defaults = {"lr": 1e-3, "batch_size": 2048, "l2": 0.0, "num_negatives": 4}
    # He et al. 2017: lr in {1e-4, 5e-4, 1e-3, 5e-3}, predictive factors {8, 16, 32, 64}, 1-10 negatives, batch sizes
    search_space = {
        "lr": Float("train", 1e-4, 5e-3, log=True),
        "num_negatives": Int("train", 1, 10),
        "batch_size": Categorical("train", (256, 512, 1024)),
        "mf_dim": Categorical("model", (8, 16, 32, 64)),
        "mlp_dim": Categorical("model", (16, 32, 64)),
        "dropout": Float("model", 0.0, 0.5, step=0.1),
    }
    is_baseline = True

    def __init__(
        self,
        n_users: int,
        n_items: int,
        mf_dim: int,
        mlp_dim: int,
        mlp_hidden: tuple[int, ...],
        dropout: float,
        init_std: float = 0.01,
    ):
        super().__init__(n_users, n_items)
        self.dropout = float(dropout)
        self.init_std = float(init_std)
        self.user_mf = nn.Embedding(n_users, mf_dim)
        self.item_mf = nn.Embedding(n_items, mf_dim)
        self.user_mlp = nn.Embedding(n_users, mlp_dim)
        self.item_mlp = nn.Embedding(n_items, mlp_dim)
        self.first_user = nn.Linear(mlp_dim, mlp_hidden[0], bias=True)  # W_u of the first layer (+ its bias)
        self.first_item = nn.Linear(mlp_dim, mlp_hidden[0], bias=False)  # W_i of the first layer
        self.tower = nn.ModuleList(nn.Linear(a, b) for a, b in zip(mlp_hidden[:-1], mlp_hidden[1:]))
        self.output = nn.Linear(mf_dim + mlp_hidden[-1], 1)
        self._hidden0 = mlp_hidden[0]
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for emb in (self.user_mf, self.item_mf, self.user_mlp, self.item_mlp):
            nn.init.normal_(emb.weight, std=self.init_std)
        for lin in [self.first_user, self.first_item, *self.tower, self.output]:
            nn.init.xavier_uniform_(lin.weight)
            if lin.bias is not None:
                nn.init.zeros_(lin.bias)

    @classmethod
    def build(cls, data: TrainData, config: NeuMFConfig, device: torch.device) -> "NeuMF":
        return cls(
            data.n_users,
            data.n_items,
            config.mf_dim,
            config.mlp_dim,
            tuple(config.mlp_hidden),
            config.dropout,
            config.init_std,
        ).to(device)

    def _logits(self, gmf_u: torch.Tensor, gmf_i: torch.Tensor, h_u: torch.Tensor, h_i: torch.Tensor) -> torch.Tensor:
        """``gmf_u ⊙ gmf_i`` and ``h_u + h_i`` must broadcast to the same leading shape (...) -> logits (...)."""
        h = self._tower(h_u + h_i)
        mf = gmf_u * gmf_i
        return self.output(torch.cat([mf, h], -1)).squeeze(-1)

    def forward_pairs(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        """Logits for aligned ``users`` (B,) and ``items`` (B, k) -> (B, k)."""
        u = users.unsqueeze(1).expand_as(items)
        return self._logits(
            self.user_mf(u),
            self.item_mf(items),
            self.first_user(self.user_mlp(u)),
            self.first_item(self.item_mlp(items)),
        )

    def loss(self, batch: Batch) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        pos = self.forward_pairs(batch.users, batch.pos.unsqueeze(1)).squeeze(1)
        neg = self.forward_pairs(batch.users, batch.neg)
        loss = bce_loss(pos, neg)
        return loss, {"bce": loss.detach()}

    def _tower(self, h0: torch.Tensor) -> torch.Tensor:
        h = F.dropout(F.relu(h0), self.dropout, self.training)
        for lin in self.tower:
            h = F.dropout(F.relu(lin(h)), self.dropout, self.training)
        return h

    def score_users(self, users: torch.Tensor) -> torch.Tensor:
        # the output layer is linear, so s = w_mfᵀ(p_u ⊙ q_i) + w_hᵀ MLP(u, i) + b: the GMF part is
        # one (b, d) x (d, I) product and only the tower runs per pair.
        d_mf = self.item_mf.weight.shape[1]
        w = self.output.weight[0]
        item_h = self.first_item(self.item_mlp.weight).unsqueeze(0)  # (1, I, h0)
        chunk = max(1, ACTIVATION_BUDGET // max(1, self.n_items * self._hidden0))
        out = []
        for s in range(0, users.numel(), chunk):
            u = users[s : s + chunk]
            mf = (self.user_mf(u) * w[:d_mf]) @ self.item_mf.weight.T  # (b, I)
            h = self._tower(self.first_user(self.user_mlp(u)).unsqueeze(1) + item_h)  # (b, I, h_last)
            out.append(mf + h @ w[d_mf:] + self.output.bias)
        return torch.cat(out, 0)
