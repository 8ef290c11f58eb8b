"""TransR pretraining: splits, save/load round trip, refusal of foreign embeddings, determinism, CLI."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch

from ckgrec.model.data.kg_splits import split_holdout, splits_from_store
from ckgrec.model.data.pretrained import load_pretrained, pretrained_paths
from ckgrec.model.nn.transr import transr_score
from ckgrec.model.pretraining.pretrain import PretrainConfig, train_transr
from ckgrec.model.pretraining.save import save_pretrained
from ckgrec.schemas.errors import ConfigError, InputNotFoundError, StoreError, StoreMismatchError
from ckgrec.schemas.store import Store

torch.set_num_threads(1)

TINY = PretrainConfig(
    embedding_dim=8,
    relation_dim=6,
    epochs=4,
    batch_size=128,
    learning_rate=0.01,
    negatives=2,
    warm_start="transe",
    warm_start_epochs=2,
    holdout=0.1,
    eval_sample=40,
    eval_every=2,
    patience=2,
    threads=1,
    device="cpu",
    seed=3,
)


@pytest.fixture(scope="module")
def own_store(store_dir, tmp_path_factory):
    """A private copy of the session store: pretraining writes into STORE/pretrained/."""
    dst = tmp_path_factory.mktemp("pretrain") / "store"
    shutil.copytree(store_dir, dst)
    return Store.open(dst)


@pytest.fixture(scope="module")
def trained(own_store):
    """(splits, TrainedTransR) for the item side, saved into ``own_store``."""
    splits = splits_from_store(own_store, "item_side", holdout=TINY.holdout, seed=TINY.seed)
    result = train_transr(splits, TINY, progress=False)
    save_pretrained(own_store, "item_side", result, TINY)
    return splits, result


def test_holdout_keeps_every_held_out_entity_and_relation_in_training():
    rng = np.random.default_rng(0)
    triples = np.stack([rng.integers(0, 50, 400), rng.integers(0, 3, 400), rng.integers(0, 50, 400)], 1)
    triples = np.vstack([triples, [[60, 0, 61]]])  # entities 60/61 occur once: never held out
    train, valid, test = split_holdout(triples, 0.2, seed=1)
    assert len(train) + len(valid) + len(test) == len(triples)
    assert abs(len(valid) - len(test)) <= 1 and len(valid) + len(test) > 0.15 * len(triples)
    seen = set(train[:, [0, 2]].ravel())
    held = np.vstack([valid, test])
    assert set(held[:, [0, 2]].ravel()) <= seen and set(held[:, 1]) <= set(train[:, 1])
    assert [60, 0, 61] in train.tolist()


def test_splits_come_straight_from_the_store_ids(own_store):
    splits = splits_from_store(own_store, "user_side", holdout=0.1, seed=0)
    stored = own_store.graph_table("triples", "user_side", columns=["head", "relation", "tail"]).to_numpy()
    ours = torch.cat([splits.train, splits.valid, splits.test]).numpy()
    assert sorted(map(tuple, ours)) == sorted(map(tuple, stored))  # nothing dropped, deduplicated or relabelled
    labels = own_store.graph_table("entities", "user_side").sort_values("entity")["label"].tolist()
    assert list(splits.entity_labels) == labels
    tf = splits.triples_factory(splits.train)
    assert torch.equal(tf.mapped_triples, splits.train) and tf.num_relations == splits.num_relations


def test_training_reports_metrics_and_early_stopping(trained):
    splits, result = trained
    m = result.metrics
    assert result.entity.shape == (splits.num_entities, 8)
    assert result.relation.shape == (splits.num_relations, 6) and result.projection.shape == (
        splits.num_relations,
        8,
        6,
    )
    assert m["warm_start"]["method"] == "transe" and m["epochs_run"] <= TINY.epochs
    assert [h["epoch"] for h in m["early_stopping"]["history"]][:2] == [2, 4][: len(m["early_stopping"]["history"])]
    for side in ("both", "head", "tail"):
        assert 0 < m["test"][side]["mrr"] <= 1 and m["test"][side]["hits_at_1"] <= m["test"][side]["hits_at_10"]
    assert m["test"]["triples"] == min(len(splits.test), TINY.eval_sample)
    # constraints of PyKEEN's TransR hold on what we hand over
    assert result.entity.norm(dim=-1).max() <= 1 + 1e-5 and result.relation.norm(dim=-1).max() <= 1 + 1e-5


def test_returned_weights_are_those_the_early_stopper_chose(trained):
    from ckgrec.model.pretraining.pretrain import evaluate_tensors

    splits, result = trained
    es = result.metrics["early_stopping"]
    chosen = {h["epoch"]: h["mrr"] for h in es["history"]}[es["weights_of_epoch"]]
    again = evaluate_tensors(splits, TINY, result.entity, result.relation, result.projection, part="valid")
    assert again["both"]["mrr"] == pytest.approx(chosen, abs=1e-6)


def test_round_trip_gives_identical_tensors_and_pykeen_scores(own_store, trained):
    from pykeen.losses import PairwiseLogisticLoss

    from ckgrec.model.pretraining.pykeen_models import build_transr

    splits, result = trained
    loaded = load_pretrained(own_store, "item_side")
    entity, relation, projection = result.with_inverses()
    R = splits.num_relations
    assert (
        torch.equal(loaded.entity, entity)
        and torch.equal(loaded.relation, relation)
        and torch.equal(loaded.projection, projection)
    )
    assert loaded.num_relations == 2 * R and loaded.fingerprint == own_store.fingerprint
    assert (
        loaded.config["embedding_dim"] == 8
        and loaded.metrics["test"]["both"]["mrr"] == result.metrics["test"]["both"]["mrr"]
    )
    # our scoring function on the loaded tensors == PyKEEN's TransR holding the same tensors
    pykeen_model = build_transr(
        splits.triples_factory(splits.train),
        embedding_dim=8,
        relation_dim=6,
        loss=PairwiseLogisticLoss(),
        random_seed=0,
        scorer="pykeen",
        entity=loaded.entity,
        relation=loaded.relation[:R],
        projection=loaded.projection[:R],
    )
    batch = torch.cat([splits.train[:100], splits.test])
    h, r, t = batch.T
    ours = transr_score(loaded.entity[h], loaded.relation[r], loaded.entity[t], loaded.projection[r])
    torch.testing.assert_close(ours, pykeen_model.score_hrt(batch).squeeze(-1).detach())
    # inverse rows score the reversed triple identically
    inv = transr_score(loaded.entity[t], loaded.relation[r + R], loaded.entity[h], loaded.projection[r + R])
    torch.testing.assert_close(inv, ours)


def test_deterministic_on_cpu_for_a_fixed_seed(trained, own_store):
    splits, first = trained
    second = train_transr(splits, TINY, progress=False)
    for a, b in zip(
        (first.entity, first.relation, first.projection), (second.entity, second.relation, second.projection)
    ):
        assert torch.equal(a, b)
    assert first.metrics["test"] == second.metrics["test"]


def test_refuses_embeddings_of_another_store(trained, own_store, tmp_path):
    from ckgrec.kgbuild.build import build
    from tests.world import make_world

    other = Store.open(build(make_world(tmp_path / "raw", seed=11, n_items=64), tmp_path / "other", fmt="native").store)
    assert other.fingerprint != own_store.fingerprint
    with pytest.raises(StoreMismatchError) as err:
        load_pretrained(other, "item_side", directory=own_store.path / "pretrained")
    msg = str(err.value)
    assert own_store.fingerprint in msg and other.fingerprint in msg
    assert "shape" in msg and "vs store" in msg  # the entity counts differ too, and both shapes are named


def test_refuses_another_build_of_the_same_id_space(trained, own_store, tmp_path):
    rebuilt = tmp_path / "rebuilt"
    shutil.copytree(own_store.path, rebuilt)
    manifest = json.loads((rebuilt / "manifest.json").read_text())
    manifest["files"]["triples.parquet"] = "0" * 64  # as if the KG came from another split
    (rebuilt / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(StoreError, match="manifest was edited or corrupted"):
        Store.open(rebuilt)  # opening verifies the files against the manifest
    other = Store(rebuilt, manifest)  # past that check, the pretrained sidecar's own triples hash must still object
    assert other.fingerprint == own_store.fingerprint
    with pytest.raises(StoreMismatchError, match="KG build") as err:
        load_pretrained(other, "item_side")
    assert "0" * 64 in str(err.value) and own_store.manifest["files"]["triples.parquet"] in str(err.value)


def test_refuses_a_tensor_file_from_another_run(trained, own_store, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(own_store.path, copy)
    tensor_path, sidecar_path = pretrained_paths(copy, "item_side")
    sidecar = json.loads(sidecar_path.read_text())
    sidecar["tensor_sha256"] = "f" * 64
    sidecar_path.write_text(json.dumps(sidecar))
    with pytest.raises(StoreMismatchError, match="different runs"):
        load_pretrained(Store.open(copy), "item_side")
    tensor_path.unlink()
    with pytest.raises(InputNotFoundError, match="ckg pretrain"):
        load_pretrained(Store.open(copy), "item_side")


def test_config_rejects_bad_values_and_unknown_toml_keys(tmp_path):
    from ckgrec.schemas.config_io import load_toml

    with pytest.raises(ConfigError, match="warm_start"):
        PretrainConfig(warm_start="glove")
    with pytest.raises(ConfigError, match="holdout"):
        PretrainConfig(holdout=0.7)
    with pytest.raises(ConfigError, match="relation_dim"):
        PretrainConfig(relation_dim=0)
    path = tmp_path / "c.toml"
    path.write_text("[pretrain]\nrelation_dimm = 32\n")
    with pytest.raises(ConfigError, match="did you mean 'relation_dim'"):
        load_toml(PretrainConfig, path, section="pretrain")


def test_cli_pretrain_smoke(store_dir, tmp_path, capsys):
    from ckgrec.cli import main

    dst = tmp_path / "s"
    shutil.copytree(store_dir, dst)
    (tmp_path / "p.toml").write_text("[pretrain]\nembedding_dim = 8\nrelation_dim = 4\nwarm_start_epochs = 1\n")
    argv = [
        "pretrain",
        str(dst),
        "--config",
        str(tmp_path / "p.toml"),
        "--graphs",
        "user_side",
        "--epochs",
        "2",
        "--eval-every",
        "1",
        "--eval-sample",
        "20",
        "--threads",
        "1",
        "--device",
        "cpu",
        "--quiet",
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "user_side" in out and "MRR" in out
    loaded = load_pretrained(Store.open(dst), "user_side")
    assert loaded.embedding_dim == 8 and loaded.relation_dim == 4 and loaded.config["epochs"] == 2
    assert not pretrained_paths(dst, "item_side")[0].exists()
    from ckgrec.cli.pretrain_cmd import GRAPH_NAMES
    from ckgrec.schemas.tables import GRAPHS

    assert GRAPH_NAMES == GRAPHS
    assert main(["pretrain", str(dst), "--graphs", "user_side,items"]) == 2
    assert "unknown graph" in capsys.readouterr().err


def test_nations_goes_through_the_same_trainer():
    from pykeen.datasets import Nations

    from ckgrec.model.data.kg_splits import splits_from_pykeen

    splits = splits_from_pykeen(Nations())
    assert (splits.num_entities, splits.num_relations) == (14, 55)
    cfg = PretrainConfig(
        embedding_dim=8, relation_dim=8, epochs=2, warm_start="none", patience=0, eval_sample=30, device="cpu"
    )
    m = train_transr(splits, cfg, progress=False).metrics
    assert m["test"]["triples"] == 30 and 0 < m["test"]["both"]["mrr"] <= 1


@pytest.mark.slow
def test_nations_mrr_matches_pykeen_pipeline_with_the_same_settings():
    """Our trainer (grouped scorer) vs ``pykeen.pipeline`` (stock TransR) on Nations, full test set."""
    from pykeen.datasets import Nations
    from pykeen.pipeline import pipeline

    from ckgrec.model.data.kg_splits import splits_from_pykeen
    from ckgrec.model.pretraining.pykeen_models import GroupedTransR  # noqa: F401  (ours uses it by default)

    cfg = PretrainConfig(
        embedding_dim=32,
        relation_dim=32,
        epochs=60,
        batch_size=256,
        learning_rate=0.01,
        negatives=4,
        warm_start="none",
        patience=0,
        eval_sample=1000,
        device="cpu",
        seed=1,
    )
    dataset = Nations()
    ours = train_transr(splits_from_pykeen(dataset), cfg, progress=False).metrics["test"]["both"]["mrr"]
    from pykeen.nn.init import xavier_uniform_, xavier_uniform_norm_
    from pykeen.utils import clamp_norm

    result = pipeline(
        dataset=dataset,
        model="TransR",
        model_kwargs=dict(
            embedding_dim=32,
            relation_dim=32,
            scoring_fct_norm=2,
            power_norm=True,
            max_projection_norm=1.0,
            entity_initializer=xavier_uniform_,
            relation_initializer=xavier_uniform_norm_,
            entity_constrainer=clamp_norm,
            relation_constrainer=clamp_norm,
        ),
        loss="PairwiseLogisticLoss",
        optimizer="Adam",
        optimizer_kwargs=dict(lr=0.01),
        training_loop="sLCWA",
        negative_sampler="basic",
        negative_sampler_kwargs=dict(num_negs_per_pos=4, corruption_scheme=("tail",)),
        training_kwargs=dict(num_epochs=60, batch_size=256, use_tqdm=False),
        evaluator_kwargs=dict(filtered=True),
        evaluation_kwargs=dict(batch_size=256, use_tqdm=False),
        random_seed=1,
        device="cpu",
        use_tqdm=False,
    )
    theirs = result.metric_results.get_metric("both.realistic.inverse_harmonic_mean_rank")
    assert abs(ours - theirs) < 0.05, (ours, theirs)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_pretrain_on_cuda_hands_back_cpu_tensors(own_store):
    import dataclasses

    splits = splits_from_store(own_store, "item_side", holdout=TINY.holdout, seed=TINY.seed)
    result = train_transr(splits, dataclasses.replace(TINY, device="cuda"), progress=False)
    assert result.metrics["device"].startswith("cuda")
    assert result.entity.device.type == "cpu" and torch.isfinite(result.projection).all()
    assert 0 < result.metrics["test"]["both"]["mrr"] <= 1
