"""``ckg query STORE 'SPARQL'``: SPARQL SELECT / ASK over the store's RDF export, in-process.

The store is exported to N-Quads (streamed, see :mod:`ckgrec.kgbuild.rdf.export`) into a temporary
file and loaded into an in-memory pyoxigraph store, which parses a million triples in about
half a second and evaluates SPARQL natively; the default graph is the union of all graphs, so
``?u act:like ?i`` matches G_u while ``GRAPH graph:user-side { ... }`` still selects one.
Without pyoxigraph, rdflib does the same on graphs up to ``RDFLIB_LIMIT`` triples (it needs
about 20 s and a gigabyte per million).

The export's prefixes are predeclared (``ckg: user: item: act: cprop: ...``, see
:data:`ckgrec.kgbuild.rdf.iri.DATASET_PREFIXES`), so queries can be short.
"""

from __future__ import annotations

import csv
import io
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from ckgrec.kgbuild.rdf.errors import RdfExportError
from ckgrec.kgbuild.rdf.parse import engine_name, one_line
from ckgrec.schemas.errors import CkgError

RDFLIB_LIMIT = 300_000


class QueryError(CkgError, ValueError):
    """A SPARQL query is malformed or of a kind ckg query does not print."""


@dataclass
class QueryResult:
    kind: str  # "select" or "ask"
    columns: list[str] = field(default_factory=list)
    rows: list[list[object]] = field(default_factory=list)  # terms as (kind, text): see _term
    boolean: bool | None = None
    prefixes: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    triples: int = 0
    engine: str = ""


def _kind(query: str) -> str:
    import re

    body = re.sub(r"#[^\n]*", " ", query)
    body = re.sub(r"(?is)^\s*((BASE\s*<[^>]*>|PREFIX\s+[\w\-.]*:\s*<[^>]*>)\s*)*", "", body)
    m = re.match(r"\s*([A-Za-z]+)", body)
    return m.group(1).upper() if m else body.strip()[:20]


def run_query(
    path: str | Path, sparql: str, *, engine: str = "auto", base: str | None = None, interactions: str = "all"
) -> QueryResult:
    from ckgrec.kgbuild.rdf.export import ExportOptions, export_store
    from ckgrec.kgbuild.rdf.iri import prefixes

    kind = _kind(sparql)
    if kind not in ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE"):
        raise QueryError(
            f"SPARQL syntax error: a query starts with SELECT or ASK (after any PREFIX lines), not {kind or 'nothing'!r}"
        )
    if kind not in ("SELECT", "ASK"):
        raise QueryError(f"only SELECT and ASK queries are printed; this one is a {kind}")
    eng = engine_name(engine)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="ckg-query-") as tmp:
        f = Path(tmp) / "store.nq"
        rep = export_store(path, f, "nq", ExportOptions(base=base, interactions=interactions, sidecars=False))
        pmap = prefixes(rep.base)
        t1 = time.perf_counter()
        if eng == "oxigraph":
            result = _oxigraph(f, sparql, pmap)
        else:
            if rep.triples > RDFLIB_LIMIT:
                raise RdfExportError(
                    f"the store exports {rep.triples:,} triples; rdflib answers queries on up to {RDFLIB_LIMIT:,} "
                    "in reasonable time: pip install 'ckgrec[rdf]' for pyoxigraph"
                )
            result = _rdflib(f, sparql, pmap)
        t2 = time.perf_counter()
    result.prefixes = pmap
    result.triples = rep.triples
    result.engine = eng
    result.seconds = {
        "export_and_load": round(t1 - t0 + result.seconds.get("load", 0.0), 3),
        "query": round(t2 - t1 - result.seconds.get("load", 0.0), 3),
    }
    return result


def _oxigraph(path: Path, sparql: str, pmap: dict[str, str]) -> QueryResult:
    import pyoxigraph as ox

    t = time.perf_counter()
    st = ox.Store()
    st.load(path=str(path), format=ox.RdfFormat.N_QUADS)  # faster than bulk_load for an in-memory store
    load = time.perf_counter() - t
    try:
        res = st.query(sparql, prefixes=pmap, use_default_graph_as_union=True)
    except SyntaxError as e:
        raise QueryError(f"SPARQL syntax error: {one_line(str(e))}") from e
    except (ValueError, OSError) as e:
        raise QueryError(f"the query failed: {one_line(str(e))}") from e
    if isinstance(res, ox.QueryBoolean):
        return QueryResult("ask", boolean=bool(res), seconds={"load": load})
    if not isinstance(res, ox.QuerySolutions):
        raise QueryError("only SELECT and ASK queries are printed")
    cols = [v.value for v in res.variables]
    rows = []
    try:
        for sol in res:
            rows.append([_term_ox(sol[c]) for c in cols])
    except (ValueError, OSError) as e:
        raise QueryError(f"the query failed while running: {e}") from e
    return QueryResult("select", cols, rows, seconds={"load": load})


def _term_ox(x):
    import pyoxigraph as ox

    if x is None:
        return None
    if isinstance(x, ox.NamedNode):
        return ("iri", x.value)
    if isinstance(x, ox.Literal):
        return ("literal", x.value)
    return ("other", str(x))


def _rdflib(path: Path, sparql: str, pmap: dict[str, str]) -> QueryResult:
    import warnings

    from rdflib import Dataset, Literal, URIRef

    t = time.perf_counter()
    ds = Dataset(default_union=True)
    with warnings.catch_warnings():  # rdflib's own N-Quads parser and query use deprecated Dataset API
        warnings.simplefilter("ignore", DeprecationWarning)
        ds.parse(str(path), format="nquads")
        load = time.perf_counter() - t
        try:
            res = ds.query(sparql, initNs=pmap)
            rows = list(res) if res.type == "SELECT" else None
        except Exception as e:  # pyparsing's ParseException and friends: one message for all
            raise QueryError(f"SPARQL syntax error: {one_line(str(e))}") from e
    if res.type == "ASK":
        return QueryResult("ask", boolean=bool(res.askAnswer), seconds={"load": load})
    if res.type != "SELECT":
        raise QueryError("only SELECT and ASK queries are printed")
    cols = [str(v) for v in res.vars]

    def term(x):
        if x is None:
            return None
        if isinstance(x, URIRef):
            return ("iri", str(x))
        if isinstance(x, Literal):
            return ("literal", str(x))
        return ("other", str(x))

    return QueryResult("select", cols, [[term(r[c]) for c in cols] for r in rows], seconds={"load": load})


def shorten(iri: str, pmap: dict[str, str]) -> str:
    best = max((ns for ns in pmap.values() if iri.startswith(ns)), key=len, default=None)
    if best is None:
        return f"<{iri}>"
    name = next(p for p, ns in pmap.items() if ns == best)
    return f"{name}:{iri[len(best) :]}"


def format_table(res: QueryResult, *, max_width: int = 60) -> str:
    if res.kind == "ask":
        return "yes" if res.boolean else "no"

    def show(x):
        if x is None:
            return ""
        kind, text = x
        text = shorten(text, res.prefixes) if kind == "iri" else text
        return text if len(text) <= max_width else text[: max_width - 1] + "…"

    cells = [[show(x) for x in row] for row in res.rows]
    widths = [max([len(c)] + [len(r[k]) for r in cells]) for k, c in enumerate(res.columns)]
    line = "  ".join(c.ljust(w) for c, w in zip(res.columns, widths))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip() for r in cells]
    out.append(f"({len(cells)} row{'s' if len(cells) != 1 else ''})")
    return "\n".join(out)


def format_csv(res: QueryResult) -> str:
    """SPARQL 1.1 CSV results: full IRIs, literal lexical forms, empty for unbound."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    if res.kind == "ask":
        w.writerow(["boolean"])
        w.writerow(["true" if res.boolean else "false"])
        return buf.getvalue()
    w.writerow(res.columns)
    for row in res.rows:
        w.writerow(["" if x is None else x[1] for x in row])
    return buf.getvalue()
