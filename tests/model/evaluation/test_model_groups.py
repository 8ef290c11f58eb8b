"""Group scores (model.groups): who is in which group, which items are candidates, and "n/a"."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ckgrec.model.data.train_data import TrainData
from ckgrec.model.evaluation.evaluator import evaluate
from ckgrec.model.evaluation.groups import (
    COLD_ITEM_GROUPS,
    COLD_USERS,
    Protocols,
    activity_quartiles,
    group_scores,
    unscorable_groups,
)
from ckgrec.model.models.base import ModelConfig, Recommender
from tests.model.block_store import block_store, cold_item, cold_world_store


class FixedScores(Recommender):
    """Scores from a fixed (n_users, n_items) matrix, so rankings are known by hand."""

    name = "fixed"

    def __init__(self, scores: np.ndarray):
        super().__init__(*scores.shape)
        self.register_buffer("table", torch.as_tensor(scores, dtype=torch.float32))

    @classmethod
    def build(cls, data, config: ModelConfig, device):  # pragma: no cover - built directly
        raise NotImplementedError

    def score_users(self, users: torch.Tensor) -> torch.Tensor:
        return self.table[users]


def _pairs(d: dict[int, list[int]]) -> tuple[np.ndarray, np.ndarray]:
    u = [user for user, items in d.items() for _ in items]
    i = [item for items in d.values() for item in items]
    return np.array(u, dtype=np.int64), np.array(i, dtype=np.int64)


def test_users_fall_in_the_groups_worked_out_by_hand():
    # users 0..6 have 1..7 training items (items 0..d-1); user 7 is a cold user with none.
    # items 8 and 9 are cold items. Test pairs:
    train = {u: list(range(u + 1)) for u in range(7)}
    test = {0: [5, 8], 1: [6], 2: [9], 3: [7], 4: [8, 9], 5: [7], 6: [7], 7: [0, 8]}
    data = TrainData.from_pairs(8, 10, _pairs(train), test=_pairs(test))
    protocols = Protocols(cold_items=np.array([8, 9]), cold_users=np.array([7]))
    rng = np.random.default_rng(0)
    res = evaluate(FixedScores(rng.random((8, 10))), data, "test", (1, 5), groups=protocols)
    users = {name: set(g.users.tolist()) for name, g in res.groups.items()}
    # degrees 1..7 among non-cold users: cut points 2.5 / 4 / 5.5 -> q1 {0, 1}, q2 {2, 3}, q3 {4}, q4 {5, 6};
    # users 2 and 4 have only cold-item test pairs, so q3 has no warm user and is absent.
    assert users == {
        "warm": {0, 1, 3, 5, 6},
        "cold_items_all": {0, 2, 4},
        "cold_items_only": {0, 2, 4},
        "cold_users": {7},  # its pair on cold item 8 is a double cold start: in no cold-item group
        "activity_q1": {0, 1},
        "activity_q2": {3},
        "activity_q4": {5, 6},
    }
    assert res.n_users == 8  # the overall ranking still covers every user


def test_activity_quartiles_skip_cold_users_and_users_without_training_pairs():
    q = activity_quartiles(np.array([0, 1, 2, 3, 4, 50]), cold_users=np.array([5]))
    assert q.tolist() == [0, 1, 2, 3, 4, 0]


def test_cold_items_ranked_among_all_items_and_among_cold_items_by_hand():
    # one user; item 0 in train (masked), test: item 1 (warm) and item 5 (cold); cold items {4, 5}
    data = TrainData.from_pairs(1, 6, (np.array([0]), np.array([0])), test=(np.array([0, 0]), np.array([1, 5])))
    scores = np.array([[9.0, 8.0, 7.0, 6.0, 5.0, 4.0]])
    res = evaluate(FixedScores(scores), data, "test", (1, 4), groups=Protocols(cold_items=np.array([4, 5])))
    g = {name: {k: float(v[0]) for k, v in s.per_user.items()} for name, s in res.groups.items()}
    # all items: candidates 2, 3, 4, 5 (train item 0 masked, the warm test item 1 removed) -> item 5 is 4th
    assert g["cold_items_all"]["mrr@4"] == pytest.approx(1 / 4)
    assert g["cold_items_all"]["recall@4"] == 1.0 and g["cold_items_all"]["hit@1"] == 0.0
    assert g["cold_items_all"]["ndcg@4"] == pytest.approx(1 / math.log2(5))
    # cold items only: candidates 4, 5 -> item 5 is 2nd (K = 4 > 2 candidates is padded with misses)
    assert g["cold_items_only"]["mrr@4"] == pytest.approx(1 / 2)
    assert g["cold_items_only"]["ndcg@4"] == pytest.approx(1 / math.log2(3))
    assert g["cold_items_only"]["precision@4"] == pytest.approx(1 / 4)
    # warm: candidates 1, 2, 3 (cold items out) -> item 1 first
    assert g["warm"]["hit@1"] == 1.0 and g["warm"]["recall@1"] == 1.0
    # overall: item 1 first, item 5 fifth -> half of the positives by rank 4
    assert res.per_user["recall@4"][0] == 0.5 and res.per_user["hit@1"][0] == 1.0


def test_without_cold_start_warm_is_the_overall_ranking(world_data, store):
    model = FixedScores(np.random.default_rng(1).random((world_data.n_users, world_data.n_items)))
    res = evaluate(model, world_data, "test", (10, 20), groups=Protocols.of(world_data))
    assert set(res.groups) <= {"warm", "activity_q1", "activity_q2", "activity_q3", "activity_q4"}
    assert np.array_equal(res.groups["warm"].users, res.users)
    for k, v in res.per_user.items():
        assert np.allclose(res.groups["warm"].per_user[k], v)
    assert (
        sum(res.groups[f"activity_q{q}"].n_users for q in range(1, 5) if f"activity_q{q}" in res.groups) == res.n_users
    )


def test_id_only_models_get_na_on_cold_items_not_numbers():
    per_group = {"test": {}}
    from ckgrec.model.evaluation.groups import GroupScores

    for name in ("warm", *COLD_ITEM_GROUPS):
        per_group["test"][name] = GroupScores(np.array([0, 1]), {"recall@20": np.array([0.0, 1.0])})
    groups, uninformed = group_scores(per_group, set(COLD_ITEM_GROUPS))
    assert groups["test"]["warm"] == {"recall@20": 0.5, "n_users": 2}
    assert all(groups["test"][g] == "n/a" for g in COLD_ITEM_GROUPS)
    assert set(uninformed["test"]) == set(COLD_ITEM_GROUPS)
    groups, uninformed = group_scores(per_group, set())
    assert groups["test"]["cold_items_only"]["n_users"] == 2 and not uninformed


class _Model:
    def __init__(self, items: bool, users: bool):
        self.can_score_cold_items, self.can_score_cold_users = items, users


def test_cold_users_are_na_only_without_history_and_for_models_that_need_one():
    k0 = Protocols(cold_users=np.array([3]), cold_users_without_history=True)
    k3 = Protocols(cold_users=np.array([3]), cold_users_without_history=False)
    assert unscorable_groups(_Model(False, False), k0) == {*COLD_ITEM_GROUPS, COLD_USERS}
    assert unscorable_groups(_Model(True, False), k0) == {COLD_USERS}
    assert unscorable_groups(_Model(True, True), k0) == set()
    assert unscorable_groups(_Model(True, False), k3) == set()  # k > 0: every model has a history


@pytest.fixture(scope="module")
def cold_store(world_dir, tmp_path_factory):
    return cold_world_store(world_dir, tmp_path_factory.mktemp("cold") / "store")


def test_trainer_writes_groups_and_na_for_an_id_only_model(cold_store, tmp_path):
    from ckgrec.model.core.run_dir import RunDir
    from ckgrec.model.training.config import TrainConfig
    from ckgrec.model.training.trainer import train

    data = TrainData.from_store(cold_store)
    tc = TrainConfig(epochs=2, batch_size=64, lr=0.01)
    bpr = train(data, "bprmf", tmp_path / "bpr", train_config=tc)
    knn = train(data, "featknn", tmp_path / "knn", train_config=tc)
    for split in ("valid", "test"):
        assert bpr["groups"][split]["cold_items_all"] == "n/a" and bpr["groups"][split]["cold_items_only"] == "n/a"
        assert knn["groups"][split]["cold_items_only"]["n_users"] > 0
    assert (
        "cold_users" in bpr["groups"]["test"] and "cold_users" not in bpr["groups"]["valid"]
    )  # cold users' pairs go to test
    assert bpr["groups"]["test"]["warm"]["n_users"] == knn["groups"]["test"]["warm"]["n_users"]
    assert "cold_items_all" in bpr["groups_uninformed"]["test"]
    assert set(knn["groups_uninformed"]["test"]) == {COLD_USERS}  # k = 0 cold users: an empty history
    rows = RunDir(tmp_path / "bpr").read_per_user_groups("test")
    assert not rows["group"].isin([*COLD_ITEM_GROUPS, COLD_USERS]).any() and "warm" in set(rows["group"])
    assert RunDir(tmp_path / "knn").read_per_user_groups("test")["group"].isin(COLD_ITEM_GROUPS).any()


def test_protocols_from_the_store_match_its_interactions(cold_store):
    p = Protocols.from_store(cold_store)
    inter = cold_store.table("interactions")
    assert len(p.cold_items) == 6 and len(p.cold_users) == 4
    assert not inter.loc[inter["item"].isin(p.cold_items), "split"].eq("train").any()
    assert p.cold_users_without_history  # cold_world_store's default k = 0


def test_cold_users_with_k_training_pairs_have_a_history(world_dir, tmp_path):
    p = Protocols.from_store(cold_world_store(world_dir, tmp_path / "k2", cold_user_train=2))
    assert len(p.cold_users) and not p.cold_users_without_history


def test_k0_cold_users_are_na_for_id_only_models_and_scored_through_popularity_or_profiles(cold_store, tmp_path):
    """bprmf and kgat (G_u only: a k = 0 user is an isolated ID) cannot rank for a user without
    history; mostpop (popularity) and dualkgat (the profile edges of G_i) can."""
    from ckgrec.model.core.options import build_config
    from ckgrec.model.models.registry import get_model
    from ckgrec.model.training.config import TrainConfig
    from ckgrec.model.training.trainer import train

    data = TrainData.from_store(cold_store)
    tc = TrainConfig(epochs=1, batch_size=256, lr=0.01, eval_every=1)
    small = {"layer_dims": (8,), "dim": 8, "init": "random"}
    out = {
        "bprmf": train(data, "bprmf", tmp_path / "bpr", train_config=tc),
        "mostpop": train(data, "mostpop", tmp_path / "pop", train_config=tc),
        "kgat": train(
            data,
            "kgat",
            tmp_path / "kgat",
            model_config=build_config(get_model("kgat").Config, {**small, "relation_dim": 8}),
            train_config=tc,
        ),
        "dualkgat": train(
            data,
            "dualkgat",
            tmp_path / "dual",
            model_config=build_config(get_model("dualkgat").Config, small),
            train_config=tc,
        ),
    }
    for name, scorable in {"bprmf": False, "mostpop": True, "kgat": False, "dualkgat": True}.items():
        entry = out[name]["groups"]["test"][COLD_USERS]
        assert (entry != "n/a") == scorable, name
        if not scorable:
            assert COLD_USERS in out[name]["groups_uninformed"]["test"]
    no_profile = build_config(get_model("dualkgat").Config, {**small, "use_item_side": False})
    res = train(data, "dualkgat", tmp_path / "dual-u", model_config=no_profile, train_config=tc)
    assert res["groups"]["test"][COLD_USERS] == "n/a"


@pytest.fixture(scope="module")
def block_cold(tmp_path_factory):
    return TrainData.from_store(block_store(tmp_path_factory.mktemp("blockcold"), cold_per_block=1))


def _cold_item_ids(data: TrainData) -> list[int]:
    labels = data.store.table("items").set_index("label")["item"]
    return [int(labels[cold_item(b)]) for b in range(4)]


def _user_blocks(data: TrainData) -> torch.Tensor:
    """Block of each dense user id (user ``u<n>`` belongs to block n // 8)."""
    users = data.store.table("users").sort_values("user")
    return torch.tensor([int(label[1:]) // 8 for label in users["label"]])


def test_featknn_ranks_the_cold_item_that_matches_the_history_first(block_cold):
    from ckgrec.model.models.registry import get_model

    cls = get_model("featknn")
    model = cls.build(block_cold, cls.Config(), torch.device("cpu"))
    model.fit_closed_form(block_cold)
    cold = _cold_item_ids(block_cold)
    with model.scoring():
        scores = model.score_users(torch.arange(block_cold.n_users))[:, cold]
    assert scores.argmax(1).tolist() == _user_blocks(block_cold).tolist()


def test_vbpr_ranks_the_cold_item_of_the_users_block_first(block_cold, tmp_path):
    from ckgrec.model.core.options import build_config
    from ckgrec.model.inference.load import load_model
    from ckgrec.model.models.registry import get_model
    from ckgrec.model.training.config import TrainConfig
    from ckgrec.model.training.trainer import train

    cls = get_model("vbpr")
    tc = TrainConfig(epochs=60, batch_size=64, lr=0.05, patience=0, eval_every=60, ks=(1, 5), valid_metric="hit@1")
    train(
        block_cold,
        "vbpr",
        tmp_path / "vbpr",
        model_config=build_config(cls.Config, {"latent_dim": 8, "visual_dim": 8}),
        train_config=tc,
    )
    model, _ = load_model(tmp_path / "vbpr", block_cold, "cpu")
    cold = _cold_item_ids(block_cold)
    with model.scoring():
        scores = model.score_users(torch.arange(block_cold.n_users))[:, cold]
    assert (scores.argmax(1) == _user_blocks(block_cold)).float().mean() >= 0.9
