"""Store -> RDF (N-Triples, N-Quads, Turtle), streamed in bounded memory.

What is written, per node and edge (IRI paths in :mod:`ckgrec.kgbuild.rdf.iri`):

* default graph: the dataset node (base IRI, fingerprint, build manifest as ``rdf:JSON``),
  each relation's declaration (``rdfs:subPropertyOf`` its kind, ``rdfs:label`` its store name,
  ``ckg:defaultConfidence``), each node's ``rdf:type`` and ``rdfs:label`` (and ``ckg:name``),
  ``owl:sameAs`` from an item to the external KG entity it was merged with, modalities and
  feature pointers (``ckg:hasFeatureVector`` -> node with ``ckg:modality`` and ``ckg:row``);
* ``{base}graph/user-side`` (G_u) and ``{base}graph/item-side`` (G_i): the forward triples of
  each graph (inverse relations are implied, not written), plus an ``rdf:Statement`` with
  ``ckg:confidence`` for each edge whose confidence differs from its relation's default;
* ``{base}graph/interactions``: one ``ckg:InteractionRecord`` per interaction-log row (train,
  valid and test, or held-out only, or none), never as a G_u/G_i edge.

N-Triples has no graphs: the same triples are written without the graph term, and the
relation kinds keep G_u and G_i apart on import. Turtle is built in memory with rdflib and
refused above ``turtle_limit`` triples.

Memory: the writer holds one IRI per node and per relation (O(entities)) and one batch of
triples at a time; it never holds the triples, so it stays flat as the number of edges grows.
Lines are assembled with pyarrow's string kernels and written straight from Arrow buffers.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ckgrec.kgbuild.rdf.errors import RdfExportError
from ckgrec.kgbuild.rdf.iri import (
    GRAPH_INTERACTIONS,
    GRAPH_ITEM_SIDE,
    GRAPH_USER_SIDE,
    LABEL_PREFIX,
    NODE_PATH,
    RELATION_PATH,
    STORE_GRAPH_KEY,
    XSD,
    check_base,
    default_base,
    encode_keys,
    encode_keys_arrow,
    escape_literals,
    float_lexical,
    mint,
    mint_all,
    nt_iri,
    nt_string,
    nt_typed,
)
from ckgrec.schemas.errors import ConfigError, StoreError, StoreMismatchError
from ckgrec.schemas.rdf_vocab import CKG, KIND_CLASS, relation_kind
from ckgrec.schemas.store import META_KEY, Store, file_mode
from ckgrec.schemas.tables import (
    GRAPHS,
    KIND_ITEM,
    KIND_USER,
    SCHEMA_VERSION,
    SPLITS,
    TABLES,
)

RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS_NS = "http://www.w3.org/2000/01/rdf-schema#"
OWL_NS = "http://www.w3.org/2002/07/owl#"
T_TYPE = f"<{RDF_NS}type>"
T_LABEL = f"<{RDFS_NS}label>"
T_SAMEAS = f"<{OWL_NS}sameAs>"

FORMATS = ("nt", "nq", "ttl")
INTERACTION_MODES = ("all", "held-out", "none")
SAMPLE_PER_RELATION = 65_536  # the default confidence is the mode of a relation's first triples


def t(term) -> str:
    """N-Triples form of a vocabulary term."""
    return f"<{term}>"


@dataclass(frozen=True, kw_only=True)
class ExportOptions:
    """What to export and how. ``base`` None: ``https://example.org/ckgrec/{dataset}/``."""

    base: str | None = None
    interactions: str = "all"
    features: bool = True
    gzip: bool = False
    turtle_limit: int = 200_000
    batch_rows: int = 1 << 16
    license: str | None = None
    sidecars: bool = True

    def __post_init__(self) -> None:
        if self.interactions not in INTERACTION_MODES:
            raise ConfigError(f"interactions = {self.interactions!r}: use one of {', '.join(INTERACTION_MODES)}")
        if self.batch_rows < 1 or self.turtle_limit < 0:
            raise ConfigError("batch_rows must be >= 1 and turtle_limit >= 0")
        if self.base is not None:
            check_base(self.base)


@dataclass
class ExportReport:
    """What an export wrote: files, triples per graph, per property and instances per class."""

    output: Path
    format: str
    base: str
    triples: int = 0
    per_graph: dict[str, int] = field(default_factory=dict)
    per_property: dict[str, int] = field(default_factory=dict)
    per_class: dict[str, int] = field(default_factory=dict)
    graph_properties: dict[str, dict[str, int]] = field(default_factory=dict)
    graph_classes: dict[str, dict[str, int]] = field(default_factory=dict)
    seconds: float = 0.0
    void: Path | None = None
    sssom: Path | None = None
    fingerprint: str = ""


# ---------------------------------------------------------------- reading the store in batches


def checked_parquet(store: Store, table: str, rel: str | None = None) -> pq.ParquetFile:
    """Open one store table for batched reading after the same metadata checks as Store.table."""
    spec = TABLES.get(table)
    path = store.path / (rel or spec.filename)
    try:
        pf = pq.ParquetFile(path)
    except (OSError, pa.ArrowInvalid) as e:
        raise StoreError(f"{path}: unreadable Parquet file ({e})") from e
    raw = (pf.schema_arrow.metadata or {}).get(META_KEY)
    if raw is None:
        raise StoreError(f"{path}: no ckgrec metadata; this file was not written by 'ckg build'")
    meta = json.loads(raw)
    if meta.get("table") != (spec.name if spec else table) or meta.get("schema_version") != SCHEMA_VERSION:
        raise StoreError(
            f"{path}: holds table {meta.get('table')!r} v{meta.get('schema_version')}, expected {table!r} v{SCHEMA_VERSION}"
        )
    if meta.get("fingerprint") != store.fingerprint:
        raise StoreMismatchError(
            f"{path}: fingerprint {meta.get('fingerprint')} does not match the store's {store.fingerprint}; "
            "the file comes from another build (rebuild the store, or restore its manifest)"
        )
    return pf


def _batches(pf: pq.ParquetFile, columns: list[str], rows: int) -> Iterator[pa.RecordBatch]:
    yield from pf.iter_batches(batch_size=rows, columns=columns)


# ---------------------------------------------------------------- Arrow line assembly


def _join(*parts) -> pa.Array:
    """Element-wise concatenation of arrays and str scalars; an element is null if any part is
    (so an optional value, such as a missing timestamp, drops its whole line)."""
    return pc.binary_join_element_wise(*parts, "")


def _string_literals(col: pa.Array) -> pa.Array:
    """N-Triples string literals of a low-cardinality string column (escaped once per value)."""
    enc = pc.dictionary_encode(col)
    if isinstance(enc, pa.ChunkedArray):
        enc = enc.combine_chunks()
    values = pa.array([None if v is None else nt_string(v) for v in enc.dictionary.to_pylist()], type=pa.string())
    return values.take(enc.indices)


def _write_array(f, arr) -> None:
    """Write the concatenated values of a string array (its data buffer, no copy)."""
    chunks = arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]
    for a in chunks:
        if len(a) == 0:
            continue
        if a.null_count:
            a = a.fill_null("")
        if a.type == pa.large_string():
            offs = np.frombuffer(a.buffers()[1], dtype=np.int64)[a.offset : a.offset + len(a) + 1]
        else:
            offs = np.frombuffer(a.buffers()[1], dtype=np.int32)[a.offset : a.offset + len(a) + 1]
        data = a.buffers()[2]
        if data is not None and offs[-1] > offs[0]:
            f.write(memoryview(data)[int(offs[0]) : int(offs[-1])])


class _Sink:
    """Counts and writes lines; one instance per export."""

    def __init__(self, f, report: ExportReport):
        self.f = f
        self.report = report

    def write(self, graph: str, prop: str, lines: pa.Array) -> None:
        """Write one line per non-null element, all with predicate ``prop``, into ``graph``."""
        count = len(lines) - lines.null_count
        if count == 0:
            return
        _write_array(self.f, lines)
        self.account(graph, prop, count)

    def account(self, graph: str, prop: str, count: int) -> None:
        r = self.report
        r.triples += count
        r.per_graph[graph] = r.per_graph.get(graph, 0) + count
        r.per_property[prop] = r.per_property.get(prop, 0) + count
        gp = r.graph_properties.setdefault(graph, {})
        gp[prop] = gp.get(prop, 0) + count

    def instances(self, graph: str, cls: str, n: int) -> None:
        if n:
            self.report.per_class[cls] = self.report.per_class.get(cls, 0) + n
            gc = self.report.graph_classes.setdefault(graph, {})
            gc[cls] = gc.get(cls, 0) + n


# ---------------------------------------------------------------- the exporter


class _Exporter:
    def __init__(self, store: Store, fmt: str, opts: ExportOptions):
        self.store = store
        self.fmt = fmt
        self.opts = opts
        self.base = opts.base or default_base(str(store.manifest.get("source", {}).get("name", "dataset")))
        check_base(self.base)
        self.graph_iri = {
            key: mint(self.base, "graph/", key) for key in (GRAPH_USER_SIDE, GRAPH_ITEM_SIDE, GRAPH_INTERACTIONS)
        }
        self.dataset_iri = self.base + "dataset"

    # -- per-graph line endings: N-Quads carries the graph term, N-Triples and Turtle do not
    def end(self, graph: str) -> str:
        if self.fmt == "nq" and graph != "default":
            return f" <{self.graph_iri[graph]}> .\n"
        return " .\n"

    # -- node and relation IRIs
    def prepare(self) -> None:
        s = self.store
        ent = checked_parquet(s, "entities").read(columns=["graph", "entity", "label", "kind"])
        kinds_seen = set(pc.unique(ent.column("kind")).to_pylist())
        unknown = kinds_seen - set(KIND_CLASS)
        if unknown:
            raise StoreError(f"{s.path}: entities of unknown kind {sorted(map(str, unknown))}")
        self.ent_nt: dict[str, pa.Array] = {}
        parts = {}
        for g in GRAPHS:
            e = ent.filter(pc.equal(ent.column("graph"), g))
            e = e.take(pc.sort_indices(e, [("entity", "ascending")]))
            ids = e.column("entity").to_numpy()
            if len(e) and not np.array_equal(ids, np.arange(len(e))):
                raise StoreError(f"{s.path}: entity ids of {g} are not 0..{len(e) - 1}")
            labels = e.column("label").combine_chunks().cast(pa.string())
            kinds = e.column("kind").combine_chunks().cast(pa.string())
            keys = labels
            for kind, prefix in LABEL_PREFIX.items():
                mask = pc.equal(kinds, kind)
                bad = pc.and_(mask, pc.invert(pc.starts_with(labels, prefix)))
                if pc.any(bad).as_py():
                    raise StoreError(
                        f"{s.path}: {g} entity label {pc.filter(labels, bad)[0].as_py()!r} of kind {kind} does not start with {prefix!r}"
                    )
                keys = pc.if_else(mask, pc.utf8_slice_codeunits(labels, len(prefix)), keys)
            enc = encode_keys_arrow(keys)
            path = pa.array([f"<{self.base}{NODE_PATH.get(k, '')}" for k in KIND_CLASS], type=pa.string())
            kind_index = pc.index_in(kinds, pa.array(list(KIND_CLASS)))
            nt = _join(path.take(kind_index), enc, ">")
            self.ent_nt[g] = nt
            parts[g] = (nt, labels, kinds)
        # one description per node: all of G_u, plus G_i's nodes that G_u lacks (its user attributes)
        gu_nt, gu_lab, gu_kind = parts["user_side"]
        gi_nt, gi_lab, gi_kind = parts["item_side"]
        extra = pc.invert(pc.is_in(gi_nt, gu_nt))
        self.node_nt = pa.concat_arrays([gu_nt, pc.filter(gi_nt, extra)])
        self.node_label = pa.concat_arrays([gu_lab, pc.filter(gi_lab, extra)])
        self.node_kind = pa.concat_arrays([gu_kind, pc.filter(gi_kind, extra)])
        if pc.count_distinct(self.node_nt).as_py() != len(self.node_nt):
            vc = pc.value_counts(self.node_nt)
            dup = pc.filter(vc.field("values"), pc.greater(vc.field("counts"), 1))[0].as_py()
            raise StoreError(
                f"{s.path}: two different nodes mint the same IRI {dup} (labels that differ only in characters the IRI encoding folds, or a user/item missing from one graph)"
            )
        self.node_count = len(self.node_nt)

        rel = s.table("relations")
        self.rel_nt: dict[str, pa.Array] = {}
        self.relations = []
        for g in GRAPHS:
            r = rel[rel["graph"] == g].sort_values("relation")
            names = np.full(len(r), None, dtype=object)
            for pos, row in enumerate(r.itertuples(index=False)):
                if bool(row.is_inverse):
                    continue
                try:
                    kind = relation_kind(g, row.family)
                except KeyError:
                    raise StoreError(
                        f"{s.path}: relation {row.name!r} of family {row.family!r} in {g}; ckg build never puts that family there"
                    ) from None
                iri = mint(self.base, RELATION_PATH[kind.term], row.name)
                names[pos] = "<" + iri + ">"
                self.relations.append(
                    {"graph": g, "relation": int(row.relation), "name": row.name, "kind": kind, "iri": iri}
                )
            if len(r) and not np.array_equal(r["relation"].to_numpy(), np.arange(len(r))):
                raise StoreError(f"{s.path}: relation ids of {g} are not 0..{len(r) - 1}")
            self.rel_nt[g] = pa.array(names, type=pa.string())
        self.users = s.table("users")
        self.items = s.table("items")
        self.user_keys = encode_keys_arrow(
            pa.array(self.users["label"].astype(str).to_numpy(dtype=object), type=pa.string())
        )
        self.item_keys = encode_keys_arrow(
            pa.array(self.items["label"].astype(str).to_numpy(dtype=object), type=pa.string())
        )
        self.user_nt = _join("<" + self.base + NODE_PATH[KIND_USER], self.user_keys, ">")
        self.item_nt = _join("<" + self.base + NODE_PATH[KIND_ITEM], self.item_keys, ">")

    def scan_confidence(self) -> None:
        """One pass over (graph, relation, confidence): triple counts and each relation's default."""
        pf = checked_parquet(self.store, "triples")
        counts: Counter = Counter()
        sample: dict[tuple[str, int], Counter] = defaultdict(Counter)
        taken: Counter = Counter()
        for b in _batches(pf, ["graph", "relation", "confidence"], self.opts.batch_rows):
            df = b.to_pandas()
            for (g, r), idx in df.groupby(["graph", "relation"], sort=False).indices.items():
                counts[(g, int(r))] += len(idx)
                need = SAMPLE_PER_RELATION - taken[(g, int(r))]
                if need > 0:
                    vals = df["confidence"].to_numpy()[idx[:need]]
                    u, c = np.unique(vals, return_counts=True)
                    sample[(g, int(r))].update(dict(zip(u.tolist(), c.tolist())))
                    taken[(g, int(r))] += min(need, len(idx))
        self.triple_counts = counts
        self.default_conf: dict[str, np.ndarray] = {}
        for g in GRAPHS:
            n = len(self.rel_nt[g])
            d = np.ones(n, dtype=np.float32)
            for (gg, r), ctr in sample.items():
                if gg == g and ctr:
                    best = max(ctr.items(), key=lambda kv: (kv[1], kv[0]))[0]
                    d[r] = np.float32(best)
            self.default_conf[g] = d
        for rel in self.relations:
            rel["default"] = float(self.default_conf[rel["graph"]][rel["relation"]])
            rel["triples"] = counts.get((rel["graph"], rel["relation"]), 0)

    def estimate(self) -> int:
        """A lower bound of the export's size (edge statements are not counted)."""
        c = self.store.counts
        n_int = int(sum(c.get("interactions", {}).values())) if self.opts.interactions != "none" else 0
        n_feat = int(sum(c.get("features", {}).values())) if self.opts.features else 0
        return (
            int(sum(self.triple_counts.values()))
            + 2 * self.node_count
            + 5 * len(self.relations)
            + 7 * n_int
            + 4 * n_feat
        )

    # -- emitters
    def emit_dataset(self, sink: _Sink) -> None:
        s, end, d = self.store, self.end("default"), nt_iri(self.dataset_iri)
        keep = {k: s.manifest.get(k) for k in ("source", "config", "graphs")}
        keep["dropped_by_filters"] = s.counts.get("dropped_by_filters", {})
        lines = [
            (T_TYPE, t(CKG.Dataset)),
            (t(CKG.baseIri), nt_typed(self.base, XSD + "anyURI")),
            (t(CKG.fingerprint), nt_string(s.fingerprint)),
            (t(CKG.schemaVersion), nt_typed(str(SCHEMA_VERSION), XSD + "integer")),
            (t(CKG.buildManifest), nt_typed(json.dumps(keep, sort_keys=True).translate(_JSON_ESC), RDF_NS + "JSON")),
            (t(CKG.interactionsExported), nt_string(self.opts.interactions)),
            (t(CKG.userSideGraph), nt_iri(self.graph_iri[GRAPH_USER_SIDE])),
            (t(CKG.itemSideGraph), nt_iri(self.graph_iri[GRAPH_ITEM_SIDE])),
        ]
        graphs = [(GRAPH_USER_SIDE, CKG.UserSideGraph), (GRAPH_ITEM_SIDE, CKG.ItemSideGraph)]
        if self.opts.interactions != "none":
            lines.append((t(CKG.interactionLogGraph), nt_iri(self.graph_iri[GRAPH_INTERACTIONS])))
            graphs.append((GRAPH_INTERACTIONS, CKG.InteractionLogGraph))
        for p, o in lines:
            sink.write("default", p, pa.array([f"{d} {p} {o}{end}"]))
        sink.instances("default", str(CKG.Dataset), 1)
        for key, cls in graphs:
            sink.write("default", T_TYPE, pa.array([f"<{self.graph_iri[key]}> {T_TYPE} {t(cls)}{end}"]))
            sink.instances("default", str(cls), 1)

    def emit_relations(self, sink: _Sink) -> None:
        end = self.end("default")
        by_name = {(r["graph"], r["name"]): r for r in self.relations}
        for r in self.relations:
            rel = nt_iri(r["iri"])
            out = [
                (T_TYPE, f"<{OWL_NS}ObjectProperty>"),
                (T_TYPE, t(CKG.Relation)),
                (f"<{RDFS_NS}subPropertyOf>", t(r["kind"].term)),
                (T_LABEL, nt_string(r["name"])),
                (t(CKG.defaultConfidence), nt_typed(float_lexical(np.array([r["default"]]))[0], XSD + "float")),
            ]
            if r["kind"].term == CKG.interactionBy and r["name"].endswith("_by"):
                fwd = by_name.get(("user_side", r["name"][: -len("_by")]))
                if fwd is not None and fwd["kind"].term == CKG.interaction:
                    out.append((f"<{OWL_NS}inverseOf>", nt_iri(fwd["iri"])))
            for p, o in out:
                sink.write("default", p, pa.array([f"{rel} {p} {o}{end}"]))
            sink.instances("default", str(CKG.Relation), 1)

    def emit_nodes(self, sink: _Sink) -> None:
        end = self.end("default")
        names = pa.array([None] * self.node_count, type=pa.string())
        for kind, table in ((KIND_USER, self.users), (KIND_ITEM, self.items)):
            has = table["name"].notna()
            if not has.any():
                continue
            lab = pa.array(
                (LABEL_PREFIX[kind] + table.loc[has, "label"].astype(str)).to_numpy(dtype=object), type=pa.string()
            )
            val = pa.array(table.loc[has, "name"].astype(str).to_numpy(dtype=object), type=pa.string())
            pos = pc.index_in(self.node_label, lab)
            mask = pc.and_(pc.is_valid(pos), pc.equal(self.node_kind, kind))
            names = pc.if_else(mask, val.take(pos), names)
        cls_nt = pa.array([f"<{c}>" for c in KIND_CLASS.values()], type=pa.string())
        kind_index = pc.index_in(self.node_kind, pa.array(list(KIND_CLASS)))
        step = self.opts.batch_rows
        for start in range(0, self.node_count, step):
            subj = self.node_nt.slice(start, step)
            cls = cls_nt.take(kind_index.slice(start, step))
            sink.write("default", T_TYPE, _join(subj, " ", T_TYPE, " ", cls, end))
            sink.write(
                "default",
                T_LABEL,
                _join(subj, " ", T_LABEL, " ", escape_literals(self.node_label.slice(start, step)), end),
            )
            sink.write(
                "default",
                t(CKG.name),
                _join(subj, " ", t(CKG.name), " ", escape_literals(names.slice(start, step)), end),
            )
        vc = pc.value_counts(self.node_kind)
        for k, n in zip(vc.field("values").to_pylist(), vc.field("counts").to_pylist()):
            sink.instances("default", str(KIND_CLASS[k]), int(n))
        self.node_nt = self.node_label = self.node_kind = None  # written; free them before the triples
        # A: the item's entity in the source KG, merged into the item node
        al = self.store.graph_table("alignment_items", "user_side", columns=["item", "external"])
        al = al[al["external"].notna() & (al["external"].astype(str) != "")]
        if len(al):
            subj = self.item_nt.take(pa.array(al["item"].to_numpy(np.int64)))
            obj = pa.array(
                [
                    "<" + x + ">"
                    for x in mint_all(
                        self.base, NODE_PATH["external_entity"], al["external"].astype(str).to_numpy(dtype=object)
                    )
                ],
                type=pa.string(),
            )
            sink.write("default", T_SAMEAS, _join(subj, " ", T_SAMEAS, " ", obj, end))
        self.links = al

    def emit_features(self, sink: _Sink) -> None:
        if not self.opts.features:
            return
        end, s = self.end("default"), self.store
        for m in s.modalities:
            miri = mint(self.base, "modality/", m)
            dim = s.manifest.get("feature_dims", {}).get(m)
            out = [
                (T_TYPE, t(CKG.Modality)),
                (T_LABEL, nt_string(m)),
                (t(CKG.matrixFile), nt_string(f"features/{m}.npy")),
                (t(CKG.indexFile), nt_string(f"features/{m}.parquet")),
            ]
            if dim is not None:
                out.append((t(CKG.dimension), nt_typed(str(int(dim)), XSD + "long")))
            for p, o in out:
                sink.write("default", p, pa.array([f"<{miri}> {p} {o}{end}"]))
            sink.write(
                "default", t(CKG.hasModality), pa.array([f"<{self.dataset_iri}> {t(CKG.hasModality)} <{miri}>{end}"])
            )
            sink.instances("default", str(CKG.Modality), 1)
            index, _ = s.feature(m)
            items = pa.array(index["item"].to_numpy(np.int64))
            if len(index) and (index["item"].max() >= len(self.items) or index["item"].min() < 0):
                raise StoreError(f"{s.path}: features/{m}.parquet lists item ids outside 0..{len(self.items) - 1}")
            feat = _join(f"<{self.base}feature/{encode_keys([m])[0]}/", self.item_keys.take(items), ">")
            row = pc.cast(pa.array(index["row"].to_numpy(np.int64)), pa.string())
            item_nt = self.item_nt.take(items)
            sink.write("default", t(CKG.hasFeatureVector), _join(item_nt, f" {t(CKG.hasFeatureVector)} ", feat, end))
            sink.write("default", T_TYPE, _join(feat, f" {T_TYPE} {t(CKG.FeatureVector)}{end}"))
            sink.write("default", t(CKG.modality), _join(feat, f" {t(CKG.modality)} <{miri}>{end}"))
            sink.write("default", t(CKG.row), _join(feat, f' {t(CKG.row)} "', row, f'"^^<{XSD}long>{end}'))
            sink.instances("default", str(CKG.FeatureVector), len(index))

    def emit_triples(self, sink: _Sink) -> None:
        pf = checked_parquet(self.store, "triples")
        rel_nt = self.rel_nt
        for b in _batches(pf, ["graph", "head", "relation", "tail", "confidence"], self.opts.batch_rows):
            for g in GRAPHS:
                part = b.filter(pc.equal(b.column("graph"), g))
                if part.num_rows == 0:
                    continue
                key = STORE_GRAPH_KEY[g]
                heads, rels, tails = part.column("head"), part.column("relation"), part.column("tail")
                n_ent, n_rel = len(self.ent_nt[g]), len(rel_nt[g])
                lo_hi = [pc.min_max(c).as_py() for c in (heads, tails, rels)]
                if (
                    min(lo_hi[0]["min"], lo_hi[1]["min"], lo_hi[2]["min"]) < 0
                    or max(lo_hi[0]["max"], lo_hi[1]["max"]) >= n_ent
                    or lo_hi[2]["max"] >= n_rel
                ):
                    raise StoreError(f"{self.store.path}: triples of {g} reference entity or relation ids out of range")
                S = self.ent_nt[g].take(heads)
                P = rel_nt[g].take(rels)
                O = self.ent_nt[g].take(tails)
                if P.null_count:
                    raise StoreError(
                        f"{self.store.path}: {g} has triples under an inverse relation; only forward triples are stored"
                    )
                spo = _join(S, " ", P, " ", O)
                end = self.end(key)
                lines = _join(spo, end)
                _write_array(sink.f, lines)
                vc = pc.value_counts(rels)
                for rid, c in zip(vc.field("values").to_pylist(), vc.field("counts").to_pylist()):
                    sink.account(key, rel_nt[g][rid].as_py(), c)
                conf = part.column("confidence").to_numpy()
                odd = np.flatnonzero(conf != self.default_conf[g][rels.to_numpy()])
                if len(odd):
                    self._statements(sink, key, spo.take(pa.array(odd)), S, P, O, odd, conf[odd], end)

    def _statements(self, sink, key, spo, S, P, O, odd, conf, end) -> None:
        idx = pa.array(odd)
        prefix = self.base + "statement/"
        st = pa.array(
            ["<" + prefix + hashlib.sha1(x.encode()).hexdigest()[:24] + ">" for x in spo.to_pylist()], type=pa.string()
        )
        cf = pa.array(float_lexical(conf), type=pa.string())
        sink.write(key, T_TYPE, _join(st, f" {T_TYPE} <{RDF_NS}Statement>{end}"))
        sink.write(key, f"<{RDF_NS}subject>", _join(st, f" <{RDF_NS}subject> ", S.take(idx), end))
        sink.write(key, f"<{RDF_NS}predicate>", _join(st, f" <{RDF_NS}predicate> ", P.take(idx), end))
        sink.write(key, f"<{RDF_NS}object>", _join(st, f" <{RDF_NS}object> ", O.take(idx), end))
        sink.write(key, t(CKG.confidence), _join(st, f' {t(CKG.confidence)} "', cf, f'"^^<{XSD}float>{end}'))
        sink.instances(key, f"{RDF_NS}Statement", len(odd))

    def emit_records(self, sink: _Sink) -> None:
        mode = self.opts.interactions
        if mode == "none":
            return
        pf = checked_parquet(self.store, "interactions")
        key, end = GRAPH_INTERACTIONS, self.end(GRAPH_INTERACTIONS)
        rel_prefix = self.base + RELATION_PATH[CKG.interaction]
        n_users, n_items = len(self.users), len(self.items)
        for b in _batches(pf, self._record_columns(pf), self.opts.batch_rows):
            if mode == "held-out":
                b = b.filter(pc.not_equal(b.column("split"), "train"))
            if b.num_rows == 0:
                continue
            u, i = b.column("user"), b.column("item")
            un, inn = u.to_numpy(), i.to_numpy()
            if un.min() < 0 or un.max() >= n_users or inn.min() < 0 or inn.max() >= n_items:
                raise StoreError(f"{self.store.path}: interactions reference user or item ids out of range")
            split = b.column("split")
            bad = pc.invert(pc.is_in(split, pa.array(list(SPLITS))))
            if pc.any(bad).as_py():
                raise StoreError(
                    f"{self.store.path}: interaction split {pc.filter(split, bad)[0].as_py()!r} is not one of {SPLITS}"
                )
            behav = b.column("relation").to_pandas()
            codes, uniq = pd.factorize(behav, sort=True)
            bkey = pa.array(encode_keys(uniq.to_numpy(dtype=object)), type=pa.string()).take(pa.array(codes))
            rec = _join(
                "<" + self.base + "record/", self.user_keys.take(u), "/", self.item_keys.take(i), "/", bkey, ">"
            )
            split_nt = pc.replace_substring_regex(split, "^(.*)$", f"<{CKG._NS}\\1>")
            ts = pc.cast(b.column("timestamp"), pa.string())
            cf = pa.array(float_lexical(b.column("confidence").to_numpy()), type=pa.string())
            n = b.num_rows
            sink.write(key, T_TYPE, _join(rec, f" {T_TYPE} {t(CKG.InteractionRecord)}{end}"))
            sink.write(key, t(CKG.user), _join(rec, f" {t(CKG.user)} ", self.user_nt.take(u), end))
            sink.write(key, t(CKG.item), _join(rec, f" {t(CKG.item)} ", self.item_nt.take(i), end))
            sink.write(key, t(CKG.behaviour), _join(rec, f" {t(CKG.behaviour)} <{rel_prefix}", bkey, ">", end))
            sink.write(key, t(CKG.split), _join(rec, f" {t(CKG.split)} ", split_nt, end))
            sink.write(key, t(CKG.timestamp), _join(rec, f' {t(CKG.timestamp)} "', ts, f'"^^<{XSD}long>{end}'))
            sink.write(key, t(CKG.confidence), _join(rec, f' {t(CKG.confidence)} "', cf, f'"^^<{XSD}float>{end}'))
            if "protocol" in b.schema.names:
                sink.write(
                    key,
                    t(CKG.protocol),
                    _join(rec, f" {t(CKG.protocol)} ", _string_literals(b.column("protocol")), end),
                )
            sink.instances(key, str(CKG.InteractionRecord), n)

    @staticmethod
    def _record_columns(pf: pq.ParquetFile) -> list[str]:
        cols = ["user", "item", "relation", "split", "timestamp", "confidence"]
        return cols + (["protocol"] if "protocol" in pf.schema_arrow.names else [])

    def emit_all(self, sink: _Sink) -> None:
        self.emit_dataset(sink)
        self.emit_relations(sink)
        self.emit_nodes(sink)
        self.emit_features(sink)
        self.emit_triples(sink)
        self.emit_records(sink)


_JSON_ESC = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r"})


def _sidecar_stem(output: Path) -> Path:
    name = output.name
    for suffix in (".gz",):
        name = name.removesuffix(suffix)
    for suffix in (".nt", ".nq", ".ttl", ".trig"):
        name = name.removesuffix(suffix)
    return output.with_name(name)


def infer_format(output: str | Path) -> tuple[str | None, bool]:
    """(format, gzip) guessed from a file name such as ``g.nq.gz``."""
    name = str(output).lower()
    gz = name.endswith(".gz")
    name = name.removesuffix(".gz")
    for fmt in FORMATS:
        if name.endswith("." + fmt):
            return fmt, gz
    return None, gz


def export_store(
    store_path: str | Path,
    output: str | Path,
    fmt: str,
    options: ExportOptions | None = None,
) -> ExportReport:
    """Write ``store_path`` as RDF to ``output`` (atomically: a temporary file renamed at the end)."""
    opts = options or ExportOptions()
    if fmt not in FORMATS:
        raise ConfigError(f"format {fmt!r}: use one of {', '.join(FORMATS)}")
    store = Store.open(store_path)
    started = time.perf_counter()
    ex = _Exporter(store, fmt, opts)
    ex.prepare()
    ex.scan_confidence()
    out = Path(output)
    if fmt == "ttl":
        est = ex.estimate()
        if est > opts.turtle_limit:
            raise RdfExportError(
                f"Turtle is built in memory and this export has at least {est:,} triples (limit {opts.turtle_limit:,}); "
                "use --format nt or nq, which are streamed in batches, or raise --turtle-limit"
            )
    report = ExportReport(output=out, format=fmt, base=ex.base, fingerprint=store.fingerprint)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as raw:
            f = gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=5, mtime=0) if opts.gzip else raw
            try:
                if fmt == "ttl":
                    buf = io.BytesIO()
                    ex.emit_all(_Sink(buf, report))
                    _write_turtle(buf.getvalue(), f, ex.base)
                else:
                    ex.emit_all(_Sink(f, report))
            finally:
                if opts.gzip:
                    f.close()
        os.chmod(tmp, file_mode())  # mkstemp creates 0600; an export is a file like any other: the user's umask decides
        os.replace(tmp, out)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    report.seconds = time.perf_counter() - started
    if opts.sidecars:
        from ckgrec.kgbuild.rdf.sssom import write_sssom
        from ckgrec.kgbuild.rdf.void import write_void

        stem = _sidecar_stem(out)
        report.void = write_void(report, ex, Path(str(stem) + ".void.ttl"))
        if len(ex.links):
            report.sssom = write_sssom(ex, Path(str(stem) + ".sssom.tsv"))
    return report


def _write_turtle(ntriples: bytes, f, base: str) -> None:
    from rdflib import Graph

    from ckgrec.kgbuild.rdf.iri import prefixes

    g = Graph(bind_namespaces="none")
    g.parse(data=ntriples.decode("utf-8"), format="nt")
    for p, ns in prefixes(base).items():
        g.bind(p, ns, override=True, replace=True)
    f.write(g.serialize(format="turtle", encoding="utf-8"))
