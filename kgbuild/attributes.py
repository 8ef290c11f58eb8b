"""Profile and item attribute columns -> (owner, relation, attribute entity) facts.

Categorical values become entities named ``column=value`` (``gender=F``); numeric columns are
cut into quantile bins so that a 34-year-old and a 35-year-old share an entity
(``age=[30,41)``); multi-valued cells give one fact per value.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ckgrec.kgbuild.config import AttributeConfig

NUMERIC_MIN_DISTINCT = 10


def attribute_facts(
    table: pd.DataFrame,
    id_col: str,
    cfg: AttributeConfig,
    multi_valued: dict[str, str],
    skip: tuple[str, ...] = (),
) -> pd.DataFrame:
    """Columns ``owner`` (source id), ``relation`` (has_<column>), ``value`` (entity label)."""
    parts = []
    for col in table.columns:
        if col == id_col or col in skip or col in cfg.ignore:
            continue
        raw = table[col].astype(str).str.strip()
        present = raw != ""
        owners = table[id_col][present]
        values = raw[present]
        if col in multi_valued and col not in cfg.numeric:
            sep = multi_valued[col]
            exploded = pd.DataFrame(
                {"owner": owners.to_numpy(), "v": values.str.split(sep, regex=False).to_numpy()}
            ).explode("v")
            exploded["v"] = exploded["v"].astype(str).str.strip()
            exploded = exploded[exploded["v"] != ""]
            labels = col + "=" + exploded["v"]
            owners_out = exploded["owner"]
        elif _is_numeric(values, col, cfg):
            labels = _bin_labels(col, pd.to_numeric(values).astype(float), cfg.numeric_bins)
            owners_out = owners
        else:
            labels = col + "=" + values
            owners_out = owners
        parts.append(
            pd.DataFrame({"owner": owners_out.to_numpy(), "relation": f"has_{col}", "value": labels.to_numpy()})
        )
    if not parts:
        return pd.DataFrame(
            {"owner": pd.Series(dtype=object), "relation": pd.Series(dtype=object), "value": pd.Series(dtype=object)}
        )
    return pd.concat(parts, ignore_index=True).drop_duplicates(ignore_index=True)


def _is_numeric(values: pd.Series, col: str, cfg: AttributeConfig) -> bool:
    if col in cfg.categorical:
        return False
    parsed = pd.to_numeric(values, errors="coerce")
    if col in cfg.numeric:
        if parsed.isna().any():
            from ckgrec.schemas.errors import ConfigError

            bad = values[parsed.isna()].iloc[0]
            raise ConfigError(f"column '{col}' is configured numeric but holds '{bad}'")
        return True
    return (
        bool(len(values)) and not parsed.isna().any() and parsed.nunique() > max(NUMERIC_MIN_DISTINCT, cfg.numeric_bins)
    )


def _fmt(x: float) -> str:
    return f"{x:g}"


def _bin_labels(col: str, values: pd.Series, bins: int) -> pd.Series:
    edges = np.unique(np.quantile(values.to_numpy(), np.linspace(0, 1, bins + 1)))
    if len(edges) < 2:
        return pd.Series([f"{col}={_fmt(values.iloc[0])}"] * len(values), index=values.index)
    idx = np.clip(np.searchsorted(edges, values.to_numpy(), side="right") - 1, 0, len(edges) - 2)
    names = [
        f"{col}=[{_fmt(edges[k])},{_fmt(edges[k + 1])}{']' if k == len(edges) - 2 else ')'}"
        for k in range(len(edges) - 1)
    ]
    return pd.Series(np.asarray(names, dtype=object)[idx], index=values.index)
