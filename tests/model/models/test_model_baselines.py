"""Every registered model learns a known answer (implicit's checkerboard idea).

On block-structured data (``block_pairs``: users of a block interacted with all of the block's
items but one), the one withheld item of each user is the only unseen item inside the user's
block; a model that learned the structure ranks it first among unseen items (hit@1).

Adding a baseline: add an entry to ``KNOWN_ANSWER`` with settings that let it converge in well
under a few seconds; ``test_every_baseline_has_a_known_answer_case`` fails until you do. Other
models declare where their known-answer test lives (see ``test_other_models_declare_...``).
"""

from __future__ import annotations

import numpy as np
import pytest

from ckgrec.model.core.options import build_config
from ckgrec.model.data.train_data import TrainData
from ckgrec.model.models.registry import MODELS, get_model
from ckgrec.model.training.config import TrainConfig
from ckgrec.model.training.trainer import train

FAST = dict(epochs=60, batch_size=64, lr=0.05, patience=0, eval_every=60, ks=(1, 5), valid_metric="hit@1")

# model -> (trainer overrides, model options, minimum hit@1 on the withheld items)
KNOWN_ANSWER: dict[str, tuple[dict, dict, float]] = {
    "ease": ({}, {}, 1.0),
    "itemknn": ({}, {}, 1.0),
    "rp3beta": ({}, {}, 1.0),
    "bprmf": ({"epochs": 150}, {"embedding_dim": 16}, 0.9),
    "neumf": ({"lr": 0.01}, {"mf_dim": 8, "mlp_dim": 8, "mlp_hidden": (16, 8), "dropout": 0.0}, 0.9),
    "ngcf": ({"lr": 0.01}, {"embedding_dim": 16, "hidden": (16, 16)}, 0.9),
    "lightgcn": ({}, {"embedding_dim": 16, "layers": 2}, 0.9),
    "simgcl": ({}, {"embedding_dim": 16, "layers": 2}, 0.9),
    "featknn": ({}, {}, 1.0),
    "vbpr": ({}, {"latent_dim": 8, "visual_dim": 8}, 0.9),
    "freedom": ({}, {"embedding_dim": 16, "knn_k": 4}, 0.9),
}
# content models read item features from a store: they learn the same blocks from a store
# built from them (tests/model/block_store.py), whose features name each item's block
NEEDS_STORE = {"featknn", "vbpr", "freedom"}
# models whose known answer is not the block structure, tested below
OWN_TEST = {"mostpop"}
# models that need the store's graphs: each names its own known-answer test (tests/model/models/)
GRAPH_MODELS = {"kgat", "kgin", "acf", "dualkgat"}


def test_every_baseline_has_a_known_answer_case():
    baselines = set(MODELS) - GRAPH_MODELS
    assert baselines - OWN_TEST <= set(KNOWN_ANSWER), "add a KNOWN_ANSWER case for the new baseline"


@pytest.mark.parametrize("name", sorted(GRAPH_MODELS))
def test_other_models_declare_a_known_answer_case(name):
    """The graph models (they need a store) either get a KNOWN_ANSWER case
    here or name their own test in the class attribute ``known_answer_test``
    ("tests/<file>.py::<test>")."""
    import re
    from pathlib import Path

    if name in KNOWN_ANSWER:
        return
    where = getattr(MODELS[name], "known_answer_test", None)
    if not where:
        pytest.fail(
            f"{name}: no known-answer test yet (add a KNOWN_ANSWER case or set {MODELS[name].__name__}.known_answer_test)"
        )
    path, _, test = where.partition("::")
    file = Path(__file__).resolve().parents[3] / path
    assert file.is_file() and re.search(rf"def {re.escape(test)}\b", file.read_text()), (
        f"{name}.known_answer_test = {where!r} not found"
    )


@pytest.fixture(scope="module")
def block_store_data(tmp_path_factory):
    from tests.model.block_store import block_store

    return TrainData.from_store(block_store(tmp_path_factory.mktemp("blocks")))


@pytest.mark.parametrize("name", sorted(KNOWN_ANSWER))
def test_model_ranks_the_withheld_block_item_first(name, request, tmp_path):
    overrides, options, minimum = KNOWN_ANSWER[name]
    cls = get_model(name)
    tc = TrainConfig(**{**FAST, **overrides})
    data = request.getfixturevalue("block_store_data" if name in NEEDS_STORE else "block_data")
    scores = train(data, name, tmp_path / name, model_config=build_config(cls.Config, options), train_config=tc)
    assert scores["test"]["hit@1"] >= minimum, (
        f"{name}: hit@1 {scores['test']['hit@1']:.3f} on the withheld block items"
    )


def test_mostpop_ranks_the_most_popular_unseen_item_first(tmp_path):
    # item i has i + 1 training users among users 10..19; users 0..9 have seen only item 9
    # and their test item is item 8, the most popular item they have not seen
    tr_u = [u for i in range(10) for u in range(10, 10 + i + 1)] + list(range(10))
    tr_i = [i for i in range(10) for _ in range(i + 1)] + [9] * 10
    data = TrainData.from_pairs(20, 10, (np.array(tr_u), np.array(tr_i)), test=(np.arange(10), np.full(10, 8)))
    scores = train(data, "mostpop", tmp_path / "pop", train_config=TrainConfig(ks=(1,), valid_metric="hit@1"))
    assert scores["test"]["hit@1"] == 1.0 and scores["epochs"] == 0
