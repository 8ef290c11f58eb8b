"""Propagation over one collaborative KG: TransR-projected attention, L bi-interaction layers
and a fusion of the layer outputs (KGAT's encoder, with the fusion made pluggable).

Attention is refreshed by :meth:`GraphEncoder.refresh_attention` (KGAT does this once per
epoch, with no gradient: the CF loss then trains embeddings and aggregators through a fixed
sparse matrix, which is what keeps an epoch cheap; the model's epoch-start refresh is skipped when
nothing it reads changed since the previous epoch's end: :meth:`GraphEncoder.refresh_attention_if_stale`).
With ``attention_grad=True`` attention is
recomputed on every forward pass with gradients, through index operations (never through
sparse values, which would allocate a dense N×N gradient).

Shapes: forward(extra) -> (N, out_dim); ``extra`` (N, d) is added to the layer-0 states (the
raw-feature projection of items) and may be None. forward(extra, users_items_only=True) ->
(n_users + n_items, out_dim), users first: the rows the recommender scores with. The last layer is
then computed for those rows only (its matrix is cut to them at each refresh), which on a graph
of many KG entities and few users/items skips most of
that layer's work without changing a single output value.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ckgrec.model.data.graph_tensors import GraphTensors
from ckgrec.model.nn.aggregation import (
    BiInteraction,
    LinearAggregator,
    aggregate,
    aggregate_differentiable,
    sparse_adjacency,
)
from ckgrec.model.nn.attention import attention_logits
from ckgrec.model.nn.edge_softmax import edge_softmax
from ckgrec.model.nn.layer_fusion import LayerAttention, layer_mean, plain_concat
from ckgrec.model.nn.neighbour_sampling import sample_neighbours
from ckgrec.model.nn.transr import (
    pairwise_logistic_loss,
    project_by_relation,
    translation_distance,
)

FUSIONS = ("attention_concat", "concat", "mean")
EDGE_WEIGHTS = ("attention", "symmetric", "attention_degree")
SIDE_EDGES = ("both", "stored")
AGGREGATORS = ("bi", "linear")


class GraphEncoder(nn.Module):
    def __init__(
        self,
        graph: GraphTensors,
        *,
        dim: int = 64,
        relation_dim: int = 64,
        layer_dims: tuple[int, ...] = (64, 32, 16),
        dropout: float = 0.1,
        fusion: str = "attention_concat",
        fusion_dim: int = 32,
        attention_grad: bool = False,
        max_neighbours: int = 0,
        normalize: bool = True,
        aggregator: str = "bi",
        edge_weights: str = "attention",
        side_edges: str = "both",
    ):
        super().__init__()
        if fusion not in FUSIONS:
            raise ValueError(f"fusion must be one of {FUSIONS}, got {fusion!r}")
        if edge_weights not in EDGE_WEIGHTS:
            raise ValueError(f"edge_weights must be one of {EDGE_WEIGHTS}, got {edge_weights!r}")
        self.edge_weights = edge_weights
        self.graph = graph
        if side_edges not in SIDE_EDGES:
            raise ValueError(f"side_edges must be one of {SIDE_EDGES}, got {side_edges!r}")
        self.side_edges = side_edges
        self.dim, self.relation_dim = dim, relation_dim
        self.attention_grad = attention_grad
        self.max_neighbours = max_neighbours
        self.entity = nn.Embedding(graph.num_entities, dim)
        self.relation = nn.Embedding(graph.num_relations, relation_dim)
        self.projection = nn.Parameter(torch.empty(graph.num_relations, dim, relation_dim))
        if aggregator not in AGGREGATORS:
            raise ValueError(f"aggregator must be one of {AGGREGATORS}, got {aggregator!r}")
        if aggregator == "linear":  # no weights: every layer keeps the embedding size
            layer_dims = tuple(dim for _ in layer_dims)
            self.layers = nn.ModuleList(LinearAggregator(dim, dropout) for _ in layer_dims)
        dims = [dim, *layer_dims]
        if aggregator == "bi":
            self.layers = nn.ModuleList(
                BiInteraction(dims[l], dims[l + 1], dropout, normalize=False) for l in range(len(layer_dims))
            )
        # KGAT's published code L2-normalises each layer's output for the fused vector only and
        # propagates the unnormalised state to the next layer; normalising the propagated state
        # too (as this encoder first did) shrank every layer's input to the unit sphere.
        self.normalize = normalize
        if fusion == "mean" and len(set(dims)) > 1:
            raise ValueError(
                f"fusion 'mean' averages the layers, so each must have the embedding size {dim}; got sizes {dims} "
                "(use aggregator 'linear', or layer_dims all equal to dim)"
            )
        self.fusion_mode = fusion
        self.fusion = LayerAttention(dims, fusion_dim) if fusion == "attention_concat" else None
        self._plain_fusion = (
            layer_mean if fusion == "mean" else plain_concat
        )  # the fusion when there is no layer attention
        self.out_dim = dim if fusion == "mean" else sum(dims)
        self.register_buffer("output_rows", torch.cat([graph.user_entity, graph.item_entity]), persistent=False)
        # a graph of users and items only, numbered users first (the 1M harness store): the rows the
        # recommender scores are then every node in order, and cutting to them would only copy
        self._outputs_are_all_nodes = bool(
            len(self.output_rows) == graph.num_entities
            and torch.equal(self.output_rows.cpu(), torch.arange(graph.num_entities))
        )
        self._adjacency = None  # aggregation.Adjacency over all nodes
        self._adjacency_out = None  # the same, cut to output_rows (the last layer's heads)
        self._attention: torch.Tensor | None = None
        self._attention_inputs: tuple | None = None  # copies of what the current attention was computed from
        self._edge_mask: torch.Tensor | None = None  # this epoch's neighbour sample (None = all edges)
        self._drop_mask: torch.Tensor | None = (
            None  # this epoch's simulated cold items' and users' interaction edges (False = dropped)
        )
        self._interaction: torch.Tensor | None = None  # (E,) user <-> item edges, computed on first use
        # side_edges = "stored": interactions in both directions, every other triple only as stored
        # (the head hears its tail: an item its attributes, never an attribute its items), which is
        # the graph RecBole's KGAT propagates over; "both" (KGAT's paper and code) adds the inverses
        self._structure_mask: torch.Tensor | None = None
        if side_edges == "stored":
            if graph.stored is None:
                raise ValueError(f"{graph.graph}: side_edges='stored' needs the graph's stored directions")
            self._interaction = graph.interaction_edges()
            self._structure_mask = graph.stored | self._interaction
        self.register_load_state_dict_post_hook(GraphEncoder._forget_derived_state)
        self.reset_parameters()

    @staticmethod
    def _forget_derived_state(module: "GraphEncoder", incompatible_keys) -> None:
        """After new weights are loaded, the attention matrices (not parameters, so not in the
        state dict) belong to the old weights. The trainer loads best.pt after the last epoch, so
        without this the final scores paired the best epoch's embeddings with the last epoch's
        attention. The neighbour sample goes too: loaded weights are judged on the whole graph,
        as 'ckg evaluate' judges a freshly built model."""
        module._attention = module._adjacency = module._adjacency_out = None
        module._edge_mask = None

    def reset_parameters(self) -> None:
        nn.init.xavier_uniform_(self.entity.weight)
        nn.init.xavier_uniform_(self.relation.weight)
        nn.init.xavier_uniform_(self.projection)

    def load_pretrained(
        self, entity: torch.Tensor, relation: torch.Tensor, projection: torch.Tensor, *, entities_only: bool = False
    ) -> None:
        """Initialise from TransR pretraining (shapes must match this graph exactly).

        ``entities_only`` is the hand-off for a model that never trains the TransR tensors
        (``kg_weight`` = 0): only the (N, d) entity table is copied, each row scaled by
        mean‖e_init‖ / mean‖e_TransR‖ so that the start has the norm the learning rate and L2 were
        chosen for (TransR keeps rows near the unit sphere; Xavier's are shorter, and shrink as N grows).
        Measured on the embedded data, graph score alone, seed 2020, validation Recall@20:
        random 0.2691, whole TransR hand-off 0.2448, rescaled whole hand-off 0.2516, rescaled
        entities only 0.2654. Without the flag all three tensors are copied unchanged (the
        paper design, which trains TransR beside BPR).
        """
        for name, src, dst in (
            ("entity", entity, self.entity.weight),
            ("relation", relation, self.relation.weight),
            ("projection", projection, self.projection),
        ):
            if tuple(src.shape) != tuple(dst.shape):
                raise ValueError(
                    f"{self.graph.graph}: pretrained {name} has shape {tuple(src.shape)}, the model needs {tuple(dst.shape)}"
                )
            if entities_only and name != "entity":
                continue
            with torch.no_grad():
                if entities_only:
                    src = src * (dst.norm(dim=1).mean() / src.norm(dim=1).mean().clamp_min(1e-12))
                dst.copy_(src.to(dst.device, dst.dtype))

    # --- attention -----------------------------------------------------------------------
    def _kept_edges(self) -> torch.Tensor | None:
        kept = None
        for m in (self._structure_mask, self._edge_mask, self._drop_mask):
            if m is not None:
                kept = m if kept is None else kept & m
        return kept

    def _edges(self):
        g = self.graph
        m = self._kept_edges()
        if m is None:
            return g.head, g.tail, g.offsets
        counts = torch.bincount(g.relation[m], minlength=g.num_relations)
        offsets = [0, *torch.cumsum(counts, 0).tolist()]
        return g.head[m], g.tail[m], offsets

    def _attention_weights(self) -> torch.Tensor:
        """One weight per kept edge.

        * ``attention``: KGAT's softmax of the TransR logits over each head's neighbours, so every
          head's weights sum to 1: a user's message is an average of its items, whatever their
          number and popularity.
        * ``symmetric``: LightGCN's fixed 1/sqrt(d_h d_t), no attention; there to measure what the
          softmax costs.
        * ``attention_degree``: LightGCN's weights, redistributed by attention. Each head keeps
          LightGCN's total mass m_h = Σ_t 1/sqrt(d_h d_t), shared out by the softmax of the TransR
          logits with −½ log d_t added: with equal logits every edge gets exactly 1/sqrt(d_h d_t).
          Popular tails count less and the messages stay on LightGCN's scale (a plain sqrt(d_h)
          rescaling, tried first, let the states grow with every layer), while the attention still
          chooses among the neighbours.
        """
        head, tail, offsets = self._edges()
        n = self.graph.num_entities
        if self.edge_weights != "attention":
            # degrees over the kept edges: d_h counts the messages a head receives, d_t the heads a
            # tail sends to (the column degree); on the full graph, stored in both directions, they
            # are the same number, and with a neighbour sample this is D_row^-½ A D_col^-½
            dtype = self.entity.weight.dtype
            head_inv_sqrt = torch.bincount(head, minlength=n).clamp_min(1).to(dtype).rsqrt()
            tail_inv_sqrt = torch.bincount(tail, minlength=n).clamp_min(1).to(dtype).rsqrt()
        if self.edge_weights == "symmetric":
            return head_inv_sqrt[head] * tail_inv_sqrt[tail]
        logits = attention_logits(self.entity.weight, self.relation.weight, self.projection, head, tail, offsets)
        if self.edge_weights == "attention":
            return edge_softmax(logits, head, n)
        mass = (
            torch.zeros(n, dtype=logits.dtype, device=logits.device).index_add(0, head, tail_inv_sqrt[tail])
            * head_inv_sqrt
        )
        return edge_softmax(logits + tail_inv_sqrt[tail].log(), head, n) * mass[head]

    @property
    def propagated_edges(self) -> int:
        """Edges messages flow along now: every stored edge, less those that side_edges='stored',
        this epoch's neighbour sample or dropped interactions leave out."""
        kept = self._kept_edges()
        return self.graph.num_edges if kept is None else int(kept.sum())

    def resample_neighbours(self, generator: torch.Generator) -> None:
        """Draw this epoch's neighbour sample (no-op unless max_neighbours > 0)."""
        if self.max_neighbours > 0:
            self._edge_mask = sample_neighbours(self.graph.head, self.graph.confidence, self.max_neighbours, generator)

    def drop_interactions(self, entity_dropped: torch.Tensor | None) -> None:
        """Take the interaction edges (item <-> user, both directions) of the entities flagged in
        ``entity_dropped`` (N,) out of the graph until the next call (None restores them): a
        flagged item or user then looks never seen, reachable only through its attributes,
        concepts or profile."""
        if entity_dropped is None:
            self._drop_mask = None
            return
        g = self.graph
        if self._interaction is None:
            self._interaction = g.interaction_edges()
        self._drop_mask = ~(self._interaction & (entity_dropped[g.head] | entity_dropped[g.tail]))

    def _attention_tensors(self) -> tuple[torch.Tensor, ...]:
        return (self.entity.weight, self.relation.weight, self.projection)

    def attention_is_current(self) -> bool:
        """True when :meth:`refresh_attention` would recompute exactly the attention in force: the tensors it
        reads equal the copies taken at the last refresh (an exact comparison, whatever changed them: an
        optimizer step, a KG-phase step, a loaded state dict; fused Adam does not bump tensors' version
        counters, so those cannot tell) and the same edge masks are in force (held, compared by identity)."""
        if self._adjacency is None or self._attention_inputs is None:
            return False
        copies, masks = self._attention_inputs
        now = (self._structure_mask, self._edge_mask, self._drop_mask)
        return all(a is b for a, b in zip(masks, now)) and all(
            torch.equal(c, t) for c, t in zip(copies, self._attention_tensors())
        )

    def refresh_attention_if_stale(self) -> None:
        """:meth:`refresh_attention` unless nothing it reads changed since the last one: the trainer's
        epoch-start refresh follows the previous epoch's end refresh with the same parameters and, without a
        neighbour sample or simulated cold start, the same edges (one full TransR attention pass saved per
        epoch)."""
        if not self.attention_is_current():
            self.refresh_attention()

    @torch.no_grad()
    def refresh_attention(self) -> None:
        head, tail, _ = self._edges()
        pi = self._attention_weights()
        self._attention_inputs = (
            tuple(t.detach().clone() for t in self._attention_tensors()),
            (self._structure_mask, self._edge_mask, self._drop_mask),
        )
        self._attention = pi
        self._adjacency = sparse_adjacency(head, tail, pi, self.graph.num_entities)
        self._adjacency_out = (
            self._adjacency
            if self._outputs_are_all_nodes
            else sparse_adjacency(head, tail, pi, self.graph.num_entities, rows=self.output_rows)
        )

    def attention(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """(head, relation, tail, weight) of the current attention, for explanations."""
        if self._attention is None:
            self.refresh_attention()
        g = self.graph
        m = self._kept_edges()
        m = slice(None) if m is None else m
        return g.head[m], g.relation[m], g.tail[m], self._attention

    # --- propagation ---------------------------------------------------------------------
    def forward(
        self,
        extra: torch.Tensor | None = None,
        users_items_only: bool = False,
        id_keep: torch.Tensor | None = None,
        select: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """The layer recursion and the fusion of its outputs:

        e^(0) = E ⊙ id_keep + extra,   e^(l+1) = f_l(e^(l), A e^(l)),   out = fuse(e^(0), n(e^(1)), …, n(e^(L)))

        with A the attention (or degree) weights, f_l the aggregator, n the L2 normalisation of
        KGAT (when ``normalize``). ``extra`` (N, d): added to the layer-0 states (the items'
        feature projection); ``id_keep`` (N,): multiplies the ID embeddings (0 = no usable ID
        embedding: a never-seen or simulated cold item). Returns (N, out_dim); with
        ``users_items_only``, the users' and items' rows (users first); with ``select`` (K,),
        positions among those rows, (K, out_dim) in that order. Which rows are computed is
        :class:`_FusionRows`' business: the values are those of the full recursion, picked.
        """
        if select is not None and not users_items_only:
            raise ValueError("select picks among the users_items_only rows")
        ego = self.entity.weight if id_keep is None else self.entity.weight * id_keep.unsqueeze(-1)
        ego = ego if extra is None else ego + extra
        rows = _FusionRows(self.output_rows if (users_items_only and not self._outputs_are_all_nodes) else None, select)
        propagate, propagate_last = self._propagators(cut_last=rows.cuts_last_layer)
        states = [rows.read(ego, normalize=False)]  # layer 0 enters the fusion as it is
        for l, layer in enumerate(self.layers):
            if l == len(self.layers) - 1 and rows.cuts_last_layer:
                ego = rows.last_layer(layer, ego, propagate_last)
                states.append(rows.read(ego, normalize=self.normalize, cut=True))
            else:
                ego = layer(ego, propagate(ego))
                states.append(rows.read(ego, normalize=self.normalize))
        fuse = self.fusion if self.fusion is not None else self._plain_fusion
        return fuse(rows.repeat(states))

    def _propagators(self, cut_last: bool):
        """x -> A x, for the inner layers and for the last one (whose A may be cut to the output rows)."""
        if self.attention_grad:
            head, tail, _ = self._edges()
            pi = self._attention_weights()
            propagate = lambda x: aggregate_differentiable(x, head, tail, pi)  # noqa: E731
            return propagate, propagate
        if self._adjacency is None:
            self.refresh_attention()
        adjacency, adjacency_out = self._adjacency, self._adjacency_out
        propagate = lambda x: aggregate(x, adjacency)  # noqa: E731
        return propagate, ((lambda x: aggregate(x, adjacency_out)) if cut_last else propagate)  # noqa: E731

    # --- TransR loss ---------------------------------------------------------------------
    def kg_loss_terms(self, triples: torch.Tensor, negative_tails: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(TransR loss, L2 term) of one batch.

        The loss is Σ −ln σ(g(h,r,t′) − g(h,r,t)), g = ||W_r e_h + e_r − W_r e_t||² (projected
        vectors clamped to the unit ball, as in pretraining), mean over the batch; projections
        are one matmul per relation segment (:func:`ckgrec.model.nn.transr.project_by_relation`). The L2
        term is (‖e_h‖² + ‖e_t‖² + ‖e_t′‖² + ‖e_r‖²) / 2, over the batch size.

        Both come from one lookup of heads, tails and corrupted tails together: each separate
        lookup's backward zero-fills a dense (N, d) gradient of the whole table."""
        h, r, t = triples[:, 0], triples[:, 1], triples[:, 2]
        n = len(h)
        e = self.entity(torch.cat([h, t, negative_tails]))
        projected = project_by_relation(e, r.repeat(3), self.projection)
        ph, pt, pn = projected[:n], projected[n : 2 * n], projected[2 * n :]
        e_r = self.relation(r)
        loss = pairwise_logistic_loss(translation_distance(ph, e_r, pt), translation_distance(ph, e_r, pn))
        l2 = (e.pow(2).sum() + e_r.pow(2).sum()) / (2 * n)
        return loss, l2

    def __repr__(self) -> str:
        return (
            f"GraphEncoder({self.graph.graph}, entities={self.graph.num_entities}, relations={self.graph.num_relations}, "
            f"edges={self.graph.num_edges}, dim={self.dim}, layers={[l.out_dim for l in self.layers]}, fusion={self.fusion_mode!r})"
        )


class _FusionRows:
    """Which rows of each layer the fusion reads, so that only those are built (an optimisation).

    The fusion reads a few rows of each layer (a batch's users and items), so each layer's
    output is cut to those rows right after the layer, and only they are L2-normalised, forward
    and backward. The last layer is computed for the output rows alone (its adjacency is cut to
    them at each refresh). Each distinct selected row is read once and repeated at the end (a
    batch repeats its users and items). The values are exactly those of the full recursion.

    :param rows: the output rows among all N nodes (users then items), or None for every node
    :param select: (K,) positions among the output rows, or None for all of them
    """

    def __init__(self, rows: torch.Tensor | None, select: torch.Tensor | None) -> None:
        self.rows = rows
        self.distinct = self.repeat_index = None
        if select is not None:
            self.distinct, self.repeat_index = torch.unique(select, return_inverse=True)
        # rows to read of an (N, ·) state, and of a state already cut to the output rows
        self.read_all = self.distinct if rows is None else (rows if self.distinct is None else rows[self.distinct])
        self.read_cut = self.distinct

    @property
    def cuts_last_layer(self) -> bool:
        return self.rows is not None

    def read(self, h: torch.Tensor, normalize: bool, cut: bool = False) -> torch.Tensor:
        """The rows of one layer's output that the fusion reads, normalised where KGAT does."""
        read = self.read_cut if cut else self.read_all
        h = h if read is None else h[read]
        return F.normalize(h, dim=-1) if normalize else h

    def last_layer(self, layer: nn.Module, ego: torch.Tensor, propagate_last) -> torch.Tensor:
        """f_L(e^(L-1), A e^(L-1)) for the output rows only."""
        neighbours = propagate_last(ego)
        if neighbours.shape[0] != len(self.rows):  # differentiable path: full rows, cut here
            neighbours = neighbours[self.rows]
        return layer(ego[self.rows], neighbours)

    def repeat(self, states: list[torch.Tensor]) -> list[torch.Tensor]:
        return states if self.repeat_index is None else [h[self.repeat_index] for h in states]
