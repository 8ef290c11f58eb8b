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
        DualKGATConfig(init="random", use_user_side=False, fusion="attention_sum", layer_dims=(16,)),
        DualKGATConfig(init="random", schedule="joint", attention_grad=True, max_neighbours=3),
        DualKGATConfig(init="random", user_content=True, cold_user_dropout=0.5),
    ],
    ids=["full", "kgat-like", "item-side-only", "joint-grad-sampled", "user-content"],
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
    assert KGATConfig(side_edges="stored").side_edges == "stored"  # RecBole's graph is an option of kgat too
    with pytest.raises(ConfigError, match="side_edges = 'forward'"):
        DualKGATConfig(side_edges="forward")


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


def test_user_content_profile_is_the_mean_projection_of_the_training_items(data):
    """The profile added to a user's input is the plain mean of its training items' feature
    projections (no validation or test item), and a user made cold this epoch gets none."""
    torch.manual_seed(0)
    model = DualKGAT.build(
        data, DualKGATConfig(init="random", user_content=True, cold_user_dropout=0.5), torch.device("cpu")
    )
    projected = model.feature_proj(model.features).detach()
    profile = model._user_content(projected)
    train = data.split("train")
    for u in range(min(data.n_users, 20)):
        items = train.indices[train.indptr[u] : train.indptr[u + 1]]
        expected = projected[torch.from_numpy(items)].mean(0) if len(items) else torch.zeros(projected.shape[1])
        assert torch.allclose(profile[u], expected, atol=1e-5)
    model.on_epoch_start(1, torch.Generator().manual_seed(1))
    dropped = model._dropped_users
    assert dropped.any() and (~dropped).any()
    cold_profile = model._user_content(projected)
    assert torch.all(cold_profile[dropped] == 0)
    assert torch.allclose(cold_profile[~dropped], profile[~dropped])
    model.on_epoch_end(1)
    assert model._dropped_users is None


def test_user_content_needs_raw_features():
    with pytest.raises(ConfigError, match="user_content"):
        DualKGATConfig(user_content=True, raw_features=False)


def test_loading_weights_recomputes_attention(data):
    """Attention is derived from the weights but is not a parameter: a model given other weights
    must rank exactly as a model built with them. (The trainer loads best.pt after the last epoch;
    until 2026-11-27 its final scores used the last epoch's attention with the best epoch's weights.)"""
    cfg = DualKGATConfig(init="random", max_neighbours=2)
    torch.manual_seed(0)
    stale = DualKGAT.build(data, cfg, torch.device("cpu"))
    stale.on_epoch_start(1, torch.Generator().manual_seed(0))  # attention (and a neighbour sample) of these weights
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
    scores = train(data, "dualkgat", tmp_path / "run", model_config=DualKGATConfig(init="random"), train_config=tc)
    records = {r["epoch"]: r for r in RunDir(tmp_path / "run").read_metrics()}
    assert scores["valid"]["recall@10"] == pytest.approx(records[scores["best_epoch"]]["valid"]["recall@10"], abs=1e-12)
    model, _ = load_model(tmp_path / "run", data, "cpu")
    assert evaluate(model, data, "test", (10,)).metrics["ndcg@10"] == pytest.approx(
        scores["test"]["ndcg@10"], abs=1e-12
    )


def test_content_score_is_the_weighted_cosine_of_history_and_item_features(data):
    """score(u, i) gains Σ_f w_f p_uf x_if, x_i the item's unit feature vector and p_u the unit
    mean of x over u's TRAINING items only; training pairs and full ranking use the same term."""
    import numpy as np
    import torch.nn.functional as F

    from ckgrec.model.data.item_features import item_feature_matrix

    torch.manual_seed(0)
    model = DualKGAT.build(data, DualKGATConfig(init="random", content_score=2.0), torch.device("cpu"))
    with torch.no_grad():
        model.content_weight.copy_(torch.linspace(0.5, 3.0, model.content_weight.numel()))
    users = torch.arange(data.n_users)
    with model.scoring():
        with_content = model.score_users(users)
        w = model.content_weight.detach().clone()
        model.content_weight.data.zero_()
        without = model.score_users(users)
        model.content_weight.data.copy_(w)
    x = F.normalize(item_feature_matrix(data.store, data.n_items).double(), dim=-1)
    train = data.split("train")
    p = torch.zeros(data.n_users, x.shape[1], dtype=torch.float64)
    for u in range(data.n_users):
        items = train.indices[train.indptr[u] : train.indptr[u + 1]]
        if len(items):
            p[u] = F.normalize(x[torch.from_numpy(items.astype(np.int64))].mean(0), dim=0)
    expected = (p * w.double()) @ x.T
    assert torch.allclose((with_content - without).double(), expected, atol=1e-4)
    # a training pair's score is the same number
    model.eval()
    u_rep, i_rep = model.representations()
    uu, ii = torch.tensor([0, 1, 2]), torch.tensor([3, 4, 5])
    pair = model._pair_scores(u_rep[uu], i_rep[ii], ii, uu)
    assert torch.allclose(pair, with_content[uu, ii], atol=1e-4)
    # a training POSITIVE is left out of its own user's profile (else training sees the item in it)
    u = next(u for u in range(data.n_users) if train.indptr[u + 1] - train.indptr[u] >= 3)
    items = torch.from_numpy(train.indices[train.indptr[u] : train.indptr[u + 1]].astype(np.int64))
    loo = model._content_profiles(torch.tensor([u]), items[:1])[0].double()
    assert torch.allclose(loo, F.normalize(x[items[1:]].sum(0), dim=0), atol=1e-5)


@pytest.mark.parametrize("schedule", ["alternate", "joint"])
def test_kg_weight_zero_leaves_the_transr_parameters_alone(data, tmp_path, schedule):
    """kg_weight = 0 means no TransR batches at all. Relation embeddings and projections get
    gradients only from TransR batches (attention is refreshed without gradients), so after a
    training run they must be exactly as initialised, while the entity embeddings moved. A TransR
    phase that kept only its small L2 term used to move them by about lr per batch under its own Adam."""
    from ckgrec.model.core.checkpoint import seed_everything
    from ckgrec.model.inference.load import load_model
    from ckgrec.model.training.config import TrainConfig
    from ckgrec.model.training.trainer import train

    cfg = DualKGATConfig(init="random", kg_weight=0.0, schedule=schedule)
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
        model = DualKGAT.build(data, cfg, torch.device("cpu"))
        seen = {}
        for batch in model._kg_batches(torch.Generator().manual_seed(0)):
            for k, triples, _ in batch:
                g = model.encoders[k].graph
                is_user, is_item = g.kind_mask("user"), g.kind_mask("item")
                h, t = triples[:, 0], triples[:, 2]
                inter = (is_user[h] & is_item[t]) | (is_item[h] & is_user[t])
                seen.setdefault(g.graph, []).append(inter)
        return {name: torch.cat(v) for name, v in seen.items()}

    side = batch_triples(DualKGATConfig(init="random", kg_triples="side"))
    assert set(side) == {"user_side", "item_side"} and not any(v.any() for v in side.values())
    everything = batch_triples(DualKGATConfig(init="random"))
    assert all(v.any() for v in everything.values())
    with pytest.raises(ConfigError, match="kg_triples"):
        DualKGATConfig(kg_triples="interactions")


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
