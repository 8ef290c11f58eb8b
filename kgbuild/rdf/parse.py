"""Reading RDF files as a stream of quads, with one clear error for any malformed input.

pyoxigraph (the ``rdf`` extra) parses a million N-Triples in about half a second and checks
IRIs strictly; without it rdflib is used (an order of magnitude slower, and its N-Triples
reader is lax about IRIs, so they are checked here). Gzip is detected from the file's first
bytes, the format from the name (``.nt``, ``.nq``, ``.ttl``, each optionally ``.gz``) unless
given. Blank nodes are refused: ckgrec exports never use them.
"""

from __future__ import annotations

import gzip
import re
import zlib
from pathlib import Path
from typing import Iterator, NamedTuple

from ckgrec.kgbuild.rdf.errors import RdfInputError
from ckgrec.schemas.errors import InputNotFoundError

PARSE_FORMATS = ("nt", "nq", "ttl")
_BAD_IRI = re.compile(r'[\x00-\x20<>"{}|^`\\]')


class Lit(NamedTuple):
    """A literal: lexical form and datatype IRI (language-tagged strings keep rdf:langString)."""

    value: str
    datatype: str


class Quad(NamedTuple):
    s: str
    p: str
    o: "str | Lit"
    g: str | None  # None: default graph


def one_line(text: str, limit: int = 240) -> str:
    """A parser message on one line, cut to ``limit`` characters (some quote whole input lines)."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def detect_format(path: str | Path, fmt: str | None = None) -> str:
    if fmt:
        if fmt not in PARSE_FORMATS:
            raise RdfInputError(f"format {fmt!r}: use one of {', '.join(PARSE_FORMATS)}")
        return fmt
    name = str(path).lower().removesuffix(".gz")
    for f in PARSE_FORMATS:
        if name.endswith("." + f):
            return f
    raise RdfInputError(f"{path}: cannot tell the RDF format from the name; pass --format nt, nq or ttl")


def open_binary(path: str | Path):
    p = Path(path)
    if not p.is_file():
        raise InputNotFoundError(f"RDF file not found: {p}")
    with open(p, "rb") as f:
        magic = f.read(2)
    return gzip.open(p, "rb") if magic == b"\x1f\x8b" else open(p, "rb")


def engine_name(engine: str = "auto") -> str:
    if engine not in ("auto", "oxigraph", "rdflib"):
        raise RdfInputError(f"engine {engine!r}: use auto, oxigraph or rdflib")
    if engine == "auto":
        try:
            import pyoxigraph  # noqa: F401

            return "oxigraph"
        except ImportError:
            return "rdflib"
    return engine


def iter_quads(path: str | Path, fmt: str | None = None, engine: str = "auto") -> Iterator[tuple]:
    """Every quad of the file as a (subject, predicate, object, graph) tuple (see :class:`Quad`);
    raises RdfInputError naming the file and, when known, the line."""
    fmt = detect_format(path, fmt)
    eng = engine_name(engine)
    f = open_binary(path)
    try:
        if eng == "oxigraph":
            yield from _oxigraph(f, fmt, path)
        else:
            yield from _rdflib(f, fmt, path)
    except (EOFError, gzip.BadGzipFile, zlib.error) as e:
        raise RdfInputError(f"{path}: the file is truncated or not valid gzip ({e})") from e
    except UnicodeDecodeError as e:
        raise RdfInputError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from e
    finally:
        f.close()


def _oxigraph(f, fmt: str, path) -> Iterator[Quad]:
    import pyoxigraph as ox

    rf = {"nt": ox.RdfFormat.N_TRIPLES, "nq": ox.RdfFormat.N_QUADS, "ttl": ox.RdfFormat.TURTLE}[fmt]
    NamedNode, Literal, BlankNode, DefaultGraph = ox.NamedNode, ox.Literal, ox.BlankNode, ox.DefaultGraph

    def term(x, where):
        if isinstance(x, NamedNode):
            return x.value
        if isinstance(x, Literal):
            return Lit(x.value, x.datatype.value)
        if isinstance(x, BlankNode):
            raise RdfInputError(
                f"{path}: blank node _:{x.value} as {where}; ckgrec exports name every node with an IRI"
            )
        raise RdfInputError(f"{path}: unsupported term {x!r} as {where}")

    try:
        for q in ox.parse(f, format=rf):
            s, o, g = q.subject, q.object, q.graph_name
            yield (
                s.value if type(s) is NamedNode else term(s, "subject"),
                q.predicate.value,
                o.value
                if type(o) is NamedNode
                else (Lit(o.value, o.datatype.value) if type(o) is Literal else term(o, "object")),
                None if type(g) is DefaultGraph else term(g, "graph name"),
            )
    except SyntaxError as e:
        raise RdfInputError(f"{path}: malformed {fmt.upper()}: {one_line(str(e))}") from e
    except OSError as e:
        raise RdfInputError(f"{path}: cannot be read ({e})") from e


def _rdflib(f, fmt: str, path) -> Iterator[Quad]:
    import warnings

    from rdflib import BNode, Dataset, Literal, URIRef
    from rdflib.graph import DATASET_DEFAULT_GRAPH_ID

    ds = Dataset()
    try:
        with warnings.catch_warnings():  # rdflib's own N-Quads parser uses deprecated Dataset API
            warnings.simplefilter("ignore", DeprecationWarning)
            ds.parse(f, format={"nt": "nt", "nq": "nquads", "ttl": "turtle"}[fmt])
    except Exception as e:  # rdflib raises many unrelated types for bad input; one message for all
        raise RdfInputError(f"{path}: malformed {fmt.upper()}: {type(e).__name__}: {one_line(str(e))}") from e

    def term(x, where):
        if isinstance(x, URIRef):
            v = str(x)
            if _BAD_IRI.search(v) or ":" not in v:
                raise RdfInputError(f"{path}: invalid IRI <{v}> as {where}")
            return v
        if isinstance(x, Literal):
            dt = (
                str(x.datatype)
                if x.datatype
                else (
                    "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
                    if x.language
                    else "http://www.w3.org/2001/XMLSchema#string"
                )
            )
            return Lit(str(x), dt)
        if isinstance(x, BNode):
            raise RdfInputError(f"{path}: blank node as {where}; ckgrec exports name every node with an IRI")
        raise RdfInputError(f"{path}: unsupported term {x!r} as {where}")

    for s, p, o, g in ds.quads((None, None, None, None)):
        gid = getattr(g, "identifier", g)
        gname = None if gid is None or gid == DATASET_DEFAULT_GRAPH_ID else term(gid, "graph name")
        yield Quad(term(s, "subject"), term(p, "predicate"), term(o, "object"), gname)
