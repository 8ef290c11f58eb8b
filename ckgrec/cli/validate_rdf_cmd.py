"""``ckg validate-rdf``: SHACL shapes on an export, whole-graph integrity on a store."""

from __future__ import annotations

import argparse

from ckgrec.cli.options import POSITIVE


def register(sub) -> None:
    p = sub.add_parser(
        "validate-rdf",
        help="check an RDF export against the SHACL shapes, or a store's whole graph",
        description="TARGET is an RDF file or a store. A file is checked against schemas/shapes.ttl with "
        "pyshacl (the 'rdf' extra), whole when small and on a self-contained sample of subjects when "
        "large. A store gets whole-graph integrity checks on its Parquet tables (ids, endpoint kinds, "
        "inverses, alignments, training edges = training interactions, features) and SHACL on a sample "
        "of its export. Every problem is listed; the exit status is 1 when there is any.",
    )
    p.add_argument("target", help="an RDF file (.nt, .nq, .ttl, optionally .gz) or a store directory")
    p.add_argument(
        "--sample",
        type=POSITIVE,
        default=10_000,
        help="triples above which SHACL checks a sample (default 10,000; pyshacl needs ~0.5 s per 1,000)",
    )
    p.add_argument("--no-shacl", action="store_true", help="skip SHACL (a store still gets the integrity checks)")
    p.add_argument("--base", help="base IRI for the temporary export of a store (default as in export-rdf)")
    p.add_argument(
        "--engine", choices=["auto", "oxigraph", "rdflib"], default="auto", help="RDF parser used to read the file"
    )
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import json

    from ckgrec.kgbuild.rdf.validate import validate_target

    r = validate_target(args.target, sample=args.sample, shacl=not args.no_shacl, engine=args.engine, base=args.base)
    if args.json:
        print(
            json.dumps(
                {
                    "target": str(r.target),
                    "ok": r.ok,
                    "integrity_checked": r.integrity_ran,
                    "shacl_checked": r.shacl_ran,
                    "shacl_triples": r.shacl_triples,
                    "shacl_sampled": r.shacl_sampled,
                    "seconds": r.seconds,
                    "problems": [str(p) for p in r.problems],
                },
                indent=2,
            )
        )
        return 0 if r.ok else 1
    done = []
    if r.integrity_ran:
        done.append("integrity of every table row")
    if r.shacl_ran:
        done.append(f"SHACL on {'a sample of ' if r.shacl_sampled else ''}{r.shacl_triples:,} triples")
    print(f"{r.target}: {'OK' if r.ok else f'{len(r.problems)} problem(s)'} ({'; '.join(done) or 'nothing checked'})")
    for p in r.problems:
        print(f"  {p}")
    return 0 if r.ok else 1
