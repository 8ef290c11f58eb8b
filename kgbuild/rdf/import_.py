"""RDF export -> store: the inverse of :mod:`ckgrec.kgbuild.rdf.export`.

The RDF names things by IRI, not by dense id, so the importer renumbers with the builder's own
rules: users and items in natural order of their source ids, each graph's entities in blocks
(G_u: users, items, item attributes, concepts, external entities; G_i: items, users, user
attributes) with every attribute-like block sorted by label, relations by kind then name, and
triples sorted through :func:`ckgrec.kgbuild.graphs.assemble` itself. A store made by ``ckg build``
therefore comes back with the same ids, the same tables and the same fingerprint (the export
records the original fingerprint and the report says whether it was reproduced).

The interaction log comes from the ``ckg:InteractionRecord`` nodes. An export made with
``--interactions held-out`` or ``none`` lacks training records: their rows are rebuilt from
the G_u interaction edges (without timestamps) and the report says so. Feature vectors are
not in RDF; ``features_from`` (the original store, or a directory of ``<modality>.npy``) puts
them back, checked against the pointers' rows and dimensions.

Anything that is not a ckgrec export (an unknown predicate, a node without a ckgrec class, an
edge in the wrong named graph, a blank node) is an error that names the term.
"""

from __future__ import annotations

import difflib
import json
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ckgrec.kgbuild import graphs
from ckgrec.kgbuild.rdf.errors import RdfInputError
from ckgrec.kgbuild.rdf.iri import LABEL_PREFIX, NODE_PATH, RELATION_PATH, decode
from ckgrec.kgbuild.rdf.parse import Lit, iter_quads
from ckgrec.kgbuild.store_output import natural_order, store_counts, write_store
from ckgrec.schemas.errors import InputNotFoundError, StoreError
from ckgrec.schemas.rdf_vocab import (
    CKG,
    KIND_CLASS,
    RELATION_KINDS,
    SPLIT_TERMS,
    vocabulary_terms,
)
from ckgrec.schemas.store import Store, check_output_path, store_fingerprint
from ckgrec.schemas.tables import (
    KIND_CONCEPT,
    KIND_EXTERNAL,
    KIND_ITEM,
    KIND_ITEM_ATTRIBUTE,
    KIND_USER,
    KIND_USER_ATTRIBUTE,
)

RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS_NS = "http://www.w3.org/2000/01/rdf-schema#"
OWL_NS = "http://www.w3.org/2002/07/owl#"
A, LABEL = RDF_NS + "type", RDFS_NS + "label"
SUBPROP, INVERSE, SAMEAS = RDFS_NS + "subPropertyOf", OWL_NS + "inverseOf", OWL_NS + "sameAs"
ST_S, ST_P, ST_O = RDF_NS + "subject", RDF_NS + "predicate", RDF_NS + "object"
CKG_NS = str(CKG._NS)
KNOWN_CKG = {str(v) for v in vocabulary_terms().values()}
STANDARD = {A, LABEL, SUBPROP, INVERSE, SAMEAS, ST_S, ST_P, ST_O}
CLASS_KIND = {str(v): k for k, v in KIND_CLASS.items()}
KIND_TERMS = {str(k.term): k for k in RELATION_KINDS}
SPLIT_OF = {str(v): k for k, v in SPLIT_TERMS.items()}
MAX_SHOWN = 5


@dataclass
class ImportReport:
    """What an import read and wrote, and whether the ids came back the same."""

    store: Path
    quads: int
    fingerprint: str
    original_fingerprint: str | None
    counts: dict
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def same_fingerprint(self) -> bool:
        return self.original_fingerprint == self.fingerprint


class _Reader:
    """Collects what the import needs from a stream of quads, interning IRIs as ints."""

    def __init__(self, path):
        self.path = path
        self.ids: dict[str, int] = {}
        self.iris: list[str] = []
        self.types: dict[int, set[str]] = defaultdict(set)
        self.labels: dict[int, str] = {}
        self.names: dict[int, str] = {}
        self.props: dict[int, dict[str, object]] = defaultdict(dict)  # single-valued ckg properties
        self.subprop: dict[int, str] = {}
        self.sameas: dict[int, str] = {}
        self.features: dict[int, list[int]] = defaultdict(list)
        self.modalities: list[int] = []
        self.edge_s: list[int] = []
        self.edge_p: list[int] = []
        self.edge_o: list[int] = []
        self.edge_g: list[str | None] = []
        self.n = 0

    def id(self, iri: str) -> int:
        i = self.ids.get(iri)
        if i is None:
            i = self.ids[iri] = len(self.iris)
            self.iris.append(iri)
        return i

    def bad(self, msg: str) -> RdfInputError:
        return RdfInputError(f"{self.path}: {msg}")

    def read(self, quads) -> None:
        """One pass over the quads; a dict dispatch on the predicate keeps this loop tight."""
        ids, iris = self.ids, self.iris
        types, labels, names, props = self.types, self.labels, self.names, self.props
        edge_s, edge_p, edge_o, edge_g = self.edge_s, self.edge_p, self.edge_o, self.edge_g
        kind_of = _DISPATCH
        n = 0
        for s, p, o, g in quads:
            n += 1
            sid = ids.get(s)
            if sid is None:
                sid = ids[s] = len(iris)
                iris.append(s)
            k = kind_of.get(p)
            if k is None:
                if p.startswith(CKG_NS) or p.startswith((RDF_NS, RDFS_NS, OWL_NS)):
                    hint = difflib.get_close_matches(p, KNOWN_CKG | STANDARD, n=1)
                    raise self.bad(
                        f"unknown predicate <{p}>"
                        + (f"; did you mean <{hint[0]}>?" if hint else "")
                        + " (it is not in the ckgrec vocabulary, schemas/vocab.ttl)"
                    )
                if isinstance(o, Lit):
                    raise self.bad(
                        f"unknown predicate <{p}> with a literal value on <{s}>: not a ckgrec vocabulary term, and a graph relation needs an IRI object"
                    )
                edge_s.append(sid)
                edge_p.append(self.id(p))
                edge_o.append(self.id(o))
                edge_g.append(g)
            elif k == _TYPE:
                if isinstance(o, Lit):
                    raise self.bad(f"rdf:type of <{s}> is a literal")
                types[sid].add(o)
            elif k == _LABEL:
                labels[sid] = _text(o)
            elif k == _NAME:
                names[sid] = _text(o)
            elif k == _IGNORE:
                pass
            elif isinstance(k, tuple):  # an IRI-valued structural property: (key, what)
                if isinstance(o, Lit):
                    raise self.bad(f"{k[1]} of <{s}> must be an IRI, not the literal {_show(o)}")
                key = k[0]
                if key == "subPropertyOf":
                    self.subprop[sid] = o
                elif key == "sameAs":
                    self.sameas[sid] = o
                elif key == "hasFeatureVector":
                    self.features[sid].append(self.id(o))
                elif key == "hasModality":
                    self.modalities.append(self.id(o))
                else:
                    props[sid][key] = self.id(o)
            else:  # a single-valued ckg property
                d = props[sid]
                prev = d.get(k)
                if prev is not None and prev != o:
                    raise self.bad(f"<{s}> has two values of ckg:{k} ({_show(prev)} and {_show(o)})")
                d[k] = o
        self.n = n


_TYPE, _LABEL, _NAME, _IGNORE = 0, 1, 2, 3
_SINGLE = (
    "baseIri",
    "fingerprint",
    "schemaVersion",
    "buildManifest",
    "interactionsExported",
    "userSideGraph",
    "itemSideGraph",
    "interactionLogGraph",
    "defaultConfidence",
    "confidence",
    "modality",
    "row",
    "dimension",
    "matrixFile",
    "indexFile",
    "user",
    "item",
    "behaviour",
    "split",
    "timestamp",
    "protocol",
)
_DISPATCH: dict[str, object] = {
    A: _TYPE,
    LABEL: _LABEL,
    str(CKG.name): _NAME,
    INVERSE: _IGNORE,  # owl:inverseOf is implied by the kinds
    SUBPROP: ("subPropertyOf", "rdfs:subPropertyOf"),
    SAMEAS: ("sameAs", "owl:sameAs"),
    str(CKG.hasFeatureVector): ("hasFeatureVector", "ckg:hasFeatureVector"),
    str(CKG.hasModality): ("hasModality", "ckg:hasModality"),
    ST_S: (ST_S, "rdf:subject"),
    ST_P: (ST_P, "rdf:predicate"),
    ST_O: (ST_O, "rdf:object"),
    **{str(CKG[k]): k for k in _SINGLE},
}


def _text(o) -> str:
    return o.value if isinstance(o, Lit) else str(o)


def _show(o) -> str:
    return f'"{o.value}"' if isinstance(o, Lit) else f"<{o}>"


def _iri(o, reader: _Reader, s: str, what: str) -> str:
    if isinstance(o, Lit):
        raise reader.bad(f"{what} of <{s}> must be an IRI, not the literal {_show(o)}")
    return o


def import_rdf(
    path: str | Path,
    out: str | Path,
    *,
    fmt: str | None = None,
    features_from: str | Path | None = None,
    force: bool = False,
    engine: str = "auto",
) -> ImportReport:
    """Read an export back into a store at ``out``."""
    started = time.perf_counter()
    sources = [path, *([features_from] if features_from is not None else [])]
    check_output_path(
        out, force=force, sources=sources
    )  # early, before parsing; the writer checks again under the lock
    r = _Reader(path)
    r.read(iter_quads(path, fmt, engine))
    notes: list[str] = []
    iris = r.iris

    # -- the dataset node
    datasets = [i for i, ts in r.types.items() if str(CKG.Dataset) in ts]
    if len(datasets) != 1:
        raise r.bad(f"not a ckgrec export: expected one ckg:Dataset node, found {len(datasets)}")
    dp = r.props[datasets[0]]
    base = _text(dp["baseIri"]) if "baseIri" in dp else iris[datasets[0]].removesuffix("dataset")
    manifest_part = json.loads(_text(dp["buildManifest"])) if "buildManifest" in dp else {}
    original_fp = _text(dp["fingerprint"]) if "fingerprint" in dp else None
    exported = _text(dp.get("interactionsExported", Lit("all", "")))
    graph_iri = {
        "user_side": dp.get("userSideGraph"),
        "item_side": dp.get("itemSideGraph"),
    }

    # -- relations
    relations: dict[int, tuple] = {}
    for rid, kind_iri in r.subprop.items():
        kind = KIND_TERMS.get(kind_iri)
        if kind is None:
            if kind_iri.startswith(CKG_NS) and kind_iri not in KNOWN_CKG:
                raise r.bad(f"<{iris[rid]}> rdfs:subPropertyOf unknown term <{kind_iri}>")
            continue
        if rid not in r.labels:
            raise r.bad(f"relation <{iris[rid]}> has no rdfs:label (its store name)")
        dc = r.props[rid].get("defaultConfidence")
        relations[rid] = (kind, r.labels[rid], np.float32(float(dc.value)) if isinstance(dc, Lit) else np.float32(1.0))

    # -- edges: every predicate must be a declared relation
    ep = np.asarray(r.edge_p, dtype=np.int64)
    es = np.asarray(r.edge_s, dtype=np.int64)
    eo = np.asarray(r.edge_o, dtype=np.int64)
    unknown = sorted({iris[p] for p in np.unique(ep) if int(p) not in relations})
    if unknown:
        shown = ", ".join(f"<{u}>" for u in unknown[:MAX_SHOWN])
        more = f" and {len(unknown) - MAX_SHOWN} more" if len(unknown) > MAX_SHOWN else ""
        raise r.bad(
            f"unknown predicate {shown}{more}: not in the ckgrec vocabulary and not declared as a relation (rdfs:subPropertyOf a ckg relation kind)"
        )

    # -- nodes: one ckgrec class and a label each
    node_kind: dict[int, str] = {}
    for nid, ts in r.types.items():
        kinds = [CLASS_KIND[c] for c in ts if c in CLASS_KIND]
        if len(kinds) > 1:
            raise r.bad(f"<{iris[nid]}> has several node classes: {', '.join(sorted(kinds))}")
        if kinds:
            if nid not in r.labels:
                raise r.bad(f"<{iris[nid]}> ({kinds[0]}) has no rdfs:label")
            node_kind[nid] = kinds[0]
    used = np.unique(np.concatenate([es, eo])) if len(es) else np.array([], dtype=np.int64)
    untyped = [int(x) for x in used if int(x) not in node_kind]
    if untyped:
        raise r.bad(
            f"node <{iris[untyped[0]]}> is used in an edge but has no ckgrec node class (rdf:type ckg:User, ckg:Item, ...)"
            + (f"; {len(untyped) - 1} more" if len(untyped) > 1 else "")
        )

    # -- statements: per-edge confidence
    conf_of: dict[tuple[int, int, int], np.float32] = {}
    for sid, ts in r.types.items():
        if RDF_NS + "Statement" in ts:
            pr = r.props[sid]
            if not all(k in pr for k in (ST_S, ST_P, ST_O)) or "confidence" not in pr:
                raise r.bad(f"statement <{iris[sid]}> lacks rdf:subject, rdf:predicate, rdf:object or ckg:confidence")
            conf_of[(pr[ST_S], pr[ST_P], pr[ST_O])] = np.float32(float(pr["confidence"].value))

    # -- users and items, in the builder's order
    labels = r.labels

    def block(kind):
        return [nid for nid, k in node_kind.items() if k == kind]

    def source_ids(nids, kind):
        prefix = LABEL_PREFIX[kind]
        out = []
        for n in nids:
            lab = labels[n]
            if not lab.startswith(prefix):
                raise r.bad(f"<{iris[n]}> is a {kind} but its label {lab!r} does not start with {prefix!r}")
            out.append(lab[len(prefix) :])
        return out

    user_nodes, item_nodes = block(KIND_USER), block(KIND_ITEM)
    user_src = dict(zip(source_ids(user_nodes, KIND_USER), user_nodes))
    item_src = dict(zip(source_ids(item_nodes, KIND_ITEM), item_nodes))
    if len(user_src) != len(user_nodes) or len(item_src) != len(item_nodes):
        raise r.bad("two user or item nodes share a label")
    user_ids = natural_order(np.asarray(list(user_src), dtype=object)) if user_src else np.array([], dtype=object)
    item_ids = natural_order(np.asarray(list(item_src), dtype=object)) if item_src else np.array([], dtype=object)
    user_labels = np.array([graphs.user_label(u) for u in user_ids], dtype=object)
    item_labels = np.array([graphs.item_label(i) for i in item_ids], dtype=object)
    user_pos = {user_src[u]: k for k, u in enumerate(user_ids)}
    item_pos = {item_src[i]: k for k, i in enumerate(item_ids)}

    def sorted_labels(kind):
        return np.array(sorted(labels[n] for n in block(kind)), dtype=object)

    # -- facts per graph, checked against the named graph they came in
    rel_graph = (
        np.array([relations[int(p)][0].graph for p in ep], dtype=object) if len(ep) else np.array([], dtype=object)
    )
    eg = np.array(r.edge_g, dtype=object)
    for g, giri in graph_iri.items():
        sel = rel_graph == g
        if giri is not None and sel.any():
            wrong = sel & (eg != giri) & np.array([x is not None for x in eg], dtype=bool)
            if wrong.any():
                k = int(np.flatnonzero(wrong)[0])
                raise r.bad(
                    f"edge <{iris[es[k]]}> <{iris[ep[k]]}> <{iris[eo[k]]}> is in graph <{eg[k]}>, but {relations[int(ep[k])][0].term.split('#')[-1]} edges belong to <{giri}>"
                )
    facts = {}
    for g in ("user_side", "item_side"):
        sel = np.flatnonzero(rel_graph == g)
        rel = [relations[int(p)] for p in ep[sel]]
        conf = np.array(
            [conf_of.get((int(s), int(p), int(o)), rr[2]) for s, p, o, rr in zip(es[sel], ep[sel], eo[sel], rel)],
            dtype=np.float32,
        )
        facts[g] = pd.DataFrame(
            {
                "head": np.array([labels[int(x)] for x in es[sel]], dtype=object),
                "relation": np.array([rr[1] for rr in rel], dtype=object),
                "tail": np.array([labels[int(x)] for x in eo[sel]], dtype=object),
                "family": np.array([rr[0].family for rr in rel], dtype=object),
                "confidence": conf,
            }
        )
        _check_endpoint_kinds(r, g, es[sel], eo[sel], [rr[0] for rr in rel], node_kind, ep[sel])

    gu = graphs.assemble(
        "user_side",
        [
            (KIND_USER, user_labels),
            (KIND_ITEM, item_labels),
            (KIND_ITEM_ATTRIBUTE, sorted_labels(KIND_ITEM_ATTRIBUTE)),
            (KIND_CONCEPT, sorted_labels(KIND_CONCEPT)),
            (KIND_EXTERNAL, sorted_labels(KIND_EXTERNAL)),
        ],
        [facts["user_side"]],
    )
    gi = graphs.assemble(
        "item_side",
        [(KIND_ITEM, item_labels), (KIND_USER, user_labels), (KIND_USER_ATTRIBUTE, sorted_labels(KIND_USER_ATTRIBUTE))],
        [facts["item_side"]],
    )
    if len(gu.entities) and (gu.entities["kind"] == KIND_USER_ATTRIBUTE).any():
        raise r.bad("internal: user attributes in G_u")
    entities = pd.concat([gi.entities, gu.entities], ignore_index=True)
    relations_t = pd.concat([gi.relations, gu.relations], ignore_index=True)
    triples = pd.concat([gi.triples, gu.triples], ignore_index=True)

    # -- users, items, alignments
    n_users, n_items = len(user_ids), len(item_ids)

    def names_of(ids, src):
        vals = [r.names.get(src[x]) for x in ids]
        return np.array(vals, dtype=object)

    users_t = pd.DataFrame(
        {
            "user": np.arange(n_users, dtype=np.int64),
            "label": user_ids.astype(str),
            "name": names_of(user_ids, user_src),
        }
    )
    items_t = pd.DataFrame(
        {
            "item": np.arange(n_items, dtype=np.int64),
            "label": item_ids.astype(str),
            "name": names_of(item_ids, item_src),
        }
    )
    ext = np.full(n_items, None, dtype=object)
    for nid, target in r.sameas.items():
        if nid in item_pos:
            ext[item_pos[nid]] = decode(base, NODE_PATH[KIND_EXTERNAL], target) or target
    idx_u = {g: pd.Index(entities.loc[entities["graph"] == g, "label"]) for g in ("item_side", "user_side")}
    align_items = pd.DataFrame(
        {
            "graph": np.repeat(["item_side", "user_side"], n_items),
            "item": np.tile(np.arange(n_items, dtype=np.int64), 2),
            "entity": np.r_[
                idx_u["item_side"].get_indexer(item_labels), idx_u["user_side"].get_indexer(item_labels)
            ].astype(np.int64),
            "external": np.tile(ext, 2),
        }
    )
    align_users = pd.DataFrame(
        {
            "graph": np.repeat(["item_side", "user_side"], n_users),
            "user": np.tile(np.arange(n_users, dtype=np.int64), 2),
            "entity": np.r_[
                idx_u["item_side"].get_indexer(user_labels), idx_u["user_side"].get_indexer(user_labels)
            ].astype(np.int64),
        }
    )

    # -- interaction log
    inter = _interactions(r, base, user_pos, item_pos, exported, gu, notes)

    # -- features
    kept, dims = _features(r, base, item_pos, features_from, notes)

    fingerprint = store_fingerprint(entities, relations_t, users_t, items_t, triples)

    pairs = inter.groupby(["user", "item"], sort=True, as_index=False)[["split", "protocol"]].first()
    dropped = manifest_part.get("dropped_by_filters", {"users": 0, "items": 0, "pairs": 0})
    counts = store_counts(n_users, n_items, pairs, inter, entities, relations_t, triples, dropped, kept)
    manifest = {
        "source": manifest_part.get("source", {"format": "rdf", "name": Path(path).name}),
        "config": manifest_part.get("config", {}),
        "counts": counts,
        "modalities": sorted(kept),
        "feature_dims": {m: int(dims[m]) for m in sorted(kept)},
        "graphs": manifest_part.get("graphs", {}),
        "imported_from": {"file": Path(path).name, "base": base, "original_fingerprint": original_fp},
    }
    store = write_store(
        out,
        fingerprint,
        manifest,
        force=force,
        entities=entities,
        relations=relations_t,
        triples=triples,
        alignment_items=align_items,
        alignment_users=align_users,
        interactions=inter,
        users=users_t,
        items=items_t,
        features=kept,
        sources=sources,
    )
    if original_fp and original_fp != fingerprint:
        notes.append(
            f"fingerprint {fingerprint} differs from the exported store's {original_fp}: the ids were renumbered by the builder's rules"
        )
    return ImportReport(store, r.n, fingerprint, original_fp, counts, notes, time.perf_counter() - started)


def _check_endpoint_kinds(r: _Reader, graph, heads, tails, kinds, node_kind, preds) -> None:
    allowed = {
        str(CKG.interaction): ({KIND_USER}, {KIND_ITEM}),
        str(CKG.interactionBy): ({KIND_ITEM}, {KIND_USER}),
        str(CKG.hasUserAttribute): ({KIND_USER}, {KIND_USER_ATTRIBUTE}),
        str(CKG.hasItemAttribute): ({KIND_ITEM}, {KIND_ITEM_ATTRIBUTE}),
        str(CKG.hasModalityConcept): ({KIND_ITEM}, {KIND_CONCEPT}),
        str(CKG.externalRelation): ({KIND_ITEM, KIND_EXTERNAL}, {KIND_ITEM, KIND_EXTERNAL}),
    }
    for h, t, k, p in zip(heads, tails, kinds, preds):
        dom, rng = allowed[str(k.term)]
        if node_kind[int(h)] not in dom or node_kind[int(t)] not in rng:
            raise r.bad(
                f"edge <{r.iris[h]}> <{r.iris[p]}> <{r.iris[t]}> joins a {node_kind[int(h)]} to a {node_kind[int(t)]}; "
                f"a {str(k.term).split('#')[-1]} relation goes from {'/'.join(sorted(dom))} to {'/'.join(sorted(rng))}"
            )


def _interactions(r: _Reader, base, user_pos, item_pos, exported, gu, notes) -> pd.DataFrame:
    rec_class = str(CKG.InteractionRecord)
    recs = [i for i, ts in r.types.items() if rec_class in ts]
    rows = []
    act = base + RELATION_PATH[CKG.interaction]
    rel_label = {r.iris[i]: r.labels.get(i) for i in r.subprop}
    for rid in recs:
        pr = r.props[rid]
        missing = [k for k in ("user", "item", "behaviour", "split", "confidence") if k not in pr]
        if missing:
            raise r.bad(f"interaction record <{r.iris[rid]}> lacks ckg:{', ckg:'.join(missing)}")
        u, i = r.ids.get(pr["user"]), r.ids.get(pr["item"])
        if u not in user_pos or i not in item_pos:
            raise r.bad(
                f"interaction record <{r.iris[rid]}> names a user or item that is not a ckg:User / ckg:Item node"
            )
        split = SPLIT_OF.get(pr["split"])
        if split is None:
            raise r.bad(
                f"interaction record <{r.iris[rid]}> has split <{pr['split']}>; use ckg:train, ckg:valid or ckg:test"
            )
        behav = rel_label.get(pr["behaviour"]) or decode(base, RELATION_PATH[CKG.interaction], str(pr["behaviour"]))
        if behav is None:
            raise r.bad(
                f"interaction record <{r.iris[rid]}> has behaviour <{pr['behaviour']}>, which is not under {act}"
            )
        ts = pr.get("timestamp")
        proto = _text(pr["protocol"]) if "protocol" in pr else "warm"
        rows.append(
            (
                user_pos[u],
                item_pos[i],
                behav,
                split,
                int(ts.value) if isinstance(ts, Lit) else None,
                np.float32(float(pr["confidence"].value)),
                proto,
            )
        )
    inter = pd.DataFrame(rows, columns=["user", "item", "relation", "split", "timestamp", "confidence", "protocol"])
    has_train = (inter["split"] == "train").any() if len(inter) else False
    if exported != "all" or (not has_train and len(gu.triples)):
        t = gu.triples
        rel = gu.relations.set_index("relation")
        fam = rel.loc[t["relation"].to_numpy(), "family"].to_numpy()
        t = t[fam == "interaction"]
        n_users = int((gu.entities["kind"] == KIND_USER).sum())
        train = pd.DataFrame(
            {
                "user": t["head"].to_numpy(np.int64),
                "item": (t["tail"].to_numpy(np.int64) - n_users),
                "relation": rel.loc[t["relation"].to_numpy(), "name"].to_numpy(dtype=object),
                "split": "train",
                "timestamp": None,
                "confidence": t["confidence"].to_numpy(np.float32),
                "protocol": "warm",
            }
        )
        # a cold-start user's remaining training pairs carry its protocol too (kgbuild.split.assign_cold_start)
        cold_users = inter.loc[inter["protocol"] == "cold_user", "user"].unique()
        train.loc[train["user"].isin(cold_users), "protocol"] = "cold_user"
        inter = pd.concat([inter[inter["split"] != "train"], train], ignore_index=True)
        notes.append(
            f"the export holds {'no' if exported == 'none' else 'held-out'} interaction records; training rows were rebuilt from the G_u edges, without timestamps"
        )
    inter = inter.sort_values(["user", "item", "relation"], kind="stable").reset_index(drop=True)
    return pd.DataFrame(
        {
            "user": inter["user"].to_numpy(np.int64),
            "item": inter["item"].to_numpy(np.int64),
            "relation": inter["relation"].to_numpy(dtype=object),
            "split": inter["split"].to_numpy(dtype=object),
            "timestamp": pd.array(inter["timestamp"].tolist(), dtype="Int64"),
            "confidence": inter["confidence"].to_numpy(np.float32),
            "protocol": inter["protocol"].to_numpy(dtype=object),
        }
    )


def _features(r: _Reader, base, item_pos, features_from, notes):
    mod_class = str(CKG.Modality)
    mods = {i: r.labels.get(i) for i, ts in r.types.items() if mod_class in ts}
    pointers: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for item, feats in r.features.items():
        if item not in item_pos:
            raise r.bad(f"<{r.iris[item]}> has a feature vector but is not a ckg:Item")
        for f in feats:
            pr = r.props.get(f, {})
            m = r.ids.get(pr.get("modality")) if isinstance(pr.get("modality"), str) else None
            if m not in mods or "row" not in pr:
                raise r.bad(f"feature pointer <{r.iris[f]}> lacks ckg:modality (a ckg:Modality) or ckg:row")
            pointers[m].append((int(pr["row"].value), item_pos[item]))
    kept, dims = {}, {}
    if not mods:
        return kept, dims
    if features_from is None:
        notes.append(
            f"feature vectors are not in RDF; the store has no modalities (pass --features-from the original store to copy {', '.join(sorted(mods.values()))})"
        )
        return kept, dims
    src = Path(features_from)
    if not src.exists():
        raise InputNotFoundError(f"--features-from {src}: no such directory")
    if (src / "manifest.json").is_file():
        Store.open(src)  # a store: its files are checked against its manifest before any is copied
    for mid, name in sorted(mods.items(), key=lambda kv: kv[1]):
        pr = r.props.get(mid, {})
        rel = pr.get("matrixFile")
        candidates = [src / rel.value] if isinstance(rel, Lit) else []
        candidates += [src / "features" / f"{name}.npy", src / f"{name}.npy"]
        found = next((c for c in candidates if c.is_file()), None)
        if found is None:
            raise InputNotFoundError(
                f"--features-from {src}: no matrix for modality '{name}' (looked for {', '.join(str(c) for c in candidates)})"
            )
        try:
            matrix = np.load(found, mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError, EOFError) as e:
            raise StoreError(
                f"{found}: not a readable .npy matrix ({e}); pass --features-from the original store"
            ) from e
        ptr = sorted(pointers.get(mid, []))
        rows = np.array([p[0] for p in ptr], dtype=np.int64)
        items = np.array([p[1] for p in ptr], dtype=np.int64)
        dim = int(pr["dimension"].value) if isinstance(pr.get("dimension"), Lit) else matrix.shape[1]
        if (
            matrix.ndim != 2
            or matrix.shape[1] != dim
            or matrix.shape[0] != len(rows)
            or not np.array_equal(rows, np.arange(len(rows)))
        ):
            raise StoreError(
                f"{found}: matrix shape {matrix.shape} does not fit modality '{name}' of the RDF "
                f"({len(rows)} pointers to rows 0..{len(rows) - 1}, dimension {dim})"
            )
        order = np.argsort(items, kind="stable")
        if not np.array_equal(order, np.arange(len(order))):
            notes.append(f"modality '{name}': rows were reordered to follow the item order")
        kept[name] = (items[order], np.asarray(matrix)[rows[order]])
        dims[name] = dim
    return kept, dims
