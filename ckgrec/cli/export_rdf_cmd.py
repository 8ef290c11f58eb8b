"""``ckg export-rdf``: store -> N-Triples / N-Quads / Turtle, plus VoID (and SSSOM) beside it."""

from __future__ import annotations

import argparse

from ckgrec.cli.options import NON_NEGATIVE


def register(sub) -> None:
    p = sub.add_parser(
        "export-rdf",
        help="export a store as RDF (N-Triples, N-Quads or Turtle) with a VoID description",
        description="Write the store's two graphs as RDF: G_u and G_i (as two named graphs in N-Quads), "
        "every node with its class and rdfs:label, each relation declared as a sub-property of its kind "
        "in the ckgrec vocabulary, the interaction log, and pointers to the feature rows. A VoID "
        "description is written beside the file (NAME.void.ttl), and an SSSOM table of the item -> "
        "external KG links when there are any (NAME.sssom.tsv). N-Triples and N-Quads are streamed "
        "(memory grows with the number of nodes, not of triples); Turtle is built in memory and refused above --turtle-limit triples. See docs/rdf.md.",
    )
    p.add_argument("store", help="store directory written by 'ckg build'")
    p.add_argument(
        "--output", "-o", required=True, help="file to write (replaced atomically); e.g. graph.nq or graph.nt.gz"
    )
    p.add_argument(
        "--format",
        choices=["nt", "nq", "ttl"],
        help="nt (N-Triples), nq (N-Quads: G_u and G_i as named graphs) or ttl (Turtle); default: from the --output suffix",
    )
    p.add_argument("--gzip", action="store_true", help="gzip the output (implied by an --output ending in .gz)")
    p.add_argument(
        "--base",
        help="base IRI of every minted IRI, ending in '/' or '#' (default https://example.org/ckgrec/<dataset>/; set one you control before publishing)",
    )
    p.add_argument(
        "--interactions",
        choices=["all", "held-out", "none"],
        default="all",
        help="which interaction-log rows to export as ckg:InteractionRecord nodes in their own graph: all (default; "
        "needed for an exact round trip), held-out (valid and test only) or none. Held-out rows are never G_u/G_i edges",
    )
    p.add_argument(
        "--no-features", action="store_true", help="do not write feature-vector pointers (item -> modality, row)"
    )
    p.add_argument(
        "--turtle-limit",
        type=NON_NEGATIVE,
        default=200_000,
        help="largest export, in triples, that Turtle may build in memory (default 200,000)",
    )
    p.add_argument("--license", help="license IRI recorded in the VoID (dcterms:license) and SSSOM (license) files")
    p.add_argument(
        "--no-sidecars", action="store_true", help="write only the RDF file, no VoID / SSSOM files beside it"
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ckgrec.kgbuild.rdf.export import ExportOptions, export_store, infer_format
    from ckgrec.schemas.errors import ConfigError

    fmt, gz = infer_format(args.output)
    fmt = args.format or fmt
    if fmt is None:
        raise ConfigError(f"--output {args.output}: cannot tell the format from the name; pass --format nt, nq or ttl")
    opts = ExportOptions(
        base=args.base,
        interactions=args.interactions,
        features=not args.no_features,
        gzip=args.gzip or gz,
        turtle_limit=args.turtle_limit,
        license=args.license,
        sidecars=not args.no_sidecars,
    )
    r = export_store(args.store, args.output, fmt, opts)
    rate = r.triples / r.seconds if r.seconds else 0
    print(
        f"wrote {r.output}: {r.triples:,} triples ({fmt}{', gzip' if opts.gzip else ''}) in {r.seconds:.2f}s ({rate:,.0f} triples/s)"
    )
    print("  " + "  ".join(f"{g} {n:,}" for g, n in r.per_graph.items()))
    print(f"  base IRI {r.base}")
    if r.void:
        print(f"  VoID  {r.void}")
    if r.sssom:
        print(f"  SSSOM {r.sssom}")
    return 0
