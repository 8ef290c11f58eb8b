"""MMRec layout (<name>.inter with x_label + <modality>_feat.npy) -> RawDataset and a store with MMRec's split."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ckgrec.kgbuild.adapters import detect_format, mmrec
from ckgrec.kgbuild.build import build
from ckgrec.kgbuild.notices import BuildWarning
from ckgrec.schemas.errors import InputValidationError
from ckgrec.schemas.store import Store

N_USERS, N_ITEMS = 6, 10


def write(root: Path, *, lines: list[str] | None = None, n_feature_rows: int = N_ITEMS) -> Path:
    """Each user: 6 items, x_label 0,0,0,0,1,2 (MMRec's 8:1:1 in miniature)."""
    root.mkdir(parents=True, exist_ok=True)
    if lines is None:
        lines = []
        for u in range(N_USERS):
            for k in range(6):
                lines.append(
                    f"{u}\t{(u + 3 * k) % N_ITEMS}\t{1 + k % 5}.0\t{1_500_000_000 + 100 * u + k}\t{[0, 0, 0, 0, 1, 2][k]}"
                )
    (root / "baby.inter").write_text(
        "userID\titemID\trating\ttimestamp\tx_label\n" + "\n".join(lines) + "\n", encoding="utf-8"
    )
    rng = np.random.default_rng(0)
    np.save(root / "image_feat.npy", rng.normal(size=(n_feature_rows, 4)).astype(np.float32))
    np.save(root / "text_feat.npy", rng.normal(size=(n_feature_rows, 3)).astype(np.float32))
    np.save(root / "audio_feat.npy", rng.normal(size=(n_feature_rows, 2)).astype(np.float32))
    return root


def test_reads_interactions_split_and_features(tmp_path):
    root = write(tmp_path / "baby")
    ds = mmrec.read(root)
    assert ds.name == "baby" and ds.split_column == "split" and ds.split_origin == f"x_label of {root / 'baby.inter'}"
    assert list(ds.interactions.columns) == ["user_id", "item_id", "split", "rating", "timestamp"]
    assert ds.interactions["split"].value_counts().to_dict() == {"train": 24, "valid": 6, "test": 6}
    assert sorted(ds.features) == ["audio", "image", "text"]
    assert ds.features["image"].matrix.shape == (N_ITEMS, 4)
    assert list(ds.features["text"].item_ids) == [str(k) for k in range(N_ITEMS)]
    assert list(ds.items["item_id"]) == [str(k) for k in range(N_ITEMS)]


def test_detected_before_recbole(tmp_path):
    assert detect_format(write(tmp_path / "baby")) == "mmrec"
    rb = tmp_path / "rb"
    rb.mkdir()
    (rb / "x.inter").write_text("user_id:token\titem_id:token\tx_label:token\n1\t2\t0\n", encoding="utf-8")
    assert detect_format(rb) == "recbole"  # a typed RecBole header is RecBole's, whatever its columns


def test_store_has_mmrecs_split(tmp_path):
    root = write(tmp_path / "baby")
    with warnings.catch_warnings():
        warnings.simplefilter("error", BuildWarning)
        s = Store.open(build(root, tmp_path / "s").store)
    assert s.manifest["source"]["format"] == "mmrec"
    assert s.manifest["split"] == {
        "method": "given",
        "requested": "auto",
        "origin": f"x_label of {root / 'baby.inter'}",
        "valid": "from the source",
    }
    t = (
        s.table("interactions")
        .merge(s.table("users"), on="user")
        .merge(s.table("items"), on="item", suffixes=("_u", "_i"))
    )
    got = dict(zip(zip(t["label_u"], t["label_i"]), t["split"]))
    raw = pd.read_csv(root / "baby.inter", sep="\t", dtype=str)
    expected = dict(
        zip(zip(raw["userID"], raw["itemID"]), raw["x_label"].map({"0": "train", "1": "valid", "2": "test"}))
    )
    assert got == expected
    assert s.modalities == ["audio", "image", "text"] and s.counts["features"] == {
        "audio": N_ITEMS,
        "image": N_ITEMS,
        "text": N_ITEMS,
    }
    assert s.manifest["interaction_weights"]["mode"] == "levels"  # 1..5 stars


def test_bad_x_label_and_ids_are_located(tmp_path):
    root = write(tmp_path / "baby", lines=["0\t1\t5\t1\t0", "0\tx\t5\t1\t3", "1\t2\t5\t1\t1"])
    with pytest.raises(InputValidationError) as e:
        mmrec.read(root)
    f = root / "baby.inter"
    assert [str(p) for p in e.value.problems] == [
        f"{f}, row 2, column 'itemID': must be a non-negative integer (MMRec's dense id) (got 'x')",
        f"{f}, row 2, column 'x_label': x_label must be 0 (train), 1 (valid) or 2 (test) (got '3')",
    ]


def test_item_beyond_the_feature_rows_is_an_error(tmp_path):
    root = write(tmp_path / "baby", n_feature_rows=5)
    with pytest.raises(InputValidationError) as e:
        mmrec.read(root)
    [p] = e.value.problems
    assert str(p) == (
        f"{root / 'baby.inter'}, row 3, column 'itemID': 18 interactions name items beyond the feature rows 0..4 "
        "(got item 6; row k of every <modality>_feat.npy must describe item k)"
    )
