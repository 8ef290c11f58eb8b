"""``dualkgat``: the dual collaborative-KG recommender (the product's main model).

For each graph g ∈ {G_u (user_side), G_i (item_side)} a :class:`~ckgrec.model.nn.graph_encoder.GraphEncoder`
propagates L layers over the graph's interactions and knowledge triples. By default in LightGCN's
regime (linear aggregation, no per-layer normalisation, L2 on layer 0), with LightGCN's degree
weights 1/sqrt(d_h d_t) shared out among each node's neighbours by the TransR attention, because
that measured best (benchmarks/results/dualkgat-sweep.md); ``aggregator = bi`` gives KGAT's
bi-interaction layers. A user's vector is the concatenation of its layer outputs from G_u and G_i,
an item's likewise; items' raw modality vectors enter through a learned projection added to their
layer-0 state in both graphs. The graph score is

    y_g(u, i) = (w(u) ⊙ u)ᵀ i        (w(u) = 1 unless dimension_importance)

trained with BPR (+ TransR per graph in a KG phase per epoch when ``kg_weight`` > 0). The final
score mixes it with a closed-form knowledge-aware item–item filter
(:mod:`ckgrec.model.nn.knowledge_filter`: EASE on the training matrix plus the KG attributes and
modality vectors of the items),

    y(u, i) = (1 − s) · z(y_g(u, ·))_i + s · z(c ⊙ X_u B)_i,

z standardising a user's row, c_i = 1 for items seen in training and c_cold for never-seen ones
(whose column of B comes from their attributes and features alone); for a user without training
pairs X_u B = 0, and its profile popularity (the items' popularity within each of its G_i profile
groups, :class:`~ckgrec.model.nn.knowledge_filter.ProfilePopularity`) takes its place. The filter's strengths, the
share s and c_cold are chosen on validation after training (:meth:`DualKGAT.select_on_validation`),
s = 0 leaving the graph score alone. Full
ranking stays one matrix product per user batch plus one sparse product.

Every component is a switch (``use_item_side``, ``use_user_side``, ``fusion``,
``dimension_importance``, ``raw_features``, ``knowledge_filter``, ``layer_dims``), so ablations are
runs, not forks; ``configs/paper.toml`` is the paper's design.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable

import numpy as np
import scipy.sparse as sp
import torch
import torch.nn.functional as F
from torch import nn

from ckgrec.model.core.search_space import Categorical, Float
from ckgrec.model.data.graph_tensors import GraphTensors
from ckgrec.model.data.item_features import item_feature_matrix, modality_blocks
from ckgrec.model.models.base import Batch, ModelConfig, Recommender, option
from ckgrec.model.nn.dimension_importance import DimensionImportance
from ckgrec.model.nn.graph_encoder import AGGREGATORS, EDGE_WEIGHTS, FUSIONS, GraphEncoder
from ckgrec.model.nn.graph_ops import to_torch_csr
from ckgrec.model.nn.knowledge_filter import MAX_ITEMS as KF_MAX_ITEMS
from ckgrec.model.nn.knowledge_filter import KnowledgeFilter, ProfilePopularity, side_incidence, standardised
from ckgrec.schemas.errors import ConfigError


@dataclass(frozen=True, kw_only=True)
class DualKGATConfig(ModelConfig):
    dim: int = option(
        64, "entity embedding size d, also TransR's relation space (must equal the pretrained size)", low=1
    )
    layer_dims: tuple[int, ...] = option(
        (64, 64, 64), "output size of each propagation layer; its length is L (aggregator = linear keeps dim)", low=1
    )
    dropout: float = option(0.0, "message dropout after each layer", low=0.0, high=1.0, high_open=True)
    fusion: str = option(
        "concat",
        "layer fusion: concat (the layers side by side, as KGAT) | attention_concat (a learned attention over the layers, "
        "this product's paper design) | mean (LightGCN's average; needs aggregator = linear or every layer_dims equal to dim)",
        choices=FUSIONS,
    )
    use_user_side: bool = option(True, "use the user-side graph G_u (users, items, attributes, concepts, KG)")
    use_item_side: bool = option(True, "use the item-side graph G_i (items, users, user attributes)")
    dimension_importance: bool = option(False, "weigh score dimensions by a user-conditioned w(u); off = inner product")
    raw_features: bool = option(True, "add a learned projection of the items' modality vectors to their input")
    kg_weight: float = option(
        0.0, "weight of each graph's TransR loss, trained in a KG phase per epoch as KGAT; 0 = no TransR phase", low=0.0
    )
    aggregator: str = option(
        "linear",
        "linear: LightGCN's regime (e_h' = weighted sum of the neighbours, raw layer outputs, L2 on the batch's layer-0 "
        "embeddings) | bi: KGAT's (bi-interaction W1/W2 + LeakyReLU, L2-normalised layers, L2 on the final vectors)",
        choices=AGGREGATORS,
    )
    edge_weights: str = option(
        "attention_degree",
        "propagation weights: attention_degree (LightGCN's 1/sqrt(d_h d_t) shared out by the TransR attention: each node "
        "keeps LightGCN's total weight) | attention (KGAT's softmax over each node's neighbours) | symmetric (LightGCN's, "
        "no attention)",
        choices=EDGE_WEIGHTS,
    )
    init: str = option(
        "random",
        "initial embeddings: random (Xavier) | pretrained (ckg pretrain's TransR; lowered validation accuracy in our "
        "measurements, so not the default) | auto (pretrained when STORE/pretrained exists)",
        choices=("pretrained", "random", "auto"),
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
    knowledge_filter: bool = option(
        True,
        "mix the graph score with a closed-form knowledge-aware item-item filter (EASE on the training matrix plus the "
        f"items' KG attributes and modality vectors); its strengths and the mix are chosen on validation after "
        f"training; skipped above {KF_MAX_ITEMS:,} items",
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.fusion == "mean" and self.aggregator != "linear" and set(self.layer_dims) != {self.dim}:
            raise ConfigError(
                f"fusion = 'mean' averages the layers, so each must have size dim = {self.dim}; layer_dims = {tuple(self.layer_dims)}: "
                "set aggregator = 'linear' or layer_dims all equal to dim"
            )
        if not (self.use_user_side or self.use_item_side):
            raise ConfigError("at least one of use_user_side / use_item_side must be true")
        if not self.layer_dims:
            raise ConfigError("layer_dims needs at least one positive size")


# settings dualkgat fixes and kgat exposes as options (KGAT as published, and RecBole's KGAT for parity)
FIXED = {
    "relation_dim": None,  # None: the entity size dim
    "kg_triples": "all",
    "kg_optimizer": "own",
    "side_edges": "both",
    "kg_batch_size": 2048,
    "kg_l2": 1e-5,
}


def setting(cfg: ModelConfig, name: str) -> Any:
    """``cfg.name`` where the config has that option (kgat), else dualkgat's fixed value."""
    value = getattr(cfg, name, FIXED[name])
    return cfg.dim if (name == "relation_dim" and value is None) else value


# the knowledge filter's grid, searched coordinate-wise on validation after training (relative strengths,
# see ckgrec.model.nn.knowledge_filter): lambda first with no side information, then the KG weight, then the
# feature weight, then the share of the filter in the mixed score (0 = the graph alone, 1 = the filter alone)
# (the grids reach a decade past the values chosen on the datasets measured: with the narrower
# (5..120), (0.1, 0.5), (0.25, 1) the choice sat on an edge on every one of them)
FILTER_REGS = (1.5, 5.0, 15.0, 40.0, 120.0, 360.0, 1000.0)
FILTER_KG = (0.02, 0.1, 0.5, 2.0)
FILTER_FEATURES = (0.05, 0.25, 1.0, 4.0)
FILTER_MIX = (0.0, 0.2, 0.35, 0.5, 0.65, 0.8, 1.0)
# then, when some items never appear in training, the factor on their filter scores: such an item's column of B
# comes from side information alone (a, b < 1), so its scores sit below every warm item's and it never reaches a
# top-K among all items; the factor that validation likes best puts them back on the warm items' scale
FILTER_COLD = (1.0, 2.0, 3.0, 5.0, 10.0)


class DualKGAT(Recommender):
    name = "dualkgat"
    description = (
        "dual collaborative-KG attention (G_u + G_i) with raw features, mixed with a knowledge-aware closed-form filter"
    )
    paper = (
        "this product's design; KGAT (Wang et al., KDD 2019) and LightGCN (He et al., SIGIR 2020) for the propagation"
    )
    Config = DualKGATConfig
    known_answer_test = "tests/model/models/test_kg_known_answer.py::test_kg_model_ranks_the_withheld_block_item_first"
    # LightGCN's regime, chosen on the embedded data's validation split (benchmarks/results/dualkgat-sweep.md);
    # configs/paper.toml keeps the paper's (lr 1e-3, l2 1e-2 on the final vectors, dropout 0.3)
    train_defaults = {"lr": 0.002, "batch_size": 2048, "l2": 1e-4, "epochs": 200, "num_negatives": 1}
    defaults_source = (
        "one-option-at-a-time validation sweeps on the embedded data and ML-100K (benchmarks/results/dualkgat-sweep.md, "
        "dualkgat-sweep-ml100k.md) and the ablations of main-model.md: LightGCN's regime with degree-shared attention, "
        "layer concat, L = 3, the knowledge filter; configs/paper.toml keeps the paper's design"
    )
    # KGAT's and LightGCN's ranges; dim stays the pretrained size
    search_space = {
        "lr": Float("train", 1e-4, 5e-2, log=True),
        "l2": Float("train", 1e-6, 1e-1, log=True),
        "layer_dims": Categorical("model", ((64,), (64, 64), (64, 64, 64), (64, 64, 64, 64))),
        "fusion": Categorical("model", ("concat", "mean")),
        "dropout": Float("model", 0.0, 0.5, step=0.1),
    }
    can_score_cold_items = True
    can_score_cold_users = True  # through G_i's profile edges; an instance without them says False (__init__)
    extra_phases = ("kg",)  # empty when kg_weight = 0 (see phase_batches)

    def __init__(
        self,
        n_users: int,
        n_items: int,
        graphs: list[GraphTensors],
        features: torch.Tensor | None,
        cfg: DualKGATConfig,
        item_trained: torch.Tensor | None = None,
        user_trained: torch.Tensor | None = None,
        knowledge: KnowledgeFilter | None = None,
        train: sp.csr_matrix | None = None,
        profile: ProfilePopularity | None = None,
    ):
        super().__init__(n_users, n_items)
        self.cfg = cfg
        self.graph_names = [g.graph for g in graphs]
        # a user without training pairs is still reachable through profile edges (G_i's
        # user -> user_attribute), which gives it an informed vector; without them it has only an
        # untrained ID embedding
        self.can_score_cold_users = any(g.users_have_side_edges() for g in graphs)
        linear = cfg.aggregator == "linear"
        self.encoders = nn.ModuleList(
            GraphEncoder(
                g,
                dim=cfg.dim,
                relation_dim=setting(cfg, "relation_dim"),
                layer_dims=cfg.layer_dims,
                dropout=cfg.dropout,
                fusion=cfg.fusion,
                normalize=not linear,  # KGAT L2-normalises each layer; LightGCN keeps the magnitudes (popularity)
                aggregator=cfg.aggregator,
                edge_weights=cfg.edge_weights,
                side_edges=setting(cfg, "side_edges"),
            )
            for g in graphs
        )
        # what the L2 term penalises: LightGCN's layer-0 embeddings of the batch, or KGAT's fused vectors
        self._regularize = "ego" if linear else "final"
        # the TransR loss's triples per graph: all of them, or (RecBole) the side triples only
        self._kg_triples = [
            g.triples if setting(cfg, "kg_triples") == "all" else g.triples[~g.interaction_triples()] for g in graphs
        ]
        self.register_buffer(
            "features", features if (features is not None and cfg.raw_features) else None, persistent=False
        )
        self.feature_proj = nn.Linear(self.features.shape[1], cfg.dim) if self.features is not None else None
        self.out_dim = sum(e.out_dim for e in self.encoders)
        self.importance = DimensionImportance(self.out_dim) if cfg.dimension_importance else None
        self._cache: tuple[torch.Tensor, torch.Tensor] | None = None
        self._keep_cache = False
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
        # the knowledge filter: its inputs (Gram matrices built only when a fit needs them), the training rows it
        # scores from, and the choice made on validation (relative lambda, KG weight, feature weight, share in
        # the score; share 0 = not used), kept in the state so best.pt carries it
        self._knowledge = knowledge
        self._train = train
        self._profile = profile  # the filter's row for a user without training pairs (None: no profiles)
        self.register_buffer("filter_choice", torch.zeros(4, dtype=torch.float64))
        self.register_buffer("filter_cold_scale", torch.ones((), dtype=torch.float64))  # FILTER_COLD's choice
        self._filter_weights: tuple[tuple[float, ...], torch.Tensor] | None = None

    # ---- construction -------------------------------------------------------------------
    @classmethod
    def graphs_for(cls, cfg) -> list[str]:
        return [g for g, on in (("user_side", cfg.use_user_side), ("item_side", cfg.use_item_side)) if on]

    @classmethod
    def build(cls, data, config: DualKGATConfig, device: torch.device) -> "DualKGAT":
        if data.store is None:
            raise ConfigError(f"{cls.name} needs the store's graphs; build TrainData with TrainData.from_store")
        graphs = [GraphTensors.from_store(data.store, g).to(device) for g in cls.graphs_for(config)]
        feats = item_feature_matrix(data.store, data.n_items) if config.raw_features else None
        train = data.split("train")
        item_trained = torch.as_tensor(np.asarray(train.getnnz(axis=0)) > 0)
        user_trained = torch.as_tensor(np.asarray(train.getnnz(axis=1)) > 0)
        knowledge = profile = None
        if config.knowledge_filter and data.n_items <= KF_MAX_ITEMS:
            user_side = next((g for g in graphs if g.graph == "user_side"), None)
            user_side = user_side or GraphTensors.from_store(data.store, "user_side")
            blocks = modality_blocks(data.store, data.n_items)
            knowledge = KnowledgeFilter(
                train,
                side_incidence(user_side, data.n_items),
                np.concatenate([x for x, _ in blocks], axis=1) if blocks else None,
            )
            item_side = next((g for g in graphs if g.graph == "item_side"), None)
            profile = ProfilePopularity.from_graph(train, item_side or GraphTensors.from_store(data.store, "item_side"))
        model = cls(
            data.n_users,
            data.n_items,
            graphs,
            feats.to(device) if feats is not None else None,
            config,
            item_trained,
            user_trained,
            knowledge,
            train,
            profile,
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
            enc.load_pretrained(emb.entity, emb.relation, emb.projection, entities_only=self.cfg.kg_weight == 0)

    # ---- representations --------------------------------------------------------------------
    def _extra_input(self, enc: GraphEncoder, projected: torch.Tensor | None) -> torch.Tensor | None:
        """(N, d) layer-0 addition of ``enc``'s graph: the items' feature projection on their rows, or None."""
        if projected is None:
            return None
        extra = torch.zeros(enc.graph.num_entities, self.cfg.dim, dtype=projected.dtype, device=projected.device)
        return extra.index_add(0, enc.graph.item_entity, projected)

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
        projected = self.feature_proj(self.features) if self.feature_proj is not None else None
        parts = [
            enc(self._extra_input(enc, projected), users_items_only=True, id_keep=self._id_keep(enc), select=select)
            for enc in self.encoders
        ]
        return parts[0] if len(parts) == 1 else torch.cat(parts, -1)  # kgat: one graph, nothing to join

    def representations(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(users (n_users, D), items (n_items, D)): concatenation over the graphs in use."""
        both = self._encode()
        return both[: self.n_users], both[self.n_users :]

    def _pair_scores(self, u: torch.Tensor, i: torch.Tensor) -> torch.Tensor:
        return self.importance.pair_scores(u, i) if self.importance is not None else (u * i).sum(-1)

    # ---- training ---------------------------------------------------------------------------
    def on_epoch_start(self, epoch: int, generator: torch.Generator) -> None:
        if self.cfg.cold_item_dropout > 0 or self.cfg.cold_user_dropout > 0:
            self._simulate_cold(generator)
        for enc in self.encoders:
            enc.resample_neighbours(generator)
            enc.refresh_attention_if_stale()

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
            enc.refresh_attention_if_stale()

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
        """BPR loss of the batch's fused vectors plus ``l2 ·`` their penalty (:meth:`_batch_norm`,
        computed from the same vectors). The knowledge filter is closed-form: it takes no part in training."""
        u, pos, neg = self._batch_vectors(batch)
        cf = F.softplus(-(self._pair_scores(u, pos) - self._pair_scores(u, neg))).mean()
        parts = {"cf": cf.detach()}
        total = cf
        if l2 > 0:
            reg = self._batch_norm(batch, u, pos, neg)
            parts["reg"] = reg.detach()
            total = total + l2 * reg
        return total, parts

    def loss(self, batch: Batch) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        return self.objective(batch, 0.0)

    def _batch_norm(self, batch: Batch, u: torch.Tensor, pos: torch.Tensor, neg: torch.Tensor) -> torch.Tensor:
        """Why it follows the aggregator: KGAT's fused vectors are built from L2-normalised layers, so
        penalising them mostly shrinks layer 0 and leaves the ID embeddings inside the propagation
        unregularised; with raw (linear) layers, penalising the batch's layer-0 embeddings (LightGCN) reaches them."""
        if self._regularize == "final":
            total = u.pow(2).sum() + pos.pow(2).sum() + neg.pow(2).sum()
        else:
            total = torch.zeros((), device=u.device)
            for enc in self.encoders:
                g = enc.graph
                ents = torch.cat([g.user_entity[batch.users], g.item_entity[batch.pos], g.item_entity[batch.neg[:, 0]]])
                total = total + enc.entity(ents).pow(2).sum()
        return total / (2 * len(batch))

    def regularization(self, batch: Batch) -> torch.Tensor:
        """½‖·‖² of the batch's vectors (see :meth:`_batch_norm`) over the batch size."""
        return self._batch_norm(batch, *self._batch_vectors(batch))

    def _kg_batches(self, generator: torch.Generator | None) -> Iterable[list[tuple[int, torch.Tensor, torch.Tensor]]]:
        gen = generator or torch.Generator().manual_seed(0)
        sizes = [t.shape[0] for t in self._kg_triples]
        if max(sizes) == 0:  # kg_triples = side on a graph of interactions only: nothing to learn from
            return
        size = setting(self.cfg, "kg_batch_size")
        for _ in range(math.ceil(max(sizes) / size)):
            batch = []
            for k, enc in enumerate(self.encoders):
                n = sizes[k]
                if n == 0:
                    continue
                triples = self._kg_triples[k]
                idx = torch.randint(0, n, (min(size, n),), generator=gen).to(triples.device)
                neg = torch.randint(0, enc.graph.num_entities, (len(idx),), generator=gen).to(triples.device)
                batch.append((k, triples[idx], neg))
            yield batch

    def _kg_loss(self, batches) -> torch.Tensor:
        total = torch.zeros((), device=self.device)
        kg_l2 = setting(self.cfg, "kg_l2")
        for batch in batches:
            for k, triples, neg in batch:
                loss, l2 = self.encoders[k].kg_loss_terms(triples, neg)
                total = total + self.cfg.kg_weight * loss + kg_l2 * l2
        return total

    def phase_batches(self, phase: str, epoch: int, generator: torch.Generator) -> Iterable[Any]:
        if phase != "kg":
            raise NotImplementedError(phase)
        return iter(()) if self.cfg.kg_weight == 0 else self._kg_batches(generator)

    def phase_shares_cf_optimizer(self, phase: str) -> bool:
        return phase == "kg" and setting(self.cfg, "kg_optimizer") == "shared"

    def phase_loss(self, phase: str, batch: Any):
        loss = self._kg_loss([batch])
        return loss, {"kg": loss.detach()}

    # ---- the knowledge filter ---------------------------------------------------------------
    def _filter_scores(self, users: torch.Tensor) -> torch.Tensor:
        """(B, n_items) X_u B of the chosen filter; for a user without training pairs, whose X_u B is 0,
        its profile popularity p(u) (:class:`ProfilePopularity`)."""
        ids = users.cpu().numpy()
        scores = torch.sparse.mm(to_torch_csr(self._train[ids], self.item_trained.device), self._filter_matrix())
        if self._profile is not None:
            empty = np.flatnonzero(np.diff(self._train.indptr)[ids] == 0)
            if len(empty):
                profile = torch.as_tensor(self._profile.scores(ids[empty]), dtype=scores.dtype)
                scores[torch.as_tensor(empty, device=scores.device)] = profile.to(scores.device)
        cold = float(self.filter_cold_scale)
        return scores if cold == 1.0 else torch.where(self.item_trained, scores, cold * scores)

    def _filter_matrix(self) -> torch.Tensor:
        """(n_items, n_items) B of the chosen (λ, a, b), fitted once per choice and device, then cached."""
        key = (*(float(v) for v in self.filter_choice[:3]), str(self.item_trained.device))
        if self._filter_weights is None or self._filter_weights[0] != key:
            self._filter_weights = (key, self._knowledge.fit(*key[:3]).to(self.item_trained.device))
            if not self._keep_cache:  # not searching: the chosen B is all that scoring needs
                self._knowledge.release()
        return self._filter_weights[1]

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # runs trained before the cold-item factor existed scored never-seen items with factor 1
        state_dict.setdefault(prefix + "filter_cold_scale", torch.ones((), dtype=torch.float64))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def select_on_validation(self, valid_value) -> dict[str, Any] | None:
        """The knowledge filter's strengths, then its share in the score, each the best on validation
        (coordinate-wise over :data:`FILTER_REGS`, :data:`FILTER_KG`, :data:`FILTER_FEATURES`,
        :data:`FILTER_MIX`, then :data:`FILTER_COLD` when some items were never trained on; ties keep the
        earlier, i.e. less side information, more graph, factor 1)."""
        if self._knowledge is None:
            return None
        was_training = self.training
        self.eval()  # no message dropout, no autograd graph kept in the cache
        self.filter_choice.zero_()  # from scratch, so a resumed run that selects again chooses the same
        self.filter_cold_scale.fill_(1.0)
        with torch.no_grad():
            self.prepare_scoring()  # the graph's vectors do not change during the search: propagate once
        self._keep_cache = True
        try:
            graph_only = valid_value()
            best, params = -math.inf, [FILTER_REGS[0], 0.0, 0.0]

            def trial(reg: float, a: float, b: float, mix: float) -> float:
                self.filter_choice.copy_(torch.tensor([reg, a, b, mix], dtype=torch.float64))
                return valid_value()

            for reg in FILTER_REGS:
                if (v := trial(reg, 0.0, 0.0, 1.0)) > best:
                    best, params = v, [reg, 0.0, 0.0]
            for k, grid, present in (
                (1, FILTER_KG, self._knowledge.has_side),
                (2, FILTER_FEATURES, self._knowledge.has_features),
            ):
                for w in grid if present else ():
                    candidate = list(params)
                    candidate[k] = w
                    if (v := trial(*candidate, 1.0)) > best:
                        best, params = v, candidate
            filter_only = best
            best, mix = graph_only, 0.0
            for m in FILTER_MIX[1:]:
                if (v := (filter_only if m == 1.0 else trial(*params, m))) > best:
                    best, mix = v, m
            self.filter_choice.copy_(torch.tensor([*params, mix], dtype=torch.float64))
            cold = 1.0
            if mix > 0 and not bool(self.item_trained.all()):
                for c in FILTER_COLD[1:]:
                    self.filter_cold_scale.fill_(c)
                    if (v := valid_value()) > best:
                        best, cold = v, c
                self.filter_cold_scale.fill_(cold)
        finally:
            self._keep_cache = False
            self._knowledge.release()
            self.release_scoring()
            self.train(was_training)
        return {
            "filter_reg": params[0],
            "filter_kg": params[1],
            "filter_features": params[2],
            "filter_share": mix,
            "filter_cold_scale": cold,
            "valid_graph_only": round(graph_only, 6),
            "valid_filter_only": round(filter_only, 6),
            "valid_chosen": round(best, 6),
        }

    def filter_evidence(self, user: int, item: int, top: int) -> list[tuple[int, float]]:
        """The ``top`` training items j of ``user`` with the largest filter weights B[j, item] (positive only):
        the filter's score of the item is the sum of B[j, item] over the user's training items, so these are
        the items that made it recommend ``item``. Empty when the filter takes no share of the score."""
        if self._knowledge is None or float(self.filter_choice[3]) <= 0 or top <= 0:
            return []
        history = self._train[user].indices
        weights = self._filter_matrix()[torch.as_tensor(history, dtype=torch.long), item].double().cpu().numpy()
        order = np.argsort(-weights, kind="stable")[:top]
        return [(int(history[k]), float(weights[k])) for k in order if weights[k] > 0]

    # ---- scoring ----------------------------------------------------------------------------
    def prepare_scoring(self) -> None:
        if not self._keep_cache:
            self._cache = self.representations()

    def release_scoring(self) -> None:
        if not self._keep_cache:
            self._cache = None

    def score_users(self, users: torch.Tensor) -> torch.Tensor:
        """(B, n_items): the graph's score (w(u) ⊙ u)ᵀ i, or, once a filter share s > 0 was chosen,
        (1 − s)·z(graph score) + s·z(X_u B) with z standardising each user's row."""
        u_all, i_all = self._cache if self._cache is not None else self.representations()
        u = u_all[users]
        if self.importance is not None:
            u = self.importance.weigh(u)
        scores = u @ i_all.T
        share = float(self.filter_choice[3])
        if share <= 0 or self._knowledge is None:
            return scores
        filtered = self._filter_scores(users)
        # a user without training items and without profile attributes has a zero row: the filter knows
        # nothing of it, so the graph alone scores it whatever the share
        share_u = torch.where(filtered.std(-1, keepdim=True) > 0, share, 0.0).to(scores.dtype)
        return (1 - share_u) * standardised(scores) + share_u * standardised(filtered)

    def extra_repr(self) -> str:
        return f"graphs={self.graph_names}, out_dim={self.out_dim}, importance={self.importance is not None}, raw_features={self.feature_proj is not None}"
