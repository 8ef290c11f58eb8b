"""``acf``: Attentive Collaborative Filtering (Chen et al., SIGIR 2017) in the same harness.

Two levels of attention, both as segment softmaxes over edge lists:

* component level — for item l with modality vectors x_l1..x_lM (projected to d), and user u:
  b(u, l, m) = w2ᵀ ReLU(W2u u + W2x x_lm + b2), softmax over the modalities the item has,
  x̄_l = Σ_m b(u, l, m) x_lm;
* item level — over the user's training items R(u):
  a(u, l) = w1ᵀ ReLU(W1u u + W1v v_l + W1p p_l + W1x x̄_l + b1), softmax over l ∈ R(u).

User vector: u + Σ_l a(u, l) p_l; score: its inner product with the item vector v_i. ACF is an
implicit-feedback model with content at the item level, so an item with features but no
interactions is scored only through v_i (ID): ``can_score_cold_items`` is False.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ckgrec.model.core.search_space import Categorical, Float
from ckgrec.model.data.item_features import modality_blocks
from ckgrec.model.models.base import Batch, ModelConfig, Recommender, option
from ckgrec.model.nn.edge_softmax import edge_softmax


@dataclass(frozen=True, kw_only=True)
class ACFConfig(ModelConfig):
    dim: int = option(64, "embedding size of users, items and projected components", low=1)
    attention_dim: int = option(64, "hidden size of both attention networks", low=1)


class ACF(Recommender):
    name = "acf"
    description = "Attentive Collaborative Filtering: item- and component-level attention over modality vectors"
    paper = "Chen et al., Attentive Collaborative Filtering, SIGIR 2017"
    Config = ACFConfig
    known_answer_test = "tests/model/models/test_kg_known_answer.py::test_kg_model_ranks_the_withheld_block_item_first"
    train_defaults = {"lr": 0.001, "batch_size": 1024, "l2": 1e-5, "epochs": 200, "num_negatives": 1}
    # Chen et al. 2017: lr in {0.001, 0.005, 0.01, 0.05, 0.1} (lower end: Adam here), λ and the factor size searched
    search_space = {
        "lr": Float("train", 1e-4, 1e-2, log=True),
        "l2": Float("train", 1e-6, 1e-2, log=True),
        "dim": Categorical("model", (32, 64, 128)),
        "attention_dim": Categorical("model", (32, 64)),
    }
    is_baseline = True

    def __init__(
        self,
        n_users: int,
        n_items: int,
        history: tuple[np.ndarray, np.ndarray],
        components: list[torch.Tensor],
        present: torch.Tensor,
        cfg: ACFConfig,
    ):
        super().__init__(n_users, n_items)
        d, a = cfg.dim, cfg.attention_dim
        self.user = nn.Embedding(n_users, d)
        self.item = nn.Embedding(n_items, d)  # v_i: the item as a candidate
        self.aux = nn.Embedding(n_items, d)  # p_l: the item as part of a history
        self.register_buffer("hist_user", torch.from_numpy(history[0]).long(), persistent=False)
        self.register_buffer("hist_item", torch.from_numpy(history[1]).long(), persistent=False)
        for k, c in enumerate(components):
            self.register_buffer(f"component_{k}", c, persistent=False)
        self.register_buffer("present", present, persistent=False)  # (n_items, M) bool
        self.n_components = len(components)
        self.component_proj = nn.ModuleList(nn.Linear(c.shape[1], d) for c in components)
        self.w1 = nn.ModuleDict({k: nn.Linear(d, a, bias=(k == "u")) for k in ("u", "v", "p", "x")})
        self.w1_out = nn.Linear(a, 1)
        self.w2u, self.w2x = nn.Linear(d, a), nn.Linear(d, a, bias=False)
        self.w2_out = nn.Linear(a, 1)
        self._cache: torch.Tensor | None = None
        for emb in (self.user, self.item, self.aux):
            nn.init.normal_(emb.weight, std=0.01)

    @classmethod
    def build(cls, data, config: ACFConfig, device: torch.device) -> "ACF":
        coo = data.train.tocoo()
        blocks = modality_blocks(data.store, data.n_items) if data.store is not None else []
        components = [torch.from_numpy(x) for x, _ in blocks]
        present = [torch.from_numpy(p) for _, p in blocks]
        pres = torch.stack(present, 1) if present else torch.zeros(data.n_items, 0, dtype=torch.bool)
        return cls(
            data.n_users, data.n_items, (coo.row.astype(np.int64), coo.col.astype(np.int64)), components, pres, config
        ).to(device)

    def _components(self, items: torch.Tensor, users_emb: torch.Tensor) -> torch.Tensor:
        """x̄_l for each (user, item) edge: (E, d)."""
        if self.n_components == 0:
            return torch.zeros_like(users_emb)
        xs = torch.stack(
            [proj(getattr(self, f"component_{k}")[items]) for k, proj in enumerate(self.component_proj)], 1
        )  # (E, M, d)
        logits = self.w2_out(F.relu(self.w2u(users_emb).unsqueeze(1) + self.w2x(xs))).squeeze(-1)  # (E, M)
        logits = logits.masked_fill(~self.present[items], float("-inf"))
        b = torch.softmax(logits, -1).nan_to_num(0.0)  # items without any modality -> all zero
        return (b.unsqueeze(-1) * xs).sum(1)

    def user_vectors(self) -> torch.Tensor:
        """u + Σ_l a(u, l) p_l for every user, by one segment softmax over the training edges."""
        u_idx, i_idx = self.hist_user, self.hist_item
        u = self.user(u_idx)
        v, p = self.item(i_idx), self.aux(i_idx)
        x = self._components(i_idx, u)
        h = F.relu(self.w1["u"](u) + self.w1["v"](v) + self.w1["p"](p) + self.w1["x"](x))
        a = edge_softmax(self.w1_out(h).squeeze(-1), u_idx, self.n_users)
        agg = torch.zeros_like(self.user.weight).index_add(0, u_idx, a.unsqueeze(-1) * p)
        return self.user.weight + agg

    def loss(self, batch: Batch):
        users = self.user_vectors()[batch.users]
        pos, neg = self.item(batch.pos), self.item(batch.neg[:, 0])
        loss = F.softplus(-((users * pos).sum(-1) - (users * neg).sum(-1))).mean()
        self._batch_norm = (users.pow(2).sum() + pos.pow(2).sum() + neg.pow(2).sum()) / (2 * len(batch))
        return loss, {"cf": loss.detach()}

    def regularization(self, batch: Batch) -> torch.Tensor:
        return getattr(self, "_batch_norm", torch.zeros((), device=self.device))

    def prepare_scoring(self) -> None:
        self._cache = self.user_vectors()

    def release_scoring(self) -> None:
        self._cache = None

    def score_users(self, users: torch.Tensor) -> torch.Tensor:
        u = (self._cache if self._cache is not None else self.user_vectors())[users]
        return u @ self.item.weight.T
