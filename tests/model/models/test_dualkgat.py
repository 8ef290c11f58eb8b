"""dualkgat / kgat as models: shapes, switches, cold items, devices."""

from __future__ import annotations

import pytest
import torch

from ckgrec.model.data.train_data import TrainData
from ckgrec.model.models.base import Batch
from ckgrec.model.models.dualkgat import DualKGAT, DualKGATConfig
from ckgrec.model.models.kgat import KGAT, KGATConfig
from ckgrec.schemas.errors import ConfigError

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def data(store):
    return TrainData.from_store(store)


def _train_steps(model, data, steps=30, seed=0):
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    coo = data.train.tocoo()
    rows, cols = torch.from_numpy(coo.row).long(), torch.from_numpy(coo.col).long()
    model.on_epoch_start(1, g)
    for _ in range(steps):
        idx = torch.randint(0, len(rows), (128,), generator=g)
        b = Batch(rows[idx], cols[idx], torch.randint(0, data.n_items, (128, 1), generator=g))
        loss, _ = model.loss(b)
        opt.zero_grad()
        loss.backward()
        opt.step()
    for batch in model.phase_batches("kg", 1, g) if model.extra_phases else []:
        loss, _ = model.phase_loss("kg", batch)
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.on_epoch_end(1)
    return loss


@pytest.mark.parametrize(
    "cfg",
    [
        DualKGATConfig(init="random"),
        DualKGATConfig(
            init="random", use_item_side=False, dimension_importance=False, fusion="concat", raw_features=False
        ),
        DualKGATConfig(init="random", use_user_side=False, fusion="attention_concat", layer_dims=(16,)),
        DualKGATConfig(
            init="random",
            aggregator="bi",
            fusion="attention_concat",
            dimension_importance=True,
            kg_weight=1.0,
            edge_weights="attention",
            dropout=0.3,
            layer_dims=(16, 8),
            cold_user_dropout=0.5,
        ),
    ],
    ids=["default", "kgat-like", "item-side-only", "paper"],
)
def test_every_switch_trains_and_scores_all_items(data, cfg):
    torch.manual_seed(0)
    model = DualKGAT.build(data, cfg, torch.device("cpu"))
    loss = _train_steps(model, data, steps=5)
    assert torch.isfinite(loss)
    with model.scoring():
        scores = model.score_users(torch.arange(data.n_users))
    assert scores.shape == (data.n_users, data.n_items) and torch.isfinite(scores).all()


def test_kgat_fixes_its_published_design():
    with pytest.raises(ConfigError, match="kgat: use_item_side is fixed to False"):
        KGATConfig(use_item_side=True)
    assert KGAT.is_baseline and not DualKGAT.is_baseline
    assert KGATConfig(side_edges="stored").side_edges == "stored"  # RecBole's graph is an option of kgat only
    with pytest.raises(ConfigError, match="side_edges = 'forward'"):
        KGATConfig(side_edges="forward")
    with pytest.raises(TypeError):
        DualKGATConfig(side_edges="stored")


def test_dualkgat_keeps_at_most_fifteen_options():
    import dataclasses

    assert len(dataclasses.fields(DualKGATConfig)) <= 15


def test_cold_item_gets_a_content_informed_score(tmp_path, world_dir):
    """An item with no training interaction is scored from its features and KG edges: two
    untrained models that differ only in that item's features score it differently."""
    import shutil

    import numpy as np

    from ckgrec.kgbuild.build import build
    from ckgrec.schemas.store import Store

    raw = tmp_path / "raw"
    shutil.copytree(world_dir, raw)
    with open(raw / "items.csv", "a") as f:
        f.write("cold1,fresh clip,cat0,fun\n")  # in the catalogue, no interaction
    v = np.load(raw / "features" / "visual.npy")
    np.save(raw / "features" / "visual.npy", np.vstack([v, v[:1] * 3]))
    with open(raw / "features" / "visual.csv", "a") as f:
        f.write(f"cold1,{len(v)}\n")
    store = Store.open(build(raw, tmp_path / "s", fmt="native").store)
    data = TrainData.from_store(store)
    cold = int(store.table("items").set_index("label").loc["cold1", "item"])
    assert data.train[:, cold].nnz == 0
    torch.manual_seed(0)
    model = DualKGAT.build(data, DualKGATConfig(init="random"), torch.device("cpu"))
    assert DualKGAT.can_score_cold_items
    with model.scoring():
        base = model.score_users(torch.arange(5))[:, cold].clone()
    with torch.no_grad():
        model.features[cold] = -model.features[cold]
    with model.scoring():
        changed = model.score_users(torch.arange(5))[:, cold]
    assert not torch.allclose(base, changed)


@pytest.mark.gpu
def test_cpu_and_cuda_agree(data):
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    torch.manual_seed(0)
    cpu = DualKGAT.build(data, DualKGATConfig(init="random", dropout=0.0), torch.device("cpu"))
    gpu = DualKGAT.build(data, DualKGATConfig(init="random", dropout=0.0), torch.device("cuda"))
    gpu.load_state_dict(cpu.state_dict())
    for m in (cpu, gpu):
        for enc in m.encoders:
            enc.refresh_attention()
    with cpu.scoring(), gpu.scoring():
        a = cpu.score_users(torch.arange(10))
        b = gpu.score_users(torch.arange(10, device="cuda")).cpu()
    assert torch.allclose(a, b, atol=1e-4, rtol=1e-4)


def test_acf_trains_and_scores(data):
    from ckgrec.model.models.acf import ACF, ACFConfig

    torch.manual_seed(0)
    model = ACF.build(data, ACFConfig(dim=16, attention_dim=8), torch.device("cpu"))
    assert model.n_components == 2
    loss = _train_steps(model, data, steps=5)
    assert torch.isfinite(loss)
    with model.scoring():
        s = model.score_users(torch.arange(4))
    assert s.shape == (4, data.n_items)


def test_loading_weights_recomputes_attention(data):
    """Attention is derived from the weights but is not a parameter: a model given other weights
    must rank exactly as a model built with them. (The trainer loads best.pt after the last epoch;
    until 2026-11-27 its final scores used the last epoch's attention with the best epoch's weights.)"""
    cfg = DualKGATConfig(init="random", edge_weights="attention")
    torch.manual_seed(0)
    stale = DualKGAT.build(data, cfg, torch.device("cpu"))
    stale.on_epoch_start(1, torch.Generator().manual_seed(0))  # attention of these weights
    torch.manual_seed(1)
    other = DualKGAT.build(data, cfg, torch.device("cpu"))
    stale.load_state_dict(other.state_dict())
    users = torch.arange(data.n_users)
    with stale.scoring(), other.scoring():
        assert torch.equal(stale.score_users(users), other.score_users(users))


def test_final_scores_equal_the_best_epochs_validation(data, tmp_path):
    """scores.json's validation figure is the one the best epoch was chosen on, and 'ckg evaluate'
    (a fresh model loading best.pt) gives the same test figures."""
    from ckgrec.model.core.run_dir import RunDir
    from ckgrec.model.evaluation.evaluator import evaluate
    from ckgrec.model.inference.load import load_model
    from ckgrec.model.training.config import TrainConfig
    from ckgrec.model.training.trainer import train

    tc = TrainConfig(epochs=4, batch_size=256, lr=0.02, patience=0, ks=(10,), valid_metric="recall@10", threads=1)
    cfg = DualKGATConfig(init="random", knowledge_filter=False)
    scores = train(data, "dualkgat", tmp_path / "run", model_config=cfg, train_config=tc)
    records = {r["epoch"]: r for r in RunDir(tmp_path / "run").read_metrics()}
    assert scores["valid"]["recall@10"] == pytest.approx(records[scores["best_epoch"]]["valid"]["recall@10"], abs=1e-12)
    model, _ = load_model(tmp_path / "run", data, "cpu")
    assert evaluate(model, data, "test", (10,)).metrics["ndcg@10"] == pytest.approx(
        scores["test"]["ndcg@10"], abs=1e-12
    )


def test_kg_weight_zero_leaves_the_transr_parameters_alone(data, tmp_path):
    """kg_weight = 0 means no TransR batches at all. Relation embeddings and projections get
    gradients only from TransR batches (attention is refreshed without gradients), so after a
    training run they must be exactly as initialised, while the entity embeddings moved. A TransR
    phase that kept only its small L2 term used to move them by about lr per batch under its own Adam."""
    from ckgrec.model.core.checkpoint import seed_everything
    from ckgrec.model.inference.load import load_model
    from ckgrec.model.training.config import TrainConfig
    from ckgrec.model.training.trainer import train

    cfg = DualKGATConfig(init="random", kg_weight=0.0)
    assert list(DualKGAT.build(data, cfg, torch.device("cpu")).phase_batches("kg", 1, torch.Generator())) == []
    seed_everything(3)  # what the trainer does before building: the same initial weights
    initial = DualKGAT.build(data, cfg, torch.device("cpu")).state_dict()
    tc = TrainConfig(
        epochs=2, batch_size=256, lr=0.01, patience=0, ks=(10,), valid_metric="recall@10", threads=1, seed=3
    )
    train(data, "dualkgat", tmp_path / "run", model_config=cfg, train_config=tc)
    trained = load_model(tmp_path / "run", data, "cpu")[0].state_dict()
    transr = [k for k in initial if k.endswith((".relation.weight", ".projection"))]
    assert len(transr) == 4  # two graphs
    for k in transr:
        assert torch.equal(trained[k], initial[k]), k
    assert not torch.equal(trained["encoders.0.entity.weight"], initial["encoders.0.entity.weight"])


@pytest.mark.parametrize("fusion", ["attention_concat", "concat"])
@pytest.mark.parametrize("big", [False, True], ids=["fewer-rows-than-the-graph", "more-rows-than-the-graph"])
def test_the_batch_rows_are_the_rows_of_the_full_representations(data, fusion, big):
    """The loss asks each encoder for the batch's rows only; they must equal indexing the full
    user and item matrices (the path used to score), with gradients to match. A batch with
    fewer rows than users + items is fused row by row; a larger one indexes the full matrices."""
    torch.manual_seed(0)
    model = DualKGAT.build(
        data, DualKGATConfig(init="random", dropout=0.0, fusion=fusion), torch.device("cpu")
    ).double()
    g = torch.Generator().manual_seed(1)
    half = (data.n_users + data.n_items) if big else 7
    users = torch.randint(0, data.n_users, (half,), generator=g)  # every user twice: repeated rows
    b = 2 * half
    batch = Batch(
        torch.cat([users, users]),
        torch.randint(0, data.n_items, (b,), generator=g),
        torch.randint(0, data.n_items, (b, 1), generator=g),
    )
    assert (3 * b > data.n_users + data.n_items) == big
    u, pos, neg = model._batch_vectors(batch)
    all_u, all_i = model.representations()
    assert torch.allclose(u, all_u[batch.users], atol=1e-12) and torch.allclose(pos, all_i[batch.pos], atol=1e-12)
    assert torch.allclose(neg, all_i[batch.neg[:, 0]], atol=1e-12)
    w = model.encoders[0].entity.weight
    fast = torch.autograd.grad((u * pos - u * neg).sum(), w)[0]
    full = torch.autograd.grad(
        (all_u[batch.users] * all_i[batch.pos] - all_u[batch.users] * all_i[batch.neg[:, 0]]).sum(), w
    )[0]
    assert torch.allclose(fast, full, atol=1e-10)


def test_side_kg_triples_leave_the_interactions_out_of_the_transr_loss(data):
    """kg_triples='side' (RecBole's KGAT): every TransR batch holds only non-interaction triples,
    drawn from every graph; 'all' (KGAT's code) draws interactions too."""

    def batch_triples(cfg):
        model = KGAT.build(data, cfg, torch.device("cpu"))
        seen = {}
        for batch in model._kg_batches(torch.Generator().manual_seed(0)):
            for k, triples, _ in batch:
                g = model.encoders[k].graph
                is_user, is_item = g.kind_mask("user"), g.kind_mask("item")
                h, t = triples[:, 0], triples[:, 2]
                inter = (is_user[h] & is_item[t]) | (is_item[h] & is_user[t])
                seen.setdefault(g.graph, []).append(inter)
        return {name: torch.cat(v) for name, v in seen.items()}

    side = batch_triples(KGATConfig(init="random", kg_triples="side"))
    assert set(side) == {"user_side"} and not any(v.any() for v in side.values())
    everything = batch_triples(KGATConfig(init="random"))
    assert all(v.any() for v in everything.values())
    with pytest.raises(ConfigError, match="kg_triples"):
        KGATConfig(kg_triples="interactions")


def test_side_kg_triples_on_a_graph_of_interactions_only_give_no_transr_batches(world_dir, tmp_path):
    import pandas as pd

    from ckgrec.kgbuild.build import build

    raw = tmp_path / "raw"
    raw.mkdir()
    pd.read_csv(world_dir / "interactions.csv").to_csv(raw / "interactions.csv", index=False)
    store = build(raw, tmp_path / "store", fmt="native").store
    from ckgrec.schemas.store import Store

    only = TrainData.from_store(Store.open(store))
    model = KGAT.build(only, KGATConfig(init="random", kg_triples="side"), torch.device("cpu"))
    assert list(model.phase_batches("kg", 1, torch.Generator().manual_seed(0))) == []
    assert torch.isfinite(_train_steps(model, only, steps=3))


def test_the_knowledge_filter_is_chosen_on_validation_and_kept_in_best_pt(data, tmp_path):
    """After training the filter's strengths and share are searched on validation only: the final
    validation figure is the best of the search (never below the graph alone), best.pt carries the
    choice, so 'ckg evaluate' (a fresh model loading it) gives the trainer's test figures."""
    from ckgrec.model.evaluation.evaluator import evaluate
    from ckgrec.model.inference.load import load_model
    from ckgrec.model.models.dualkgat import FILTER_MIX, FILTER_REGS
    from ckgrec.model.training.config import TrainConfig
    from ckgrec.model.training.trainer import train

    tc = TrainConfig(epochs=3, batch_size=256, lr=0.02, patience=0, ks=(10,), valid_metric="recall@10", threads=1)
    scores = train(data, "dualkgat", tmp_path / "run", model_config=DualKGATConfig(init="random"), train_config=tc)
    chosen = scores["selected_on_validation"]
    assert chosen["filter_reg"] in FILTER_REGS and chosen["filter_share"] in FILTER_MIX
    assert chosen["valid_chosen"] >= chosen["valid_graph_only"]
    assert scores["valid"]["recall@10"] == pytest.approx(chosen["valid_chosen"], abs=1e-6)
    model, _ = load_model(tmp_path / "run", data, "cpu")
    assert float(model.filter_choice[3]) == chosen["filter_share"]
    # choosing again on the loaded best state (what a run resumed after the choice does) chooses the same,
    # in eval mode whatever the mode it was called in
    model.train()

    def valid_value():
        return evaluate(model, data, "valid", (10,)).metrics["recall@10"]

    again = model.select_on_validation(valid_value)
    assert again == chosen and model.training
    assert evaluate(model, data, "test", (10,)).metrics["ndcg@10"] == pytest.approx(scores["test"]["ndcg@10"], abs=1e-9)


def test_reselect_on_a_finished_run_gives_what_retraining_with_the_new_grid_gives(data, tmp_path, monkeypatch):
    """``ckg train --reselect``: after the filter's grid changed, choosing again on the run's best state
    equals training again from scratch with the new grid (training never reads the choice), and the
    training record (epochs, seconds) is the run's own."""
    import ckgrec.model.models.dualkgat as dk
    from ckgrec.model.training.config import TrainConfig
    from ckgrec.model.training.trainer import train

    tc = TrainConfig(epochs=3, batch_size=256, lr=0.02, patience=0, ks=(10,), valid_metric="recall@10", threads=1)
    mc = DualKGATConfig(init="random")
    monkeypatch.setattr(dk, "FILTER_REGS", (1000.0,))
    old = train(data, "dualkgat", tmp_path / "run", model_config=mc, train_config=tc)
    monkeypatch.setattr(dk, "FILTER_REGS", (1.0, 1000.0))
    again = train(data, "dualkgat", tmp_path / "run", model_config=mc, train_config=tc, reselect=True)
    fresh = train(data, "dualkgat", tmp_path / "fresh", model_config=mc, train_config=tc)
    assert old["selected_on_validation"]["filter_reg"] == 1000.0
    assert again["selected_on_validation"] == fresh["selected_on_validation"]
    assert again["selected_on_validation"]["filter_reg"] == 1.0  # the new grid's value won on validation
    assert again["valid"] == fresh["valid"] and again["test"] == fresh["test"]
    assert again["epochs"] == old["epochs"] and again["seconds_per_epoch"] == old["seconds_per_epoch"]
    with pytest.raises(ConfigError, match="not a finished run"):
        train(data, "dualkgat", tmp_path / "empty", model_config=mc, train_config=tc, reselect=True)


def test_filter_share_zero_is_the_graph_score_and_one_ranks_as_the_filter(data):
    import numpy as np

    torch.manual_seed(0)
    model = DualKGAT.build(data, DualKGATConfig(init="random"), torch.device("cpu"))
    users = torch.arange(data.n_users)
    with model.scoring():
        graph = model.score_users(users)
        u, i = model.representations()
        assert torch.allclose(graph, u @ i.T)
        model.filter_choice.copy_(torch.tensor([15.0, 0.1, 0.25, 1.0], dtype=torch.float64))
        only = model.score_users(users)
    b = model._knowledge.fit(15.0, 0.1, 0.25).double().numpy()
    direct = data.split("train").astype(np.float64) @ b
    assert np.array_equal(
        np.argsort(-only.numpy(), 1, kind="stable")[:, :5], np.argsort(-direct, 1, kind="stable")[:, :5]
    )


def test_a_user_without_training_items_is_scored_from_its_profile_or_else_by_the_graph(data):
    """X_u B = 0 for a user with no training pair: the filter's row becomes its profile popularity (so at share 1
    the ranking is the profile's); without profile attributes either, the row is the graph's (not a constant)."""
    import numpy as np

    torch.manual_seed(0)
    model = DualKGAT.build(data, DualKGATConfig(init="random"), torch.device("cpu"))
    assert model._profile is not None  # the test world's users have profile attributes in G_i
    train = model._train.tolil()
    train[0, :] = 0  # user 0 looks unseen to the filter
    model._train = train.tocsr()
    model.filter_choice.copy_(torch.tensor([15.0, 0.0, 0.0, 1.0], dtype=torch.float64))
    profile = torch.from_numpy(model._profile.scores(np.array([0]))[0]).float()
    assert len(np.unique(profile.numpy())) > 1
    with model.scoring():
        row = model.score_users(torch.tensor([0, 1]))[0]
        u, i = model.representations()
    assert torch.allclose(row, (profile - profile.mean()) / profile.std(), atol=1e-5)
    model._profile = None  # no profile to go on
    with model.scoring():
        row = model.score_users(torch.tensor([0]))[0]
    assert len(np.unique(row.numpy())) > 1
    graph = u[0] @ i.T
    assert torch.allclose(row, (graph - graph.mean()) / graph.std(), atol=1e-5)


def _with_never_seen_item(data, item: int = 0) -> DualKGAT:
    """A model whose filter and masks see ``item`` as never trained on (its training column emptied)."""
    torch.manual_seed(0)
    model = DualKGAT.build(data, DualKGATConfig(init="random"), torch.device("cpu"))
    train = model._train.tolil()
    train[:, item] = 0
    model._train = train.tocsr()
    model._knowledge = type(model._knowledge)(model._train, model._knowledge._side, model._knowledge._features)
    model.item_trained[item] = False
    return model


def test_the_cold_factor_multiplies_the_filter_scores_of_never_seen_items_only(data):
    model = _with_never_seen_item(data)
    users = torch.arange(data.n_users)
    model.filter_choice.copy_(torch.tensor([15.0, 0.5, 1.0, 1.0], dtype=torch.float64))
    with model.scoring():
        base = model._filter_scores(users)
        model.filter_cold_scale.fill_(5.0)
        scaled = model._filter_scores(users)
    assert base[:, 0].abs().sum() > 0  # the side information scores the never-seen item
    assert torch.allclose(scaled[:, 0], 5.0 * base[:, 0]) and torch.equal(scaled[:, 1:], base[:, 1:])


def test_the_cold_factor_is_chosen_on_validation_and_survives_a_reload(data):
    """The factor is searched after the share (only when the filter takes part and some item was never trained
    on), keeps 1 on ties, is reported, and is part of the state; a state saved before it existed loads as 1."""
    model = _with_never_seen_item(data)

    def valid_value():  # prefers the filter alone, then the factor 3
        return float(model.filter_choice[3]) + (0.1 if float(model.filter_cold_scale) == 3.0 else 0.0)

    chosen = model.select_on_validation(valid_value)
    assert chosen["filter_share"] == 1.0 and chosen["filter_cold_scale"] == 3.0
    assert float(model.filter_cold_scale) == 3.0
    state = model.state_dict()
    fresh = _with_never_seen_item(data)
    fresh.load_state_dict(state)
    assert float(fresh.filter_cold_scale) == 3.0
    del state["filter_cold_scale"]
    fresh.load_state_dict(state)
    assert float(fresh.filter_cold_scale) == 1.0
    # every item trained on: nothing to choose, the factor stays 1
    torch.manual_seed(0)
    warm = DualKGAT.build(data, DualKGATConfig(init="random"), torch.device("cpu"))
    assert bool(warm.item_trained.all())
    assert warm.select_on_validation(lambda: float(warm.filter_choice[3]))["filter_cold_scale"] == 1.0


def test_explanations_name_the_training_items_behind_the_filter_score(data):
    """With a filter share, explain_pair adds user —interacted→ j —filter→ i for the user's training items j
    with the largest B[j, i], in that order; without a share, only graph paths."""
    import numpy as np

    from ckgrec.model.inference.recommend import FILTER_GRAPH, explain_pair

    torch.manual_seed(0)
    model = DualKGAT.build(data, DualKGATConfig(init="random"), torch.device("cpu"))
    user, item = 0, int(np.setdiff1d(np.arange(data.n_items), data.split("train")[0].indices)[0])
    with model.scoring():
        assert not [p for p in explain_pair(model, user, item, top=3) if p.graph == FILTER_GRAPH]
        model.filter_choice.copy_(torch.tensor([15.0, 0.1, 0.25, 1.0], dtype=torch.float64))
        paths = [p for p in explain_pair(model, user, item, top=3) if p.graph == FILTER_GRAPH]
    b = model._knowledge.fit(15.0, 0.1, 0.25).double().numpy()
    history = data.split("train")[user].indices
    expected = sorted(((b[j, item], j) for j in history if b[j, item] > 0), reverse=True)[:3]
    assert paths and [p.score for p in paths] == pytest.approx([w for w, _ in expected])
    g = model.encoders[0].graph
    assert [p.nodes[1] for p in paths] == [str(g.labels[int(g.item_entity[j])]) for _, j in expected]
    assert all(
        p.nodes[2] == str(g.labels[int(g.item_entity[item])]) and p.relations == ("interacted", "filter") for p in paths
    )


def test_the_pretrained_hand_off_copies_only_rescaled_entities_when_transr_is_never_trained(data):
    """kg_weight = 0: the TransR relation/projection tensors are never trained, so only the entity
    rows are handed over, scaled to the init's mean row norm; kg_weight > 0 copies all three as is."""
    torch.manual_seed(0)
    frozen = DualKGAT.build(data, DualKGATConfig(init="random", dim=16, layer_dims=(16,)), "cpu")
    trained = DualKGAT.build(data, DualKGATConfig(init="random", dim=16, layer_dims=(16,), kg_weight=1.0), "cpu")
    for model in (frozen, trained):
        enc = model.encoders[0]
        before = {n: t.detach().clone() for n, t in (("r", enc.relation.weight), ("w", enc.projection))}
        init_norm = enc.entity.weight.norm(dim=1).mean().item()
        g = torch.Generator().manual_seed(1)
        entity = torch.randn(enc.entity.weight.shape, generator=g)
        relation = torch.randn(enc.relation.weight.shape, generator=g)
        projection = torch.randn(enc.projection.shape, generator=g)
        enc.load_pretrained(entity, relation, projection, entities_only=model.cfg.kg_weight == 0)
        if model is frozen:
            assert torch.equal(enc.relation.weight, before["r"]) and torch.equal(enc.projection, before["w"])
            assert enc.entity.weight.norm(dim=1).mean().item() == pytest.approx(init_norm, rel=1e-5)
            cos = torch.nn.functional.cosine_similarity(enc.entity.weight, entity, dim=1)
            assert torch.allclose(cos, torch.ones_like(cos), atol=1e-5)  # same directions, one common scale
        else:
            assert torch.equal(enc.entity.weight, entity) and torch.equal(enc.relation.weight, relation)
            assert torch.equal(enc.projection, projection)


def test_epoch_start_refresh_is_skipped_only_when_it_would_recompute_the_same_attention(data, monkeypatch):
    from ckgrec.model.nn.graph_encoder import GraphEncoder

    torch.manual_seed(0)
    model = DualKGAT.build(data, DualKGATConfig(init="random", cold_item_dropout=0.2), torch.device("cpu"))
    enc = model.encoders[0]
    assert not enc.attention_is_current()  # never refreshed
    enc.refresh_attention()
    assert enc.attention_is_current()
    opt = torch.optim.Adam(model.parameters(), lr=0.01, fused=True)  # fused Adam leaves version counters alone
    model.score_users(torch.arange(3)).sum().backward()
    opt.step()
    assert not enc.attention_is_current()  # a step changed the embeddings the attention reads
    enc.refresh_attention()
    enc.drop_interactions(torch.zeros(enc.graph.num_entities, dtype=torch.bool))
    assert not enc.attention_is_current()  # another edge set

    # whole epochs: skipping the refresh changes nothing, against always refreshing
    calls = []
    real = GraphEncoder.refresh_attention

    def counted(self):
        calls.append(1)
        return real(self)

    monkeypatch.setattr(GraphEncoder, "refresh_attention", counted)
    runs = {}
    for always in (False, True):
        if always:
            monkeypatch.setattr(GraphEncoder, "refresh_attention_if_stale", lambda self: self.refresh_attention())
        calls.clear()
        torch.manual_seed(1)
        m = DualKGAT.build(data, DualKGATConfig(init="random"), torch.device("cpu"))
        for epoch in range(3):
            _train_steps(m, data, steps=3, seed=epoch)
            m.on_epoch_start(epoch + 2, torch.Generator().manual_seed(epoch))  # right after an epoch end
        with m.scoring():
            runs[always] = (m.score_users(torch.arange(10)), len(calls))
    assert torch.equal(runs[False][0], runs[True][0])
    assert runs[False][1] < runs[True][1]
