"""One generic test case that every registered model inherits (as PyKEEN's ``ModelTestCase``).

Each model in :data:`ckgrec.model.models.registry.MODELS` is trained briefly on the tiny world
and must: reload from its run directory and score exactly what the run wrote (save/load); resume
after a kill bit-identically on the CPU (resume); give the CPU's figures on CUDA within float
tolerance (``gpu`` marker, skipped without CUDA); and name a known-answer test. A new model gets
all of this by being registered; only its small test options go into ``SMALL`` below.
"""

from __future__ import annotations

import pytest
import torch

from ckgrec.model.core.options import build_config
from ckgrec.model.core.run_dir import RunDir
from ckgrec.model.evaluation.evaluator import evaluate
from ckgrec.model.inference.load import load_model
from ckgrec.model.models.registry import MODELS, get_model
from ckgrec.model.training.config import TrainConfig
from ckgrec.model.training.trainer import train

KG_SMALL = {"dim": 8, "relation_dim": 8, "layer_dims": (8,), "init": "random"}
SMALL: dict[str, dict] = {  # small sizes, so that the whole case runs in seconds per model
    "bprmf": {"embedding_dim": 8},
    "neumf": {"mf_dim": 8, "mlp_dim": 8, "mlp_hidden": (8,)},
    "ngcf": {"embedding_dim": 8, "hidden": (8,)},
    "lightgcn": {"embedding_dim": 8, "layers": 1},
    "simgcl": {"embedding_dim": 8, "layers": 1},
    "vbpr": {"latent_dim": 8, "visual_dim": 8},
    "freedom": {"embedding_dim": 8, "layers": 1, "knn_k": 4},
    "acf": {"dim": 8, "attention_dim": 8},
    "kgat": KG_SMALL,
    "kgin": {"dim": 8, "layers": 2, "n_intents": 2},
    "dualkgat": {"dim": 8, "layer_dims": (8,), "init": "random"},
}
TC = dict(epochs=4, batch_size=64, lr=0.01, patience=0, ks=(10,), valid_metric="recall@10", threads=1)
NAMES = sorted(MODELS)


def _config(name: str):
    return build_config(get_model(name).Config, SMALL.get(name, {}))


@pytest.fixture(scope="module")
def finished(world_data, tmp_path_factory):
    """name -> (run directory, scores.json) of one short uninterrupted run per model."""
    out = {}
    for name in NAMES:
        run = tmp_path_factory.mktemp(name) / "run"
        out[name] = (run, train(world_data, name, run, model_config=_config(name), train_config=TrainConfig(**TC)))
    return out


@pytest.mark.parametrize("name", NAMES)
def test_a_reloaded_model_scores_what_its_run_wrote(world_data, finished, name):
    run, scores = finished[name]
    model, cfg = load_model(run, world_data, "cpu")
    assert cfg["model"] == name
    assert evaluate(model, world_data, "test", (10,)).metrics == pytest.approx(scores["test"], abs=1e-12)


@pytest.mark.parametrize("name", [n for n in NAMES if MODELS[n].trainable])
def test_a_killed_run_resumes_to_the_uninterrupted_result(world_data, finished, tmp_path, name):
    run = tmp_path / "killed"
    assert (
        train(world_data, name, run, model_config=_config(name), train_config=TrainConfig(**TC), stop_after=2) is None
    )
    assert RunDir(run).has_checkpoint and not RunDir(run).is_complete
    resumed = train(world_data, name, run, model_config=_config(name), train_config=TrainConfig(**TC))
    full = finished[name][1]
    assert (resumed["test"], resumed["valid"], resumed["best_epoch"]) == (
        full["test"],
        full["valid"],
        full["best_epoch"],
    )


@pytest.mark.parametrize("name", NAMES)
def test_every_model_names_a_known_answer_test(name):
    from tests.model.models.test_model_baselines import KNOWN_ANSWER, OWN_TEST

    cls = MODELS[name]
    assert name in KNOWN_ANSWER or name in OWN_TEST or getattr(cls, "known_answer_test", None), (
        f"{name}: add a KNOWN_ANSWER case (tests/model/models/test_model_baselines.py) or set {cls.__name__}.known_answer_test"
    )


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("name", NAMES)
def test_cuda_gives_the_cpus_figures(world_data, finished, tmp_path, name):
    scores = train(
        world_data,
        name,
        tmp_path / "cuda",
        model_config=_config(name),
        train_config=TrainConfig(**{**TC, "device": "cuda"}),
    )
    assert scores["device"].startswith("cuda")
    cpu = finished[name][1]
    # different kernels sum in other orders: the rankings agree up to float noise on this tiny world
    assert scores["valid"] == pytest.approx(cpu["valid"], abs=0.05) and scores["test"] == pytest.approx(
        cpu["test"], abs=0.05
    )
