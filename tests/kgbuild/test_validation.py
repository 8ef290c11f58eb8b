"""Bad input: every failure names file, row, column and rule; all failures of a file together."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ckgrec.kgbuild.build import build
from ckgrec.kgbuild.features import read_feature
from ckgrec.schemas.errors import InputNotFoundError, InputValidationError


@pytest.fixture
def raw(world_dir, tmp_path):
    d = tmp_path / "raw"
    shutil.copytree(world_dir, d)
    return d


def _messages(raw, tmp_path) -> list[str]:
    with pytest.raises(InputValidationError) as e:
        build(raw, tmp_path / "store", fmt="native")
    assert not (tmp_path / "store").exists()  # nothing half-written
    return [str(p) for p in e.value.problems]


def test_unknown_user_in_profiles(raw, tmp_path):
    with open(raw / "users.csv", "a") as f:
        f.write("ghost,30,F\n")
    assert _messages(raw, tmp_path) == [
        f"{raw / 'users.csv'}, row 41, column 'user_id': unknown user: it has no interaction (got 'ghost')"
    ]


def test_duplicate_ids_all_reported_together(raw, tmp_path):
    with open(raw / "users.csv", "a") as f:
        f.write("u1,30,F\nu2,31,M\n")
    assert _messages(raw, tmp_path) == [
        f"{raw / 'users.csv'}, row 41, column 'user_id': duplicate id ('u1' already on row 2)",
        f"{raw / 'users.csv'}, row 42, column 'user_id': duplicate id ('u2' already on row 3)",
    ]


def test_wrong_types_in_interactions(raw, tmp_path):
    df = pd.read_csv(raw / "interactions.csv", dtype=str)
    df.loc[4, "timestamp"] = "yesterday"
    df.loc[9, "user_id"] = ""
    df.to_csv(raw / "interactions.csv", index=False)
    assert _messages(raw, tmp_path) == [
        f"{raw / 'interactions.csv'}, row 10, column 'user_id': id must not be empty",
        f"{raw / 'interactions.csv'}, row 5, column 'timestamp': timestamp must be an integer (seconds) (got 'yesterday')",
    ]


def test_non_finite_rating(raw, tmp_path):
    df = pd.read_csv(raw / "interactions.csv", dtype=str).drop(columns="behavior")
    df["rating"] = "4"
    df.loc[2, "rating"] = "nan"
    df.loc[3, "rating"] = "five"
    df.to_csv(raw / "interactions.csv", index=False)
    f = raw / "interactions.csv"
    assert _messages(raw, tmp_path) == [
        f"{f}, row 3, column 'rating': rating must be a finite number (got 'nan')",
        f"{f}, row 4, column 'rating': rating must be a finite number (got 'five')",
    ]


def test_nan_and_inf_in_features(raw, tmp_path):
    m = np.load(raw / "features" / "visual.npy")
    m[3, 1] = np.nan
    m[7, 0] = np.inf
    np.save(raw / "features" / "visual.npy", m)
    src = f"{raw / 'features' / 'visual.npy'} (index {raw / 'features' / 'visual.csv'})"
    assert _messages(raw, tmp_path) == [
        f"{src}, row 4, column 'dim 1': feature value must be finite in modality 'visual' (got nan)",
        f"{src}, row 8, column 'dim 0': feature value must be finite in modality 'visual' (got inf)",
    ]


def test_unknown_and_duplicate_items_in_features(raw, tmp_path):
    idx = pd.read_csv(raw / "features" / "text.csv", dtype=str)
    idx.loc[0, "item_id"] = "nope"
    idx.loc[5, "item_id"] = idx.loc[4, "item_id"]
    idx.to_csv(raw / "features" / "text.csv", index=False)
    src = f"{raw / 'features' / 'text.npy'} (index {raw / 'features' / 'text.csv'})"
    assert _messages(raw, tmp_path) == [
        f"{src}, row 6, column 'item_id': duplicate item id in modality 'text' (got 'i5')",
        f"{src}, row 1, column 'item_id': unknown item: it has no interaction (got 'nope')",
    ]


def test_ragged_vectors_in_parquet_features(tmp_path):
    path = tmp_path / "audio.parquet"
    pq.write_table(pa.table({"item_id": ["a", "b", "c"], "vector": [[1.0, 2.0], [1.0], [3.0, 4.0]]}), path)
    with pytest.raises(InputValidationError) as e:
        read_feature(path)
    assert [str(p) for p in e.value.problems] == [
        f"{path}, row 2, column 'vector': ragged vector: expected length 2 (length 1)"
    ]


def test_empty_file(raw, tmp_path):
    (raw / "users.csv").write_text("")
    assert _messages(raw, tmp_path) == [f"{raw / 'users.csv'}: file is empty (expected a header row and data)"]


def test_header_only_file(raw, tmp_path):
    (raw / "items.csv").write_text("item_id,name\n")
    assert _messages(raw, tmp_path) == [f"{raw / 'items.csv'}: file has a header but no data rows"]


def test_wrong_encoding_names_the_row(raw, tmp_path):
    lines = (raw / "items.csv").read_text().splitlines()
    lines[3] = lines[3].replace("clip 2", "Misérables")
    (raw / "items.csv").write_bytes(("\n".join(lines) + "\n").encode("latin-1"))
    assert _messages(raw, tmp_path) == [
        f"{raw / 'items.csv'}, row 3: not valid utf-8 text (byte 0xe9; re-save the file as utf-8 or pass the right encoding)"
    ]


def test_missing_required_column(raw, tmp_path):
    df = pd.read_csv(raw / "interactions.csv").rename(columns={"item_id": "item"})
    df.to_csv(raw / "interactions.csv", index=False)
    assert _messages(raw, tmp_path)[0].startswith(
        f"{raw / 'interactions.csv'}, column 'item_id': required column is missing"
    )


def test_missing_source():
    with pytest.raises(InputNotFoundError, match="source not found: /no/such/dir"):
        build("/no/such/dir", "/tmp/never")
