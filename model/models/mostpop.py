"""MostPop: every user gets the items with the most training users first.

The non-personalised floor every learned model must beat. Closed form, no options.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ckgrec.model.data.train_data import TrainData
from ckgrec.model.models.base import ModelConfig, Recommender


@dataclass(frozen=True, kw_only=True)
class MostPopConfig(ModelConfig):
    """MostPop has no hyperparameters."""


class MostPop(Recommender):
    name = "mostpop"
    description = "non-personalised: rank items by their number of training users"
    paper = "(standard popularity baseline)"
    Config = MostPopConfig
    trainable = False
    is_baseline = True
    can_score_cold_users = True  # the same (popularity) ranking for everyone, history or not

    def __init__(self, n_users: int, n_items: int):
        super().__init__(n_users, n_items)
        self.register_buffer("popularity", torch.zeros(n_items))

    @classmethod
    def build(cls, data: TrainData, config: MostPopConfig, device: torch.device) -> "MostPop":
        return cls(data.n_users, data.n_items).to(device)

    def fit_closed_form(self, data: TrainData) -> None:
        self.popularity.copy_(torch.from_numpy(data.item_popularity).to(self.popularity))

    def score_users(self, users: torch.Tensor) -> torch.Tensor:
        return self.popularity.unsqueeze(0).expand(users.numel(), -1)
