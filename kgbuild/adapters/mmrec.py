"""MMRec's dataset layout (enoughproblems/MMRec, ``data/<name>/``): Amazon Baby, Sports, Clothing, ...

* ``<name>.inter``: tab-separated with a plain header ``userID itemID rating timestamp x_label``;
  ``x_label`` is MMRec's split of each interaction: 0 train, 1 valid, 2 test. Ids are the dense
  0-based numbers MMRec assigned.
* ``image_feat.npy``, ``text_feat.npy`` and any other ``<modality>_feat.npy``: float matrices
  ``[n_items, d]`` whose row k describes item k (modality = the file name before ``_feat``).

The split is kept (column ``split``), so with ``split.method = "auto"`` (default) or ``"given"``
a store has exactly MMRec's train / valid / test pairs. ``rating`` is read like any rating
column (MMRec itself treats every interaction as implicit); ``timestamp`` must be whole seconds.
Every row of the feature matrices is an item of the catalogue, interacted with or not.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ckgrec.kgbuild.raw import FeatureMatrix, RawDataset
from ckgrec.kgbuild.tabular import read_table
from ckgrec.schemas.errors import InputNotFoundError, InputValidationError, Problem

NAME = "mmrec"
DESCRIPTION = (
    "MMRec layout: <name>.inter (userID itemID rating timestamp x_label) + <modality>_feat.npy, row k = item k"
)
FILES = (
    "<name>.inter        userID<TAB>itemID[<TAB>rating][<TAB>timestamp]<TAB>x_label (0 train, 1 valid, 2 test)",
    "image_feat.npy      image features [n_items, d] (optional)",
    "text_feat.npy       text features [n_items, d] (optional)",
    "<name>_feat.npy     any other modality, same layout (optional)",
)
USER, ITEM, LABEL = "userID", "itemID", "x_label"
X_LABELS = {"0": "train", "1": "valid", "2": "test"}
FEATURE_SUFFIX = "_feat.npy"
MAX_PROBLEMS = 50


def _inter_files(path: Path) -> list[Path]:
    return sorted(path.glob("*.inter"))


def detect(path: Path) -> bool:
    if not path.is_dir():
        return False
    found = _inter_files(path)
    if len(found) != 1:
        return False
    with open(found[0], "rb") as fh:
        header = fh.readline().decode("utf-8", "replace").rstrip("\r\n").split("\t")
    return LABEL in header and not any(":" in cell for cell in header)  # RecBole headers are 'field:type'


def read(path: str | Path) -> RawDataset:
    root = Path(path)
    if not root.is_dir():
        raise InputNotFoundError(f"MMRec directory not found: {root}")
    found = _inter_files(root)
    if len(found) != 1:
        raise InputValidationError(
            [
                Problem(
                    str(root),
                    None,
                    None,
                    "expected exactly one <name>.inter file",
                    f"found {len(found)}: {', '.join(p.name for p in found) or 'none'}",
                )
            ]
        )
    inter_path = found[0]
    f = str(inter_path)
    raw = read_table(inter_path, sep="\t", required=(USER, ITEM, LABEL))
    problems: list[Problem] = []
    for col in (USER, ITEM):
        values = raw[col].str.strip()
        for pos in np.flatnonzero(~values.str.fullmatch(r"[0-9]+").to_numpy())[:MAX_PROBLEMS]:
            problems.append(
                Problem(
                    f,
                    int(pos) + 1,
                    col,
                    "must be a non-negative integer (MMRec's dense id)",
                    f"got '{values.iat[pos]}'",
                )
            )
    labels = raw[LABEL].str.strip()
    for pos in np.flatnonzero(~labels.isin(list(X_LABELS)).to_numpy())[:MAX_PROBLEMS]:
        problems.append(
            Problem(
                f, int(pos) + 1, LABEL, "x_label must be 0 (train), 1 (valid) or 2 (test)", f"got '{labels.iat[pos]}'"
            )
        )
    if problems:
        raise InputValidationError(problems)
    inter = pd.DataFrame(
        {"user_id": raw[USER].str.strip(), "item_id": raw[ITEM].str.strip(), "split": labels.map(X_LABELS)}
    )
    for col in ("rating", "timestamp"):
        if col in raw.columns:
            inter[col] = raw[col]
    ds = RawDataset(
        name=inter_path.stem,
        interactions=inter,
        sources={"interactions": f},
        split_column="split",
        split_origin=f"x_label of {inter_path}",
    )

    n_rows = 0
    for p in sorted(root.glob(f"*{FEATURE_SUFFIX}")):
        modality = p.name[: -len(FEATURE_SUFFIX)]
        matrix = _load_matrix(p)
        ds.features[modality] = FeatureMatrix(
            item_ids=np.array([str(k) for k in range(matrix.shape[0])], dtype=object), matrix=matrix, source=str(p)
        )
        n_rows = max(n_rows, matrix.shape[0])
    if ds.features:
        items = inter["item_id"].astype(np.int64).to_numpy()
        beyond = items >= n_rows
        if beyond.any():
            first = int(np.flatnonzero(beyond)[0])
            raise InputValidationError(
                [
                    Problem(
                        f,
                        first + 1,
                        ITEM,
                        f"{int(beyond.sum())} interactions name items beyond the feature rows 0..{n_rows - 1}",
                        f"got item {items[first]}; row k of every <modality>_feat.npy must describe item k",
                    )
                ]
            )
        ds.items = pd.DataFrame({"item_id": [str(k) for k in range(n_rows)]})
        ds.sources["items"] = f"rows of {', '.join(Path(fm.source).name for fm in ds.features.values())}"
    return ds


def _load_matrix(p: Path) -> np.ndarray:
    try:
        m = np.load(p, allow_pickle=False)
    except ValueError as e:
        raise InputValidationError([Problem(str(p), None, None, "not a numeric .npy matrix", str(e))]) from e
    if not isinstance(m, np.ndarray) or m.ndim != 2 or not np.issubdtype(m.dtype, np.number):
        what = f"{m.dtype} of shape {m.shape}" if isinstance(m, np.ndarray) else type(m).__name__
        raise InputValidationError(
            [Problem(str(p), None, None, "feature file must hold a numeric matrix [n_items, d]", f"got {what}")]
        )
    return m
