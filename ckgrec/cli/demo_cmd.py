"""``ckg demo``: ``ckg run`` on the embedded micro-video dataset with the shipped ``ckgrec/pipeline/demo.toml``.

Small settings (few epochs, two seeds) so the whole pipeline -- build, TransR pretraining,
MostPop, BPR-MF, dualkgat and one dualkgat ablation, comparison, report -- finishes in a few
minutes on a 2-core CPU; the figures are a smoke run, not the tuned results in
benchmarks/RESULTS.md. Running it again keeps every stage whose inputs are unchanged.
"""

from __future__ import annotations


def register(sub) -> None:
    from ckgrec.cli.run_cmd import add_run_options

    p = sub.add_parser(
        "demo",
        help="run the whole pipeline on the embedded micro-video dataset ('ckg run' with a shipped config)",
        description="Run 'ckg run' with the shipped demo config (ckgrec/pipeline/demo.toml; 'ckg demo --show-config' prints it): "
        "build the embedded micro-video dataset into a store, pretrain TransR on both graphs, train MostPop, BPR-MF and dualkgat "
        "(two seeds each, few epochs) and a dualkgat ablation without the item-side graph, compare them on the test split, "
        "write the report and print three recommendations with the KG paths that explain them. A second run keeps every "
        "stage whose inputs are unchanged; --force redoes everything.",
    )
    add_run_options(p, out_help="working directory for the store, runs and report (default: ./ckg-demo)")
    p.add_argument(
        "--build-only",
        action="store_true",
        help="stop after building the store and printing its summary (same as --until build)",
    )
    p.add_argument("--show-config", action="store_true", help="print the demo config and exit")
    p.set_defaults(handler=run)


def demo_config():
    """Path of the shipped demo config (package data)."""
    from importlib import resources

    return resources.files("ckgrec.pipeline") / "demo.toml"


def run(args) -> int:
    from ckgrec.cli.run_cmd import execute

    config = demo_config()
    if args.show_config:
        print(config.read_text(encoding="utf-8"), end="")
        return 0
    if args.out is None:
        args.out = "ckg-demo"
    if args.build_only:
        args.until = "build"
    return execute(config, args)
