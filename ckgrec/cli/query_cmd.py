"""``ckg query``: SPARQL SELECT / ASK over a store's RDF export."""

from __future__ import annotations

import argparse

from ckgrec.cli.options import POSITIVE

EPILOG = """example (users who favourited items sharing a visual concept with item i0):
  ckg query STORE 'SELECT DISTINCT ?user ?item WHERE {
      item:i0 cprop:has_visual_concept ?c . ?item cprop:has_visual_concept ?c .
      FILTER (?item != item:i0) ?user act:favorite ?item }'
predeclared prefixes: ckg rdf rdfs owl xsd, and for the dataset user item uattr iattr concept kg
(nodes), act actby uprop iprop cprop kgrel (relations by kind), modality feature record graph."""


def register(sub) -> None:
    p = sub.add_parser(
        "query",
        help="run a SPARQL SELECT or ASK query over a store's RDF export",
        description="Export the store to RDF in a temporary file, load it into an in-memory SPARQL engine "
        "(pyoxigraph when installed, else rdflib for small stores) and print the answer as a table or CSV. "
        "The default graph is the union of G_u, G_i, the interaction log and the node descriptions; use "
        "GRAPH graph:user-side { ... } for one graph.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("store", help="store directory written by 'ckg build'")
    p.add_argument("sparql", help="the query text, or @FILE to read it from a file")
    p.add_argument(
        "--csv", action="store_true", help="print SPARQL CSV results (full IRIs) instead of a table with prefixed names"
    )
    p.add_argument(
        "--engine",
        choices=["auto", "oxigraph", "rdflib"],
        default="auto",
        help="SPARQL engine; auto picks pyoxigraph when installed",
    )
    p.add_argument("--base", help="base IRI of the export (default as in export-rdf); the dataset prefixes follow it")
    p.add_argument(
        "--interactions",
        choices=["all", "held-out", "none"],
        default="all",
        help="interaction records to include (default all)",
    )
    p.add_argument("--max-width", type=POSITIVE, default=60, help="cut table cells longer than this (default 60)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import sys
    from pathlib import Path

    from ckgrec.kgbuild.inspect.query import format_csv, format_table, run_query
    from ckgrec.schemas.errors import InputNotFoundError

    text = args.sparql
    if text.startswith("@"):
        f = Path(text[1:])
        if not f.is_file():
            raise InputNotFoundError(f"query file not found: {f}")
        text = f.read_text(encoding="utf-8")
    r = run_query(args.store, text, engine=args.engine, base=args.base, interactions=args.interactions)
    if args.csv:
        sys.stdout.write(format_csv(r))
    else:
        print(format_table(r, max_width=args.max_width))
        print(
            f"({r.engine}: {r.triples:,} triples exported and loaded in {r.seconds['export_and_load']:.2f}s, query {r.seconds['query']:.3f}s)",
            file=sys.stderr,
        )
    return 0
