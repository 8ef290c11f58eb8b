"""RecBole atomic files: ``<name>.inter`` plus optional ``.user``, ``.item``, ``.kg``, ``.link``.

Each file is UTF-8, tab-separated, with a header of ``field:type`` cells; the type is one of
``token``, ``token_seq``, ``float``, ``float_seq``. The type suffix is stripped from the column
name and used to interpret the column:

* ``.inter``: ``user_id``, ``item_id``, optional ``rating`` and ``timestamp``; other columns
  (``label``, review text, ...) are carried along unchanged.
* ``.user`` / ``.item``: ``token`` and ``float`` columns are attributes (float text is numeric,
  so the builder bins it); ``token_seq`` columns are multi-valued, separated by a space (ML-100K
  ``class`` is ``Animation Children's Comedy``), except that the first ``token_seq`` column of
  ``.item`` named like ``*title*``/``*name*`` is the item name. ``float_seq`` item columns are
  dense vectors and become a feature modality named after the column; ``float_seq`` user
  columns and ``zip_code`` are ignored.
* ``.kg``: ``head_id``, ``relation_id``, ``tail_id`` -> ``head``, ``relation``, ``tail``.
* ``.link``: ``item_id``, ``entity_id``.

RecBole defines no quoting, so none is applied: a ``"`` is part of the value (pandas' default
CSV quoting would silently merge the lines between two quotes). Rows are reported 1-based with
the header excluded; a line with the wrong number of tabs is an error, not a short row.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd

from ckgrec.kgbuild.raw import FeatureMatrix, RawDataset
from ckgrec.kgbuild.tabular import require_file
from ckgrec.schemas.errors import InputNotFoundError, InputValidationError, Problem

NAME = "recbole"
DESCRIPTION = "RecBole atomic files: <name>.inter [.user .item .kg .link], tab-separated, 'field:type' header"
FILES = (
    "<name>.inter  user_id:token  item_id:token  [rating:float]  [timestamp:float]",
    "<name>.user   user_id:token + attribute columns (optional; zip_code is ignored)",
    "<name>.item   item_id:token + attribute columns; a *title*/*name* token_seq column is the name (optional)",
    "<name>.kg     head_id:token  relation_id:token  tail_id:token (optional)",
    "<name>.link   item_id:token  entity_id:token (optional)",
)
FIELD_TYPES = ("token", "token_seq", "float", "float_seq")
SEQ_SEPARATOR = " "
NAME_PATTERN = re.compile(r"title|name", re.IGNORECASE)
IGNORED_USER_COLUMNS = ("zip_code",)
MAX_PROBLEMS = 50


def detect(path: Path) -> bool:
    return path.is_dir() and len(list(path.glob("*.inter"))) == 1


def read(path: str | Path) -> RawDataset:
    root = Path(path)
    if root.is_file() and root.suffix == ".inter":
        inter_path = root
        root = root.parent
    else:
        if not root.is_dir():
            raise InputNotFoundError(f"RecBole directory not found: {root}")
        found = sorted(root.glob("*.inter"))
        if len(found) != 1:
            raise InputValidationError(
                [
                    Problem(
                        str(root),
                        None,
                        None,
                        "expected exactly one <name>.inter file",
                        f"found {len(found)}: {', '.join(p.name for p in found) or 'none'}; pass the .inter file itself",
                    )
                ]
            )
        inter_path = found[0]
    stem = inter_path.stem
    inter, _ = read_atomic(inter_path, required=("user_id", "item_id"))
    ds = RawDataset(name=stem, interactions=inter, sources={"interactions": str(inter_path)})
    ignore: list[str] = []
    declared: list[str] = []  # 'token' columns: categorical by the file's own header, so not checked as numeric
    if (p := root / f"{stem}.user").is_file():
        users, types = read_atomic(p, required=("user_id",))
        declared += [c for c, k in types.items() if k == "token"]
        for col, kind in types.items():
            if col == "user_id":
                continue
            if kind == "float_seq" or col in IGNORED_USER_COLUMNS:
                ignore.append(col)
            elif kind == "token_seq":
                ds.multi_valued[col] = SEQ_SEPARATOR
        ds.users = users
        ds.sources["users"] = str(p)
    if (p := root / f"{stem}.item").is_file():
        items, types = read_atomic(p, required=("item_id",))
        declared += [c for c, k in types.items() if k == "token"]
        seq_cols = [c for c, k in types.items() if k == "token_seq"]
        ds.item_name_column = next((c for c in seq_cols if NAME_PATTERN.search(c)), None)
        for col in seq_cols:
            if col != ds.item_name_column:
                ds.multi_valued[col] = SEQ_SEPARATOR
        for col in [c for c, k in types.items() if k == "float_seq"]:
            ds.features[col] = _vectors(items, col, str(p))
            items = items.drop(columns=col)
        ds.items = items
        ds.sources["items"] = str(p)
    if (p := root / f"{stem}.kg").is_file():
        kg, _ = read_atomic(p, required=("head_id", "relation_id", "tail_id"))
        ds.kg_triples = kg.rename(columns={"head_id": "head", "relation_id": "relation", "tail_id": "tail"})
        ds.sources["kg"] = str(p)
    if (p := root / f"{stem}.link").is_file():
        ds.kg_links, _ = read_atomic(p, required=("item_id", "entity_id"))
        ds.sources["links"] = str(p)
    ds.ignore_columns = tuple(ignore)
    ds.declared_categorical = tuple(declared)
    return ds


def read_atomic(path: Path, required: tuple[str, ...] = ()) -> tuple[pd.DataFrame, dict[str, str]]:
    """One atomic file as string columns (type suffix stripped) and ``{column: field type}``."""
    f = str(path)
    data = require_file(path).read_bytes()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as e:
        row = data.count(b"\n", 0, e.start)  # the header is line 0, so this is the 1-based data row
        raise InputValidationError(
            [
                Problem(
                    f,
                    row or None,
                    None,
                    "not valid utf-8 text",
                    f"byte 0x{data[e.start]:02x}; RecBole atomic files are UTF-8, re-save the file as UTF-8",
                )
            ]
        ) from e
    n_rows = _check_field_counts(data, f)
    try:
        df = pd.read_csv(
            io.BytesIO(data),
            sep="\t",
            dtype=str,
            quoting=csv.QUOTE_NONE,
            keep_default_na=False,
            na_values=[],
            skip_blank_lines=False,
            encoding="utf-8",
            engine="c",
        )
    except pd.errors.EmptyDataError as e:
        raise InputValidationError(
            [Problem(f, None, None, "file is empty", "expected a 'field:type' header and data")]
        ) from e
    except pd.errors.ParserError as e:
        raise InputValidationError([Problem(f, None, None, "malformed tab-separated file", str(e))]) from e
    df = df.iloc[:n_rows].reset_index(drop=True)  # trailing blank lines are not rows
    problems: list[Problem] = []
    types: dict[str, str] = {}
    columns = []
    header_cells = (
        data.split(b"\n", 1)[0].decode("utf-8").rstrip("\r").split("\t")
    )  # as written: pandas renames repeats
    for cell in header_cells:
        name, _, kind = str(cell).strip().partition(":")
        if kind not in FIELD_TYPES:
            problems.append(
                Problem(f, None, str(cell), "header cell must be 'name:type'", f"type one of {', '.join(FIELD_TYPES)}")
            )
        if name in types:
            problems.append(
                Problem(f, None, name, "duplicate column name in the header", "rename or remove all but one")
            )
        types[name] = kind
        columns.append(name)
    for name in required:
        if name not in types:
            problems.append(
                Problem(f, None, name, "required column is missing", f"header: {', '.join(map(str, df.columns))}")
            )
    if problems:
        raise InputValidationError(problems)
    df.columns = columns
    if len(df) == 0:
        raise InputValidationError([Problem(f, None, None, "file has a header but no data rows")])
    return df, types


def _check_field_counts(data: bytes, f: str) -> int:
    """Every data line must have as many tabs as the header; returns the number of data rows
    (trailing blank lines excluded). Vectorised, so a multi-million-line file costs little."""
    buf = np.frombuffer(data, dtype=np.uint8)
    newlines = np.flatnonzero(buf == 10)
    ends = newlines if len(data) and data[-1:] == b"\n" else np.r_[newlines, len(data)]
    starts = np.r_[0, ends[:-1] + 1]
    tabs = np.flatnonzero(buf == 9)
    counts = np.searchsorted(tabs, ends) - np.searchsorted(tabs, starts)
    lengths = ends - starts - (buf[np.maximum(ends - 1, 0)] == 13) * (ends > starts)  # without a trailing \r
    nonblank = np.flatnonzero(lengths > 0)
    if len(nonblank) == 0:
        raise InputValidationError([Problem(f, None, None, "file is empty", "expected a 'field:type' header and data")])
    last = int(nonblank[-1])
    bad = np.flatnonzero(counts[1 : last + 1] != counts[0]) + 1
    problems = []
    for line in bad[:MAX_PROBLEMS]:
        if lengths[line] == 0:
            problems.append(Problem(f, int(line), None, "empty line", "remove it"))
        else:
            problems.append(
                Problem(
                    f,
                    int(line),
                    None,
                    f"expected {counts[0] + 1} tab-separated fields as in the header",
                    f"got {counts[line] + 1}",
                )
            )
    if len(bad) > MAX_PROBLEMS:
        problems.append(
            Problem(f, None, None, "wrong number of fields", f"{len(bad) - MAX_PROBLEMS} more lines like this")
        )
    if problems:
        raise InputValidationError(problems)
    return last


def _vectors(items: pd.DataFrame, col: str, f: str) -> FeatureMatrix:
    parts = items[col].str.split(expand=False)
    lengths = parts.map(len).to_numpy()
    expected = int(np.bincount(lengths).argmax())
    problems = [
        Problem(f, int(pos) + 1, col, f"float_seq vector of length {expected} expected", f"got {lengths[pos]} values")
        for pos in np.flatnonzero(lengths != expected)[:MAX_PROBLEMS]
    ]
    if problems:
        raise InputValidationError(problems)
    try:
        matrix = np.array(parts.tolist(), dtype=np.float64).reshape(len(items), expected)
    except ValueError as e:
        raise InputValidationError([Problem(f, None, col, "float_seq values must be numbers", str(e))]) from e
    return FeatureMatrix(item_ids=items["item_id"].to_numpy(dtype=object), matrix=matrix, source=f"{f} (column {col})")
