"""Checks on raw tables; every failure of every file is collected before anything is raised.

Rows are reported 1-based, header excluded (row 1 is the first data line), as in a
spreadsheet with the header frozen. Parsing happens here, once: after validation the builder
can trust types and never re-checks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ckgrec.kgbuild.attributes import NUMERIC_MIN_DISTINCT
from ckgrec.kgbuild.config import AttributeConfig
from ckgrec.kgbuild.raw import FeatureMatrix, RawDataset
from ckgrec.schemas.errors import InputValidationError, Problem

MAX_PER_RULE = 50  # beyond this a rule's failures are summarised: one broken column can fail every row
MOSTLY_NUMERIC = 0.9  # share of a column's non-empty cells that are numbers for it to count as numeric
SPLIT_LABELS = ("train", "valid", "test")
NAN_SPELLINGS = ("nan", "-nan", "+nan")
FEATURE_CHUNK = 65_536  # feature rows checked at a time: no full-size boolean mask next to the matrix


@dataclass
class ValidTables:
    """Parsed, checked tables. ``interactions`` has user_id, item_id (str), behavior (str),
    rating (float or NaN), timestamp (Int64, may be <NA>) and split (the source's train / valid
    / test, or '' when the source carries no split)."""

    interactions: pd.DataFrame
    users: pd.DataFrame | None
    items: pd.DataFrame | None
    features: dict[str, FeatureMatrix]
    kg_triples: pd.DataFrame | None
    kg_links: pd.DataFrame | None


class _Collector:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def rows(self, file: str, mask: np.ndarray, column: str, rule: str, values=None, hint: str = "") -> None:
        positions = np.flatnonzero(mask)
        for pos in positions[:MAX_PER_RULE]:
            detail = f"got '{values[pos]}'" if values is not None else ""
            detail = f"{detail}; {hint}" if detail and hint else (detail or hint)
            self.problems.append(Problem(file, int(pos) + 1, column, rule, detail))
        if len(positions) > MAX_PER_RULE:
            self.problems.append(
                Problem(file, None, column, rule, f"{len(positions) - MAX_PER_RULE} more rows like this")
            )

    def add(self, problem: Problem) -> None:
        self.problems.append(problem)


def _blank(series: pd.Series) -> np.ndarray:
    return (series.isna() | (series.astype(str).str.strip() == "")).to_numpy()


def _ids(df: pd.DataFrame, col: str) -> pd.Series:
    return df[col].astype(str).str.strip()


def _check_ids(c: _Collector, df: pd.DataFrame, col: str, file: str, *, unique: bool) -> pd.Series:
    ids = _ids(df, col)
    c.rows(file, _blank(df[col]), col, "id must not be empty")
    if unique:
        dup = ids.duplicated(keep="first").to_numpy() & ~_blank(df[col])
        for pos in np.flatnonzero(dup)[:MAX_PER_RULE]:
            first = int(np.flatnonzero((ids == ids.iat[pos]).to_numpy())[0]) + 1
            c.add(Problem(file, int(pos) + 1, col, "duplicate id", f"'{ids.iat[pos]}' already on row {first}"))
    return ids


def _check_known(c: _Collector, ids: pd.Series, known: pd.Index, file: str, col: str, what: str) -> None:
    unknown = ~ids.isin(known).to_numpy() & (ids != "").to_numpy()
    c.rows(file, unknown, col, f"unknown {what}: it has no interaction", ids.to_numpy())


def validate(
    ds: RawDataset,
    default_behavior: str = "interact",
    user_attributes: AttributeConfig | None = None,
    item_attributes: AttributeConfig | None = None,
) -> ValidTables:
    c = _Collector()
    inter = ds.interactions
    f_inter = ds.source("interactions")
    for col in ("user_id", "item_id"):
        if col not in inter.columns:
            c.add(Problem(f_inter, None, col, "required column is missing"))
    if c.problems:
        raise InputValidationError(c.problems)
    out = pd.DataFrame(
        {
            "user_id": _check_ids(c, inter, "user_id", f_inter, unique=False),
            "item_id": _check_ids(c, inter, "item_id", f_inter, unique=False),
        }
    )
    if "behavior" in inter.columns:
        c.rows(f_inter, _blank(inter["behavior"]), "behavior", "behavior must not be empty")
        out["behavior"] = inter["behavior"].astype(str).str.strip()
    else:
        out["behavior"] = default_behavior
    if "rating" in inter.columns:
        rating = pd.to_numeric(inter["rating"], errors="coerce").astype(float)
        bad = ~np.isfinite(rating.to_numpy())
        c.rows(f_inter, bad, "rating", "rating must be a finite number", inter["rating"].astype(str).to_numpy())
        out["rating"] = rating
    else:
        out["rating"] = np.nan
    if "timestamp" in inter.columns:
        raw_ts = inter["timestamp"]
        ts = pd.to_numeric(raw_ts, errors="coerce").astype(float)
        blank = _blank(raw_ts)
        bad = ~blank & (~np.isfinite(ts.to_numpy()) | (np.mod(np.nan_to_num(ts.to_numpy()), 1) != 0))
        c.rows(f_inter, bad, "timestamp", "timestamp must be an integer (seconds)", raw_ts.astype(str).to_numpy())
        out["timestamp"] = pd.array(np.where(blank | bad, np.nan, ts), dtype="Float64").round().astype("Int64")
    else:
        out["timestamp"] = pd.array([pd.NA] * len(inter), dtype="Int64")
    col = ds.split_column
    if col is not None and col in inter.columns:
        labels = inter[col].astype(str).str.strip()
        bad = ~labels.isin(SPLIT_LABELS).to_numpy()
        c.rows(f_inter, bad, col, f"split must be one of {', '.join(SPLIT_LABELS)}", labels.to_numpy())
        out["split"] = labels.where(~bad, "")
        _check_one_split_per_pair(c, out, f_inter, col)
    else:
        out["split"] = ""

    known_users = pd.Index(out["user_id"].unique())
    known_items = pd.Index(out["item_id"].unique())  # grows by the catalogue below

    users = items = None
    if ds.users is not None:
        f = ds.source("users")
        ids = _check_ids(c, ds.users, "user_id", f, unique=True)
        _check_known(c, ids, known_users, f, "user_id", "user")
        users = ds.users.assign(user_id=ids)
        skip = ("user_id", ds.user_name_column, *ds.ignore_columns, *ds.multi_valued, *ds.declared_categorical)
        _check_numeric_columns(c, users, f, skip, user_attributes or AttributeConfig(), "user_attributes")
    if ds.items is not None:
        # the item table is the catalogue: an item listed there is known even before anyone
        # interacts with it (a cold-start item), so it is not checked against interactions
        f = ds.source("items")
        ids = _check_ids(c, ds.items, "item_id", f, unique=True)
        items = ds.items.assign(item_id=ids)
        skip = ("item_id", ds.item_name_column, *ds.ignore_columns, *ds.multi_valued, *ds.declared_categorical)
        _check_numeric_columns(c, items, f, skip, item_attributes or AttributeConfig(), "item_attributes")
        known_items = known_items.union(pd.Index(ids[ids != ""].unique()))

    features: dict[str, FeatureMatrix] = {}
    for name, fm in ds.features.items():
        features[name] = _check_feature(c, name, fm, known_items)

    kg = links = None
    if ds.kg_triples is not None:
        f = ds.source("kg")
        for col in ("head", "relation", "tail"):
            c.rows(f, _blank(ds.kg_triples[col]), col, "must not be empty")
        kg = ds.kg_triples[["head", "relation", "tail"]].astype(str).apply(lambda s: s.str.strip())
    if ds.kg_links is not None:
        f = ds.source("links")
        ids = _check_ids(c, ds.kg_links, "item_id", f, unique=True)
        c.rows(f, _blank(ds.kg_links["entity_id"]), "entity_id", "must not be empty")
        links = pd.DataFrame({"item_id": ids, "entity_id": ds.kg_links["entity_id"].astype(str).str.strip()})

    if c.problems:
        raise InputValidationError(c.problems)
    return ValidTables(out, users, items, features, kg, links)


def _check_one_split_per_pair(c: _Collector, out: pd.DataFrame, file: str, col: str) -> None:
    """A given split is checked for leakage as a drawn one is built: a (user, item) pair in two
    splits would put the test answer into a training edge."""
    frame = out.loc[out["split"] != "", ["user_id", "item_id", "split"]].drop_duplicates()
    torn = frame[frame.duplicated(["user_id", "item_id"], keep=False)]
    if not len(torn):
        return
    splits = torn.groupby(["user_id", "item_id"], sort=False)["split"].agg(lambda x: " and ".join(sorted(x)))
    for (user, item), where in list(splits.items())[:MAX_PER_RULE]:
        c.add(
            Problem(
                file,
                None,
                col,
                "a (user, item) pair is in more than one split",
                f"user '{user}', item '{item}' is in {where}; a pair must be wholly in one split, or its held-out "
                "interaction leaks into a training edge",
            )
        )
    if len(splits) > MAX_PER_RULE:
        c.add(
            Problem(
                file,
                None,
                col,
                "a (user, item) pair is in more than one split",
                f"{len(splits) - MAX_PER_RULE} more pairs like this",
            )
        )


def _check_numeric_columns(
    c: _Collector, table: pd.DataFrame, file: str, skip: tuple, cfg: AttributeConfig, section: str
) -> None:
    """A column is numeric when listed in ``cfg.numeric``, or when at least
    :data:`MOSTLY_NUMERIC` of its non-empty cells are numbers taking more distinct values than
    the builder bins (so it would be binned). In a numeric column every other cell is reported
    -- one ``unknown`` must not turn 4 age bins into 54 categories -- and so is ``inf`` or
    ``nan``, which would make a bin edge infinite. A column listed in ``cfg.categorical`` is
    never checked."""
    for col in table.columns:
        if col in skip or col in cfg.ignore or col in cfg.categorical:
            continue
        raw = table[col].astype(str).str.strip()
        present = (raw != "").to_numpy()
        if not present.any():
            continue
        parsed = pd.to_numeric(raw.where(present, "0"), errors="coerce").to_numpy(dtype=np.float64)
        is_number = present & (~np.isnan(parsed) | raw.str.lower().isin(NAN_SPELLINGS).to_numpy())
        finite = is_number & np.isfinite(parsed)
        if col not in cfg.numeric:
            share = is_number.sum() / present.sum()
            if share < MOSTLY_NUMERIC or len(np.unique(parsed[finite])) <= max(NUMERIC_MIN_DISTINCT, cfg.numeric_bins):
                continue
        fix = f'fix the cell or leave it empty, or declare the column categorical: [build.{section}] categorical = ["{col}"]'
        c.rows(file, present & ~is_number, col, "non-numeric value in a numeric column", raw.to_numpy(), fix)
        c.rows(file, is_number & ~finite, col, "value must be a finite number", raw.to_numpy(), fix)


def _check_feature(c: _Collector, name: str, fm: FeatureMatrix, known_items: pd.Index) -> FeatureMatrix:
    f = fm.source
    ids = pd.Series(fm.item_ids, dtype=object).astype(str).str.strip()
    if fm.matrix.ndim != 2 or fm.matrix.shape[0] != len(ids):
        c.add(Problem(f, None, None, f"modality '{name}': {len(ids)} item ids but matrix shape {fm.matrix.shape}"))
        return fm
    if len(ids) == 0:
        c.add(Problem(f, None, None, f"modality '{name}' has no rows"))
        return fm
    dup = ids.duplicated(keep="first").to_numpy()
    c.rows(f, dup, "item_id", f"duplicate item id in modality '{name}'", ids.to_numpy())
    _check_known(c, ids, known_items, f, "item_id", "item")
    # float32 input is used as it is (no copy); anything else goes through float64 as it always has
    matrix = fm.matrix if fm.matrix.dtype == np.float32 else np.asarray(fm.matrix, dtype=np.float64)
    bad = [np.nonzero(~np.isfinite(matrix[r : r + FEATURE_CHUNK])) for r in range(0, len(matrix), FEATURE_CHUNK)]
    bad_rows = (
        np.concatenate([rows + k * FEATURE_CHUNK for k, (rows, _) in enumerate(bad)]) if bad else np.array([], int)
    )
    bad_cols = np.concatenate([cols for _, cols in bad]) if bad else np.array([], int)
    for r, k in list(zip(bad_rows, bad_cols))[:MAX_PER_RULE]:
        c.add(
            Problem(
                f,
                int(r) + 1,
                f"dim {int(k)}",
                f"feature value must be finite in modality '{name}'",
                f"got {matrix[r, k]}",
            )
        )
    if len(bad_rows) > MAX_PER_RULE:
        c.add(Problem(f, None, None, f"modality '{name}': {len(bad_rows) - MAX_PER_RULE} more non-finite values"))
    return FeatureMatrix(item_ids=ids.to_numpy(dtype=object), matrix=np.asarray(matrix, np.float32), source=f)
