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
from ckgrec.schemas.errors import ConfigError


@dataclass(frozen=True, kw_only=True)
class KGATConfig(DualKGATConfig):
    fusion: str = option("concat", "layer fusion; KGAT concatenates the layers (fixed)")
    use_item_side: bool = option(False, "KGAT has one graph (fixed)")
    dimension_importance: bool = option(False, "KGAT scores by inner product (fixed)")
    raw_features: bool = option(False, "KGAT has no raw-feature input (fixed)")
    user_content: bool = option(False, "KGAT has no content input (fixed)")
    content_score: float = option(0.0, "KGAT has no content term in its score (fixed)")
    dropout: float = option(0.1, "message dropout after each layer (KGAT's 0.1)")

    def __post_init__(self) -> None:
        super().__post_init__()
        fixed = {
            "fusion": "concat",
            "use_item_side": False,
            "use_user_side": True,
            "dimension_importance": False,
            "raw_features": False,
            "user_content": False,
            "content_score": 0.0,
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
    train_defaults = {"lr": 0.001, "batch_size": 1024, "l2": 1e-5, "epochs": 200, "num_negatives": 1}  # KGAT's own
    # Wang et al. 2019: lr in {0.05, 0.01, 0.005, 0.001}, L2 in {1e-5, ..., 1e-1}, dropout in {0.0, ..., 0.8}, depth 1-4
    # (64-32-16-8); dim stays the pretrained size
    search_space = {
        "lr": Float("train", 1e-4, 5e-2, log=True),
        "l2": Float("train", 1e-5, 1e-1, log=True),
        "dropout": Float("model", 0.0, 0.8, step=0.1),
        "layer_dims": Categorical("model", ((64,), (64, 32), (64, 32, 16), (64, 32, 16, 8))),
    }
