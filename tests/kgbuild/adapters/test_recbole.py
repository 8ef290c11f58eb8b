"""RecBole atomic files -> RawDataset."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ckgrec.kgbuild.adapters import recbole
from ckgrec.schemas.errors import InputValidationError

SHARED = Path(__file__).resolve().parents[3] / ".." / "shared" / "datasets"

FILES = {
    "toy.inter": "user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
    "1\t10\t4\t881250949\n2\t11\t2.5\t881250950\n1\t11\t5\t881250951\n",
    "toy.user": "user_id:token\tage:token\tgender:token\tzip_code:token\n1\t24\tM\t85711\n2\t53\tF\tT8H1N\n",
    # a '"' is data (RecBole defines no quoting); class is a space-separated token_seq
    "toy.item": "item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq\tprice:float\temb:float_seq\n"
    '10\t"Great" Day\t1995\tAnimation Children\'s Comedy\t9.5\t0.5 1\n'
    "11\tMisérables, Les\tunkonwn\tDrama\t\t-1 2e-1\n",
    "toy.kg": "head_id:token\trelation_id:token\ttail_id:token\nm.01\tfilm.film.genre\tm.02\nm.03\tfilm.film.actor\tm.01\n",
    "toy.link": "item_id:token\tentity_id:token\n10\tm.01\n11\tm.03\n",
}


def write(root: Path, files: dict[str, str] = FILES) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (root / name).write_text(text, encoding="utf-8")
    return root


def frame(columns: dict) -> pd.DataFrame:
    return pd.DataFrame({k: pd.Series(v, dtype=str) for k, v in columns.items()})


def test_reads_every_table_exactly(tmp_path):
    root = write(tmp_path / "rb")
    assert recbole.detect(root)
    ds = recbole.read(root)
    assert ds.name == "toy"
    pd.testing.assert_frame_equal(
        ds.interactions,
        frame(
            {
                "user_id": ["1", "2", "1"],
                "item_id": ["10", "11", "11"],
                "rating": ["4", "2.5", "5"],
                "timestamp": ["881250949", "881250950", "881250951"],
            }
        ),
    )
    pd.testing.assert_frame_equal(
        ds.users,
        frame(
            {
                "user_id": ["1", "2"],
                "age": ["24", "53"],
                "gender": ["M", "F"],
                "zip_code": ["85711", "T8H1N"],
            }
        ),
    )
    pd.testing.assert_frame_equal(
        ds.items,
        frame(
            {
                "item_id": ["10", "11"],
                "movie_title": ['"Great" Day', "Misérables, Les"],
                "release_year": ["1995", "unkonwn"],
                "class": ["Animation Children's Comedy", "Drama"],
                "price": ["9.5", ""],
            }
        ),
    )
    assert ds.item_name_column == "movie_title"
    assert ds.multi_valued == {"class": " "}
    assert ds.ignore_columns == ("zip_code",)
    assert list(ds.features) == ["emb"]
    np.testing.assert_array_equal(ds.features["emb"].matrix, [[0.5, 1.0], [-1.0, 0.2]])
    assert ds.features["emb"].item_ids.tolist() == ["10", "11"]
    pd.testing.assert_frame_equal(
        ds.kg_triples,
        frame(
            {
                "head": ["m.01", "m.03"],
                "relation": ["film.film.genre", "film.film.actor"],
                "tail": ["m.02", "m.01"],
            }
        ),
    )
    pd.testing.assert_frame_equal(ds.kg_links, frame({"item_id": ["10", "11"], "entity_id": ["m.01", "m.03"]}))
    assert ds.sources == {
        "interactions": str(root / "toy.inter"),
        "users": str(root / "toy.user"),
        "items": str(root / "toy.item"),
        "kg": str(root / "toy.kg"),
        "links": str(root / "toy.link"),
    }


def test_only_inter_is_required_and_the_file_itself_can_be_named(tmp_path):
    root = write(tmp_path / "rb", {"toy.inter": FILES["toy.inter"]})
    ds = recbole.read(root / "toy.inter")
    assert len(ds.interactions) == 3
    assert ds.users is None and ds.items is None and ds.kg_triples is None and ds.kg_links is None


def test_passes_validation(tmp_path):
    from ckgrec.kgbuild.validate import validate

    tables = validate(recbole.read(write(tmp_path / "rb")))
    assert tables.interactions["rating"].tolist() == [4.0, 2.5, 5.0]


@pytest.mark.parametrize(
    "body, row, rule",
    [
        ("1\t10\t4\t881250949\n2\t11\t2\n", 2, "expected 4 tab-separated fields"),
        ("1\t10\t4\t881250949\n2\t11\t2\t5\t6\n", 2, "expected 4 tab-separated fields"),
        ("1\t10\t4\t881250949\n\n2\t11\t2\t5\n", 2, "empty line"),
    ],
)
def test_ragged_or_empty_line_names_file_and_row(tmp_path, body, row, rule):
    root = write(tmp_path / "rb", {"toy.inter": FILES["toy.inter"].splitlines(keepends=True)[0] + body})
    with pytest.raises(InputValidationError) as e:
        recbole.read(root)
    (p,) = e.value.problems
    assert (p.file, p.row) == (str(root / "toy.inter"), row)
    assert rule in p.rule


def test_trailing_blank_lines_and_crlf_are_fine(tmp_path):
    text = FILES["toy.inter"].replace("\n", "\r\n") + "\r\n\n"
    ds = recbole.read(write(tmp_path / "rb", {"toy.inter": text}))
    assert ds.interactions["timestamp"].tolist() == ["881250949", "881250950", "881250951"]


def test_non_utf8_names_file_and_row(tmp_path):
    root = write(tmp_path / "rb", {"toy.inter": FILES["toy.inter"]})
    (root / "toy.item").write_bytes("item_id:token\tmovie_title:token_seq\n10\tA\n11\tMisérables\n".encode("latin-1"))
    with pytest.raises(InputValidationError) as e:
        recbole.read(root)
    (p,) = e.value.problems
    assert (p.file, p.row) == (str(root / "toy.item"), 2)


def test_header_without_type_is_an_error(tmp_path):
    root = write(tmp_path / "rb", {"toy.inter": "user_id\titem_id:token\n1\t2\n"})
    with pytest.raises(InputValidationError) as e:
        recbole.read(root)
    assert [(p.row, p.column) for p in e.value.problems] == [(None, "user_id")]


def test_ragged_float_seq_is_located(tmp_path):
    files = dict(FILES, **{"toy.item": "item_id:token\temb:float_seq\n10\t1 2\n11\t3\n12\t4 5\n"})
    with pytest.raises(InputValidationError) as e:
        recbole.read(write(tmp_path / "rb", files))
    assert [(p.row, p.column) for p in e.value.problems] == [(2, "emb")]


def test_detect_needs_exactly_one_inter(tmp_path):
    root = write(tmp_path / "rb")
    assert recbole.detect(root)
    (root / "other.inter").write_text(FILES["toy.inter"], encoding="utf-8")
    assert not recbole.detect(root)
    with pytest.raises(InputValidationError):
        recbole.read(root)


@pytest.fixture
def ml100k_recbole() -> Path:
    p = SHARED / "ml-100k-recbole"
    if not (p / "ml-100k.inter").is_file():
        pytest.skip(f"shared dataset not present at {p}")
    return p


def test_real_ml100k_recbole(ml100k_recbole):
    ds = recbole.read(ml100k_recbole)
    assert ds.name == "ml-100k"
    assert len(ds.interactions) == 100_000 and len(ds.users) == 943 and len(ds.items) == 1682
    assert list(ds.interactions.columns) == ["user_id", "item_id", "rating", "timestamp"]
    assert ds.interactions.iloc[0].tolist() == ["196", "242", "3", "881250949"]
    assert list(ds.items.columns) == ["item_id", "movie_title", "release_year", "class"]
    assert ds.item_name_column == "movie_title" and ds.multi_valued == {"class": " "}
    assert ds.ignore_columns == ("zip_code",)
    items = ds.items.set_index("item_id")
    assert items.at["543", "movie_title"] == "Misérables, Les"  # RecBole drops the year from the title
    assert items.at["1", "class"] == "Animation Children's Comedy"
    assert items.at["267", "movie_title"] == "unkonwn" == items.at["267", "release_year"]  # sic, in RecBole's file
    assert len(ds.kg_triples) == 91_631 and ds.kg_triples["relation"].nunique() == 24
    assert len(ds.kg_links) == 1598 and ds.kg_links["item_id"].is_unique
    assert ds.kg_links["item_id"].isin(ds.interactions["item_id"]).all()
    entities = pd.unique(pd.concat([ds.kg_triples["head"], ds.kg_triples["tail"]]))
    assert len(entities) == 34_628 and ds.kg_links["entity_id"].isin(entities).all()


def test_real_ml100k_recbole_passes_validation(ml100k_recbole):
    from ckgrec.kgbuild.validate import validate

    validate(recbole.read(ml100k_recbole))
