"""``kgin``: KGIN (Wang et al., "Learning Intents behind Interactions with Knowledge Graph for
Recommendation", WWW 2021) on the store's user-side graph G_u.

G_u is split in two: its user–item triples (every behaviour, each pair once) are the
interactions, every other triple (attributes, modality concepts, in both directions) is the KG.
Each node has one ID embedding e^(0) (users, items and KG entities: G_u's entity table).

* **Intents.** P intents, each an attentive combination of the KG relations' embeddings e_r:
  ``e_p = Σ_r softmax_r(w_p)_r · e_r`` (Eq. 2), with ``w`` a learned (P, K) table over the K KG
  relations.
* **Item / entity side** (relational path-aware aggregation, Eq. 10):
  ``e_h^(l+1) = mean over h's KG edges (r, t) of e_r ⊙ e_t^(l)``.
* **User side** (intent-aware aggregation, Eq. 8-9):
  ``e_u^(l+1) = Σ_p β(u, p) · mean over u's items i of (e_p ⊙ e_i^(l))`` with
  ``β(u, ·) = softmax_p(e_pᵀ e_u^(0))``. The authors' code adds the plain mean of the items
  (``e_u^(l+1) = m ⊙ (1 + Σ_p β e_p)``); ``--set user_residual=true`` does that.
* Each layer's output is L2-normalised (after message dropout) and the representation is the
  **sum** ``e^(0) + Σ_l e^(l)`` (Eq. 12); the score is ``e_uᵀ e_i``.
* **Loss**: BPR + ``l2 ·`` ½(‖u‖² + ‖i⁺‖² + ‖i⁻‖²)/B on the batch's final vectors (the authors'
  code) + ``independence_weight ·`` the intent independence loss (Eq. 7): the distance
  correlation of every pair of intents (``cosine``: their squared cosine), over the intents'
  relation-attention rows ``w_p`` as the authors' code and RecBole compute it.
* **Dropout**: node dropout (each batch keeps every KG edge and every interaction with
  probability 1 − p; the KG mean runs over the kept edges, kept interactions are scaled by
  1/(1 − p), as the authors' code) and message dropout after each layer.

Aggregation is one CSR sparse matmul per layer for the KG and one for the users. The KG's messages
``e_r ⊙ e_t`` depend only on the (relation, tail) pair of an edge, so they are formed once per distinct
pair, ``M = E[t_q] ⊙ e_{r_q}`` (Q, d) for the Q distinct pairs q, and ``E' = A M`` with A (N, Q) the
row-normalised head × pair incidence (A[h, q] = 1/deg(h) for each edge (h, r_q, t_q)); the users get
``R E_items``. Never a dense N × N matrix, nor one message per edge; one matmul where a loop over the
K relations took K (54 on ML-100K + Freebase: the loop cost about 10× more per epoch).

Defaults come from ``ckg tune`` (see :attr:`KGIN.defaults_source`): d = 64, 1 hop, 1 intent, node
dropout 0.5, no message dropout, Adam at lr 5e-3, l2 6e-4, batch 1024, Xavier-uniform
initialisation. The authors' (their ``parser.py``: 3 hops, 4 intents, distance correlation 1e-4,
message dropout 0.1, lr 1e-4, l2 1e-5) are ``--set layers=3 --set n_intents=4 --set
message_dropout=0.1 --lr 1e-4 --l2 1e-5``; at lr 1e-4 they need hundreds of epochs. RecBole's KGIN
differs from the authors' in 2 hops, cosine and no message dropout.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ckgrec.model.core.search_space import Categorical, Float, Int
from ckgrec.model.data.graph_tensors import GraphTensors
from ckgrec.model.models.base import Batch, ModelConfig, option
from ckgrec.model.models.propagated import PropagatedBPR
from ckgrec.model.nn.graph_ops import propagate_directed
from ckgrec.model.nn.losses import bpr_loss, embedding_l2
from ckgrec.schemas.errors import ConfigError

INDEPENDENCE = ("distance", "cosine")


@dataclass(frozen=True, kw_only=True)
class KGINConfig(ModelConfig):
    dim: int = option(64, "embedding size d of users, items, entities and relations", low=1)
    layers: int = option(1, "number L of propagation hops (KGIN's context_hops; the authors' 3)", low=1)
    n_intents: int = option(1, "number P of user intents (KGIN's n_factors; the authors' 4)", low=1)
    independence: str = option(
        "distance",
        "intent independence loss: distance (distance correlation, the paper's Eq. 7) | cosine (squared cosine, RecBole's default)",
        choices=INDEPENDENCE,
    )
    independence_weight: float = option(1e-4, "weight of the intent independence loss (0 = off)", low=0.0)
    node_dropout: float = option(
        0.5,
        "share of KG edges and interactions left out of each training batch's propagation (0 = off)",
        low=0.0,
        high=1.0,
        high_open=True,
    )
    message_dropout: float = option(
        0.0, "dropout on each layer's output (the authors' 0.1)", low=0.0, high=1.0, high_open=True
    )
    user_residual: bool = option(
        False,
        "user side as the authors' code: mean of the items ⊙ (1 + Σ_p β e_p) instead of the paper's mean ⊙ Σ_p β e_p",
    )
    init_std: float = option(
        0.0, "initial embeddings: 0 = Xavier uniform (KGIN's); > 0 = normal with this std", low=0.0
    )


def _csr(rows: torch.Tensor, cols: torch.Tensor, values: torch.Tensor, shape: tuple[int, int]) -> torch.Tensor:
    """CSR of entries already sorted by row (then column)."""
    crow = torch.zeros(shape[0] + 1, dtype=torch.int64, device=rows.device)
    crow[1:] = torch.cumsum(torch.bincount(rows, minlength=shape[0]), 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "sparse CSR support is in beta"
        return torch.sparse_csr_tensor(crow, cols, values, size=shape)


def _csr_pair(
    rows: torch.Tensor, cols: torch.Tensor, values: torch.Tensor, shape: tuple[int, int]
) -> tuple[torch.Tensor, torch.Tensor]:
    """(A, Aᵀ) as CSR for entries sorted by row then column."""
    order = torch.argsort(cols, stable=True)  # rows stay ascending within each column
    return _csr(rows, cols, values, shape), _csr(cols[order], rows[order], values[order], (shape[1], shape[0]))


def _distance_correlation(x: torch.Tensor) -> torch.Tensor:
    """Sum over pairs p < q of dCor(x_p, x_q), each row of ``x`` (P, m) one sample of m scalars."""
    d = (x.unsqueeze(2) - x.unsqueeze(1)).abs()  # (P, m, m) distances between the elements of each row
    a = d - d.mean(1, keepdim=True) - d.mean(2, keepdim=True) + d.mean((1, 2), keepdim=True)
    m = x.shape[1]
    dcov2 = torch.einsum("pij,qij->pq", a, a) / (m * m)  # squared distance covariances
    dcov = torch.sqrt(dcov2.clamp_min(0.0) + 1e-8)
    var = torch.diagonal(dcov)
    dcor = dcov / torch.sqrt(var.unsqueeze(1) * var.unsqueeze(0) + 1e-8)
    return torch.triu(dcor, diagonal=1).sum()


def _squared_cosine(x: torch.Tensor) -> torch.Tensor:
    """Sum over pairs p < q of cos²(x_p, x_q)."""
    z = F.normalize(x, dim=1)
    return torch.triu((z @ z.T).pow(2), diagonal=1).sum()


class KGIN(PropagatedBPR):
    name = "kgin"
    description = (
        "KGIN: user intents over KG relations, relational path-aware aggregation on G_u, layer sum, independence loss"
    )
    paper = "Wang et al., Learning Intents behind Interactions with Knowledge Graph for Recommendation, WWW 2021"
    Config = KGINConfig
    known_answer_test = "tests/model/models/test_kgin.py::test_kgin_ranks_the_withheld_block_item_first"
    can_score_cold_items = True  # an item without interactions still hears its attributes and concepts
    can_score_cold_users = False  # the user side is the mean of the user's items: nothing without history
    # batch 1024 and up to 1000 epochs as the authors' parser.py; lr and l2 from tuning (theirs: 1e-4, 1e-5)
    train_defaults = {"lr": 5e-3, "batch_size": 1024, "l2": 6e-4, "epochs": 1000, "num_negatives": 1}
    defaults_source = (
        "ckg tune, 12 trials each on embedded and tiktok-sample: the 1-hop, 1-intent trials at lr 5-6e-3, l2 6-7e-4 "
        "were within 0.3% of each study's best; these defaults give valid Recall@20 0.2494 on embedded (best 0.2516, "
        "the authors' 0.2099) and 0.0995 on tiktok-sample (the best; the authors' 0.0249); on ML-100K, tuned from "
        "them, the best of 12 trials (1 hop, 1 intent too) was 0.9% above them"
    )
    # Wang et al. 2021 / RecBole's KGIN search: lr {1e-4, 1e-3, 5e-3}, hops {1, 2, 3}, intents {1, 2, 4, 8},
    # node dropout {0.1, 0.3, 0.5}, message dropout {0, 0.1}, independence cosine | distance; l2 and the
    # independence weight around the defaults 1e-5 / 1e-4
    search_space = {
        "lr": Float("train", 1e-4, 1e-2, log=True),
        "l2": Float("train", 1e-5, 1e-3, log=True),
        "layers": Int("model", 1, 3),
        "n_intents": Categorical("model", (1, 2, 4, 8)),
        "independence_weight": Float("model", 1e-5, 1e-3, log=True),
        "node_dropout": Float("model", 0.0, 0.5, step=0.1),
        "message_dropout": Categorical("model", (0.0, 0.1)),
        "independence": Categorical("model", INDEPENDENCE),
    }

    def __init__(
        self,
        n_users: int,
        n_items: int,
        num_entities: int,
        kg: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
        num_kg_relations: int,
        interactions: tuple[torch.Tensor, torch.Tensor],
        user_entity: torch.Tensor,
        item_entity: torch.Tensor,
        cfg: KGINConfig,
    ):
        super().__init__(n_users, n_items)
        self.cfg = cfg
        self.num_entities = int(num_entities)
        head, relation, tail = kg  # (E,) each, sorted by relation, then head, then tail
        for name, t in (
            ("kg_head", head),
            ("kg_relation", relation),
            ("kg_tail", tail),
            ("inter_user", interactions[0]),  # (T,) sorted by user, then item
            ("inter_item", interactions[1]),
            ("user_entity", user_entity),
            ("item_entity", item_entity),
        ):
            self.register_buffer(name, t.long(), persistent=False)
        self.num_kg_relations = int(num_kg_relations)
        # the distinct (relation, tail) pairs q and, per edge, its pair; the edges re-sorted by (head, pair)
        # so that the incidence A (N, Q) is built without a sort in every batch
        pair_key, pair_of_edge = torch.unique(
            self.kg_relation * self.num_entities + self.kg_tail, sorted=True, return_inverse=True
        )
        order = torch.argsort(self.kg_head * len(pair_key) + pair_of_edge)
        for name, t in (
            ("pair_relation", pair_key // self.num_entities),
            ("pair_tail", pair_key % self.num_entities),
            ("edge_head", self.kg_head[order]),
            ("edge_pair", pair_of_edge[order]),
            ("edge_order", order),  # node dropout draws its mask over the edges in kg_head's order
        ):
            self.register_buffer(name, t, persistent=False)
        self.entity = nn.Parameter(torch.empty(self.num_entities, cfg.dim))
        self.relation = nn.Parameter(torch.empty(self.num_kg_relations, cfg.dim))
        self.intent_logits = nn.Parameter(torch.empty(cfg.n_intents, self.num_kg_relations))  # w (P, K)
        self._graph: tuple[tuple, tuple] | None = None  # the full graph's matrices, built on first use
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if self.cfg.init_std > 0:
            nn.init.normal_(self.entity, std=self.cfg.init_std)
            nn.init.normal_(self.relation, std=self.cfg.init_std)
        else:
            nn.init.xavier_uniform_(self.entity)
            nn.init.xavier_uniform_(self.relation)
        nn.init.xavier_uniform_(self.intent_logits)

    # ---- construction -------------------------------------------------------------------
    @classmethod
    def build(cls, data, config: KGINConfig, device: torch.device) -> "KGIN":
        if data.store is None:
            raise ConfigError(f"{cls.name} needs the store's graphs; build TrainData with TrainData.from_store")
        g = GraphTensors.from_store(data.store, "user_side")
        inter = g.interaction_edges()
        kg = ~inter
        if not bool(kg.any()):
            raise ConfigError(
                f"{cls.name}: the user-side graph of {data.store.path} holds interactions only; KGIN's intents are "
                "combinations of KG relations, so it needs item attributes, concepts or an external KG"
            )
        head, relation, tail = g.head[kg], g.relation[kg], g.tail[kg]
        kg_relations, relation = torch.unique(relation, return_inverse=True)  # monotone: the order stays sorted
        # interactions: the user -> item direction of each user-item edge, each (user, item) pair once
        user_of = torch.full((g.num_entities,), -1, dtype=torch.int64)
        user_of[g.user_entity] = torch.arange(len(g.user_entity))
        item_of = torch.full((g.num_entities,), -1, dtype=torch.int64)
        item_of[g.item_entity] = torch.arange(len(g.item_entity))
        users, items = user_of[g.head[inter]], item_of[g.tail[inter]]
        forward = (users >= 0) & (items >= 0)
        pairs = torch.unique(users[forward] * data.n_items + items[forward])  # sorted by user, then item
        model = cls(
            data.n_users,
            data.n_items,
            g.num_entities,
            (head, relation, tail),
            len(kg_relations),
            (pairs // data.n_items, pairs % data.n_items),
            g.user_entity,
            g.item_entity,
            config,
        )
        return model.to(device)

    # ---- the graph --------------------------------------------------------------------------
    def _matrices(self, keep_edges: torch.Tensor | None, keep_pairs: torch.Tensor | None, scale: float):
        """((A, Aᵀ), (R, Rᵀ)): A (N, Q) the head × (relation, tail)-pair incidence of the (kept) KG edges
        normalised by each head's number of kept edges, R the users' (kept) interactions normalised by
        each user's number of interactions and multiplied by ``scale``."""
        head, pair = self.edge_head, self.edge_pair
        if keep_edges is not None:
            keep = keep_edges[self.edge_order]
            head, pair = head[keep], pair[keep]
        degree = torch.bincount(head, minlength=self.num_entities).clamp_min(1).to(self.entity.dtype)
        kg = _csr_pair(head, pair, 1.0 / degree[head], (self.num_entities, len(self.pair_tail)))
        users, items = self.inter_user, self.inter_item
        count = torch.bincount(users, minlength=self.n_users).clamp_min(1).to(self.entity.dtype)
        weights = scale / count[users]
        if keep_pairs is not None:
            users, items, weights = users[keep_pairs], items[keep_pairs], weights[keep_pairs]
        return kg, _csr_pair(users, items, weights, (self.n_users, self.n_items))

    def _graph_matrices(self):
        p = self.cfg.node_dropout
        if self.training and p > 0:  # torch's global generator, as every dropout (checkpointed by the trainer)
            keep_edges = torch.rand(self.kg_head.shape[0], device=self.kg_head.device) >= p
            keep_pairs = torch.rand(self.inter_user.shape[0], device=self.inter_user.device) >= p
            return self._matrices(keep_edges, keep_pairs, 1.0 / (1.0 - p))
        if self._graph is None or self._graph[1][0].device != self.entity.device:
            self._graph = self._matrices(None, None, 1.0)
        return self._graph

    def intents(self) -> torch.Tensor:
        """(P, d) intent embeddings e_p = Σ_r softmax(w_p)_r e_r."""
        return torch.softmax(self.intent_logits, dim=-1) @ self.relation

    def propagate(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(users (n_users, d), items (n_items, d)): the sums of layers 0..L."""
        kg, interactions = self._graph_matrices()
        entities = self.entity
        users = entities[self.user_entity]
        intents = self.intents()
        beta = torch.softmax(users @ intents.T, dim=-1)  # (U, P) from the users' layer-0 embeddings
        user_intent = beta @ intents  # (U, d): Σ_p β(u, p) e_p
        if self.cfg.user_residual:
            user_intent = user_intent + 1.0
        user_sum, entity_sum = users, entities
        for _ in range(self.cfg.layers):
            messages = entities[self.pair_tail] * self.relation[self.pair_relation]  # (Q, d): e_r ⊙ e_t per pair
            nxt = propagate_directed(*kg, messages)
            users = user_intent * propagate_directed(*interactions, entities[self.item_entity])
            entities = F.normalize(F.dropout(nxt, self.cfg.message_dropout, self.training), dim=-1)
            users = F.normalize(F.dropout(users, self.cfg.message_dropout, self.training), dim=-1)
            entity_sum = entity_sum + entities
            user_sum = user_sum + users
        return user_sum, entity_sum[self.item_entity]

    # ---- training ---------------------------------------------------------------------------
    def independence_loss(self) -> torch.Tensor:
        """The intents' independence loss over their relation-attention rows (0 with one intent)."""
        if self.cfg.n_intents < 2:
            return self.intent_logits.sum() * 0.0
        if self.cfg.independence == "distance":
            return _distance_correlation(self.intent_logits)
        return _squared_cosine(self.intent_logits)

    def objective(self, batch: Batch, l2: float) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """BPR + ``independence_weight ·`` independence, plus ``l2 ·`` the penalty of the same final vectors."""
        users, items = self.propagate()
        u, pos, neg = users[batch.users], items[batch.pos], items[batch.neg]
        bpr = bpr_loss((u * pos).sum(-1), (u.unsqueeze(1) * neg).sum(-1))
        parts = {"bpr": bpr.detach()}
        total = bpr
        if self.cfg.independence_weight > 0:
            ind = self.independence_loss()
            parts["independence"] = ind.detach()
            total = total + self.cfg.independence_weight * ind
        if l2 > 0:
            reg = embedding_l2(u, pos, neg.reshape(-1, neg.shape[-1]))
            parts["reg"] = reg.detach()
            total = total + l2 * reg
        return total, parts

    def loss(self, batch: Batch) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        return self.objective(batch, 0.0)

    def regularization(self, batch: Batch) -> torch.Tensor:
        """½(‖u‖² + ‖i⁺‖² + ‖i⁻‖²) / B of the batch's final vectors (the authors' code)."""
        users, items = self.propagate()
        neg = items[batch.neg]
        return embedding_l2(users[batch.users], items[batch.pos], neg.reshape(-1, neg.shape[-1]))

    def extra_repr(self) -> str:
        return (
            f"n_users={self.n_users}, n_items={self.n_items}, entities={self.num_entities}, "
            f"kg_relations={self.num_kg_relations}, intents={self.cfg.n_intents}, layers={self.cfg.layers}"
        )
