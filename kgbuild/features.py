"""Reading item feature matrices in the shapes people actually have them.

Accepted for one modality:
* ``NAME.npy`` beside ``NAME.csv`` (columns ``item_id,row``): the matrix and its row index;
* a directory holding exactly one ``.npy`` and one ``.csv`` index (e.g. ``text_feat.npy`` +
  ``item_rows.csv``);
* ``NAME.parquet`` with ``item_id`` and one list column of floats (one vector per row).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from ckgrec.kgbuild.raw import FeatureMatrix
from ckgrec.kgbuild.tabular import read_table
from ckgrec.schemas.errors import InputNotFoundError, InputValidationError, Problem


def read_feature(path: str | Path) -> FeatureMatrix:
    p = Path(path)
    if p.is_dir():
        npys = sorted(p.glob("*.npy"))
        csvs = sorted(p.glob("*.csv"))
        if len(npys) != 1 or len(csvs) != 1:
            raise InputValidationError(
                [
                    Problem(
                        str(p),
                        None,
                        None,
                        "a feature directory must hold exactly one .npy matrix and one .csv index",
                        f"found {len(npys)} .npy and {len(csvs)} .csv",
                    )
                ]
            )
        return _read_npy_with_index(npys[0], csvs[0])
    if p.suffix == ".parquet":
        return _read_parquet(p)
    if p.suffix == ".npy":
        index = p.with_suffix(".csv")
        if not index.is_file():
            raise InputNotFoundError(f"{p}: its row index {index} (columns item_id,row) is missing")
        return _read_npy_with_index(p, index)
    if not p.exists():
        raise InputNotFoundError(f"feature file not found: {p}")
    raise InputValidationError(
        [
            Problem(
                str(p),
                None,
                None,
                "unsupported feature format",
                "use .npy + .csv index, a directory of both, or .parquet",
            )
        ]
    )


def _load_npy(path: Path) -> np.ndarray:
    try:
        m = np.load(path, allow_pickle=False, mmap_mode="r")  # pages are read when used, not all up front
    except (ValueError, EOFError, OSError) as e:  # EOFError: an empty (0-byte) file
        detail = "the file is empty (0 bytes)" if path.is_file() and path.stat().st_size == 0 else str(e)
        raise InputValidationError([Problem(str(path), None, None, "not a numeric .npy matrix", detail)]) from e
    if m.ndim != 2:
        raise InputValidationError(
            [Problem(str(path), None, None, "feature matrix must be 2-D [items, dims]", f"shape {m.shape}")]
        )
    if not np.issubdtype(m.dtype, np.number):
        raise InputValidationError(
            [Problem(str(path), None, None, "feature matrix must be numeric", f"dtype {m.dtype}")]
        )
    return m


def _read_npy_with_index(npy: Path, index_path: Path) -> FeatureMatrix:
    matrix = _load_npy(npy)
    index = read_table(index_path, required=("item_id", "row"))
    problems: list[Problem] = []
    rows = pd.to_numeric(index["row"], errors="coerce")
    for pos in np.flatnonzero(rows.isna().to_numpy()):
        problems.append(
            Problem(
                str(index_path), int(pos) + 1, "row", "must be an integer row number", f"got '{index['row'].iat[pos]}'"
            )
        )
    valid = rows.notna().to_numpy()
    out_of_range = valid & ((rows.fillna(0).to_numpy() < 0) | (rows.fillna(0).to_numpy() >= matrix.shape[0]))
    for pos in np.flatnonzero(out_of_range):
        problems.append(
            Problem(
                str(index_path),
                int(pos) + 1,
                "row",
                f"row number outside the matrix (0..{matrix.shape[0] - 1})",
                f"got {index['row'].iat[pos]}",
            )
        )
    if problems:
        raise InputValidationError(problems)
    order = rows.to_numpy(dtype=np.int64)
    return FeatureMatrix(
        item_ids=index["item_id"].to_numpy(dtype=object), matrix=matrix[order], source=f"{npy} (index {index_path})"
    )


def _read_parquet(path: Path) -> FeatureMatrix:
    table = pq.read_table(path)
    if "item_id" not in table.column_names:
        raise InputValidationError([Problem(str(path), None, "item_id", "required column is missing")])
    vec_cols = [c for c in table.column_names if c != "item_id"]
    if len(vec_cols) != 1:
        raise InputValidationError(
            [
                Problem(
                    str(path), None, None, "expected item_id and exactly one vector (list) column", f"found {vec_cols}"
                )
            ]
        )
    col = vec_cols[0]
    vectors = table.column(col).to_pylist()
    lengths = np.array([len(v) if v is not None else -1 for v in vectors])
    problems = []
    if len(lengths):
        expected = int(np.bincount(lengths[lengths >= 0]).argmax()) if (lengths >= 0).any() else 0
        for pos in np.flatnonzero(lengths != expected):
            got = "null" if lengths[pos] < 0 else f"length {lengths[pos]}"
            problems.append(Problem(str(path), int(pos) + 1, col, f"ragged vector: expected length {expected}", got))
    if problems:
        raise InputValidationError(problems)
    matrix = np.asarray(vectors, dtype=np.float64)
    ids = np.array([str(x) for x in table.column("item_id").to_pylist()], dtype=object)
    return FeatureMatrix(item_ids=ids, matrix=matrix, source=str(path))
