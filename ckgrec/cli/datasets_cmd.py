"""``ckg datasets``: what each input format expects."""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser(
        "datasets",
        help="list the input formats 'ckg build' accepts",
        description="List the input layouts 'ckg build' accepts, with the files each expects, and the embedded default dataset.",
    )
    p.set_defaults(handler=run)


def run(args) -> int:
    from ckgrec.kgbuild.adapters import adapters
    from ckgrec.kgbuild.embedded import embedded_dataset_dir

    for name, module in adapters().items():
        print(f"{name:10s} {module.DESCRIPTION}")
        for f in module.FILES:
            print(f"{'':12s}{f}")
    print(f"\nembedded default dataset: {embedded_dataset_dir()} (native layout; used by 'ckg demo')")
    return 0
