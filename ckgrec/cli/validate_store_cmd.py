"""``ckg validate-store STORE`` (alias ``ckg validate``): check a whole store against its manifest."""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser(
        "validate-store",
        aliases=["validate"],
        help="check a store's files against its manifest (sizes, SHA-256, tables, features, fingerprint)",
        description="Check every file of STORE against the sizes and SHA-256 hashes its manifest recorded, read every "
        "table and feature matrix in full, and recompute the fingerprint from the tables. Every problem is listed; the "
        "exit status is 0 for a sound store and 1 otherwise. (Every command that reads a store already checks sizes and "
        "hashes when it opens it; this command also reads the data itself. For RDF files, see 'ckg validate-rdf'.)",
    )
    p.add_argument("store", help="store directory written by 'ckg build'")
    p.set_defaults(handler=run)


def run(args) -> int:
    import sys

    from ckgrec.schemas.store import validate_store

    problems, facts = validate_store(args.store)
    if problems:
        print(f"{args.store}: {len(problems)} problem(s):", file=sys.stderr)
        for p in problems:
            print(f"  {p}", file=sys.stderr)
        return 1
    print(
        f"{args.store}: sound ({facts['files']} files, {facts['bytes']:,} bytes, sizes and SHA-256 as recorded; tables and features readable)"
    )
    for key in ("note", "fingerprint_note"):
        if key in facts:
            print(f"note: {facts[key]}")
    return 0
