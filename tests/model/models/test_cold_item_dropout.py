"""``dualkgat``'s cold-item and cold-user dropout: simulated cold items lose exactly their
interaction edges for one epoch, scoring sees the whole graph again, a never-seen item with the
right content then reaches the top of the ranking among ALL items, and a user with only a
profile gets its group's items (neither happens without the options)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ckgrec.model.core.options import build_config
from ckgrec.model.data.train_data import TrainData
from ckgrec.model.inference.load import load_model
from ckgrec.model.models.registry import get_model
from ckgrec.model.training.config import TrainConfig
from ckgrec.model.training.trainer import train
from tests.model.block_store import block_store, cold_item

# the DropoutNet mechanism in the paper design (configs/paper.toml), without the closed-form filter (which scores cold items from their
# attributes by itself, so it would hide what the dropout adds)
SMALL = {
    "dim": 16,
    "layer_dims": (16, 16),
    "dropout": 0.0,
    "init": "random",
    "aggregator": "bi",
    "edge_weights": "attention",
    "fusion": "attention_concat",
    "dimension_importance": True,
    "kg_weight": 1.0,
    "knowledge_filter": False,
}


@pytest.fixture(scope="module")
def block_cold(tmp_path_factory) -> TrainData:
    return TrainData.from_store(block_store(tmp_path_factory.mktemp("cid"), cold_per_block=1))


def _model(data: TrainData, **options):
    cls = get_model("dualkgat")
    return cls.build(data, build_config(cls.Config, {**SMALL, **options}), torch.device("cpu"))


def test_simulated_cold_items_lose_their_interaction_edges_only_for_the_epoch(block_cold):
    model = _model(block_cold, cold_item_dropout=0.5, edge_weights="attention")  # a softmax: sums to 1 per head
    full = {enc.graph.graph: enc.attention()[0].numel() for enc in model.encoders}
    model.on_epoch_start(0, torch.Generator().manual_seed(1))
    dropped = model._dropped_items
    assert 0 < int(dropped.sum()) < block_cold.n_items
    for enc in model.encoders:
        g = enc.graph
        head, _, tail, weight = enc.attention()
        kinds = np.asarray(g.kinds)
        flagged = set(g.item_entity[dropped].tolist())
        edges = list(zip(head.tolist(), tail.tolist()))
        # no kept edge joins a dropped item and a user; every other edge is kept
        assert not any((h in flagged and kinds[t] == "user") or (t in flagged and kinds[h] == "user") for h, t in edges)
        expected = sum(
            1
            for h, t in zip(g.head.tolist(), g.tail.tolist())
            if not ((h in flagged and kinds[t] == "user") or (t in flagged and kinds[h] == "user"))
        )
        assert len(edges) == expected < full[g.graph]
        # attention is a softmax over the kept neighbours: it still sums to 1 per head
        sums = torch.zeros(g.num_entities).index_add_(0, head, weight)
        assert torch.allclose(sums[torch.unique(head)], torch.ones(len(torch.unique(head))), atol=1e-5)
        # the dropped items' ID embeddings do not reach the propagation
        keep = model._id_keep(enc)
        assert (keep[g.item_entity[dropped]] == 0).all() and (
            keep[g.item_entity[~dropped & model.item_trained]] == 1
        ).all()
    model.on_epoch_end(0)
    assert model._dropped_items is None
    assert {enc.graph.graph: enc.attention()[0].numel() for enc in model.encoders} == full


def test_never_seen_items_have_no_id_embedding_with_the_option_and_keep_it_without(block_cold):
    cold = [
        int(i) for i in block_cold.store.table("items").set_index("label")["item"][[cold_item(b) for b in range(4)]]
    ]
    with_option = _model(block_cold, cold_item_dropout=0.2)
    assert not with_option.item_trained[cold].any() and with_option.item_trained.sum() == block_cold.n_items - 4
    for enc in with_option.encoders:
        assert (with_option._id_keep(enc)[enc.graph.item_entity[cold]] == 0).all()
    assert all(_model(block_cold)._id_keep(enc) is None for enc in with_option.encoders)


def _cold_rank_among_all(run, data: TrainData) -> np.ndarray:
    """Rank (0 = first) of the cold item of each user's block among all items the user has not trained on."""
    model, _ = load_model(run, data, "cpu")
    labels = data.store.table("items").set_index("label")["item"]
    cold = torch.tensor([int(labels[cold_item(b)]) for b in range(4)])
    users = data.store.table("users").sort_values("user")
    block = torch.tensor([int(label[1:]) // 8 for label in users["label"]])
    with torch.no_grad(), model.scoring():
        scores = model.score_users(torch.arange(data.n_users))
    seen = torch.as_tensor(data.train.toarray() > 0)
    scores[seen] = -torch.inf
    target = scores[torch.arange(data.n_users), cold[block]]
    return (scores > target.unsqueeze(1)).sum(1).numpy()


def test_with_cold_item_dropout_the_new_item_of_the_users_block_reaches_the_top_among_all_items(block_cold, tmp_path):
    """Each user has two unseen items of its own block (valid, test) plus the block's cold item;
    every other unseen item is of another block. A model that scores the cold item from its
    content on the same scale as warm items ranks it in the top 3 among ALL items."""
    torch.set_num_threads(1)
    cls = get_model("dualkgat")
    tc = TrainConfig(
        epochs=60,
        batch_size=64,
        lr=0.01,
        l2=1e-2,
        patience=0,
        eval_every=60,
        ks=(1, 5),
        valid_metric="hit@1",
        negatives_from="trained",
    )
    ranks = {}
    for p in (0.0, 0.3):
        train(
            block_cold,
            "dualkgat",
            tmp_path / f"p{p}",
            model_config=build_config(cls.Config, {**SMALL, "cold_item_dropout": p}),
            train_config=tc,
        )
        ranks[p] = _cold_rank_among_all(tmp_path / f"p{p}", block_cold)
    assert (ranks[0.3] < 3).mean() >= 0.9, ranks[0.3]
    assert (ranks[0.0] < 3).mean() < (ranks[0.3] < 3).mean(), (ranks[0.0], ranks[0.3])


def test_with_cold_user_dropout_a_user_with_only_a_profile_gets_the_items_of_its_group(tmp_path):
    """Users' profiles name their block; a quarter of the users are k = 0 cold users (all their
    pairs in test, none in any graph). Scored through the profile edges of the item-side graph,
    a cold user's top 8 among all items should be its block's 8 items."""
    from ckgrec.model.evaluation.groups import Protocols

    torch.set_num_threads(1)
    data = TrainData.from_store(block_store(tmp_path / "s", profiles=True, cold_users=0.25))
    cold = torch.as_tensor(Protocols.of(data).cold_users)
    assert len(cold) >= 4 and not data.split("train")[cold.numpy()].nnz
    cls = get_model("dualkgat")
    tc = TrainConfig(
        epochs=60, batch_size=64, lr=0.01, l2=1e-2, patience=0, eval_every=60, ks=(1, 5), valid_metric="hit@1"
    )
    precision = {}
    for p in (0.0, 0.3):
        train(
            data,
            "dualkgat",
            tmp_path / f"p{p}",
            model_config=build_config(cls.Config, {**SMALL, "cold_user_dropout": p}),
            train_config=tc,
        )
        model, _ = load_model(tmp_path / f"p{p}", data, "cpu")
        with torch.no_grad(), model.scoring():
            top = model.score_users(cold).topk(8, dim=1).indices.numpy()
        test = data.split("test")
        precision[p] = float(np.mean([test[int(u)].toarray()[0][top[k]].mean() for k, u in enumerate(cold)]))
    assert precision[0.3] >= 0.9, precision
    assert precision[0.0] < precision[0.3], precision
