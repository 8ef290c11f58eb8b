"""``ckg demo``: the main job on the embedded dataset, with no arguments."""
from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser(
        "demo",
        help="run the pipeline on the embedded micro-video dataset",
        description="Build the embedded micro-video dataset into a store and print its summary.",
    )
    p.add_argument("--out", default="ckg-demo", help="working directory for the demo's store and runs (default: ./ckg-demo)")
    p.set_defaults(handler=run)


def run(args) -> int:
    from pathlib import Path

    from kgbuild.build import build
    from kgbuild.embedded import embedded_dataset_dir
    from kgbuild.summary import format_summary

    out = Path(args.out)
    report = build(embedded_dataset_dir(), out / "store", force=True, verbose=True)
    print(format_summary(report.store))
    return 0
