"""The build stage: source -> validated tables -> splits -> G_u and G_i -> store.

Order matters for honesty: splits are drawn before any graph is assembled, and graphs are
assembled from training interactions only, so no validation or test pair can leak into an
edge. Every step is seeded and sorts before numbering, so the same input and seed give a
byte-identical store.
"""

from __future__ import annotations

import re
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from ckgrec.kgbuild import graphs
from ckgrec.kgbuild.adapters import detect_format, get_adapter
from ckgrec.kgbuild.attributes import attribute_facts
from ckgrec.kgbuild.concepts import assign_concepts
from ckgrec.kgbuild.config import BuildConfig, manifest_config
from ckgrec.kgbuild.features import read_feature
from ckgrec.kgbuild.notices import Notices
from ckgrec.kgbuild.raw import RawDataset
from ckgrec.kgbuild.split import (
    assign_cold_start,
    assign_given,
    assign_splits,
    empty_split_reason,
    filter_pairs,
    resolve_method,
    train_fraction_mask,
)
from ckgrec.kgbuild.store_output import natural_order, store_counts, write_store
from ckgrec.kgbuild.validate import ValidTables, validate
from ckgrec.kgbuild.weights import rating_relations
from ckgrec.schemas.errors import ConfigError, InputValidationError, Problem
from ckgrec.schemas.store import store_fingerprint, writing_store
from ckgrec.schemas.tables import (
    FAMILY_CONCEPT,
    FAMILY_EXTERNAL,
    FAMILY_ITEM_ATTRIBUTE,
    FAMILY_USER_ATTRIBUTE,
)

MODALITY_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


@dataclass
class BuildReport:
    """What a build did: the store path, its manifest counts and seconds per stage."""

    store: Path
    counts: dict
    seconds: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    engine: str = ""  # one line: which builder wrote the store and why (see kgbuild.outofcore.choice)


class _Stages:
    """Times named stages and, when verbose, says which one is running (builds can take a minute)."""

    def __init__(self, verbose: bool):
        self.verbose = verbose
        self.seconds: dict[str, float] = {}
        self._name: str | None = None
        self._t = 0.0

    def start(self, name: str) -> None:
        self.stop()
        self._name, self._t = name, time.perf_counter()
        if self.verbose:
            print(f"[build] {name} ...", file=sys.stderr, flush=True)

    def stop(self) -> None:
        if self._name is not None:
            self.seconds[self._name] = round(time.perf_counter() - self._t, 3)
            self._name = None


def load_source(
    source: str | Path, fmt: str = "auto", extra_features: dict[str, str] | None = None
) -> tuple[RawDataset, str]:
    fmt = detect_format(source) if fmt == "auto" else fmt
    ds = get_adapter(fmt).read(Path(source))
    add_features(ds, extra_features)
    return ds, fmt


def add_features(ds: RawDataset, extra_features: dict[str, str] | None) -> None:
    """``--feature NAME=PATH``: add (or replace, with a warning) a modality of ``ds``."""
    for name, path in (extra_features or {}).items():
        if not MODALITY_NAME.match(name):
            raise ConfigError(
                f"--feature {name}=...: a modality name must be a letter followed by letters, digits or '_'"
            )
        fm = read_feature(path)
        if name in ds.features:
            old = ds.features[name]
            message = (
                f"--feature {name}={path} replaces the modality '{name}' the source already has "
                f"({len(old.item_ids):,} items from {old.source}) with {len(fm.item_ids):,} items"
            )
            ds.warnings.append(message)
            Notices().warn(message)
        ds.features[name] = fm


def build(
    source: str | Path,
    out: str | Path,
    *,
    fmt: str = "auto",
    config: BuildConfig | None = None,
    extra_features: dict[str, str] | None = None,
    force: bool = False,
    verbose: bool = False,
    memory_limit: int | str | None = None,
) -> BuildReport:
    """Build ``source`` into the store ``out``.

    ``memory_limit`` (else ``config.memory_limit``) chooses the builder, as
    :mod:`ckgrec.kgbuild.outofcore.choice` describes: not set or ``"none"``: in memory; ``"auto"``: out of core
    for a native interactions file of 64 MB or more; a size (bytes, ``"4GB"``): out of core with that limit.
    A configuration the out-of-core builder does not cover is built in memory. Either way the store is the
    same byte for byte; ``BuildReport.engine`` says which builder ran and why."""
    cfg = config or BuildConfig()
    from ckgrec.kgbuild.outofcore.choice import choose

    choice = choose(source, fmt, cfg, memory_limit if memory_limit is not None else cfg.memory_limit)
    if choice.out_of_core:
        from ckgrec.kgbuild import outofcore
        from ckgrec.kgbuild.outofcore.core import Unsupported

        try:
            report = outofcore.build(
                source,
                out,
                memory_limit=choice.memory_limit,
                fmt=fmt,
                config=cfg,
                extra_features=extra_features,
                force=force,
                verbose=verbose,
            )
        except Unsupported as e:  # known only once the source is read (a rating column read as weights)
            choice = choice.fallback(e.reason)
            if verbose:
                print(f"[build] {choice.line()}", file=sys.stderr, flush=True)
        else:
            report.engine = choice.line()
            return report
    report = _build_in_memory(source, out, fmt, cfg, extra_features, force, verbose)
    report.engine = choice.line()
    return report


def _build_in_memory(source, out, fmt, cfg, extra_features, force, verbose) -> BuildReport:
    # one builder per --out, and never onto the source itself or a directory ckgrec did not write
    with writing_store(out, force=force, sources=[source, *(extra_features or {}).values()]):
        st = _Stages(verbose)
        st.start("read")
        ds, fmt = load_source(source, fmt, extra_features)
        st.start("validate")
        vt = validate(ds, cfg.interactions.default_behavior, cfg.user_attributes, cfg.item_attributes)
        report = build_from_tables(ds, vt, out, cfg=cfg, fmt=fmt, force=force, stages=st)
    return report


def _interaction_relations(vt: ValidTables, cfg: BuildConfig) -> tuple[pd.DataFrame, dict | None]:
    """One row per (user, item, relation) and, when the source has a rating column, how it was
    read (see :mod:`ckgrec.kgbuild.weights`)."""
    inter = vt.interactions
    has_rating = inter["rating"].notna().any()
    if has_rating and cfg.interactions.min_rating is not None:
        inter = inter[inter["rating"] >= cfg.interactions.min_rating]
    names = {b: cfg.interactions.relation_names.get(b, b) for b in inter["behavior"].unique()}
    behaviour = inter["behavior"].map(names)
    decision = None
    if has_rating:
        relation, confidence, d = rating_relations(inter, behaviour, cfg.interactions)
        decision = d.as_dict() | {"summary": d.describe()}
    else:
        relation = behaviour
        weights = {n: float(cfg.interactions.confidence.get(n, 1.0)) for n in set(names.values())}
        confidence = relation.map(weights).astype(np.float32)
    bad = ~relation.str.match(r"^[A-Za-z0-9_\-]+$")
    if bad.any():
        pos = np.flatnonzero(bad.to_numpy())[0]
        raise ConfigError(
            f"interaction relation name '{relation.iat[pos]}' must use letters, digits, '_' or '-'; rename it with [build.interactions.relation_names]"
        )
    out = pd.DataFrame(
        {
            "user_id": inter["user_id"].to_numpy(),
            "item_id": inter["item_id"].to_numpy(),
            "relation": relation.to_numpy(dtype=object),
            "timestamp": inter["timestamp"].to_numpy(),
            "confidence": confidence.to_numpy(),
            "given": inter["split"].to_numpy(dtype=object),
        }
    )
    # a repeated (user, item, behaviour) is one edge; keep its first time
    out = out.sort_values(["user_id", "item_id", "relation", "timestamp"], kind="stable", na_position="last")
    return out.drop_duplicates(["user_id", "item_id", "relation"], keep="first").reset_index(drop=True), decision


def build_from_tables(
    ds: RawDataset,
    vt: ValidTables,
    out: str | Path,
    *,
    cfg: BuildConfig,
    fmt: str,
    force: bool = False,
    stages: _Stages | None = None,
) -> BuildReport:
    st = stages or _Stages(False)
    notices = Notices()
    notices.messages.extend(ds.warnings)  # raised while reading the source
    st.start("interactions")
    inter, weights = _interaction_relations(vt, cfg)
    pairs = inter.groupby(["user_id", "item_id"], sort=False, as_index=False).agg(
        first_ts=("timestamp", "min"), given=("given", "first")
    )
    pairs, dropped = filter_pairs(pairs, cfg.split)
    if len(pairs) == 0:
        raise InputValidationError(
            [
                Problem(
                    ds.source("interactions"),
                    None,
                    None,
                    "no interactions left after filtering",
                    f"split config: {cfg.split}",
                )
            ]
        )

    user_ids = natural_order(pairs["user_id"].unique())
    item_ids = pairs["item_id"].unique()
    if vt.items is not None and cfg.split.min_item_pairs <= 1 and cfg.split.k_core == 0:
        # catalogue items nobody interacted with stay as cold-start items (features, attributes)
        catalogue = vt.items["item_id"]
        item_ids = np.concatenate(
            [item_ids, catalogue[~catalogue.isin(vt.interactions["item_id"])].to_numpy(dtype=object)]
        )
    item_ids = natural_order(item_ids)
    user_index, item_index = pd.Index(user_ids), pd.Index(item_ids)
    pairs["user"] = user_index.get_indexer(pairs["user_id"])
    pairs["item"] = item_index.get_indexer(pairs["item_id"])
    pairs = pairs.sort_values(["user", "item"], kind="stable").reset_index(drop=True)

    st.start("split")
    split_info = _split(pairs, ds, cfg, notices)
    cold_split, protocol = assign_cold_start(pairs, cfg.split, cfg.seed)
    pairs["split"] = np.where(cold_split != "", cold_split, pairs["split"].to_numpy())
    pairs["protocol"] = protocol
    pairs = _keep_train_fraction(pairs, cfg, split_info)
    inter = inter.merge(
        pairs[["user_id", "item_id", "user", "item", "split", "protocol"]], on=["user_id", "item_id"], how="inner"
    )
    inter = inter.sort_values(["user", "item", "relation"], kind="stable").reset_index(drop=True)
    train = inter[inter["split"] == "train"]

    user_labels = np.array([graphs.user_label(u) for u in user_ids], dtype=object)
    item_labels = np.array([graphs.item_label(i) for i in item_ids], dtype=object)

    st.start("attributes")
    user_facts = _user_facts(vt, ds, cfg, user_index, user_labels)
    item_facts = [_item_attribute_facts(vt, ds, cfg, item_index, item_labels)]

    st.start("concepts")
    item_facts_df, kept_features = _concept_facts(vt, cfg, item_index, item_labels, item_facts)

    st.start("external_kg")
    external, links = _external_facts(vt, cfg, item_index, item_labels)
    _warn_unknown_links(vt, ds, notices)

    st.start("graphs")
    gu = graphs.user_side(user_labels, item_labels, train, item_facts_df, external)
    gi = graphs.item_side(user_labels, item_labels, train, user_facts)
    n_users, n_items = len(user_ids), len(item_ids)
    entities = pd.concat([gi.entities, gu.entities], ignore_index=True)
    relations = pd.concat([gi.relations, gu.relations], ignore_index=True)
    triples = pd.concat([gi.triples, gu.triples], ignore_index=True)
    users_t, items_t, align_items, align_users = id_tables(ds, user_ids, item_ids, user_index, item_index, links)
    interactions_t = pd.DataFrame(
        {
            "user": inter["user"].to_numpy(np.int64),
            "item": inter["item"].to_numpy(np.int64),
            "relation": inter["relation"].to_numpy(dtype=object),
            "split": inter["split"].to_numpy(dtype=object),
            "timestamp": pd.array(inter["timestamp"], dtype="Int64"),
            "confidence": inter["confidence"].to_numpy(np.float32),
            "protocol": inter["protocol"].to_numpy(dtype=object),
        }
    )

    fingerprint = store_fingerprint(entities, relations, users_t, items_t, triples)
    counts = store_counts(n_users, n_items, pairs, inter, entities, relations, triples, dropped, kept_features)
    manifest = build_manifest(ds, cfg, fmt, counts, kept_features, split_info, weights, notices)

    st.start("write")
    path = write_store(
        out,
        fingerprint,
        manifest,
        force=force,
        entities=entities,
        relations=relations,
        triples=triples,
        alignment_items=align_items,
        alignment_users=align_users,
        interactions=interactions_t,
        users=users_t,
        items=items_t,
        features=kept_features,
    )
    st.stop()
    return BuildReport(path, counts, st.seconds, notices.messages)


def _concept_facts(vt, cfg, item_index, item_labels, item_facts: list) -> tuple[pd.DataFrame, dict]:
    """Each modality's concept edges appended to ``item_facts`` (concatenated), and the feature
    rows kept (items removed by the filters lose theirs), by dense item."""
    kept_features: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for modality in sorted(vt.features):
        fm = vt.features[modality]
        rows = item_index.get_indexer(pd.Index(fm.item_ids))
        keep = rows >= 0  # items removed by the filters lose their feature rows with them
        items_dense, matrix = rows[keep], fm.matrix[keep]
        order = np.argsort(items_dense, kind="stable")
        items_dense, matrix = items_dense[order], matrix[order]
        kept_features[modality] = (items_dense, matrix)
        if len(items_dense) == 0:
            continue
        ca = assign_concepts(matrix, cfg.concepts, cfg.seed)
        item_facts.append(
            graphs.facts(
                item_labels[items_dense[ca.rows]],
                f"has_{modality}_concept",
                np.array([graphs.concept_label(modality, int(k)) for k in ca.concepts], dtype=object),
                FAMILY_CONCEPT,
                ca.similarity,
            )
        )
    return pd.concat(item_facts, ignore_index=True), kept_features


def id_tables(ds, user_ids, item_ids, user_index, item_index, links) -> tuple[pd.DataFrame, ...]:
    """users, items (dense id -> source id, name) and the two alignment tables."""
    n_users, n_items = len(user_ids), len(item_ids)
    users_t = pd.DataFrame(
        {
            "user": np.arange(n_users, dtype=np.int64),
            "label": user_ids.astype(str),
            "name": _names(ds.users, "user_id", ds.user_name_column, user_index),
        }
    )
    items_t = pd.DataFrame(
        {
            "item": np.arange(n_items, dtype=np.int64),
            "label": item_ids.astype(str),
            "name": _names(ds.items, "item_id", ds.item_name_column, item_index),
        }
    )
    ext_of_item = (
        pd.Series(links, dtype=object).reindex(range(n_items)).to_numpy(dtype=object)
        if links
        else np.full(n_items, None, dtype=object)
    )
    align_items = pd.DataFrame(
        {
            "graph": np.repeat(["item_side", "user_side"], n_items),
            "item": np.tile(np.arange(n_items, dtype=np.int64), 2),
            "entity": np.r_[np.arange(n_items), n_users + np.arange(n_items)].astype(np.int64),
            "external": np.tile(ext_of_item, 2),
        }
    )
    align_users = pd.DataFrame(
        {
            "graph": np.repeat(["item_side", "user_side"], n_users),
            "user": np.tile(np.arange(n_users, dtype=np.int64), 2),
            "entity": np.r_[n_items + np.arange(n_users), np.arange(n_users)].astype(np.int64),
        }
    )
    return users_t, items_t, align_items, align_users


def build_manifest(ds, cfg, fmt, counts, kept_features, split_info, weights, notices) -> dict:
    """The manifest body (the writer adds files, sizes, fingerprint and checksum)."""
    manifest = {
        "source": {"format": fmt, "name": ds.name},
        "config": manifest_config(cfg),
        "counts": counts,
        "modalities": sorted(kept_features),
        "split": split_info,
        "interaction_weights": weights,
        "warnings": notices.messages,
        "feature_dims": {m: int(v[1].shape[1]) for m, v in sorted(kept_features.items())},
        "graphs": {
            "user_side": "G_u = user -[interaction]-> item -[attribute|concept|kg]-> entity (training interactions only)",
            "item_side": "G_i = item -[interaction_by]-> user -[attribute]-> entity (training interactions only)",
        },
    }

    return manifest


def _split(pairs: pd.DataFrame, ds: RawDataset, cfg: BuildConfig, notices: Notices) -> dict:
    """Label ``pairs["split"]`` by the configured method; warn about an empty split. Returns the
    manifest's record of how the split was made."""
    has_given = bool((pairs["given"] != "").any())
    method = resolve_method(cfg.split, has_given)
    info: dict = {"method": method, "requested": cfg.split.method}
    if method == "given":
        if not has_given:
            raise ConfigError(
                f"split.method = 'given', but {ds.source('interactions')} carries no split (a 'split' column of "
                "train/valid/test, KGAT's train.txt + test.txt, or MMRec's x_label); use method = 'random' or 'temporal'"
            )
        pairs["split"], valid_from = assign_given(pairs, cfg.split, cfg.seed)
        info.update(origin=ds.split_origin or f"split column of {ds.source('interactions')}", valid=valid_from)
    else:
        pairs["split"] = assign_splits(pairs, replace(cfg.split, method=method), cfg.seed)
    for split, name, consequence in (
        (
            "valid",
            "validation",
            "'ckg train' refuses a store without validation pairs (nothing to select the best epoch on)",
        ),
        ("test", "test", "the store cannot be evaluated"),
    ):
        if not (pairs["split"] == split).any():
            reason = empty_split_reason(pairs, split, cfg.split, method, info.get("origin", ""))
            notices.warn(f"split: the {name} split is empty (0 of {len(pairs):,} pairs): {reason}; {consequence}")
    return info


def _keep_train_fraction(pairs: pd.DataFrame, cfg: BuildConfig, split_info: dict) -> pd.DataFrame:
    """Drop all but ``split.train_fraction`` of each user's training pairs (and so their interactions
    and edges); the manifest's split record says how many went. A no-op, recording nothing, at 1."""
    fraction = cfg.split.train_fraction
    if fraction >= 1.0:
        return pairs
    keep = train_fraction_mask(pairs, fraction, cfg.seed)
    split_info.update(train_fraction=fraction, train_pairs_dropped=int((~keep).sum()))
    return pairs[keep].reset_index(drop=True)


def _names(table: pd.DataFrame | None, id_col: str, name_col: str | None, index: pd.Index) -> np.ndarray:
    out = np.full(len(index), None, dtype=object)
    if table is None or name_col is None or name_col not in table.columns:
        return out
    pos = index.get_indexer(table[id_col].astype(str))
    ok = pos >= 0
    out[pos[ok]] = table[name_col].astype(str).to_numpy()[ok]
    return out


def _user_facts(vt, ds, cfg, user_index, user_labels) -> pd.DataFrame:
    if vt.users is None:
        return graphs.facts([], "x", [], FAMILY_USER_ATTRIBUTE).iloc[0:0]
    users = vt.users[vt.users["user_id"].isin(user_index)]
    skip = tuple(c for c in (ds.user_name_column, *ds.ignore_columns) if c)
    f = attribute_facts(users, "user_id", cfg.user_attributes, ds.multi_valued, skip)
    return graphs.facts(
        user_labels[user_index.get_indexer(f["owner"])],
        f["relation"].to_numpy(dtype=object),
        f["value"].to_numpy(dtype=object),
        FAMILY_USER_ATTRIBUTE,
    )


def _item_attribute_facts(vt, ds, cfg, item_index, item_labels) -> pd.DataFrame:
    if vt.items is None:
        return graphs.facts([], "x", [], FAMILY_ITEM_ATTRIBUTE).iloc[0:0]
    items = vt.items[vt.items["item_id"].isin(item_index)]
    skip = tuple(c for c in (ds.item_name_column, *ds.ignore_columns) if c)
    f = attribute_facts(items, "item_id", cfg.item_attributes, ds.multi_valued, skip)
    return graphs.facts(
        item_labels[item_index.get_indexer(f["owner"])],
        f["relation"].to_numpy(dtype=object),
        f["value"].to_numpy(dtype=object),
        FAMILY_ITEM_ATTRIBUTE,
    )


def _warn_unknown_links(vt: ValidTables, ds: RawDataset, notices: Notices) -> None:
    """Links whose item is neither interacted with nor in the item catalogue link nothing."""
    if vt.kg_links is None:
        return
    known = pd.Index(vt.interactions["item_id"].unique())
    if vt.items is not None:
        known = known.union(pd.Index(vt.items["item_id"].unique()))
    unknown = vt.kg_links.loc[~vt.kg_links["item_id"].isin(known), "item_id"]
    if len(unknown):
        first = ", ".join(f"'{i}'" for i in unknown.iloc[:3])
        notices.warn(
            f"links: {len(unknown):,} of {len(vt.kg_links):,} links in {ds.source('links')} name items that are not in "
            f"the data (first: {first}); they link nothing and their KG entities stay plain external entities"
        )


def _external_facts(vt, cfg, item_index, item_labels) -> tuple[pd.DataFrame, dict[int, str]]:
    """External KG triples with linked entities replaced by their item's entity.

    An item without a link keeps all its interactions and simply has no KG edges (unlike
    loaders that drop such items). Links to items outside the data are ignored: KG resources
    routinely cover more items than one dataset holds.
    """
    empty = graphs.facts([], "x", [], FAMILY_EXTERNAL).iloc[0:0]
    if not cfg.external_kg or vt.kg_triples is None:
        return empty, {}
    entity_label = {}
    links: dict[int, str] = {}
    if vt.kg_links is not None:
        pos = item_index.get_indexer(vt.kg_links["item_id"])
        for p, ent in zip(pos, vt.kg_links["entity_id"]):
            if p >= 0 and ent not in entity_label:
                entity_label[ent] = item_labels[p]
                links[int(p)] = ent
    kg = vt.kg_triples

    def lab(col):
        s = kg[col]
        mapped = s.map(entity_label)
        return mapped.where(mapped.notna(), graphs.external_label("") + s).to_numpy(dtype=object)

    return graphs.facts(lab("head"), kg["relation"].to_numpy(dtype=object), lab("tail"), FAMILY_EXTERNAL), links
