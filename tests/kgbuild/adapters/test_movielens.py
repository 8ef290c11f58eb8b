"""MovieLens-100K original files -> RawDataset."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from ckgrec.kgbuild.adapters import movielens
from ckgrec.schemas.errors import InputValidationError

SHARED = Path(__file__).resolve().parents[3] / ".." / "shared" / "datasets"

U_DATA = "196\t242\t3\t881250949\n186\t302\t3\t891717742\n196\t543\t5\t881251000\n"
U_USER = "196|49|M|writer|55105\n186|39|F|executive|T8H1N\n"
U_GENRE = "unknown|0\nAction|1\nDrama|2\n\n"  # the original ends with an empty line too
# Latin-1, as GroupLens ships it: 'é' is the single byte 0xe9.
U_ITEM = (
    "242|Kolya (1996)|24-Jan-1997||http://us.imdb.com/M/title-exact?Kolya%20(1996)|0|0|1\n"
    "302|L.A. Confidential (1997)|01-Jan-1997||http://us.imdb.com/x|0|1|1\n"
    "543|Misérables, Les (1995)|4-Feb-1995||http://us.imdb.com/x|0|0|1\n"
    "267|unknown||||1|0|0\n"
)


def write(root: Path, *, item_encoding: str = "latin-1", genre: bool = True) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "u.data").write_text(U_DATA, encoding="ascii")
    (root / "u.user").write_text(U_USER, encoding="ascii")
    (root / "u.item").write_bytes(U_ITEM.encode(item_encoding))
    if genre:
        (root / "u.genre").write_text(U_GENRE, encoding="ascii")
    return root


def frame(columns: dict) -> pd.DataFrame:
    return pd.DataFrame({k: pd.Series(v, dtype=str) for k, v in columns.items()})


def test_reads_every_table_exactly(tmp_path):
    root = write(tmp_path / "ml")
    assert movielens.detect(root)
    ds = movielens.read(root)
    assert ds.name == "ml"
    pd.testing.assert_frame_equal(
        ds.interactions,
        frame(
            {
                "user_id": ["196", "186", "196"],
                "item_id": ["242", "302", "543"],
                "rating": ["3", "3", "5"],
                "timestamp": ["881250949", "891717742", "881251000"],
            }
        ),
    )
    pd.testing.assert_frame_equal(
        ds.users,
        frame(
            {
                "user_id": ["196", "186"],
                "age": ["49", "39"],
                "gender": ["M", "F"],
                "occupation": ["writer", "executive"],
                "zip_code": ["55105", "T8H1N"],
            }
        ),
    )
    pd.testing.assert_frame_equal(
        ds.items,
        frame(
            {
                "item_id": ["242", "302", "543", "267"],
                "name": ["Kolya (1996)", "L.A. Confidential (1997)", "Misérables, Les (1995)", "unknown"],
                "year": ["1997", "1997", "1995", ""],
                "genre": ["Drama", "Action|Drama", "Drama", "unknown"],
            }
        ),
    )
    assert ds.item_name_column == "name"
    assert ds.multi_valued == {"genre": "|"}
    assert ds.ignore_columns == ("zip_code",)
    assert ds.sources == {
        "interactions": str(root / "u.data"),
        "users": str(root / "u.user"),
        "items": str(root / "u.item"),
    }


def test_utf8_resaved_item_file_gives_the_same_titles(tmp_path):
    latin = movielens.read(write(tmp_path / "a", item_encoding="latin-1")).items
    utf8 = movielens.read(write(tmp_path / "b", item_encoding="utf-8")).items
    pd.testing.assert_frame_equal(latin, utf8)
    assert latin["name"].iat[2] == "Misérables, Les (1995)"


def test_without_u_genre_the_ml100k_genre_list_is_used(tmp_path):
    root = write(tmp_path / "ml", genre=False)
    flags = ["0"] * 19
    flags[1] = flags[8] = "1"  # Action, Drama
    (root / "u.item").write_text("242|Kolya (1996)|24-Jan-1997||url|" + "|".join(flags) + "\n", encoding="latin-1")
    assert movielens.read(root).items["genre"].tolist() == ["Action|Drama"]


def test_wrong_encoding_names_file_and_row(tmp_path):
    root = write(tmp_path / "ml")
    (root / "u.data").write_bytes(b"196\t242\t3\t881250949\n186\t30\xe9\t3\t891717742\n")
    with pytest.raises(InputValidationError) as e:
        movielens.read(root)
    (p,) = e.value.problems
    assert (p.file, p.row) == (str(root / "u.data"), 2)
    assert "utf-8" in p.rule and "0xe9" in p.detail


def test_ragged_line_names_file_and_row(tmp_path):
    root = write(tmp_path / "ml")
    (root / "u.user").write_text("196|49|M|writer|55105\n186|39|F|executive\n", encoding="ascii")
    with pytest.raises(InputValidationError) as e:
        movielens.read(root)
    (p,) = e.value.problems
    assert (p.file, p.row) == (str(root / "u.user"), 2)
    assert "expected 5" in p.rule and "got 4" in p.detail


def test_bad_genre_flag_and_date_are_located(tmp_path):
    root = write(tmp_path / "ml")
    (root / "u.item").write_text("242|Kolya (1996)|1997||url|0|0|1\n302|X|01-Jan-1997||url|0|2|1\n", encoding="latin-1")
    with pytest.raises(InputValidationError) as e:
        movielens.read(root)
    got = {(p.row, p.column) for p in e.value.problems}
    assert got == {(1, "release date"), (2, "genre flag 'Action'")}


def test_detect_needs_u_data_and_u_item(tmp_path):
    root = write(tmp_path / "ml")
    (root / "u.item").unlink()
    assert not movielens.detect(root)
    assert not movielens.detect(root / "u.data")


@pytest.fixture
def ml100k() -> Path:
    p = SHARED / "ml-100k"
    if not (p / "u.data").is_file():
        pytest.skip(f"shared dataset not present at {p}")
    return p


def test_real_ml100k(ml100k):
    ds = movielens.read(ml100k)
    assert len(ds.interactions) == 100_000
    assert ds.interactions.iloc[0].tolist() == ["196", "242", "3", "881250949"]
    assert ds.interactions["user_id"].nunique() == 943 and ds.interactions["item_id"].nunique() == 1682
    assert len(ds.users) == 943 and len(ds.items) == 1682
    items = ds.items.set_index("item_id")
    assert items.at["543", "name"] == "Misérables, Les (1995)"
    assert items.at["1", "genre"] == "Animation|Children's|Comedy"
    assert items.at["267", "name"] == "unknown" and items.at["267", "year"] == ""  # the one item without a date
    assert (ds.items["genre"] != "").all()
    assert (ds.items["genre"].str.split("|").explode() == "unknown").sum() == 2  # items 267 and 1373
    assert ds.items["name"].duplicated().sum() == 18  # same title under two ids, as in the original


def test_real_ml100k_passes_validation(ml100k):
    from ckgrec.kgbuild.validate import validate

    tables = validate(movielens.read(ml100k))
    assert tables.interactions["rating"].between(1, 5).all()
