"""``kgin`` (KGIN, Wang et al. WWW 2021): a known answer, and the parts of its propagation.

The known answer is the block world of ``test_kg_known_answer.py`` (its store and withheld
pairs): users of block b interacted with every item of block b but one; categories and visual
concepts are drawn independently of the blocks, so the answer has to come from the interactions.
"""

from __future__ import annotations

import pytest
import torch

from ckgrec.model.core.options import build_config
from ckgrec.model.models.kgin import KGIN, _distance_correlation, _squared_cosine
from ckgrec.model.models.registry import get_model
from ckgrec.model.training.config import TrainConfig
from ckgrec.model.training.trainer import train
from ckgrec.schemas.errors import ConfigError
from tests.model.models.test_kg_known_answer import block_store_data  # noqa: F401  (the module's fixture)

SMALL = {"dim": 16, "layers": 2, "n_intents": 2, "node_dropout": 0.0, "message_dropout": 0.0}


def test_kgin_ranks_the_withheld_block_item_first(block_store_data, tmp_path):  # noqa: F811
    torch.set_num_threads(1)
    tc = TrainConfig(epochs=60, batch_size=64, lr=0.01, patience=0, eval_every=60, ks=(1, 5), valid_metric="hit@1")
    scores = train(
        block_store_data, "kgin", tmp_path / "kgin", model_config=build_config(KGIN.Config, SMALL), train_config=tc
    )
    assert scores["test"]["hit@1"] >= 0.9, f"kgin: hit@1 {scores['test']['hit@1']:.3f} on the withheld block items"


def _model(data, **options) -> KGIN:
    return get_model("kgin").build(data, build_config(KGIN.Config, {**SMALL, **options}), torch.device("cpu"))


def test_kgin_reads_g_u_as_interactions_plus_kg(block_store_data):  # noqa: F811
    from ckgrec.model.data.graph_tensors import GraphTensors

    m = _model(block_store_data)
    g = GraphTensors.from_store(block_store_data.store, "user_side")
    inter = g.interaction_edges()
    # every non-interaction edge (both directions) is KG; each training pair is one interaction
    assert m.kg_head.numel() == int((~inter).sum()) > 0
    assert m.inter_user.numel() == block_store_data.train.nnz
    assert m.num_kg_relations == len(torch.unique(g.relation[~inter]))
    assert m.intent_logits.shape == (2, m.num_kg_relations)


def test_kgin_propagation_is_the_papers_formula(block_store_data):  # noqa: F811
    """One hop without dropout equals the per-edge formula: items e_r ⊙ e_t averaged over their KG
    edges, users Σ_p β(u, p) e_p ⊙ (mean of their items), each normalised and added to layer 0."""
    torch.manual_seed(0)
    m = _model(block_store_data, layers=1).eval()
    with torch.no_grad():
        users, items = m.propagate()
        e, rel = m.entity, m.relation
        agg = torch.zeros_like(e).index_add(0, m.kg_head, e[m.kg_tail] * rel[m.kg_relation])
        agg = agg / torch.bincount(m.kg_head, minlength=e.shape[0]).clamp_min(1).unsqueeze(1)
        want_items = e[m.item_entity] + torch.nn.functional.normalize(agg, dim=-1)[m.item_entity]
        intents = torch.softmax(m.intent_logits, -1) @ rel
        eu = e[m.user_entity]
        beta = torch.softmax(eu @ intents.T, -1)
        mean = torch.zeros(m.n_users, e.shape[1]).index_add(0, m.inter_user, e[m.item_entity][m.inter_item])
        mean = mean / torch.bincount(m.inter_user, minlength=m.n_users).clamp_min(1).unsqueeze(1)
        want_users = eu + torch.nn.functional.normalize((beta @ intents) * mean, dim=-1)
    assert torch.allclose(items, want_items, atol=1e-5) and torch.allclose(users, want_users, atol=1e-5)


def test_kgin_gradients_reach_every_parameter_and_node_dropout_varies(block_store_data):  # noqa: F811
    from ckgrec.model.models.base import Batch

    torch.manual_seed(0)
    m = _model(block_store_data, node_dropout=0.5, message_dropout=0.1).train()
    batch = Batch(torch.tensor([0, 1, 2]), torch.tensor([0, 1, 2]), torch.tensor([[5], [6], [7]]))
    total, parts = m.objective(batch, 1e-5)
    total.backward()
    assert {"bpr", "independence", "reg"} <= set(parts)
    for name, p in m.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    a, b = m.propagate()[1], m.propagate()[1]
    assert not torch.allclose(a, b)  # a new dropout sample per forward pass in training
    m.eval()
    with torch.no_grad():
        assert torch.equal(m.propagate()[1], m.propagate()[1])


def test_independence_losses():
    x = torch.randn(3, 10)
    # distance correlation: 0 <= dCor <= 1 per pair, 1 for an affine copy
    d = _distance_correlation(x)
    assert 0 <= d <= 3 + 1e-4
    same = torch.stack([x[0], 2 * x[0] + 1])
    assert _distance_correlation(same) == pytest.approx(1.0, abs=1e-3)
    ortho = torch.eye(2)
    assert _squared_cosine(ortho) == pytest.approx(0.0) and _squared_cosine(same[:1].repeat(2, 1)) == pytest.approx(1.0)


def test_kgin_refuses_a_graph_without_kg(tmp_path):
    import pandas as pd

    from ckgrec.kgbuild.build import build
    from ckgrec.model.data.train_data import TrainData
    from ckgrec.schemas.store import Store

    raw = tmp_path / "raw"
    raw.mkdir()
    rows = [(f"u{u}", f"i{(u + k) % 6}", "like", 1_600_000_000 + 60 * (6 * u + k)) for u in range(6) for k in range(3)]
    pd.DataFrame(rows, columns=["user_id", "item_id", "behavior", "timestamp"]).to_csv(
        raw / "interactions.csv", index=False
    )
    data = TrainData.from_store(Store.open(build(raw, tmp_path / "store", fmt="native").store))
    with pytest.raises(ConfigError, match="interactions only"):
        _model(data)
