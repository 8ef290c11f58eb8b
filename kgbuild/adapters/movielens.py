"""MovieLens-100K as GroupLens distributes it (``u.data``, ``u.user``, ``u.item``, ``u.genre``).

The files have no header. ``u.data`` is tab-separated, the others ``|``-separated. ``u.item``
is Latin-1 in the original distribution (``Misérables, Les (1995)`` is byte ``0xe9``); a copy
that was re-saved as UTF-8 is read as UTF-8, so both decode to the same titles. ``u.data`` and
``u.user`` are plain ASCII and must decode as UTF-8.

Mapping: ratings keep their text (``"3"``) and timestamps their seconds; user age, gender and
occupation become profile columns (age is numeric text, so the builder bins it); the zip code
is ignored; items get ``name`` (the title), ``year`` (from the release date, empty when the
date is) and ``genre`` (the flagged genres of ``u.genre``, joined by ``|``). The video release
date and the IMDb URL are not read.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from ckgrec.kgbuild.raw import RawDataset
from ckgrec.kgbuild.tabular import require_file
from ckgrec.schemas.errors import InputNotFoundError, InputValidationError, Problem

NAME = "movielens"
DESCRIPTION = "MovieLens-100K original files (u.data, u.item, u.user, u.genre)"
FILES = (
    "u.data   user<TAB>item<TAB>rating<TAB>timestamp, no header",
    "u.item   id|title|release date|video date|IMDb URL|one 0/1 flag per genre (Latin-1 or UTF-8)",
    "u.user   id|age|gender|occupation|zip (optional; zip is ignored)",
    "u.genre  name|index, one line per genre flag (optional; the ML-100K list is used without it)",
)
GENRE_SEPARATOR = "|"
# u.genre of the original distribution, used when a copy lacks the file.
ML100K_GENRES = (
    "unknown",
    "Action",
    "Adventure",
    "Animation",
    "Children's",
    "Comedy",
    "Crime",
    "Documentary",
    "Drama",
    "Fantasy",
    "Film-Noir",
    "Horror",
    "Musical",
    "Mystery",
    "Romance",
    "Sci-Fi",
    "Thriller",
    "War",
    "Western",
)
MAX_PROBLEMS = 50
_DATE = re.compile(r"^\d{1,2}-[A-Za-z]{3}-(\d{4})$")


def detect(path: Path) -> bool:
    return path.is_dir() and (path / "u.data").is_file() and (path / "u.item").is_file()


def read(path: str | Path) -> RawDataset:
    root = Path(path)
    if not root.is_dir():
        raise InputNotFoundError(f"MovieLens directory not found: {root}")
    data_path = require_file(root / "u.data")
    inter = read_headerless(data_path, "\t", ["user_id", "item_id", "rating", "timestamp"])
    ds = RawDataset(name=root.name, interactions=inter, sources={"interactions": str(data_path)})
    if (p := root / "u.user").is_file():
        ds.users = read_headerless(p, "|", ["user_id", "age", "gender", "occupation", "zip_code"])
        ds.sources["users"] = str(p)
        ds.ignore_columns = ("zip_code",)
    if (p := root / "u.item").is_file():
        ds.items = _read_items(p, _read_genres(root / "u.genre"))
        ds.sources["items"] = str(p)
        ds.item_name_column = "name"
        ds.multi_valued = {"genre": GENRE_SEPARATOR}
    return ds


def _read_genres(path: Path) -> list[str]:
    if not path.is_file():
        return list(ML100K_GENRES)
    table = read_headerless(path, "|", ["genre", "index"])
    problems = [
        Problem(str(path), pos + 1, "index", f"expected genre index {pos} (genres listed in flag order)", f"got '{v}'")
        for pos, v in enumerate(table["index"])
        if v.strip() != str(pos)
    ]
    if problems:
        raise InputValidationError(problems[:MAX_PROBLEMS])
    return table["genre"].str.strip().tolist()


def _read_items(path: Path, genres: list[str]) -> pd.DataFrame:
    names = ["item_id", "title", "release_date", "video_release_date", "imdb_url"] + [f"genre:{g}" for g in genres]
    raw = read_headerless(path, "|", names, encodings=("utf-8", "latin-1"))
    problems: list[Problem] = []
    years = []
    for pos, date in enumerate(raw["release_date"]):
        date = date.strip()
        m = _DATE.match(date)
        if date and m is None:
            problems.append(
                Problem(
                    str(path), pos + 1, "release date", "expected a date like 01-Jan-1995 or nothing", f"got '{date}'"
                )
            )
        years.append(m.group(1) if m else "")
    flags = raw[[f"genre:{g}" for g in genres]].apply(lambda s: s.str.strip())
    for g in genres:
        col = flags[f"genre:{g}"]
        for pos in col.index[~col.isin(["0", "1"])][:MAX_PROBLEMS]:
            problems.append(
                Problem(str(path), int(pos) + 1, f"genre flag '{g}'", "must be 0 or 1", f"got '{col.iat[pos]}'")
            )
    if problems:
        raise InputValidationError(problems[:MAX_PROBLEMS])
    genre = [GENRE_SEPARATOR.join(g for g, f in zip(genres, row) if f == "1") for row in flags.itertuples(index=False)]
    return pd.DataFrame({"item_id": raw["item_id"], "name": raw["title"], "year": years, "genre": genre})


def read_headerless(path: Path, sep: str, names: list[str], encodings: tuple[str, ...] = ("utf-8",)) -> pd.DataFrame:
    """A header-less delimited text file as string columns, one frame row per line.

    Each encoding in ``encodings`` is tried in turn; a file none of them decodes, a line with
    the wrong number of fields and an empty line before the end are reported with their
    1-based line number (= data row, as there is no header). No quoting: every ``sep`` splits.
    """
    data = require_file(path).read_bytes()
    text = None
    for enc in encodings:
        try:
            text = data.decode(enc)
            break
        except UnicodeDecodeError as e:
            error, failed = e, enc
    if text is None:
        row = data.count(b"\n", 0, error.start) + 1
        raise InputValidationError(
            [
                Problem(
                    str(path),
                    row,
                    None,
                    f"not valid {failed} text",
                    f"byte 0x{data[error.start]:02x}; re-save the file as {failed}",
                )
            ]
        ) from error
    lines = text.split("\n")
    while lines and lines[-1].strip() == "":
        lines.pop()
    if not lines:
        raise InputValidationError(
            [Problem(str(path), None, None, "file is empty", f"expected lines of {', '.join(names)}")]
        )
    problems: list[Problem] = []
    rows = []
    for no, line in enumerate(lines, start=1):
        fields = line.rstrip("\r").split(sep)
        if len(fields) != len(names):
            if len(problems) < MAX_PROBLEMS:
                what = "empty line" if line.strip() == "" else f"expected {len(names)} '{_show(sep)}'-separated fields"
                problems.append(Problem(str(path), no, None, what, f"got {len(fields)}: {line[:80]!r}"))
            continue
        rows.append(fields)
    if problems:
        raise InputValidationError(problems)
    return pd.DataFrame(rows, columns=names, dtype=str)


def _show(sep: str) -> str:
    return {"\t": "\\t"}.get(sep, sep)
