"""``ckg import-rdf``: an RDF export -> a store."""

from __future__ import annotations

import argparse


def register(sub) -> None:
    p = sub.add_parser(
        "import-rdf",
        help="read an RDF export (ckg export-rdf) back into a store",
        description="Read an N-Triples, N-Quads or Turtle export (optionally gzipped) and write a store. "
        "Ids are rebuilt with the builder's ordering rules, so a store exported with --interactions all "
        "comes back with the same tables and fingerprint. Feature vectors are not in RDF: pass "
        "--features-from to copy them. Anything that is not a ckgrec export (unknown predicate, bad IRI, "
        "truncated file) is refused with one message.",
    )
    p.add_argument("file", help="RDF file written by 'ckg export-rdf' (.nt, .nq, .ttl, optionally .gz)")
    p.add_argument("--out", required=True, help="store directory to write (refused if it exists, unless --force)")
    p.add_argument("--format", choices=["nt", "nq", "ttl"], help="format of FILE (default: from its name)")
    p.add_argument(
        "--features-from",
        metavar="DIR",
        help="the original store (or a directory of <modality>.npy files) to copy feature matrices from",
    )
    p.add_argument(
        "--engine",
        choices=["auto", "oxigraph", "rdflib"],
        default="auto",
        help="RDF parser: pyoxigraph (fast, the 'rdf' extra) or rdflib; auto picks pyoxigraph when installed",
    )
    p.add_argument("--force", action="store_true", help="replace an existing store at --out")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ckgrec.kgbuild.rdf.import_ import import_rdf

    r = import_rdf(
        args.file, args.out, fmt=args.format, features_from=args.features_from, force=args.force, engine=args.engine
    )
    c = r.counts
    print(f"imported {args.file} ({r.quads:,} triples) into {r.store} in {r.seconds:.2f}s")
    print(
        f"  users {c['users']:,}  items {c['items']:,}  triples "
        + "  ".join(f"{g} {n:,}" for g, n in c["triples"].items())
        + "  interactions "
        + "  ".join(f"{s} {n:,}" for s, n in c["interactions"].items())
    )
    if r.original_fingerprint is None:
        print(f"  fingerprint {r.fingerprint} (the file does not record the original)")
    else:
        print(
            f"  fingerprint {r.fingerprint} ({'same as' if r.same_fingerprint else 'DIFFERENT from'} the exported store's)"
        )
    for note in r.notes:
        print(f"  note: {note}")
    return 0
