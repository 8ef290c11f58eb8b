"""``kgat``: KGAT as published (Wang et al., KDD 2019) in the same harness.

One collaborative KG — the user-side graph G_u (user–item interactions + the item KG, which here
includes attribute and modality-concept entities) — with the same TransR attention and
bi-interaction layers as ``dualkgat``, plain concatenation of the layer outputs, an inner
product score, BPR + TransR alternating per epoch. No item-side graph, no layer attention, no
dimension importance, no raw-feature projection: those are what ``dualkgat`` adds.
"""

from __future__ import annotations

from dataclasses import dataclass

from ckgrec.model.core.search_space import Categorical, Float
from ckgrec.model.models.base import option
from ckgrec.model.models.dualkgat import DualKGAT, DualKGATConfig
from ckgrec.model.nn.graph_encoder import AGGREGATORS, EDGE_WEIGHTS, SIDE_EDGES
from ckgrec.schemas.errors import ConfigError


@dataclass(frozen=True, kw_only=True)
class KGATConfig(DualKGATConfig):
    layer_dims: tuple[int, ...] = option((64, 32, 16), "output size of each propagation layer; its length is L", low=1)
    dropout: float = option(0.1, "message dropout after each layer (KGAT's 0.1)", low=0.0, high=1.0, high_open=True)
    fusion: str = option("concat", "layer fusion; KGAT concatenates the layers (fixed)")
    use_item_side: bool = option(False, "KGAT has one graph (fixed)")
    dimension_importance: bool = option(False, "KGAT scores by inner product (fixed)")
    raw_features: bool = option(False, "KGAT has no raw-feature input (fixed)")
    knowledge_filter: bool = option(False, "KGAT has no closed-form filter in its score (fixed)")
    kg_weight: float = option(1.0, "weight of the TransR loss; 0 = no TransR phase", low=0.0)
    aggregator: str = option("bi", "bi: KGAT's bi-interaction | linear: LightGCN-style sum", choices=AGGREGATORS)
    edge_weights: str = option(
        "attention", "attention (KGAT's softmax) | symmetric | attention_degree", choices=EDGE_WEIGHTS
    )
    init: str = option(
        "auto",
        "initial embeddings: pretrained | random | auto (pretrained when STORE/pretrained exists)",
        choices=("pretrained", "random", "auto"),
    )
    relation_dim: int = option(64, "relation space size k of TransR (must equal the pretrained size)", low=1)
    kg_batch_size: int = option(2048, "triples per TransR batch", low=1)
    kg_l2: float = option(1e-5, "L2 weight on the embeddings in a TransR batch", low=0.0)
    kg_triples: str = option(
        "all",
        "what the TransR loss is over: all (every triple of the graph, interactions included, as KGAT's code does) | side (the non-interaction triples only, as RecBole's KGAT)",
        choices=("all", "side"),
    )
    kg_optimizer: str = option(
        "own",
        "what steps the TransR phase: own (an Adam of its own, as KGAT's code) | shared (the CF phase's Adam, as RecBole's KGAT)",
        choices=("own", "shared"),
    )
    side_edges: str = option(
        "both",
        "direction of the non-interaction triples in the propagation: both (KGAT's paper and code: an attribute also hears its items) | stored (head hears tail only, RecBole's KGAT graph); interactions always go both ways",
        choices=SIDE_EDGES,
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        fixed = {
            "fusion": "concat",
            "use_item_side": False,
            "use_user_side": True,
            "dimension_importance": False,
            "raw_features": False,
            "knowledge_filter": False,
        }
        for k, v in fixed.items():
            if getattr(self, k) != v:
                raise ConfigError(f"kgat: {k} is fixed to {v!r} (use --model dualkgat to change it)")


class KGAT(DualKGAT):
    name = "kgat"
    description = "KGAT: attention propagation over user-item + item KG, plain layer concat, inner product"
    paper = "Wang et al., KGAT: Knowledge Graph Attention Network for Recommendation, KDD 2019"
    Config = KGATConfig
    known_answer_test = "tests/model/models/test_kg_known_answer.py::test_kg_model_ranks_the_withheld_block_item_first"
    is_baseline = True
    can_score_cold_users = False  # G_u has no profile edges: a user without history is an isolated ID
    # KGAT's batch 1024 and L2 1e-5; lr 2e-3 instead of its 1e-3 (see defaults_source)
    train_defaults = {"lr": 0.002, "batch_size": 1024, "l2": 1e-5, "epochs": 200, "num_negatives": 1}
    defaults_source = (
        "KGAT's paper and code, except lr 2e-3 for 1e-3: on ML-100K at 1e-3 early stopping ended one of 3 seeds at "
        "epoch 13 on the plateau of the first epochs (mean valid Recall@20 0.3063), at 2e-3 none stalled (0.3237); "
        "the tuned studies on embedded and tiktok-sample chose 7e-3 and 9e-3 (benchmarks/results/main-model.md, "
        "default-vs-tuned.md)"
    )
    # Wang et al. 2019: lr in {0.05, 0.01, 0.005, 0.001}, L2 in {1e-5, ..., 1e-1}, dropout in {0.0, ..., 0.8}, depth 1-4
    # (64-32-16-8); dim stays the pretrained size
    search_space = {
        "lr": Float("train", 1e-4, 5e-2, log=True),
        "l2": Float("train", 1e-5, 1e-1, log=True),
        "dropout": Float("model", 0.0, 0.8, step=0.1),
        "layer_dims": Categorical("model", ((64,), (64, 32), (64, 32, 16), (64, 32, 16, 8))),
    }
