"""ckgrec's own input layout: plain CSV/Parquet files in one directory."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ckgrec.kgbuild.features import read_feature
from ckgrec.kgbuild.raw import RawDataset
from ckgrec.kgbuild.tabular import find_table, read_table, sep_for

NAME = "native"
DESCRIPTION = "ckgrec's own layout: interactions, optional profiles, item attributes, features, KG"
FILES = (
    "interactions.csv|.tsv|.parquet  user_id,item_id[,behavior][,rating][,timestamp][,split]",
    "users.csv (optional)            user_id + profile columns (numeric columns are binned)",
    "items.csv (optional)            item_id[,name] + attribute columns ('|' separates several values)",
    "features/<modality>.npy + .csv  matrix + item_id,row index (or <modality>.parquet with a list column)",
    "kg.csv + links.csv (optional)   head,relation,tail  and  item_id,entity_id",
)
MULTI_VALUE_SEPARATOR = "|"
SPLIT_COLUMN = "split"  # train / valid / test: the source's own split (used by split.method = "given" / "auto")
NAME_COLUMNS = ("name", "title")


def detect(path: Path) -> bool:
    return path.is_dir() and find_table(path, "interactions") is not None


def read(path: str | Path, *, interactions: bool = True) -> RawDataset:
    """The dataset in ``path``; ``interactions=False`` leaves the interaction table out (an empty
    frame): the out-of-core build reads and checks it in DuckDB instead (``kgbuild.outofcore``)."""
    root = Path(path)
    sources: dict[str, str] = {}
    inter_path = find_table(root, "interactions")
    if inter_path is None:
        from ckgrec.schemas.errors import InputNotFoundError

        raise InputNotFoundError(f"{root}: no interactions.csv, .tsv or .parquet")
    if interactions:
        table = read_table(inter_path, sep=sep_for(inter_path), required=("user_id", "item_id"))
    else:
        table = pd.DataFrame(columns=["user_id", "item_id"])
    sources["interactions"] = str(inter_path)
    ds = RawDataset(name=root.name, interactions=table, sources=sources)
    if interactions and SPLIT_COLUMN in table.columns:
        ds.split_column, ds.split_origin = SPLIT_COLUMN, f"split column of {inter_path}"
    if (p := find_table(root, "users")) is not None:
        ds.users = read_table(p, sep=sep_for(p), required=("user_id",))
        sources["users"] = str(p)
    if (p := find_table(root, "items")) is not None:
        ds.items = read_table(p, sep=sep_for(p), required=("item_id",))
        sources["items"] = str(p)
        ds.item_name_column = next((c for c in NAME_COLUMNS if c in ds.items.columns), None)
        ds.multi_valued = {c: MULTI_VALUE_SEPARATOR for c in ds.items.columns if _has_separator(ds.items[c])}
    if ds.users is not None:
        ds.multi_valued.update(
            {c: MULTI_VALUE_SEPARATOR for c in ds.users.columns if c != "user_id" and _has_separator(ds.users[c])}
        )
    feat_dir = root / "features"
    if feat_dir.is_dir():
        for f in sorted(feat_dir.iterdir()):
            if f.suffix in (".npy", ".parquet"):
                ds.features[f.stem] = read_feature(f)
    if (p := find_table(root, "kg")) is not None:
        ds.kg_triples = read_table(p, sep=sep_for(p), required=("head", "relation", "tail"))
        sources["kg"] = str(p)
        if (lp := find_table(root, "links")) is not None:
            ds.kg_links = read_table(lp, sep=sep_for(lp), required=("item_id", "entity_id"))
            sources["links"] = str(lp)
    return ds


def _has_separator(col) -> bool:
    textual = col.dtype == object or pd.api.types.is_string_dtype(col.dtype)
    return bool(textual and col.astype(str).str.contains(MULTI_VALUE_SEPARATOR, regex=False).any())
