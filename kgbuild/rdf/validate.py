"""``ckg validate-rdf``: SHACL on (a sample of) an export, whole-graph integrity on a store.

pyshacl costs seconds per ten thousand triples with these shapes (the edge and vocabulary
checks are SPARQL constraints), so it cannot check a million-triple export in one go. What
runs instead:

* on an RDF file: the SHACL shapes (``schemas/shapes.ttl``, vocabulary as ontology graph)
  over the whole file when it is small, else over a sample of subjects chosen by a hash of
  their IRI, together with every schema node (relations, dataset, modalities) and the class
  and label of every node the sampled triples point to, so the sample is self-contained;
* on a store: the same SHACL sample of its export, plus :func:`integrity_problems`, which
  checks every row of the Parquet tables with vectorised pandas (ids in range, endpoint kinds
  per relation family, inverse pairing, alignments, that the graphs' interaction edges are
  exactly the training interactions, feature indexes).

Every problem found is reported, not just the first.
"""

from __future__ import annotations

import tempfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ckgrec.kgbuild.rdf.errors import require
from ckgrec.kgbuild.rdf.parse import Lit, iter_quads
from ckgrec.schemas.errors import Problem
from ckgrec.schemas.rdf_vocab import CKG, RELATION_KINDS, SHAPES_FILE, VOCAB_FILE
from ckgrec.schemas.store import Store
from ckgrec.schemas.tables import (
    ENTITY_KINDS,
    FAMILY_CONCEPT,
    FAMILY_EXTERNAL,
    FAMILY_INTERACTION,
    FAMILY_ITEM_ATTRIBUTE,
    FAMILY_USER_ATTRIBUTE,
    GRAPHS,
    KIND_CONCEPT,
    KIND_EXTERNAL,
    KIND_ITEM,
    KIND_ITEM_ATTRIBUTE,
    KIND_USER,
    KIND_USER_ATTRIBUTE,
    SPLITS,
)

RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS_NS = "http://www.w3.org/2000/01/rdf-schema#"
A, LABEL = RDF_NS + "type", RDFS_NS + "label"
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
SCHEMA_CLASSES = {
    str(CKG.Relation),
    str(CKG.Dataset),
    str(CKG.Modality),
    str(CKG.UserSideGraph),
    str(CKG.ItemSideGraph),
    str(CKG.InteractionLogGraph),
    "http://www.w3.org/2002/07/owl#ObjectProperty",
}
SCHEMA_PREDICATES = {
    RDFS_NS + "subPropertyOf",
    str(CKG.defaultConfidence),
    str(CKG.baseIri),
    str(CKG.fingerprint),
    str(CKG.dimension),
}
DEFAULT_SAMPLE = 10_000
MAX_PER_RULE = 20

# (graph, family) -> (allowed head kinds, allowed tail kinds)
ENDPOINTS = {
    ("user_side", FAMILY_INTERACTION): ({KIND_USER}, {KIND_ITEM}),
    ("item_side", FAMILY_INTERACTION): ({KIND_ITEM}, {KIND_USER}),
    ("item_side", FAMILY_USER_ATTRIBUTE): ({KIND_USER}, {KIND_USER_ATTRIBUTE}),
    ("user_side", FAMILY_ITEM_ATTRIBUTE): ({KIND_ITEM}, {KIND_ITEM_ATTRIBUTE}),
    ("user_side", FAMILY_CONCEPT): ({KIND_ITEM}, {KIND_CONCEPT}),
    ("user_side", FAMILY_EXTERNAL): ({KIND_ITEM, KIND_EXTERNAL}, {KIND_ITEM, KIND_EXTERNAL}),
}
LABEL_PREFIXES = {KIND_USER: "user:", KIND_ITEM: "item:", KIND_EXTERNAL: "kg:"}


@dataclass
class ValidationReport:
    target: Path
    problems: list[Problem] = field(default_factory=list)
    shacl_triples: int = 0
    shacl_sampled: bool = False
    shacl_ran: bool = False
    integrity_ran: bool = False
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


# ---------------------------------------------------------------- integrity on the store tables


class _Problems:
    def __init__(self, store: Store):
        self.store = store
        self.items: list[Problem] = []

    def rows(self, file: str, mask, column: str | None, rule: str, values=None) -> None:
        mask = np.asarray(mask, dtype=bool)
        bad = np.flatnonzero(mask)
        for k in bad[:MAX_PER_RULE]:
            detail = f"value {values[k]!r}" if values is not None else ""
            self.items.append(Problem(file, int(k) + 1, column, rule, detail))
        if len(bad) > MAX_PER_RULE:
            self.items.append(Problem(file, None, column, rule, f"... and {len(bad) - MAX_PER_RULE} more rows"))

    def add(self, file: str, rule: str, detail: str = "", column: str | None = None) -> None:
        self.items.append(Problem(file, None, column, rule, detail))


def integrity_problems(store: Store) -> list[Problem]:
    """Every rule a ``ckg build`` store keeps, checked on every row of its tables."""
    P = _Problems(store)
    ent = store.table("entities")
    rel = store.table("relations")
    tri = store.table("triples")
    users, items = store.table("users"), store.table("items")
    inter = store.table("interactions")
    for g in GRAPHS:
        e = ent[ent["graph"] == g]
        if not np.array_equal(np.sort(e["entity"].to_numpy()), np.arange(len(e))):
            P.add("entities.parquet", f"{g}: entity ids are not exactly 0..{len(e) - 1}")
        P.rows(
            "entities.parquet",
            ~ent["kind"].isin(ENTITY_KINDS).to_numpy() & (ent["graph"] == g).to_numpy(),
            "kind",
            "unknown entity kind",
            ent["kind"].to_numpy(),
        )
        dup = e["label"].duplicated(keep="first").to_numpy()
        if dup.any():
            P.add(
                "entities.parquet",
                f"{g}: duplicate entity labels",
                ", ".join(map(repr, e["label"][dup].head(5))),
                "label",
            )
        for kind, prefix in LABEL_PREFIXES.items():
            sel = (ent["graph"] == g).to_numpy() & (ent["kind"] == kind).to_numpy()
            P.rows(
                "entities.parquet",
                sel & ~ent["label"].astype(str).str.startswith(prefix).to_numpy(),
                "label",
                f"a {kind} label starts with '{prefix}'",
                ent["label"].to_numpy(),
            )
        for kind, table, col in ((KIND_USER, users, "user"), (KIND_ITEM, items, "item")):
            have = set(e.loc[e["kind"] == kind, "label"])
            want = set(LABEL_PREFIXES[kind] + table["label"].astype(str))
            if have != want:
                P.add(
                    "entities.parquet",
                    f"{g}: {kind} entities differ from {col}s.parquet",
                    f"{len(want - have)} missing, {len(have - want)} extra",
                )
        r = rel[rel["graph"] == g].sort_values("relation")
        if not np.array_equal(r["relation"].to_numpy(), np.arange(len(r))):
            P.add("relations.parquet", f"{g}: relation ids are not exactly 0..{len(r) - 1}")
            continue
        inv = r["inverse"].to_numpy()
        ok_range = (inv >= 0) & (inv < len(r))
        P.rows("relations.parquet", ~ok_range, "inverse", f"{g}: inverse id out of range", inv)
        if ok_range.all():
            back = inv[inv]
            P.rows(
                "relations.parquet",
                back != np.arange(len(r)),
                "inverse",
                f"{g}: inverse of the inverse is not the relation",
                inv,
            )
            P.rows(
                "relations.parquet",
                r["is_inverse"].to_numpy() == r["is_inverse"].to_numpy()[inv],
                "is_inverse",
                f"{g}: a relation and its inverse must differ in is_inverse",
            )
        fwd = r[~r["is_inverse"]]
        bad_fam = ~np.array([(g, f) in ENDPOINTS for f in fwd["family"]], dtype=bool)
        for name, fam in zip(fwd["name"][bad_fam], fwd["family"][bad_fam]):
            P.add(
                "relations.parquet",
                f"{g}: relation {name!r} has family {fam!r}, which ckg build never puts in this graph",
                column="family",
            )
        t = tri[tri["graph"] == g]
        n_ent, n_rel = len(e), len(r)
        for col, hi in (("head", n_ent), ("tail", n_ent), ("relation", n_rel)):
            v = t[col].to_numpy()
            P.rows("triples.parquet", (v < 0) | (v >= hi), col, f"{g}: {col} id out of range 0..{hi - 1}", v)
        if len(t) == 0 or n_ent == 0:
            continue
        h, tl, rr = t["head"].to_numpy(), t["tail"].to_numpy(), t["relation"].to_numpy()
        ok = (h >= 0) & (h < n_ent) & (tl >= 0) & (tl < n_ent) & (rr >= 0) & (rr < n_rel)
        kinds = e.set_index("entity").sort_index()["kind"].to_numpy(dtype=object)
        is_inv = r["is_inverse"].to_numpy()
        fam = r["family"].to_numpy(dtype=object)
        P.rows(
            "triples.parquet",
            ok & is_inv[np.where(ok, rr, 0)],
            "relation",
            f"{g}: triple under an inverse relation (only forward triples are stored)",
        )
        hk, tk, rf = kinds[np.where(ok, h, 0)], kinds[np.where(ok, tl, 0)], fam[np.where(ok, rr, 0)]
        for (gg, f), (dom, rng) in ENDPOINTS.items():
            if gg != g:
                continue
            sel = ok & (rf == f)
            wrong = sel & ~(pd.Series(hk).isin(dom).to_numpy() & pd.Series(tk).isin(rng).to_numpy())
            P.rows(
                "triples.parquet",
                wrong,
                "head",
                f"{g}: a {f} triple goes from {'/'.join(sorted(dom))} to {'/'.join(sorted(rng))}",
                np.array([f"{a} -> {b}" for a, b in zip(hk, tk)], dtype=object),
            )
        c = t["confidence"].to_numpy()
        P.rows("triples.parquet", ~((c > 0) & (c <= 1)), "confidence", f"{g}: confidence must be in (0, 1]", c)
        dup = t.duplicated(["relation", "head", "tail"]).to_numpy()
        P.rows("triples.parquet", dup, None, f"{g}: duplicate triple")

    # alignments: A and B point at the entity whose label is the item's / user's
    for name, table, col, kind in (
        ("alignment_items", items, "item", KIND_ITEM),
        ("alignment_users", users, "user", KIND_USER),
    ):
        al = store.table(name)
        for g in GRAPHS:
            a = al[al["graph"] == g]
            e = ent[ent["graph"] == g].set_index("entity")["label"]
            labels = e.reindex(a["entity"].to_numpy()).to_numpy(dtype=object)
            want = LABEL_PREFIXES[kind] + table.set_index(col)["label"].astype(str).reindex(a[col].to_numpy()).to_numpy(
                dtype=object
            )
            P.rows(
                f"{name}.parquet", labels != want, "entity", f"{g}: the aligned entity is not the {col}'s node", labels
            )
            if len(a) != len(table):
                P.add(f"{name}.parquet", f"{g}: {len(a)} rows for {len(table)} {col}s")

    # interactions: valid rows, and the graphs' interaction edges are exactly the training rows
    n_users, n_items = len(users), len(items)
    u, i = inter["user"].to_numpy(), inter["item"].to_numpy()
    P.rows("interactions.parquet", (u < 0) | (u >= n_users), "user", "user id out of range", u)
    P.rows("interactions.parquet", (i < 0) | (i >= n_items), "item", "item id out of range", i)
    P.rows(
        "interactions.parquet",
        ~inter["split"].isin(SPLITS).to_numpy(),
        "split",
        f"split must be one of {SPLITS}",
        inter["split"].to_numpy(),
    )
    P.rows(
        "interactions.parquet",
        inter.duplicated(["user", "item", "relation"]).to_numpy(),
        None,
        "duplicate (user, item, relation)",
    )
    for g, suffix, flip in (("user_side", "", False), ("item_side", "_by", True)):
        r = rel[(rel["graph"] == g) & (rel["family"] == FAMILY_INTERACTION) & ~rel["is_inverse"]]
        names = r["name"].astype(str).str.removesuffix(suffix) if flip else r["name"].astype(str)
        rel_id = pd.Series(r["relation"].to_numpy(), index=names.to_numpy())
        e = ent[ent["graph"] == g]
        lab = pd.Series(e["entity"].to_numpy(), index=e["label"].to_numpy())
        uent = lab.reindex("user:" + users["label"].astype(str)).fillna(-1).to_numpy(np.int64)
        ient = lab.reindex("item:" + items["label"].astype(str)).fillna(-1).to_numpy(np.int64)
        ok = (u >= 0) & (u < n_users) & (i >= 0) & (i < n_items)
        rows = pd.DataFrame(
            {
                "head": np.where(ok, (ient if flip else uent)[np.where(ok, i if flip else u, 0)], -1),
                "relation": rel_id.reindex(inter["relation"].astype(str).to_numpy()).fillna(-1).to_numpy(np.int64),
                "tail": np.where(ok, (uent if flip else ient)[np.where(ok, u if flip else i, 0)], -1),
                "split": inter["split"].to_numpy(dtype=object),
            }
        )
        t = tri[(tri["graph"] == g) & tri["relation"].isin(r["relation"])][["head", "relation", "tail"]].astype(
            np.int64
        )
        m = t.merge(rows.drop_duplicates(["head", "relation", "tail"]), on=["head", "relation", "tail"], how="left")
        no_row = int(m["split"].isna().sum())
        leaked = int((m["split"].notna() & (m["split"] != "train")).sum())
        trained = rows[rows["split"] == "train"].merge(t, on=["head", "relation", "tail"], how="left", indicator=True)
        no_edge = int((trained["_merge"] == "left_only").sum())
        if no_row or leaked or no_edge:
            P.add(
                "triples.parquet",
                f"{g}: interaction edges differ from the training interactions",
                f"{no_edge} training rows without an edge, {no_row} edges without an interaction row, "
                f"{leaked} edges that are valid/test interactions (leakage)",
            )

    # features
    for m in store.modalities:
        try:
            index, matrix = store.feature(m)
        except Exception as e:  # a broken feature file is one more problem, not a crash
            P.add(f"features/{m}.parquet", "unreadable", str(e))
            continue
        it, row = index["item"].to_numpy(), index["row"].to_numpy()
        P.rows(f"features/{m}.parquet", (it < 0) | (it >= n_items), "item", "item id out of range", it)
        P.rows(f"features/{m}.parquet", index["item"].duplicated().to_numpy(), "item", "item listed twice", it)
        if not np.array_equal(row, np.arange(len(row))) or matrix.shape[0] != len(row):
            P.add(
                f"features/{m}.parquet",
                f"rows are not 0..{len(row) - 1} matching features/{m}.npy with {matrix.shape[0]} rows",
                column="row",
            )
        dim = store.manifest.get("feature_dims", {}).get(m)
        if dim is not None and matrix.shape[1] != dim:
            P.add(f"features/{m}.npy", f"dimension {matrix.shape[1]} but the manifest says {dim}")

    # manifest counts
    c = store.counts
    for g in GRAPHS:
        for what, frame in (("entities", ent), ("triples", tri)):
            n = int((frame["graph"] == g).sum())
            if c.get(what, {}).get(g, n) != n:
                P.add("manifest.json", f"counts.{what}.{g} = {c[what][g]} but the table has {n}")
    return P.items


# ---------------------------------------------------------------- SHACL


def _sample_graph(path: Path, sample: int, engine: str = "auto"):
    """(rdflib Graph, quads in the file, focus nodes or None) for SHACL: everything if small,
    else a self-contained sample: every triple of the schema nodes and of the subjects whose
    IRI hashes below the sampling rate, plus the class and label of the nodes they point to.
    Only the sampled subjects, the schema nodes and the relation kinds are focus nodes, so the
    nodes added for their class alone are not judged on a partial description."""
    from rdflib import Graph, Literal, URIRef

    def term(x):
        if isinstance(x, Lit):
            return Literal(x.value) if x.datatype == XSD_STRING else Literal(x.value, datatype=URIRef(x.datatype))
        return URIRef(x)

    total, schema = 0, set()
    for s, p, o, _ in iter_quads(path, engine=engine):
        total += 1
        if (p == A and o in SCHEMA_CLASSES) or p in SCHEMA_PREDICATES:
            schema.add(s)
    g = Graph()
    if total <= sample:
        for s, p, o, _ in iter_quads(path, engine=engine):
            g.add((URIRef(s), URIRef(p), term(o)))
        return g, total, None
    limit = int(sample / total * 2**32)
    needed, focus = set(), set(schema)
    for s, p, o, _ in iter_quads(path, engine=engine):
        if s in schema or zlib.crc32(s.encode()) < limit:
            focus.add(s)
            g.add((URIRef(s), URIRef(p), term(o)))
            if not isinstance(o, Lit) and p != A:
                needed.add(o)
    needed -= schema
    for s, p, o, _ in iter_quads(path, engine=engine):
        if s in needed and p in (A, LABEL):
            g.add((URIRef(s), URIRef(p), term(o)))
    kinds = [str(k.term) for k in RELATION_KINDS] + [str(CKG.Dataset)]
    return g, total, [URIRef(x) for x in sorted(focus)] + [URIRef(k) for k in kinds]


def shacl_problems(data_graph, focus_nodes=None) -> list[Problem]:
    pyshacl = require("pyshacl", "rdf", "SHACL validation")
    from rdflib import Graph
    from rdflib.namespace import SH

    shapes = Graph().parse(SHAPES_FILE, format="turtle")
    vocab = Graph().parse(VOCAB_FILE, format="turtle")
    conforms, results, _ = pyshacl.validate(
        data_graph,
        shacl_graph=shapes,
        ont_graph=vocab,
        inference="none",
        allow_warnings=True,
        inplace=True,
        focus_nodes=focus_nodes,
    )
    out = []
    if conforms:
        return out
    seen = {}
    for res in results.subjects(predicate=None, object=SH.ValidationResult):
        msg = str(results.value(res, SH.resultMessage) or "")
        focus = results.value(res, SH.focusNode)
        path = results.value(res, SH.resultPath)
        value = results.value(res, SH.value)
        key = (msg, str(path))
        seen[key] = seen.get(key, 0) + 1
        if seen[key] <= MAX_PER_RULE:
            where = f"<{focus}>" + (f" {path.n3(results.namespace_manager)}" if path is not None else "")
            detail = f"value {value}" if value is not None and str(value) not in msg else ""
            out.append(Problem("SHACL", None, None, f"{where}: {msg}", detail))
    for (msg, path), n in seen.items():
        if n > MAX_PER_RULE:
            out.append(Problem("SHACL", None, None, f"{msg}", f"... and {n - MAX_PER_RULE} more"))
    return out


def validate_target(
    target: str | Path,
    *,
    sample: int = DEFAULT_SAMPLE,
    shacl: bool = True,
    engine: str = "auto",
    base: str | None = None,
) -> ValidationReport:
    """Validate an RDF export (a file) or a store (a directory); see the module docstring."""
    import time

    target = Path(target)
    rep = ValidationReport(target)
    if target.is_dir():
        store = Store.open(target)
        t = time.perf_counter()
        rep.problems += integrity_problems(store)
        rep.integrity_ran = True
        rep.seconds["integrity"] = time.perf_counter() - t
        if shacl:
            require("pyshacl", "rdf", "SHACL validation")
            from ckgrec.kgbuild.rdf.export import ExportOptions, export_store

            with tempfile.TemporaryDirectory(prefix="ckg-validate-") as tmp:
                f = Path(tmp) / "export.nq"
                export_store(target, f, "nq", ExportOptions(base=base, sidecars=False))
                _run_shacl(rep, f, sample, engine)
        return rep
    if shacl:
        _run_shacl(rep, target, sample, engine)
    return rep


def _run_shacl(rep: ValidationReport, path: Path, sample: int, engine: str) -> None:
    import time

    t = time.perf_counter()
    g, total, focus = _sample_graph(path, sample, engine)
    rep.shacl_triples, rep.shacl_sampled = len(g), focus is not None
    rep.problems += shacl_problems(g, focus)
    rep.shacl_ran = True
    rep.seconds["shacl"] = time.perf_counter() - t
    rep.seconds["file_triples"] = float(total)
