"""Real data goes in without surprises (issue 21): weights, headers, numeric columns, splits, links.

Each rule on a tiny native dataset written by the test, with the exact message a user sees.
"""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ckgrec.kgbuild.build import build
from ckgrec.kgbuild.config import AttributeConfig, BuildConfig, InteractionConfig, SplitConfig
from ckgrec.kgbuild.notices import BuildWarning
from ckgrec.kgbuild.summary import FIRST, format_summary
from ckgrec.kgbuild.weights import MIN_CONFIDENCE
from ckgrec.schemas.errors import ConfigError, InputValidationError, StoreError
from ckgrec.schemas.store import Store
from tests.conftest import shared_dataset


def write_native(root: Path, inter: pd.DataFrame, users: pd.DataFrame | None = None, **files: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    inter.to_csv(root / "interactions.csv", index=False)
    if users is not None:
        users.to_csv(root / "users.csv", index=False)
    for name, text in files.items():
        (root / name).write_text(text, encoding="utf-8")
    return root


def dense_world(n_users: int = 12, n_items: int = 15, per_user: int = 8, seed: int = 3) -> pd.DataFrame:
    """Every user has ``per_user`` distinct items, so every user can spare valid and test pairs."""
    rng = np.random.default_rng(seed)
    rows = [(f"u{u}", f"i{i}") for u in range(n_users) for i in rng.choice(n_items, per_user, replace=False)]
    return pd.DataFrame(rows, columns=["user_id", "item_id"])


def built(root: Path, out: Path, **cfg) -> Store:
    with warnings.catch_warnings():
        warnings.simplefilter("error", BuildWarning)  # these builds must not warn
        return Store.open(build(root, out, fmt="native", config=BuildConfig(**cfg)).store)


# ---- interaction weights ------------------------------------------------------------------


def test_star_ratings_keep_one_relation_per_level(tmp_path):
    inter = dense_world()
    inter["rating"] = (np.arange(len(inter)) % 5 + 1).astype(str)
    s = built(write_native(tmp_path / "raw", inter), tmp_path / "s")
    assert s.counts["interaction_relations"] == ["rating_1", "rating_2", "rating_3", "rating_4", "rating_5"]
    w = s.manifest["interaction_weights"]
    assert (w["mode"], w["requested"], w["relations"]) == ("levels", "auto", 5)
    assert w["reason"] == "5 distinct values, all whole numbers, at most max_levels = 10"
    t = s.table("interactions")
    stars = t["relation"].str.removeprefix("rating_").astype(float)
    assert np.allclose(t["confidence"], stars / 5)


def test_many_level_weight_gives_one_relation_and_a_log_confidence(tmp_path):
    inter = dense_world()
    rng = np.random.default_rng(0)
    weight = rng.integers(1, 100_001, len(inter))
    inter["rating"] = weight.astype(str)
    s = built(write_native(tmp_path / "raw", inter), tmp_path / "s")
    n = len(np.unique(weight))
    assert s.counts["interaction_relations"] == ["interact"]
    w = s.manifest["interaction_weights"]
    assert w["mode"] == "weight" and w["reason"] == f"{n} distinct values, all whole numbers, more than max_levels = 10"
    assert w["summary"] == (
        f"rating column read as weight (auto: {n} distinct values, all whole numbers, more than max_levels = 10) "
        f"-> 1 relation, confidence log-scaled in [{MIN_CONFIDENCE:g}, 1]"
    )
    # the confidence is the log-scaled weight of the same (user, item)
    t = (
        s.table("interactions")
        .merge(s.table("users"), on="user")
        .merge(s.table("items"), on="item", suffixes=("_u", "_i"))
    )
    raw = inter.assign(w=weight).set_index(["user_id", "item_id"])["w"]
    got = raw.loc[list(zip(t["label_u"], t["label_i"]))].to_numpy(np.float64)
    lo, hi = weight.min(), weight.max()
    expected = MIN_CONFIDENCE + (1 - MIN_CONFIDENCE) * np.log1p(got - lo) / np.log1p(hi - lo)
    assert np.allclose(t["confidence"], expected, atol=1e-6)
    assert t["confidence"].min() >= MIN_CONFIDENCE and t["confidence"].max() <= 1.0
    # the graph edges carry it: the relation-0 edges of G_u hold the same confidences
    tr = s.graph_table("triples", "user_side")
    rel = s.graph_table("relations", "user_side")
    inter_rel = int(rel.loc[rel["name"] == "interact", "relation"].iloc[0])
    assert np.isclose(
        np.sort(tr.loc[tr["relation"] == inter_rel, "confidence"]), np.sort(t.loc[t["split"] == "train", "confidence"])
    ).all()


def test_bins_and_user_quantiles(tmp_path):
    inter = dense_world()
    weight = np.arange(1, len(inter) + 1) * 7
    inter["rating"] = weight.astype(str)
    root = write_native(tmp_path / "raw", inter)
    s = built(root, tmp_path / "bins", interactions=InteractionConfig(rating="bins", weight_bins=3))
    assert s.counts["interaction_relations"] == ["interact_q1", "interact_q2", "interact_q3"]
    t = (
        s.table("interactions")
        .merge(s.table("items"), on="item")
        .merge(s.table("users"), on="user", suffixes=("_i", "_u"))
    )
    heaviest = inter.iloc[int(np.argmax(weight))]
    lightest = inter.iloc[int(np.argmin(weight))]
    rel = t.set_index(["label_u", "label_i"])["relation"]
    assert rel.loc[(heaviest.user_id, heaviest.item_id)] == "interact_q3"
    assert rel.loc[(lightest.user_id, lightest.item_id)] == "interact_q1"

    q = built(root, tmp_path / "quant", interactions=InteractionConfig(rating="weight", weight_scale="user_quantile"))
    t = q.table("interactions")
    assert q.counts["interaction_relations"] == ["interact"]
    assert (t.groupby("user")["confidence"].max() == 1.0).all()  # each user's heaviest interaction
    assert np.isclose(t.groupby("user")["confidence"].min(), 1 / 8).all()  # 8 pairs per user, all distinct weights


def test_rating_mode_is_checked():
    with pytest.raises(ConfigError) as e:
        InteractionConfig(rating="count")
    assert str(e.value) == "interactions.rating = 'count': use one of auto, levels, weight, bins"


def test_summary_fits_a_screen_with_thousands_of_relations(tmp_path):
    inter = dense_world(n_users=30, n_items=40, per_user=20)
    inter["rating"] = (np.arange(len(inter)) + 1).astype(str)
    s = built(write_native(tmp_path / "raw", inter), tmp_path / "s", interactions=InteractionConfig(rating="levels"))
    names = s.counts["interaction_relations"]
    assert len(names) == len(inter)
    text = format_summary(s.path)
    line = next(x for x in text.splitlines() if x.startswith("interaction relations:"))
    assert line == f"interaction relations: {', '.join(names[:FIRST])}, ... ({len(names):,} in all)"
    assert len(text.splitlines()) <= 20 and max(map(len, text.splitlines())) < 300


# ---- headers and numeric columns ------------------------------------------------------------


def test_duplicate_column_names_are_an_error(tmp_path):
    root = tmp_path / "raw"
    root.mkdir()
    (root / "interactions.csv").write_text("user_id,item_id,timestamp,timestamp\nu1,i1,1,2\n", encoding="utf-8")
    with pytest.raises(InputValidationError) as e:
        build(root, tmp_path / "s", fmt="native")
    assert [str(p) for p in e.value.problems] == [
        f"{root / 'interactions.csv'}, column 'timestamp': duplicate column name in the header "
        "(columns 3, 4 are all named 'timestamp'; rename or remove all but one)"
    ]


def test_duplicate_column_in_a_recbole_header(tmp_path):
    root = tmp_path / "rb"
    root.mkdir()
    (root / "x.inter").write_text(
        "user_id:token\titem_id:token\trating:float\trating:float\n1\t2\t3\t4\n", encoding="utf-8"
    )
    with pytest.raises(InputValidationError) as e:
        build(root, tmp_path / "s", fmt="recbole")
    assert [str(p) for p in e.value.problems] == [
        f"{root / 'x.inter'}, column 'rating': duplicate column name in the header (rename or remove all but one)"
    ]


def _profiles(n: int = 12) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "user_id": [f"u{u}" for u in range(n)],
            "age": [str(18 + 3 * u) for u in range(n)],
            "gender": ["F", "M"] * (n // 2),
        }
    )


def test_one_odd_value_in_a_numeric_column_is_reported(tmp_path):
    users = _profiles(16)  # 14 distinct ages besides the two odd values: binned, so 'unknown' would change the encoding
    users.loc[4, "age"] = "unknown"
    users.loc[7, "age"] = "inf"
    root = write_native(tmp_path / "raw", dense_world(n_users=16), users)
    with pytest.raises(InputValidationError) as e:
        build(root, tmp_path / "s", fmt="native")
    fix = 'fix the cell or leave it empty, or declare the column categorical: [build.user_attributes] categorical = ["age"]'
    assert [str(p) for p in e.value.problems] == [
        f"{root / 'users.csv'}, row 5, column 'age': non-numeric value in a numeric column (got 'unknown'; {fix})",
        f"{root / 'users.csv'}, row 8, column 'age': value must be a finite number (got 'inf'; {fix})",
    ]
    # declared categorical, the same file builds and 'unknown' is a category of its own
    s = built(root, tmp_path / "cat", user_attributes=AttributeConfig(categorical=("age",)))
    labels = set(s.graph_table("entities", "item_side")["label"])
    assert "age=unknown" in labels and "age=inf" in labels


def test_numeric_column_without_odd_values_is_binned(tmp_path):
    s = built(write_native(tmp_path / "raw", dense_world(n_users=16), _profiles(16)), tmp_path / "s")
    ages = sorted(x for x in s.graph_table("entities", "item_side")["label"] if x.startswith("age="))
    assert len(ages) == 4 and all(x.startswith("age=[") for x in ages)


# ---- empty splits, train refusal, no NaN scores ---------------------------------------------


def test_a_split_that_holds_out_nothing_warns(tmp_path):
    one = pd.DataFrame({"user_id": [f"u{k}" for k in range(6)], "item_id": [f"i{k % 3}" for k in range(6)]})
    root = write_native(tmp_path / "raw", one)
    with pytest.warns(BuildWarning) as rec:
        report = build(root, tmp_path / "s", fmt="native")
    why = "no user has 3 or more pairs (split.min_pairs_for_holdout = 3), so every pair stays in train"
    expected = [
        f"split: the validation split is empty (0 of 6 pairs): {why}; 'ckg train' refuses a store without validation pairs "
        "(nothing to select the best epoch on)",
        f"split: the test split is empty (0 of 6 pairs): {why}; the store cannot be evaluated",
    ]
    assert [str(w.message) for w in rec] == expected == report.warnings
    s = Store.open(report.store)
    assert s.manifest["warnings"] == expected
    assert f"warning: {expected[0]}" in format_summary(s.path).splitlines()


def test_zero_ratio_is_named_as_the_reason(tmp_path):
    root = write_native(tmp_path / "raw", dense_world())
    with pytest.warns(BuildWarning) as rec:
        build(root, tmp_path / "s", fmt="native", config=BuildConfig(split=SplitConfig(ratios=(0.9, 0.0, 0.1))))
    assert [str(w.message) for w in rec] == [
        "split: the validation split is empty (0 of 96 pairs): split.ratios gives it 0; 'ckg train' refuses a store without "
        "validation pairs (nothing to select the best epoch on)"
    ]


def test_ckg_train_refuses_a_store_without_validation_pairs(tmp_path, capsys):
    from ckgrec.cli import main
    from ckgrec.model.data.train_data import TrainData

    root = write_native(tmp_path / "raw", dense_world())
    with pytest.warns(BuildWarning):
        store = build(
            root, tmp_path / "s", fmt="native", config=BuildConfig(split=SplitConfig(ratios=(0.9, 0.0, 0.1)))
        ).store
    message = (
        f"{store} has no validation pairs, so there is nothing to select the best epoch on (early stopping) (the build said: "
        "split: the validation split is empty (0 of 96 pairs): split.ratios gives it 0; 'ckg train' refuses a store without "
        "validation pairs (nothing to select the best epoch on)); rebuild the store so that it holds some out: give "
        "[build.split] ratios a share for it, lower min_pairs_for_holdout (users with fewer pairs keep them all in train), "
        "or, with a given split, use a source whose split has it"
    )
    with pytest.raises(StoreError) as e:
        TrainData.from_store(Store.open(store)).require_heldout()
    assert str(e.value) == message
    assert main(["train", str(store), "--model", "mostpop", "--out", str(tmp_path / "run"), "--quiet"]) == 2
    assert capsys.readouterr().err == f"ckg train: error: {message}\n"
    assert not (tmp_path / "run" / "scores.json").exists()


def test_scores_of_an_empty_split_are_null_not_nan(tmp_path):
    from ckgrec.model.data.train_data import TrainData
    from ckgrec.model.training.trainer import train

    users = np.array([0, 0, 1, 1, 2, 2])
    items = np.array([0, 1, 1, 2, 0, 2])
    data = TrainData.from_pairs(3, 4, (users, items), test=(np.array([0, 1]), np.array([3, 3])))
    scores = train(data, "mostpop", tmp_path / "run")
    text = (tmp_path / "run" / "scores.json").read_text()
    assert "NaN" not in text
    written = json.loads(text)
    assert written["valid"] and all(v is None for v in written["valid"].values())
    assert all(isinstance(v, float) for v in written["test"].values())
    assert scores["valid"] == written["valid"]


# ---- given splits ---------------------------------------------------------------------------


def test_a_native_split_column_is_the_split(tmp_path):
    inter = dense_world()
    inter["split"] = np.array(["train", "train", "train", "train", "train", "valid", "test", "test"] * 12)
    s = built(write_native(tmp_path / "raw", inter), tmp_path / "s")
    t = (
        s.table("interactions")
        .merge(s.table("users"), on="user")
        .merge(s.table("items"), on="item", suffixes=("_u", "_i"))
    )
    got = dict(zip(zip(t["label_u"], t["label_i"]), t["split"]))
    assert got == dict(zip(zip(inter["user_id"], inter["item_id"]), inter["split"]))
    assert s.manifest["split"] == {
        "method": "given",
        "requested": "auto",
        "origin": f"split column of {tmp_path / 'raw' / 'interactions.csv'}",
        "valid": "from the source",
    }


def test_given_split_without_validation_draws_it_from_train(tmp_path):
    inter = dense_world()
    inter["split"] = np.array(["train"] * 6 + ["test"] * 2 * 1)[np.arange(len(inter)) % 8]
    root = write_native(tmp_path / "raw", inter)
    a = built(root, tmp_path / "a", split=SplitConfig(method="given"))
    b = built(root, tmp_path / "b", split=SplitConfig(method="given"))
    ta, tb = a.table("interactions"), b.table("interactions")
    assert ta.equals(tb)  # seeded
    given = inter["split"].to_numpy()
    assert (ta["split"] == "test").sum() == (given == "test").sum()
    assert set(ta.groupby("user")["split"].apply(lambda s: (s == "valid").sum())) == {1}  # round(6 * 1/9) -> at least 1
    assert a.manifest["split"]["valid"] == "drawn from each user's training pairs (share 0.111, seed 2020)"
    # a pair given as test is never moved, and valid pairs come from given train pairs only
    t = ta.merge(a.table("users"), on="user").merge(a.table("items"), on="item", suffixes=("_u", "_i"))
    source = dict(zip(zip(inter["user_id"], inter["item_id"]), given))
    for u, i, sp in zip(t["label_u"], t["label_i"], t["split"]):
        assert (sp == "test") == (source[(u, i)] == "test")


def test_a_pair_in_two_given_splits_is_an_error(tmp_path):
    inter = pd.DataFrame(
        {
            "user_id": ["u1", "u1", "u1"],
            "item_id": ["i1", "i2", "i1"],
            "behavior": ["like", "like", "favorite"],
            "split": ["train", "test", "test"],
        }
    )
    root = write_native(tmp_path / "raw", inter)
    with pytest.raises(InputValidationError) as e:
        build(root, tmp_path / "s", fmt="native")
    assert [str(p) for p in e.value.problems] == [
        f"{root / 'interactions.csv'}, column 'split': a (user, item) pair is in more than one split (user 'u1', item 'i1' is in "
        "test and train; a pair must be wholly in one split, or its held-out interaction leaks into a training edge)"
    ]


def test_bad_given_split_label_and_missing_given_split(tmp_path):
    inter = dense_world()
    inter["split"] = "train"
    inter.loc[2, "split"] = "validation"
    root = write_native(tmp_path / "raw", inter)
    with pytest.raises(InputValidationError) as e:
        build(root, tmp_path / "s", fmt="native")
    assert [str(p) for p in e.value.problems] == [
        f"{root / 'interactions.csv'}, row 3, column 'split': split must be one of train, valid, test (got 'validation')"
    ]
    plain = write_native(tmp_path / "plain", dense_world())
    with pytest.raises(ConfigError) as e:
        build(plain, tmp_path / "s2", fmt="native", config=BuildConfig(split=SplitConfig(method="given")))
    assert str(e.value) == (
        f"split.method = 'given', but {plain / 'interactions.csv'} carries no split (a 'split' column of train/valid/test, "
        "KGAT's train.txt + test.txt, or MMRec's x_label); use method = 'random' or 'temporal'"
    )
    with pytest.raises(ConfigError, match="cannot be combined with cold_items or cold_users"):
        SplitConfig(method="given", cold_items=0.1)


def test_kgat_test_file_is_the_test_split(tmp_path):
    root = tmp_path / "kgat"
    root.mkdir()
    rng = np.random.default_rng(1)
    train_lines, test_pairs = [], set()
    for u in range(10):
        items = rng.choice(30, 9, replace=False)
        train_lines.append(" ".join(map(str, [u, *items[:7]])))
        test_pairs |= {(str(u), str(i)) for i in items[7:]}
    (root / "train.txt").write_text("\n".join(train_lines) + "\n")
    (root / "test.txt").write_text(
        "\n".join(f"{u} " + " ".join(i for uu, i in sorted(test_pairs) if uu == u) for u in map(str, range(10))) + "\n"
    )
    (root / "kg_final.txt").write_text("".join(f"{i} 0 {100 + i % 3}\n" for i in range(30)))
    with warnings.catch_warnings():
        warnings.simplefilter("error", BuildWarning)
        s = Store.open(build(root, tmp_path / "s").store)
    t = (
        s.table("interactions")
        .merge(s.table("users"), on="user")
        .merge(s.table("items"), on="item", suffixes=("_u", "_i"))
    )
    got_test = set(zip(t.loc[t["split"] == "test", "label_u"], t.loc[t["split"] == "test", "label_i"]))
    assert got_test == test_pairs
    assert (t["split"] == "valid").sum() == 10  # one per user, drawn from its 7 training pairs
    assert s.manifest["split"]["method"] == "given" and s.manifest["source"]["format"] == "kgat"


# ---- links and replaced modalities ---------------------------------------------------------


def test_links_to_unknown_items_are_reported(tmp_path):
    root = write_native(
        tmp_path / "raw",
        dense_world(),
        **{
            "kg.csv": "head,relation,tail\nm1,directed_by,d1\nm2,directed_by,d1\nm3,directed_by,d2\n",
            "links.csv": "item_id,entity_id\ni1,m1\nghost,m2\nphantom,m3\n",
        },
    )
    with pytest.warns(BuildWarning) as rec:
        build(root, tmp_path / "s", fmt="native")
    assert [str(w.message) for w in rec] == [
        f"links: 2 of 3 links in {root / 'links.csv'} name items that are not in the data (first: 'ghost', 'phantom'); "
        "they link nothing and their KG entities stay plain external entities"
    ]


def test_a_feature_that_replaces_a_modality_is_reported(world_dir, tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(world_dir, raw)
    with pytest.warns(BuildWarning) as rec:
        report = build(raw, tmp_path / "s", fmt="native", extra_features={"text": str(raw / "features" / "visual.npy")})
    assert [str(w.message) for w in rec] == [
        f"--feature text={raw / 'features' / 'visual.npy'} replaces the modality 'text' the source already has (59 items from "
        f"{raw / 'features' / 'text.npy'} (index {raw / 'features' / 'text.csv'})) with 60 items"
    ]
    assert Store.open(report.store).manifest["feature_dims"]["text"] == 8  # the visual matrix took its place


# ---- real data ------------------------------------------------------------------------------


def test_ml100k_stars_keep_five_relations(tmp_path):
    src = shared_dataset("ml-100k")
    s = Store.open(build(src, tmp_path / "ml", fmt="movielens").store)
    assert s.counts["interaction_relations"] == ["rating_1", "rating_2", "rating_3", "rating_4", "rating_5"]
    assert s.manifest["interaction_weights"]["mode"] == "levels"
    assert s.manifest["split"]["method"] == "random" and not s.manifest["warnings"]


def test_ckg_run_refuses_a_store_without_validation_pairs(tmp_path, capsys):
    from ckgrec.cli import main

    root = write_native(tmp_path / "raw", dense_world())
    with pytest.warns(BuildWarning):
        store = build(
            root, tmp_path / "s", fmt="native", config=BuildConfig(split=SplitConfig(ratios=(0.9, 0.0, 0.1)))
        ).store
    cfg = tmp_path / "job.toml"
    cfg.write_text(
        f'out = "{tmp_path / "out"}"\n[data]\nstore = "{store}"\n[pretrain]\nenabled = false\n'
        '[[models]]\nname = "mostpop"\n'
    )
    assert main(["run", str(cfg)]) != 0
    err = capsys.readouterr().err
    assert "has no validation pairs" in err and "Traceback" not in err
    assert not list((tmp_path / "out").rglob("scores.json"))
