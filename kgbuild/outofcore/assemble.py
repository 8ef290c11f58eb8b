"""G_u and G_i triples, the fingerprint and the big tables, streamed out of DuckDB.

The entity and relation tables and every non-interaction fact (attributes, concepts, KG) are
small -- O(users + items + KG) -- and go through :mod:`ckgrec.kgbuild.graphs` as in memory. Only
the interaction edges (one per training interaction and graph) and the interaction table grow
with the input; they are joined, deduplicated and sorted in DuckDB and leave it in record
batches: hashed into the fingerprint exactly as :func:`ckgrec.schemas.store.store_fingerprint`
hashes whole frames, then written as Parquet row groups of the same size as
:meth:`StoreWriter.write_table` writes, so the files are byte-identical.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ckgrec.kgbuild import graphs
from ckgrec.schemas.store import META_KEY, SCHEMA_VERSION
from ckgrec.schemas.tables import FAMILY_INTERACTION, INTERACTIONS, TRIPLES

ROW_GROUP = 1 << 20  # as StoreWriter.write_table
BATCH = 1 << 18


def entities_of(graph: str, blocks: list) -> tuple[pd.DataFrame, pd.Index]:
    """The entity table of one graph and its label index (as :func:`graphs.assemble` numbers them)."""
    labels = np.concatenate([np.asarray(b, dtype=object) for _, b in blocks])
    kinds = np.concatenate([np.full(len(b), k, dtype=object) for k, b in blocks])
    index = pd.Index(labels)
    if not index.is_unique:
        raise ValueError(f"internal: entity label '{index[index.duplicated()][0]}' appears twice in {graph}")
    frame = pd.DataFrame(
        {"graph": graph, "entity": np.arange(len(labels), dtype=np.int64), "label": labels, "kind": kinds}
    )
    return frame, index


def graph_tables(con, graph: str, blocks: list, interaction_names: list[str], other: list[pd.DataFrame], offset: int):
    """Entities and relations of ``graph`` (pandas) and its triples into DuckDB table ``t_<graph>``.

    ``interaction_names``: the relation of each training interaction in this graph's direction
    (``like`` or ``like_by``); ``offset``: entity id of the first item (G_u) or user (G_i) tail.
    """
    entities, index = entities_of(graph, blocks)
    facts = pd.concat([f for f in other if len(f)], ignore_index=True) if any(len(f) for f in other) else None
    used = pd.DataFrame({"relation": interaction_names, "family": FAMILY_INTERACTION})
    if facts is not None:
        used = pd.concat([used, facts[["relation", "family"]]], ignore_index=True)
    relations = graphs.relation_table(graph, used)
    forward = relations[~relations["is_inverse"]]
    rel_ids = pd.Index(forward["name"])
    small = pd.DataFrame({"head": [], "relation": [], "tail": [], "confidence": []})
    if facts is not None:
        heads, tails = index.get_indexer(facts["head"]), index.get_indexer(facts["tail"])
        if (heads < 0).any() or (tails < 0).any():
            raise ValueError(f"internal: facts in {graph} mention entities without a block")
        small = pd.DataFrame(
            {
                "head": heads.astype(np.int64),
                "relation": rel_ids.get_indexer(facts["relation"]).astype(np.int32),
                "tail": tails.astype(np.int64),
                "confidence": facts["confidence"].to_numpy(dtype=np.float32),
            }
        )
    con.register("_small", pa.Table.from_pandas(small, preserve_index=False))
    con.register(
        "_rel", pa.table({"name": pa.array(list(forward["name"]), pa.string()), "rid": forward["relation"].to_numpy()})
    )
    if graph == "user_side":
        g1 = f"SELECT user AS head, relation AS name, item + {offset} AS tail, confidence FROM inter WHERE split = 'train'"
    else:
        g1 = (
            f"SELECT item AS head, relation || '{graphs.INTERACTION_BY_SUFFIX}' AS name, user + {offset} AS tail, "
            "confidence FROM inter WHERE split = 'train'"
        )
    # a repeated (relation, head, tail) keeps its highest confidence, as assemble's sort + drop_duplicates
    con.execute(
        f"CREATE TABLE t_{graph} AS SELECT head, relation, tail, max(confidence) AS confidence FROM ("
        f"SELECT g.head, CAST(r.rid AS INTEGER) AS relation, g.tail, g.confidence FROM ({g1}) g JOIN _rel r USING (name) "
        "UNION ALL SELECT head, CAST(relation AS INTEGER), tail, confidence FROM _small) GROUP BY relation, head, tail"
    )
    con.unregister("_small")
    con.unregister("_rel")
    return entities, relations


def _batches(con, sql: str):
    """Record batches of ``sql``, read on a cursor of its own (the main connection may hold a result)."""
    cur = con.cursor()
    try:
        yield from cur.sql(sql).to_arrow_reader(BATCH)
    finally:
        cur.close()


def fingerprint(con, entities: pd.DataFrame, relations: pd.DataFrame, users: pd.DataFrame, items: pd.DataFrame) -> str:
    """:func:`ckgrec.schemas.store.store_fingerprint` with the triples read from DuckDB in batches."""
    h = hashlib.sha256()
    small = {
        "entities": entities[["graph", "entity", "label", "kind"]],
        "items": items[["item", "label"]],
        "relations": relations[["graph", "relation", "name"]],
        "users": users[["user", "label"]],
    }
    for name in ("entities", "items", "relations"):
        _hash_frame(h, name, small[name])
    h.update(b"triples")
    sizes = dict(
        con.execute(
            "SELECT 'item_side', count(*) FROM t_item_side UNION ALL SELECT 'user_side', count(*) FROM t_user_side"
        ).fetchall()
    )
    h.update(b"graph")
    first = True
    for g in ("item_side", "user_side"):
        left = sizes[g]
        while left:
            m = min(left, BATCH)
            h.update((("" if first else "\x1f") + "\x1f".join([g] * m)).encode("utf-8"))
            first, left = False, left - m
    for g in ("item_side", "user_side"):  # sorted once; a table scan keeps insertion order
        con.execute(f"CREATE TABLE fp_{g} AS SELECT head, relation, tail FROM t_{g} ORDER BY head, relation, tail")
    for col in ("head", "relation", "tail"):
        h.update(col.encode())
        for g in ("item_side", "user_side"):
            for b in _batches(con, f"SELECT CAST({col} AS BIGINT) FROM fp_{g}"):
                h.update(np.ascontiguousarray(b.column(0).to_numpy(zero_copy_only=False), dtype=np.int64).tobytes())
    for g in ("item_side", "user_side"):
        con.execute(f"DROP TABLE fp_{g}")
    _hash_frame(h, "users", small["users"])
    return h.hexdigest()[:32]


def _hash_frame(h, name: str, frame: pd.DataFrame) -> None:
    h.update(name.encode())
    for col in frame.columns:
        h.update(col.encode())
        v = frame[col]
        if pd.api.types.is_integer_dtype(v.dtype):
            h.update(np.ascontiguousarray(v.to_numpy(dtype=np.int64)).tobytes())
        else:
            h.update("\x1f".join(map(str, v.astype(str).to_numpy(dtype=object))).encode("utf-8"))


def write_streamed(writer, spec, con, sql: str) -> None:
    """Write the rows of ``sql`` as ``spec``'s table through ``writer`` in row groups of
    :data:`ROW_GROUP`, as ``writer.write_table`` would write the whole frame."""
    meta = {"table": spec.name, "schema_version": SCHEMA_VERSION, "fingerprint": writer.fingerprint}
    schema = spec.schema.with_metadata({META_KEY: json.dumps(meta, sort_keys=True).encode()})
    rel = spec.filename
    path = writer.tmp / rel
    with pq.ParquetWriter(path, schema, compression="zstd") as out:
        pending: list[pa.RecordBatch] = []
        n_pending, wrote = 0, False
        for batch in _batches(con, sql):
            pending.append(pa.RecordBatch.from_arrays(batch.columns, names=spec.schema.names))
            n_pending += batch.num_rows
            while n_pending >= ROW_GROUP:
                table = pa.Table.from_batches(pending)
                _write_group(out, table.slice(0, ROW_GROUP), schema)
                rest = table.slice(ROW_GROUP)
                pending, n_pending, wrote = rest.to_batches(), rest.num_rows, True
        if n_pending or not wrote:
            _write_group(out, pa.Table.from_batches(pending) if pending else schema.empty_table(), schema)
    writer.record_file(rel)


def _write_group(out, table: pa.Table, schema: pa.Schema) -> None:
    """One row group from one contiguous chunk per column, as a whole frame's slice would be."""
    out.write_table(table.cast(schema).combine_chunks(), row_group_size=ROW_GROUP)


def triples_sql() -> str:
    """Forward triples in store order: G_i then G_u, each by (relation, head, tail)."""
    return (
        "SELECT graph, head, relation, tail, confidence FROM (SELECT 0 AS g, 'item_side' AS graph, * FROM t_item_side "
        "UNION ALL SELECT 1, 'user_side', * FROM t_user_side) ORDER BY g, relation, head, tail"
    )


INTERACTIONS_SQL = (
    "SELECT user, item, relation, split, timestamp, confidence, protocol FROM inter ORDER BY user, item, relation"
)
BIG_TABLES = {TRIPLES.name: TRIPLES, INTERACTIONS.name: INTERACTIONS}
