"""``vbpr``: Visual BPR (He & McAuley, "VBPR: Visual Bayesian Personalized Ranking from Implicit
Feedback", AAAI 2016), with every modality of the store as the "visual" features.

Score (the paper's Eq. 2 without α and β_u, which cancel in the pairwise loss):

    y(u, i) = m_i · (β_i + γ_uᵀ γ_i) + θ_uᵀ (E f_i) + β'ᵀ f_i

γ_u, γ_i ∈ R^K are latent factors, θ_u ∈ R^K' the user's visual factors, E (K' x F) the learned
projection of the item features f_i ∈ R^F, β' the visual bias. f_i is the store's modality
matrix (:func:`ckgrec.model.data.item_features.item_feature_matrix`: each modality L2-normalised, plus a
"missing" indicator per modality) instead of the paper's 4096-d CNN vector.

``m_i`` is 1 for items with a training interaction and 0 otherwise: an item's ID terms exist only
once it has been interacted with, so a never-seen item is scored by its features alone, as the
paper's cold-start experiment does, not by an ID factor that training only ever used as a
negative. That is what makes ``can_score_cold_items`` true.

Loss: BPR over sampled triples; the regulariser is the batch's ``½‖·‖²/B`` of γ_u, θ_u, γ_i, β_i
(as BPR-MF here) plus ``½ feature_l2_ratio · (‖E‖² + ‖β'‖²)``, the paper's smaller λ_E.
Defaults: K = K' = 32 (64 dimensions in all, the size of ``bprmf``), Adam with BPR-MF's learning
rate and batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ckgrec.model.core.search_space import Categorical, Float
from ckgrec.model.data.item_features import item_feature_matrix
from ckgrec.model.data.train_data import TrainData
from ckgrec.model.models.base import Batch, ModelConfig, Recommender, option
from ckgrec.model.nn.losses import bpr_loss, embedding_l2
from ckgrec.schemas.errors import ConfigError


@dataclass(frozen=True, kw_only=True)
class VBPRConfig(ModelConfig):
    latent_dim: int = option(32, "K: size of the latent (ID) factors γ_u, γ_i", low=1)
    visual_dim: int = option(32, "K': size of the visual factors θ_u and of the projection E f_i", low=1)
    feature_l2_ratio: float = option(
        0.01, "weight of ½(‖E‖² + ‖β'‖²) relative to the embedding L2 (the paper's λ_E / λ_Θ)", low=0.0
    )


class VBPR(Recommender):
    name = "vbpr"
    description = "BPR-MF plus a learned projection of item features into a visual factor space and a visual bias"
    paper = "He & McAuley, VBPR, AAAI 2016"
    Config = VBPRConfig
    train_defaults = {"lr": 1e-3, "batch_size": 2048, "l2": 1e-5}
    # He & McAuley 2016: λ_Θ and the sizes K, K' (K + K' = 20 .. 100 in the paper)
    search_space = {
        "lr": Float("train", 1e-4, 1e-2, log=True),
        "l2": Float("train", 1e-6, 1e-2, log=True),
        "latent_dim": Categorical("model", (16, 32, 64)),
        "visual_dim": Categorical("model", (16, 32, 64)),
    }
    is_baseline = True
    can_score_cold_items = True
    # a user without history is ranked by the learned item bias (β_i + β'ᵀf_i), a content-aware
    # popularity; the user's untrained factors only add small noise around it
    can_score_cold_users = True

    def __init__(self, n_users: int, n_items: int, features: torch.Tensor, has_id: torch.Tensor, cfg: VBPRConfig):
        super().__init__(n_users, n_items)
        self.feature_l2_ratio = float(cfg.feature_l2_ratio)
        self.register_buffer("features", features, persistent=False)  # (n_items, F), rebuilt from the store
        self.register_buffer("has_id", has_id.float(), persistent=False)  # (n_items,) m_i
        self.gamma_user = nn.Embedding(n_users, cfg.latent_dim)
        self.gamma_item = nn.Embedding(n_items, cfg.latent_dim)
        self.beta_item = nn.Embedding(n_items, 1)
        self.theta_user = nn.Embedding(n_users, cfg.visual_dim)
        self.E = nn.Linear(features.shape[1], cfg.visual_dim, bias=False)
        self.beta_visual = nn.Linear(features.shape[1], 1, bias=False)
        self._cache: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for emb in (self.gamma_user, self.gamma_item, self.theta_user):
            nn.init.xavier_normal_(emb.weight)
        nn.init.zeros_(self.beta_item.weight)
        nn.init.xavier_normal_(self.E.weight)
        nn.init.zeros_(self.beta_visual.weight)

    @classmethod
    def build(cls, data: TrainData, config: VBPRConfig, device: torch.device) -> "VBPR":
        feats = item_feature_matrix(data.store, data.n_items) if data.store is not None else None
        if feats is None:
            raise ConfigError(
                "vbpr needs item feature vectors: build the store with features (see 'ckg datasets', --feature NAME=PATH)"
            )
        has_id = torch.from_numpy(data.item_popularity > 0)
        return cls(data.n_users, data.n_items, feats, has_id, config).to(device)

    def _item_parts(self, items: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(m_i γ_i, m_i β_i + β'ᵀ f_i, E f_i) for ``items`` of any shape (..., ·)."""
        f = self.features[items]
        m = self.has_id[items].unsqueeze(-1)
        bias = m.squeeze(-1) * self.beta_item(items).squeeze(-1) + self.beta_visual(f).squeeze(-1)
        return m * self.gamma_item(items), bias, self.E(f)

    def _scores(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        """users (B,), items (B,) or (B, k) -> scores of the same shape as items."""
        gu, tu = self.gamma_user(users), self.theta_user(users)
        gi, bias, vi = self._item_parts(items)
        if items.dim() == 2:
            gu, tu = gu.unsqueeze(1), tu.unsqueeze(1)
        return bias + (gu * gi).sum(-1) + (tu * vi).sum(-1)

    def loss(self, batch: Batch) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        loss = bpr_loss(self._scores(batch.users, batch.pos), self._scores(batch.users, batch.neg))
        return loss, {"bpr": loss.detach()}

    def regularization(self, batch: Batch) -> torch.Tensor:
        items = torch.cat([batch.pos, batch.neg.flatten()])
        emb = embedding_l2(
            self.gamma_user(batch.users), self.theta_user(batch.users), self.gamma_item(items), self.beta_item(items)
        )
        return emb + 0.5 * self.feature_l2_ratio * (self.E.weight.pow(2).sum() + self.beta_visual.weight.pow(2).sum())

    def prepare_scoring(self) -> None:
        self._cache = self._item_parts(torch.arange(self.n_items, device=self.features.device))

    def release_scoring(self) -> None:
        self._cache = None

    def score_users(self, users: torch.Tensor) -> torch.Tensor:
        gi, bias, vi = (
            self._cache
            if self._cache is not None
            else self._item_parts(torch.arange(self.n_items, device=users.device))
        )
        return bias.unsqueeze(0) + self.gamma_user(users) @ gi.T + self.theta_user(users) @ vi.T
