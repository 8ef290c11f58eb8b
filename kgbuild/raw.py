"""The in-memory shape every adapter produces and the builder consumes.

Adapters (MovieLens, RecBole, MMGCN, KGAT, native files) differ only in how they read; once a
source is a :class:`RawDataset`, validation, splitting and graph building are shared. All ids
are kept as strings (their source spelling) until the builder assigns dense ids.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd


@dataclass
class FeatureMatrix:
    """One modality: row ``k`` of ``matrix`` describes item ``item_ids[k]``."""

    item_ids: np.ndarray  # object array of source item ids (str)
    matrix: np.ndarray  # [n, d] float; validated for NaN/inf and shape
    source: str  # file the matrix came from, for error messages


@dataclass
class RawDataset:
    """A source dataset before validation.

    interactions: columns ``user_id``, ``item_id`` (str), and at least one of ``behavior`` (str:
        like/favorite/view/...) or ``rating`` (float); optional ``timestamp`` (int seconds).
    users / items: ``user_id`` / ``item_id`` plus attribute columns. Numeric dtypes are binned,
        other columns are categorical; columns named in ``multi_valued`` hold several values
        separated by the given separator.
    kg_triples: external item KG, columns ``head``, ``relation``, ``tail`` (str entity ids).
    kg_links: item -> KG entity, columns ``item_id``, ``entity_id``.
    sources: table name -> the file it was read from; every validation message names it.
    Row order of every frame is the row order of its file, so a 0-based frame position p is
    data row p + 1 of the file (header excluded).
    """

    name: str
    interactions: pd.DataFrame
    users: pd.DataFrame | None = None
    items: pd.DataFrame | None = None
    features: dict[str, FeatureMatrix] = field(default_factory=dict)
    kg_triples: pd.DataFrame | None = None
    kg_links: pd.DataFrame | None = None
    sources: dict[str, str] = field(default_factory=dict)
    multi_valued: dict[str, str] = field(default_factory=dict)  # column -> separator
    user_name_column: str | None = None  # a column used as a human-readable name, not an attribute
    item_name_column: str | None = None
    ignore_columns: tuple[str, ...] = ()  # columns that are neither attribute nor name
    # interaction column holding the split the source carries (train / valid / test), if any
    split_column: str | None = None
    split_origin: str = ""  # where that split came from, for the manifest ("x_label of baby.inter")
    # columns the source itself types as categorical (RecBole ``token``): never checked as numeric
    declared_categorical: tuple[str, ...] = ()
    warnings: list[str] = field(default_factory=list)  # raised while reading; the build keeps them in the manifest

    def source(self, table: str) -> str:
        return self.sources.get(table, table)
