"""The out-of-core build (``ckg build --memory-limit``): the same store, bounded memory.

What grows with the input -- the interaction rows, their (user, item) pairs, the k-core filter,
the per-user split, ``train_fraction`` and the interaction edges of both graphs -- lives in a
DuckDB database beside the output and is processed by SQL that spills past ``--memory-limit``.
What grows only with users, items and the KG (ids, profiles, attributes, feature matrices,
concepts, external triples) stays in pandas/numpy, through the same functions as the in-memory
build. A native ``interactions.csv|.parquet`` is read by DuckDB itself, never as a frame; other
layouts are read by their adapter (their sources are small) and then follow the same path.

Every step orders exactly as the in-memory builder does, and the big tables leave DuckDB in
row groups of the writer's size, so the store is byte-identical to ``ckg build`` without the
flag (``tests/kgbuild/test_outofcore.py`` checks it on the test world, the embedded data and
ML-100K). Not yet ported: cold-start protocols and rating columns read as weights or bins; this
module refuses them (:class:`~.core.Unsupported`), and :func:`ckgrec.kgbuild.build.build` then builds in
memory. Which builder runs is decided in :mod:`.choice`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from ckgrec.kgbuild import graphs
from ckgrec.kgbuild.adapters import detect_format
from ckgrec.kgbuild.config import BuildConfig
from ckgrec.kgbuild.notices import Notices
from ckgrec.kgbuild.outofcore import assemble, core, engine, read
from ckgrec.kgbuild.tabular import find_table
from ckgrec.kgbuild.validate import validate
from ckgrec.schemas.errors import InputNotFoundError, InputValidationError
from ckgrec.schemas.store import StoreWriter, writing_store
from ckgrec.schemas.tables import ALIGNMENT_ITEMS, ALIGNMENT_USERS, ENTITIES, ITEMS, RELATIONS, SPLITS, USERS


def build(
    source: str | Path,
    out: str | Path,
    *,
    memory_limit: int,
    fmt: str = "auto",
    config: BuildConfig | None = None,
    extra_features: dict[str, str] | None = None,
    force: bool = False,
    verbose: bool = False,
    threads: int | None = None,
):
    """Build ``source`` into the store ``out`` as :func:`ckgrec.kgbuild.build.build` does, with
    DuckDB holding at most ``memory_limit`` bytes (it spills the rest to a scratch directory)."""
    from ckgrec.kgbuild.build import BuildReport, _Stages

    cfg = config or BuildConfig()
    core.check_supported(cfg)
    out = Path(out)
    with writing_store(out, force=force, sources=[source, *(extra_features or {}).values()]):
        st = _Stages(verbose)
        st.start("read")
        fmt = detect_format(source) if fmt == "auto" else fmt
        with engine.connect(out, memory_limit, threads) as con:
            ds, vt, weights = _read(con, Path(source), fmt, cfg, extra_features, st)
            report = _build(con, ds, vt, weights, out, cfg, fmt, force, st)
    return BuildReport(report[0], report[1], st.seconds, report[2])


def _read(con, source: Path, fmt: str, cfg: BuildConfig, extra_features, st):
    """(dataset, validated small tables, interaction_weights) with table ``inter_rel`` filled."""
    from ckgrec.kgbuild.adapters import native
    from ckgrec.kgbuild.build import _interaction_relations, load_source

    if fmt != "native":
        ds, _ = load_source(source, fmt, extra_features)
        st.start("validate")
        vt = validate(ds, cfg.interactions.default_behavior, cfg.user_attributes, cfg.item_attributes)
        st.start("interactions")
        inter, weights = _interaction_relations(vt, cfg)
        frame = inter.assign(
            timestamp=inter["timestamp"].astype("Int64"), confidence=inter["confidence"].astype(np.float32)
        )
        con.register("_inter", pa.Table.from_pandas(frame, preserve_index=False))
        con.execute(
            "CREATE TABLE inter_rel AS SELECT user_id, item_id, relation, CAST(timestamp AS BIGINT) AS timestamp, "
            "confidence, given FROM _inter"
        )
        con.unregister("_inter")
        for col, name in (("user_id", "raw_users"), ("item_id", "raw_items")):
            ids = pd.unique(vt.interactions[col])
            con.register("_ids", pa.table({col: pa.array(list(ids), pa.string())}))
            con.execute(f"CREATE TABLE {name} AS SELECT * FROM _ids")
            con.unregister("_ids")
        return ds, vt, weights

    path = find_table(source, "interactions")
    if path is None:
        raise InputNotFoundError(f"{source}: no interactions.csv, .tsv or .parquet")
    ds = native.read(source, interactions=False)
    if extra_features:
        from ckgrec.kgbuild.build import add_features

        add_features(ds, extra_features)
    names = read.load_raw(con, path)
    split_column = native.SPLIT_COLUMN if native.SPLIT_COLUMN in names else None
    if split_column:
        ds.split_column, ds.split_origin = split_column, f"split column of {path}"
    st.start("validate")
    problems = read.check_raw(con, str(path), names, split_column)
    ids = {}
    for col in ("user_id", "item_id"):  # a blank id is reported above, not again by validate()
        s = read._strip(col)
        ids[col] = [r[0] for r in con.execute(f"SELECT DISTINCT {s} FROM raw WHERE {s} <> ''").fetchall()] or ["?"]
    users, items = ids["user_id"], ids["item_id"]
    m = max(len(users), len(items))
    # the ids the other tables are checked against; the interaction rules were checked above
    ds.interactions = pd.DataFrame(
        {"user_id": users + users[:1] * (m - len(users)), "item_id": items + items[:1] * (m - len(items))}
    )
    split_col, ds.split_column = ds.split_column, None
    try:
        vt = validate(ds, cfg.interactions.default_behavior, cfg.user_attributes, cfg.item_attributes)
    except InputValidationError as e:
        problems += e.problems
    if problems:
        raise InputValidationError(problems)
    ds.split_column = split_col
    st.start("interactions")
    weights = read.interaction_relations(con, names, split_column, cfg)
    return ds, vt, weights


def _build(con, ds, vt, weights, out: Path, cfg: BuildConfig, fmt: str, force: bool, st):
    from ckgrec.kgbuild import build as mem

    notices = Notices()
    notices.messages.extend(ds.warnings)
    f_inter = ds.source("interactions")
    dropped = core.make_pairs(con, cfg, f_inter)
    user_ids, item_ids = core.dense_ids(con, cfg, vt.items["item_id"] if vt.items is not None else None)
    st.start("split")
    split_info = core.split(con, cfg, ds.split_origin, f_inter, notices)
    core.keep_train_fraction(con, cfg, split_info)
    core.interactions(con)

    user_index, item_index = pd.Index(user_ids), pd.Index(item_ids)
    user_labels = np.array([graphs.user_label(u) for u in user_ids], dtype=object)
    item_labels = np.array([graphs.item_label(i) for i in item_ids], dtype=object)
    st.start("attributes")
    user_facts = mem._user_facts(vt, ds, cfg, user_index, user_labels)
    item_facts = [mem._item_attribute_facts(vt, ds, cfg, item_index, item_labels)]
    st.start("concepts")
    item_facts_df, kept_features = mem._concept_facts(vt, cfg, item_index, item_labels, item_facts)
    st.start("external_kg")
    external, links = mem._external_facts(vt, cfg, item_index, item_labels)
    mem._warn_unknown_links(vt, ds, notices)

    st.start("graphs")
    n_users, n_items = len(user_ids), len(item_ids)
    train_rel = sorted(
        r[0] for r in con.execute("SELECT DISTINCT relation FROM inter WHERE split = 'train'").fetchall()
    )
    ent_i, rel_i = assemble.graph_tables(
        con,
        "item_side",
        graphs.item_side_blocks(user_labels, item_labels, user_facts),
        [r + graphs.INTERACTION_BY_SUFFIX for r in train_rel],
        [user_facts],
        n_items,
    )
    ent_u, rel_u = assemble.graph_tables(
        con,
        "user_side",
        graphs.user_side_blocks(user_labels, item_labels, item_facts_df, external),
        train_rel,
        [item_facts_df, external],
        n_users,
    )
    entities = pd.concat([ent_i, ent_u], ignore_index=True)
    relations = pd.concat([rel_i, rel_u], ignore_index=True)
    users_t, items_t, align_items, align_users = mem.id_tables(ds, user_ids, item_ids, user_index, item_index, links)
    fingerprint = assemble.fingerprint(con, entities, relations, users_t, items_t)
    counts = _counts(con, n_users, n_items, entities, relations, dropped, kept_features)
    manifest = mem.build_manifest(ds, cfg, fmt, counts, kept_features, split_info, weights, notices)

    st.start("write")
    with StoreWriter(out, fingerprint, force=force) as w:
        for spec, frame in (
            (ENTITIES, entities),
            (RELATIONS, relations),
            (ALIGNMENT_ITEMS, align_items),
            (ALIGNMENT_USERS, align_users),
            (USERS, users_t),
            (ITEMS, items_t),
        ):
            w.write_table(spec, frame)
        assemble.write_streamed(w, assemble.TRIPLES, con, assemble.triples_sql())
        assemble.write_streamed(w, assemble.INTERACTIONS, con, assemble.INTERACTIONS_SQL)
        for modality, (items_dense, matrix) in sorted(kept_features.items()):
            w.write_feature(modality, items_dense, matrix)
        path = w.commit(manifest)
    st.stop()
    return path, counts, notices.messages


def _counts(con, n_users, n_items, entities, relations, dropped, kept_features) -> dict:
    """:func:`ckgrec.kgbuild.store_output.store_counts`, with the per-interaction figures from SQL."""
    count = lambda sql: int(core.scalar(con, sql))
    pairs = {s: count(f"SELECT count(*) FROM pairs WHERE split = '{s}'") for s in SPLITS}
    per = lambda frame, col: {g: int(v) for g, v in frame.groupby(col, sort=True).size().items()}
    return {
        "users": int(n_users),
        "items": int(n_items),
        "pairs": pairs,
        "pairs_by_protocol": {f"warm/{s}": n for s, n in pairs.items() if n},
        "interactions": {s: count(f"SELECT count(*) FROM inter WHERE split = '{s}'") for s in SPLITS},
        "interaction_relations": sorted(r[0] for r in con.execute("SELECT DISTINCT relation FROM inter").fetchall()),
        "entities": per(entities, "graph"),
        "relations": per(relations[~relations["is_inverse"]], "graph"),
        "triples": {g: n for g in ("item_side", "user_side") if (n := count(f"SELECT count(*) FROM t_{g}"))},
        "items_without_train_interaction": int(
            n_items - count("SELECT count(DISTINCT item) FROM inter WHERE split = 'train'")
        ),
        "features": {m: int(len(v[0])) for m, v in sorted(kept_features.items())},
        "dropped_by_filters": dropped,
    }
