"""``ckg run CONFIG``: build -> pretrain -> tune ([tune], optional) -> train each model x seed -> evaluate -> compare -> examples -> report."""

from __future__ import annotations

import argparse

STAGES = (
    "build",
    "pretrain",
    "tune",
    "train",
    "evaluate",
    "compare",
    "examples",
    "report",
)  # ckgrec.pipeline.runner.STAGES, import-free


def add_run_options(p: argparse.ArgumentParser, *, out_help: str) -> None:
    """Options ``ckg run`` and ``ckg demo`` share."""
    p.add_argument("--out", metavar="DIR", help=out_help)
    p.add_argument(
        "--force",
        action="store_true",
        help="rerun every stage from scratch, ignoring what OUT/pipeline.json recorded (also replaces a store at OUT/store "
        "that this pipeline did not build)",
    )
    p.add_argument(
        "--until",
        choices=STAGES,
        metavar="STAGE",
        help=f"stop after this stage ({', '.join(STAGES)}); a later run continues from there",
    )
    p.add_argument(
        "--device",
        choices=["auto", "cpu", "cuda"],
        help="where to pretrain and train, overriding the config's device (default: the config's, usually auto = CUDA when available)",
    )
    p.add_argument(
        "--quiet",
        action="store_true",
        help="print only errors and the final results (no per-stage and per-epoch lines)",
    )


def register(sub) -> None:
    p = sub.add_parser(
        "run",
        help="run the whole pipeline from one TOML config: build, pretrain, train, compare, report",
        description="Run the pipeline a TOML config describes (write a starting one with 'ckg init-config'): build the store from "
        "the data source, pretrain TransR on both graphs, tune the models of an optional [tune] table with one budget each (on the validation split), train every model once per seed, gather per-user-group figures, compare "
        "the models (mean ± std over seeds, paired test per user), compute example recommendations with explaining KG paths and "
        "write the report (OUT/report/report.html, self-contained, and report.md). Each stage is skipped when its inputs are "
        "unchanged since it last ran (content hashes recorded in OUT/pipeline.json), and an interrupted training run resumes "
        "from its last finished epoch: rerunning the same command after an interruption or a config edit redoes only what changed.",
        epilog="Output layout: OUT/store, OUT/runs/<label>/seed-<s> (run directories, as 'ckg train' writes them), OUT/evaluation.json, "
        "OUT/compare.json, OUT/examples.json, OUT/report/, OUT/pipeline.json. Relative paths in CONFIG are read from CONFIG's directory.",
    )
    p.add_argument("config", metavar="CONFIG", help="TOML config file (see 'ckg init-config' and the README)")
    add_run_options(
        p, out_help="output directory, overriding the config's out = ... (relative to the working directory)"
    )
    p.set_defaults(handler=run)


def execute(config_path, args: argparse.Namespace) -> int:
    """Load, run and print the ending; shared with ``ckg demo``."""
    import sys

    from ckgrec.pipeline.config import load_config

    cfg = load_config(config_path, out=args.out)

    from ckgrec.api import run_config
    from ckgrec.pipeline.console import ending
    from ckgrec.pipeline.state import PipelineState

    log = (lambda _msg: None) if args.quiet else (lambda msg: print(msg, flush=True))
    progress = not args.quiet and sys.stderr.isatty()
    log(f"[run] {cfg.path} -> {cfg.out}")
    try:
        run_config(
            config_path,
            out=args.out,
            force=args.force,
            until=args.until,
            device=args.device,
            log=log,
            progress=progress,
        )
    except KeyboardInterrupt:
        steps = PipelineState.load(cfg.out).meta.get("last_invocation", {}).get("steps", {})
        where = next((n for n, what in steps.items() if what == "interrupted"), None)
        print(
            f"\nckg run: interrupted{f' during {where}' if where else ''}. Run the same command again to continue: finished steps "
            "are kept and a training run resumes from its last finished epoch.",
            file=sys.stderr,
        )
        return 130
    text = ending(cfg)
    if text:
        print("\n" + text)
    return 0


def run(args: argparse.Namespace) -> int:
    return execute(args.config, args)
