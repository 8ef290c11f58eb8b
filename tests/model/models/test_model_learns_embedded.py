"""Every learned baseline beats MostPop on Recall@20 on the embedded dataset (short training)."""

from __future__ import annotations

import pytest

from ckgrec.model.data.train_data import TrainData
from ckgrec.model.models.registry import MODELS
from ckgrec.model.training.config import TrainConfig
from ckgrec.model.training.trainer import train
from ckgrec.schemas.store import Store

# short, fast settings: the point is that each model learns more than popularity, not its best score
SHORT: dict[str, dict] = {
    "bprmf": dict(epochs=8, lr=0.01),
    "lightgcn": dict(epochs=4, lr=0.005),
    "simgcl": dict(epochs=8, lr=0.01),
    "ngcf": dict(epochs=3, lr=0.005),
    "neumf": dict(epochs=4, lr=0.01, num_negatives=1),
    "ease": dict(),
    "itemknn": dict(),
    "rp3beta": dict(),
    "featknn": dict(),
    "vbpr": dict(epochs=4, lr=0.01),
    "freedom": dict(epochs=4, lr=0.01),
}


@pytest.fixture(scope="module")
def embedded(embedded_store_dir):
    return TrainData.from_store(Store.open(embedded_store_dir))


@pytest.fixture(scope="module")
def mostpop_recall(embedded, tmp_path_factory):
    return train(embedded, "mostpop", tmp_path_factory.mktemp("pop") / "r")["test"]["recall@20"]


def test_every_learned_baseline_is_listed():
    # kgat and acf are baselines of the KG family; their known-answer tests are in tests/model/models/
    learned = {n for n, c in MODELS.items() if c.is_baseline and n not in {"mostpop", "kgat", "acf"}}
    assert learned == set(SHORT)


@pytest.mark.parametrize("name", sorted(SHORT))
def test_baseline_beats_mostpop(name, embedded, mostpop_recall, tmp_path):
    tc = TrainConfig(**{"patience": 0, **SHORT[name], "eval_every": max(1, SHORT[name].get("epochs", 1))})
    scores = train(embedded, name, tmp_path / name, train_config=tc)
    assert scores["test"]["recall@20"] > 1.5 * mostpop_recall, (
        f"{name} {scores['test']['recall@20']:.4f} vs mostpop {mostpop_recall:.4f}"
    )
