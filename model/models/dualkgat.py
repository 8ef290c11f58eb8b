"""``dualkgat``: the dual collaborative-KG attention recommender (the product's main model).

For each graph g ∈ {G_u (user_side), G_i (item_side)} a :class:`~ckgrec.model.nn.graph_encoder.GraphEncoder`
runs TransR-projected attention, L bi-interaction layers and an attention over the layer
outputs. A user's vector is the concatenation of its fused vectors from G_u and G_i, an item's
likewise. The score weighs each dimension by a user-conditioned importance,

    y(u, i) = (w(u) ⊙ u)ᵀ i,

so full ranking is still one matrix product per user batch. Items' raw modality vectors enter
through a learned projection added to their layer-0 state in both graphs.

Loss: L = L_CF (BPR) + L_KG_u + L_KG_i + λ‖Θ‖². Schedule ``alternate`` (default, as KGAT): per
epoch, the CF phase over all BPR batches, then a KG phase over TransR batches of both graphs
with its own optimiser, then attention is refreshed; ``joint`` adds a TransR batch of each
graph to every CF batch instead.

Every component is a switch (``use_item_side``, ``use_user_side``, ``fusion``,
``dimension_importance``, ``raw_features``, ``layer_dims``), so ablations are runs, not forks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ckgrec.model.core.search_space import Categorical, Float
from ckgrec.model.data.graph_tensors import GraphTensors
from ckgrec.model.data.item_features import item_feature_matrix
from ckgrec.model.models.base import Batch, ModelConfig, Recommender, option
from ckgrec.model.nn.dimension_importance import DimensionImportance
from ckgrec.model.nn.graph_encoder import (
    AGGREGATORS,
    EDGE_WEIGHTS,
    FUSIONS,
    SIDE_EDGES,
    GraphEncoder,
)
from ckgrec.schemas.errors import ConfigError


@dataclass(frozen=True, kw_only=True)
class DualKGATConfig(ModelConfig):
    dim: int = option(64, "entity embedding size d (must equal the pretrained size)", low=1)
    relation_dim: int = option(64, "relation space size k of TransR (must equal the pretrained size)", low=1)
    layer_dims: tuple[int, ...] = option((64, 32, 16), "output size of each propagation layer; its length is L", low=1)
    dropout: float = option(0.3, "message dropout after each layer", low=0.0, high=1.0, high_open=True)
    fusion: str = option(
        "attention_concat",
        "layer fusion: attention_concat | attention_sum | concat (plain, as KGAT) | mean (LightGCN's average of the layers: the inner product then also pairs a user's layer with an item's other layers; needs aggregator=linear or every layer_dims equal to dim)",
        choices=FUSIONS,
    )
    fusion_dim: int = option(32, "projection size of the layer attention", low=1)
    use_user_side: bool = option(True, "use the user-side graph G_u")
    use_item_side: bool = option(True, "use the item-side graph G_i")
    dimension_importance: bool = option(True, "weigh score dimensions by w(u); off = plain inner product")
    raw_features: bool = option(True, "add a learned projection of the items' modality vectors to their input")
    user_content: bool = option(
        False,
        "also add to each user's input the mean feature projection of the items it has in training (its content profile); needs raw_features",
    )
    content_score: float = option(
        0.0,
        "add a content-affinity term to the score: a learned per-feature weighting (initialised to this value; 0 = off) of cos(mean feature vector of the user's training items, item feature vector); it reaches cold items through their features",
        low=0.0,
    )
    schedule: str = option(
        "alternate", "CF/KG schedule: alternate (a KG phase per epoch, as KGAT) | joint", choices=("alternate", "joint")
    )
    kg_weight: float = option(
        1.0,
        "weight of each graph's TransR loss; 0 = no TransR batches at all (their kg_l2 term goes too: alone under its own Adam it would shrink every embedding it touches by about lr per batch)",
        low=0.0,
    )
    kg_triples: str = option(
        "all",
        "what the TransR loss is over: all (every triple of the graph, interactions included, as KGAT's code does) | side (the non-interaction triples only, as RecBole's KGAT)",
        choices=("all", "side"),
    )
    kg_optimizer: str = option(
        "own",
        "what steps the TransR phase: own (an Adam of its own, as KGAT's code) | shared (the CF phase's Adam, as RecBole's KGAT); with its own Adam every TransR batch moves the embeddings about lr whatever kg_weight",
        choices=("own", "shared"),
    )
    kg_batch_size: int = option(2048, "triples per TransR batch", low=1)
    kg_l2: float = option(1e-5, "L2 weight on the embeddings in a TransR batch", low=0.0)
    max_neighbours: int = option(
        0, "keep at most this many neighbours per node per epoch, sampled by confidence (0 = all)", low=0
    )
    attention_grad: bool = option(
        False, "back-propagate the CF loss into attention (slower); default refreshes attention per epoch as KGAT"
    )
    aggregator: str = option(
        "bi",
        "bi: KGAT's bi-interaction (W1, W2, LeakyReLU) | linear: e_h' = e_N_h, no weights (LightGCN/KGIN style; layer_dims then only sets L)",
        choices=AGGREGATORS,
    )
    side_edges: str = option(
        "both",
        "direction of the non-interaction triples in the propagation: both (KGAT's paper and code: an attribute also hears its items) | stored (as stored, head hears tail: an item hears its attributes, an attribute hears nothing; RecBole's KGAT graph); interactions always go both ways",
        choices=SIDE_EDGES,
    )
    edge_weights: str = option(
        "attention",
        "propagation weights: attention (KGAT's softmax over each node's neighbours) | symmetric (LightGCN's fixed 1/sqrt(d_h d_t), no attention) | attention_degree (LightGCN's weights shared out by the softmax with a -1/2 log d_t prior: each node keeps LightGCN's total weight)",
        choices=EDGE_WEIGHTS,
    )
    layer_norm: bool = option(
        True, "L2-normalise each layer's output (KGAT); off keeps the magnitudes, e.g. popularity"
    )
    item_bias: bool = option(
        False, "add a learned per-item bias to the score (plus a feature-projected bias when raw_features is on)"
    )
    regularize: str = option(
        "final",
        "what the L2 term (--l2) penalises: final (the batch's fused vectors, as KGAT) | ego (the batch's layer-0 embeddings, as LightGCN) | both",
        choices=("final", "ego", "both"),
    )
    init: str = option(
        "auto",
        "initial embeddings: pretrained | random | auto (pretrained when STORE/pretrained exists)",
        choices=("pretrained", "random", "auto"),
    )
    init_std: float = option(
        0.0,
        "random initial entity embeddings: 0 = Xavier uniform (KGAT's), whose scale shrinks as the graph grows; "
        "> 0 = normal with this std (LightGCN's 0.1)",
        low=0.0,
    )
    cold_item_dropout: float = option(
        0.0,
        "share of items made 'cold' each epoch (DropoutNet-style): their interaction edges leave both graphs and their ID embedding is zeroed, their BPR pairs stay, so the model learns to score an item from features and KG alone; never-seen items then always score without an ID embedding (0 = off)",
        low=0.0,
        high=1.0,
        high_open=True,
    )
    cold_user_dropout: float = option(
        0.0,
        "the same for users: each epoch a share of the users loses its interaction edges and ID embedding and keeps its BPR pairs, so a user with only a profile (item-side graph) is scored on the same scale; users without training pairs then always score without an ID embedding (0 = off)",
        low=0.0,
        high=1.0,
        high_open=True,
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.fusion == "mean" and self.aggregator != "linear" and set(self.layer_dims) != {self.dim}:
            raise ConfigError(
                f"fusion = 'mean' averages the layers, so each must have size dim = {self.dim}; layer_dims = {tuple(self.layer_dims)}: "
                "set aggregator = 'linear' or layer_dims all equal to dim"
            )
        if self.user_content and not self.raw_features:
            raise ConfigError(
                "user_content needs raw_features = true (the profile is a mean of the items' feature projections)"
            )
        if not (self.use_user_side or self.use_item_side):
            raise ConfigError("at least one of use_user_side / use_item_side must be true")
        if not self.layer_dims:
            raise ConfigError("layer_dims needs at least one positive size")


def _row_normalised(m) -> torch.Tensor:
    """scipy CSR (n_users, n_items) -> torch sparse COO with each non-empty row summing to 1."""
    m = m.tocoo()
    deg = np.asarray(m.sum(axis=1)).ravel()
    values = m.data / np.maximum(deg[m.row], 1e-12)
    index = torch.from_numpy(np.stack([m.row, m.col]).astype(np.int64))
    return torch.sparse_coo_tensor(
        index, torch.from_numpy(values.astype(np.float32)), m.shape, check_invariants=False
    ).coalesce()


class DualKGAT(Recommender):
    name = "dualkgat"
    description = "dual collaborative-KG attention (G_u + G_i), layer attention, dimension importance, raw features"
    paper = "this product's design; KGAT (Wang et al., KDD 2019) for the propagation"
    Config = DualKGATConfig
    known_answer_test = "tests/model/models/test_kg_known_answer.py::test_kg_model_ranks_the_withheld_block_item_first"
    # l2 1e-2 and dropout 0.3 were chosen on the embedded dataset's validation split (KGAT's 1e-5 / 0.1 overfit there)
    train_defaults = {"lr": 0.001, "batch_size": 1024, "l2": 1e-2, "epochs": 200, "num_negatives": 1}
    # KGAT's ranges (Wang et al. 2019) plus the TransR weight; dim stays the pretrained size
    search_space = {
        "lr": Float("train", 1e-4, 5e-2, log=True),
        "l2": Float("train", 1e-5, 1e-1, log=True),
        "dropout": Float("model", 0.0, 0.8, step=0.1),
        "layer_dims": Categorical("model", ((64,), (64, 32), (64, 32, 16), (64, 32, 16, 8))),
        "kg_weight": Float("model", 1e-2, 1.0, log=True),
    }
    can_score_cold_items = True
    can_score_cold_users = True  # through G_i's profile edges; an instance without them says False (__init__)
    extra_phases = ("kg",)  # empty under the joint schedule (see phase_batches)

    def __init__(
        self,
        n_users: int,
        n_items: int,
        graphs: list[GraphTensors],
        features: torch.Tensor | None,
        cfg: DualKGATConfig,
        item_trained: torch.Tensor | None = None,
        user_trained: torch.Tensor | None = None,
        history: torch.Tensor | None = None,
    ):
        super().__init__(n_users, n_items)
        self.cfg = cfg
        self.graph_names = [g.graph for g in graphs]
        # a user without training pairs is still reachable through profile edges (G_i's
        # user -> user_attribute), which gives it an informed vector; without them it has only an
        # untrained ID embedding
        self.can_score_cold_users = any(g.users_have_side_edges() for g in graphs)
        self.encoders = nn.ModuleList(
            GraphEncoder(
                g,
                dim=cfg.dim,
                relation_dim=cfg.relation_dim,
                layer_dims=cfg.layer_dims,
                dropout=cfg.dropout,
                fusion=cfg.fusion,
                fusion_dim=cfg.fusion_dim,
                attention_grad=cfg.attention_grad,
                max_neighbours=cfg.max_neighbours,
                normalize=cfg.layer_norm,
                aggregator=cfg.aggregator,
                edge_weights=cfg.edge_weights,
                side_edges=cfg.side_edges,
                init_std=cfg.init_std,
            )
            for g in graphs
        )
        # the TransR loss's triples per graph: all of them, or (RecBole) the side triples only
        self._kg_triples = [
            g.triples if cfg.kg_triples == "all" else g.triples[~g.interaction_triples()] for g in graphs
        ]
        self.register_buffer(
            "features", features if (features is not None and cfg.raw_features) else None, persistent=False
        )
        self.feature_proj = nn.Linear(self.features.shape[1], cfg.dim) if self.features is not None else None
        self.out_dim = sum(e.out_dim for e in self.encoders)
        self.importance = DimensionImportance(self.out_dim) if cfg.dimension_importance else None
        self._cache: tuple[torch.Tensor, torch.Tensor] | None = None
        self.item_bias = nn.Parameter(torch.zeros(n_items)) if cfg.item_bias else None
        self.feature_bias = (
            nn.Linear(self.features.shape[1], 1, bias=False) if (cfg.item_bias and self.features is not None) else None
        )
        if self.feature_bias is not None:
            nn.init.zeros_(self.feature_bias.weight)
        if self.feature_proj is not None:
            nn.init.xavier_uniform_(self.feature_proj.weight)
            nn.init.zeros_(self.feature_proj.bias)
        # cold-item / cold-user dropout: who has a training pair (the others never get an ID
        # embedding), and this epoch's simulated cold items and users
        for name, n, given in (("item_trained", n_items, item_trained), ("user_trained", n_users, user_trained)):
            self.register_buffer(
                name, (given if given is not None else torch.ones(n, dtype=torch.bool)).bool(), persistent=False
            )
        self._dropped_items: torch.Tensor | None = None
        self._dropped_users: torch.Tensor | None = None
        # (n_users, n_items) sparse, each training row scaled to sum 1: the user content profile
        # is history @ feature_proj(features)
        self.register_buffer("history", history, persistent=False)
        # content affinity: fixed unit feature vectors of items and of users' training histories
        # (not learned: a one-number content model, cos + popularity, is as good as LightGCN on
        # the embedded data, and learned projections of the same features overfit there)
        self.content_weight = None
        if cfg.content_score > 0 and features is not None and history is not None:
            items = F.normalize(features.float(), dim=-1)
            self.register_buffer("content_items", items, persistent=False)
            # the SUM of each user's training items' vectors: a training positive is taken out of
            # its own user's profile (FISM's leave-one-out), or the content term would look more
            # predictive in training than it can be for an unseen item
            degree = torch.bincount(history.coalesce().indices()[0], minlength=history.shape[0]).float()
            self.register_buffer(
                "content_sum", torch.sparse.mm(history, items) * degree.unsqueeze(-1), persistent=False
            )
            self.register_buffer("content_users", F.normalize(self.content_sum, dim=-1), persistent=False)
            self.content_weight = nn.Parameter(torch.full((items.shape[1],), float(cfg.content_score)))

    # ---- construction -------------------------------------------------------------------
    @classmethod
    def graphs_for(cls, cfg) -> list[str]:
        return [g for g, on in (("user_side", cfg.use_user_side), ("item_side", cfg.use_item_side)) if on]

    @classmethod
    def build(cls, data, config: DualKGATConfig, device: torch.device) -> "DualKGAT":
        if data.store is None:
            raise ConfigError(f"{cls.name} needs the store's graphs; build TrainData with TrainData.from_store")
        graphs = [GraphTensors.from_store(data.store, g).to(device) for g in cls.graphs_for(config)]
        feats = (
            item_feature_matrix(data.store, data.n_items) if (config.raw_features or config.content_score > 0) else None
        )
        train = data.split("train")
        item_trained = torch.as_tensor(np.asarray(train.getnnz(axis=0)) > 0)
        user_trained = torch.as_tensor(np.asarray(train.getnnz(axis=1)) > 0)
        history = (
            _row_normalised(train).to(device)
            if ((config.user_content or config.content_score > 0) and feats is not None)
            else None
        )
        model = cls(
            data.n_users,
            data.n_items,
            graphs,
            feats.to(device) if feats is not None else None,
            config,
            item_trained,
            user_trained,
            history,
        ).to(device)
        model._maybe_load_pretrained(data.store)
        return model

    def _maybe_load_pretrained(self, store) -> None:
        if self.cfg.init == "random":
            return
        try:
            from ckgrec.model.data.pretrained import load_pretrained
        except ImportError:  # pragma: no cover - pretraining module missing
            load_pretrained = None
        present = (store.path / "pretrained").is_dir()
        if self.cfg.init == "pretrained" and (load_pretrained is None or not present):
            raise ConfigError(
                f"init = 'pretrained' but {store.path / 'pretrained'} has no embeddings; run 'ckg pretrain {store.path}' first"
            )
        if load_pretrained is None or not present:
            return
        for enc in self.encoders:
            emb = load_pretrained(store, enc.graph.graph)
            enc.load_pretrained(emb.entity, emb.relation, emb.projection)

    # ---- representations --------------------------------------------------------------------
    def _content_inputs(self) -> tuple[torch.Tensor, torch.Tensor | None] | None:
        """(items' feature projection, users' content profiles or None), computed once per
        forward pass and shared by both graphs; None without raw features."""
        if self.feature_proj is None:
            return None
        projected = self.feature_proj(self.features)
        return projected, (
            self._user_content(projected) if self.cfg.user_content and self.history is not None else None
        )

    def _extra_input(
        self, enc: GraphEncoder, content: tuple[torch.Tensor, torch.Tensor | None] | None
    ) -> torch.Tensor | None:
        if content is None:
            return None
        projected, profiles = content
        extra = torch.zeros(enc.graph.num_entities, self.cfg.dim, dtype=projected.dtype, device=projected.device)
        extra = extra.index_add(0, enc.graph.item_entity, projected)
        if profiles is not None:
            extra = extra.index_add(0, enc.graph.user_entity, profiles)
        return extra

    def _user_content(self, projected: torch.Tensor) -> torch.Tensor:
        """(n_users, d) mean feature projection of each user's training items. Why: the score is a
        sum of same-layer products, so an item's content (layer 0) never meets the content of the
        user's history (layer 1 of the user) unless the user's own input carries it; a content
        model as simple as cos(mean history features, item features) + log popularity is as good
        as LightGCN on the embedded data. Users made cold this epoch get none (they look unseen)."""
        profile = torch.sparse.mm(self.history, projected)
        if self._dropped_users is not None:
            profile = profile * (~self._dropped_users).unsqueeze(-1).to(profile.dtype)
        return profile

    def _id_keep(self, enc: GraphEncoder) -> torch.Tensor | None:
        """(N,) 1/0 per entity: 0 for items/users that must be scored without an ID embedding
        (never seen in training, or this epoch's simulated cold ones); None when both options are off."""
        if self.cfg.cold_item_dropout <= 0 and self.cfg.cold_user_dropout <= 0:
            return None
        keep = torch.ones(enc.graph.num_entities, device=self.item_trained.device)
        for p, trained, dropped, entity in (
            (self.cfg.cold_item_dropout, self.item_trained, self._dropped_items, enc.graph.item_entity),
            (self.cfg.cold_user_dropout, self.user_trained, self._dropped_users, enc.graph.user_entity),
        ):
            if p > 0:
                no_id = ~trained if dropped is None else ~trained | dropped
                keep = keep.index_fill(0, entity[no_id], 0.0)
        return keep

    def _encode(self, select: torch.Tensor | None = None) -> torch.Tensor:
        """(n_users + n_items, D) users first, or only the ``select`` rows of it: each graph's fused
        vectors, concatenated over the graphs in use."""
        content = self._content_inputs()
        parts = [
            enc(self._extra_input(enc, content), users_items_only=True, id_keep=self._id_keep(enc), select=select)
            for enc in self.encoders
        ]
        return parts[0] if len(parts) == 1 else torch.cat(parts, -1)  # kgat: one graph, nothing to join

    def representations(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(users (n_users, D), items (n_items, D)): concatenation over the graphs in use."""
        both = self._encode()
        return both[: self.n_users], both[self.n_users :]

    def _biases(self) -> torch.Tensor | None:
        """(n_items,) item bias: a free term per item plus a projection of its features, so that a
        cold item's bias comes from its content, not from zero."""
        if self.item_bias is None:
            return None
        b = self.item_bias
        if self.feature_bias is not None:
            b = b + self.feature_bias(self.features).squeeze(-1)
        return b

    def _pair_scores(
        self,
        u: torch.Tensor,
        i: torch.Tensor,
        items: torch.Tensor | None = None,
        users: torch.Tensor | None = None,
        positive: bool = False,
    ) -> torch.Tensor:
        """``positive``: the items are training positives of the users, left out of their profiles."""
        s = self.importance.pair_scores(u, i) if self.importance is not None else (u * i).sum(-1)
        if self.content_weight is not None:
            s = s + (
                self._content_profiles(users, items if positive else None)
                * self.content_weight
                * self.content_items[items]
            ).sum(-1)
        b = self._biases()
        return s if b is None else s + b[items]

    def _content_profiles(self, users: torch.Tensor, leave_out: torch.Tensor | None = None) -> torch.Tensor:
        """(len(users), F) unit content vectors of these users' training histories, without the
        item ``leave_out[k]`` for user k when given; zero for a user made cold this epoch (it
        looks unseen) and for one without (other) training items."""
        if leave_out is None:
            p = self.content_users[users]
        else:
            p = F.normalize(self.content_sum[users] - self.content_items[leave_out], dim=-1)
        if self._dropped_users is not None:
            p = p * (~self._dropped_users[users]).unsqueeze(-1).to(p.dtype)
        return p

    # ---- training ---------------------------------------------------------------------------
    def on_epoch_start(self, epoch: int, generator: torch.Generator) -> None:
        if self.cfg.cold_item_dropout > 0 or self.cfg.cold_user_dropout > 0:
            self._simulate_cold(generator)
        for enc in self.encoders:
            enc.resample_neighbours(generator)
            enc.refresh_attention()
        self._generator = generator

    def _simulate_cold(self, generator: torch.Generator) -> None:
        """DropoutNet (Volkovs et al., NeurIPS 2017) on graphs: without it a never-seen item's
        vector comes from a neighbourhood (attributes, concepts, no users) and an ID embedding
        that training never shaped, so its scores sit far below every warm item's and it never
        reaches a top-K among all items. Each epoch a share of the items loses its interaction
        edges and ID embedding while keeping its BPR pairs, so the features, the concepts and the
        attention learn to score such an item on the same scale as the others. Users likewise:
        a user with only a profile gets a vector from the item-side graph's attribute edges."""
        device = self.item_trained.device
        if self.cfg.cold_item_dropout > 0:
            self._dropped_items = (torch.rand(self.n_items, generator=generator) < self.cfg.cold_item_dropout).to(
                device
            )
        if self.cfg.cold_user_dropout > 0:
            self._dropped_users = (torch.rand(self.n_users, generator=generator) < self.cfg.cold_user_dropout).to(
                device
            )
        for enc in self.encoders:
            flag = torch.zeros(enc.graph.num_entities, dtype=torch.bool, device=device)
            if self._dropped_items is not None:
                flag[enc.graph.item_entity[self._dropped_items]] = True
            if self._dropped_users is not None:
                flag[enc.graph.user_entity[self._dropped_users]] = True
            enc.drop_interactions(flag)

    def on_epoch_end(self, epoch: int) -> None:
        if (
            self._dropped_items is not None or self._dropped_users is not None
        ):  # evaluation and scoring see the whole graph
            self._dropped_items = self._dropped_users = None
            for enc in self.encoders:
                enc.drop_interactions(None)
        for enc in self.encoders:
            enc.refresh_attention()

    def _batch_vectors(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(users, positives, negatives) of the batch, each (B, D): the rows of representations()
        the BPR loss needs, asked of each encoder by position so that it fuses only those rows."""
        if 3 * len(batch.users) >= self.n_users + self.n_items:  # no saving: index the full matrices (the order of
            users, items = self.representations()  # gradient sums older runs were trained with)
            return users[batch.users], items[batch.pos], items[batch.neg[:, 0]]
        vectors = self._encode(
            select=torch.cat([batch.users, self.n_users + batch.pos, self.n_users + batch.neg[:, 0]])
        )
        b = len(batch.users)
        return vectors[:b], vectors[b : 2 * b], vectors[2 * b :]

    def objective(self, batch: Batch, l2: float) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """BPR loss of the batch's fused vectors, plus ``l2 ·`` their penalty (:meth:`_batch_norm`,
        computed from the same vectors), plus a TransR batch under ``schedule = joint``."""
        u, pos, neg = self._batch_vectors(batch)
        cf = F.softplus(
            -(
                self._pair_scores(u, pos, batch.pos, batch.users, positive=True)
                - self._pair_scores(u, neg, batch.neg[:, 0], batch.users)
            )
        ).mean()
        parts = {"cf": cf.detach()}
        total = cf
        if self.cfg.schedule == "joint" and self.cfg.kg_weight != 0:
            kg = self._kg_loss(self._kg_batches(getattr(self, "_generator", None), limit=1))
            total = total + kg
            parts["kg"] = kg.detach()
        if l2 > 0:
            reg = self._batch_norm(batch, u, pos, neg)
            parts["reg"] = reg.detach()
            total = total + l2 * reg
        return total, parts

    def loss(self, batch: Batch) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        return self.objective(batch, 0.0)

    def _batch_norm(self, batch: Batch, u: torch.Tensor, pos: torch.Tensor, neg: torch.Tensor) -> torch.Tensor:
        """Why a choice: the fused vectors are built from L2-normalised layers, so penalising them
        (KGAT) mostly shrinks layer 0 and the layer attention and leaves the ID embeddings inside
        the propagation unregularised; penalising the batch's layer-0 embeddings (LightGCN) reaches them."""
        total = torch.zeros((), device=u.device)
        if self.cfg.regularize in ("final", "both"):
            total = total + u.pow(2).sum() + pos.pow(2).sum() + neg.pow(2).sum()
        if self.cfg.regularize in ("ego", "both"):
            for enc in self.encoders:
                g = enc.graph
                ents = torch.cat([g.user_entity[batch.users], g.item_entity[batch.pos], g.item_entity[batch.neg[:, 0]]])
                total = total + enc.entity(ents).pow(2).sum()
        return total / (2 * len(batch))

    def regularization(self, batch: Batch) -> torch.Tensor:
        """½‖u‖² + ½‖i+‖² + ½‖i−‖² of the batch's final vectors over the batch size (KGAT's CF L2)."""
        return self._batch_norm(batch, *self._batch_vectors(batch))

    def _kg_batches(
        self, generator: torch.Generator | None, limit: int | None = None
    ) -> Iterable[list[tuple[int, torch.Tensor, torch.Tensor]]]:
        gen = generator or torch.Generator().manual_seed(0)
        sizes = [t.shape[0] for t in self._kg_triples]
        if max(sizes) == 0:  # kg_triples = side on a graph of interactions only: nothing to learn from
            return
        n_batches = math.ceil(max(sizes) / self.cfg.kg_batch_size)
        if limit is not None:
            n_batches = min(n_batches, limit)
        for _ in range(n_batches):
            batch = []
            for k, enc in enumerate(self.encoders):
                n = sizes[k]
                if n == 0:
                    continue
                triples = self._kg_triples[k]
                idx = torch.randint(0, n, (min(self.cfg.kg_batch_size, n),), generator=gen).to(triples.device)
                neg = torch.randint(0, enc.graph.num_entities, (len(idx),), generator=gen).to(triples.device)
                batch.append((k, triples[idx], neg))
            yield batch

    def _kg_loss(self, batches) -> torch.Tensor:
        total = torch.zeros((), device=self.device)
        for batch in batches:
            for k, triples, neg in batch:
                enc = self.encoders[k]
                loss, l2 = enc.kg_loss_terms(triples, neg)
                total = total + self.cfg.kg_weight * loss + self.cfg.kg_l2 * l2
        return total

    def phase_batches(self, phase: str, epoch: int, generator: torch.Generator) -> Iterable[Any]:
        if phase != "kg":
            raise NotImplementedError(phase)
        if (
            self.cfg.schedule == "joint" or self.cfg.kg_weight == 0
        ):  # joint: KG batches ride along with the CF batches instead
            return iter(())
        return self._kg_batches(generator)

    def phase_shares_cf_optimizer(self, phase: str) -> bool:
        return phase == "kg" and self.cfg.kg_optimizer == "shared"

    def phase_loss(self, phase: str, batch: Any):
        loss = self._kg_loss([batch])
        return loss, {"kg": loss.detach()}

    # ---- scoring ----------------------------------------------------------------------------
    def prepare_scoring(self) -> None:
        self._cache = self.representations()

    def release_scoring(self) -> None:
        self._cache = None

    def score_users(self, users: torch.Tensor) -> torch.Tensor:
        u_all, i_all = self._cache if self._cache is not None else self.representations()
        u = u_all[users]
        if self.importance is not None:
            u = self.importance.weigh(u)
        scores = u @ i_all.T
        if self.content_weight is not None:
            scores = scores + (self._content_profiles(users) * self.content_weight) @ self.content_items.T
        b = self._biases()
        return scores if b is None else scores + b

    def extra_repr(self) -> str:
        return f"graphs={self.graph_names}, out_dim={self.out_dim}, importance={self.importance is not None}, raw_features={self.feature_proj is not None}"
