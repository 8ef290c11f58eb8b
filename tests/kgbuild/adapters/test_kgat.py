"""KGAT text format (train.txt / test.txt / kg_final.txt) -> RawDataset."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from ckgrec.kgbuild.adapters import kgat
from ckgrec.schemas.errors import InputValidationError

TRAIN = "0 0 1 2\n1\n2 2 0\n"  # user 1 lists no items
TEST = "0 3\n2 1\n"
KG = "0 0 5\n1 0 5\n3 1 6\n5 2 6\n"


def write(root: Path, train: str = TRAIN, test: str | None = TEST, kg: str = KG) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "train.txt").write_text(train, encoding="ascii")
    if test is not None:
        (root / "test.txt").write_text(test, encoding="ascii")
    (root / "kg_final.txt").write_text(kg, encoding="ascii")
    return root


def frame(columns: dict) -> pd.DataFrame:
    return pd.DataFrame({k: pd.Series(v, dtype=str) for k, v in columns.items()})


def test_reads_train_test_kg_and_links_exactly(tmp_path):
    root = write(tmp_path / "kgat")
    assert kgat.detect(root)
    ds = kgat.read(root)
    assert ds.name == "kgat"
    pd.testing.assert_frame_equal(
        ds.interactions,
        frame(
            {
                "user_id": ["0", "0", "0", "2", "2", "0", "2"],
                "item_id": ["0", "1", "2", "2", "0", "3", "1"],
                "behavior": ["interact"] * 7,
                "source_split": ["train"] * 5 + ["test"] * 2,
            }
        ),
    )
    pd.testing.assert_frame_equal(
        ds.kg_triples,
        frame({"head": ["0", "1", "3", "5"], "relation": ["0", "0", "1", "2"], "tail": ["5", "5", "6", "6"]}),
    )
    # every item that appears in an interaction is the KG entity with the same number
    pd.testing.assert_frame_equal(
        ds.kg_links, frame({"item_id": ["0", "1", "2", "3"], "entity_id": ["0", "1", "2", "3"]})
    )
    assert ds.users is None and ds.items is None and ds.features == {}
    assert ds.sources["interactions"] == f"{root / 'train.txt'} + {root / 'test.txt'}"
    assert ds.sources["kg"] == str(root / "kg_final.txt")


def test_test_file_is_optional_and_blank_lines_are_skipped(tmp_path):
    ds = kgat.read(write(tmp_path / "kgat", train="0 4\n\n1 4 5\n", test=None, kg="4 0 5\n\n"))
    assert ds.interactions["item_id"].tolist() == ["4", "4", "5"]
    assert set(ds.interactions["source_split"]) == {"train"}
    assert ds.kg_links["item_id"].tolist() == ["4", "5"]
    assert len(ds.kg_triples) == 1


def test_passes_validation(tmp_path):
    from ckgrec.kgbuild.validate import validate

    tables = validate(kgat.read(write(tmp_path / "kgat")))
    assert set(tables.interactions["behavior"]) == {"interact"}


def test_bad_kg_lines_are_all_located(tmp_path):
    root = write(tmp_path / "kgat", kg="0 0 5\n1 0\n3 1 6 7\nx 1 2\n4 5 -6\n")
    with pytest.raises(InputValidationError) as e:
        kgat.read(root)
    got = [(p.file, p.row, p.column) for p in e.value.problems]
    f = str(root / "kg_final.txt")
    assert got == [(f, 2, None), (f, 3, None), (f, 4, "head"), (f, 5, "tail")]


def test_bad_interaction_tokens_are_located(tmp_path):
    root = write(tmp_path / "kgat", train="0 1\n1 2 b\n", test="0 1.5\n")
    with pytest.raises(InputValidationError) as e:
        kgat.read(root)
    got = [(p.file, p.row, p.column) for p in e.value.problems]
    assert got == [(str(root / "train.txt"), 2, "item 2"), (str(root / "test.txt"), 1, "item 1")]


def test_no_interactions_at_all_is_an_error(tmp_path):
    with pytest.raises(InputValidationError, match="no interactions"):
        kgat.read(write(tmp_path / "kgat", train="0\n1\n", test=None))


def test_detect(tmp_path):
    root = write(tmp_path / "kgat")
    assert kgat.detect(root)
    (root / "kg_final.txt").unlink()
    assert not kgat.detect(root)
