"""``ckg init-config``: write a commented starting config for ``ckg run``."""

from __future__ import annotations

import argparse


def register(sub) -> None:
    p = sub.add_parser(
        "init-config",
        help="write a commented starting config for 'ckg run'",
        description="Write a commented TOML config for 'ckg run': the data source, build options, TransR pretraining, "
        "the models to train (MostPop, BPR-MF, LightGCN and dualkgat, three seeds each) with per-model options, an optional "
        "[tune] table (commented out), the "
        "evaluation and the report. It is valid as written; commented-out lines show further options with their defaults.",
    )
    p.add_argument(
        "--dataset",
        default="embedded",
        metavar="NAME",
        help="'embedded' (default: the bundled micro-video dataset) or a dataset directory in any layout "
        "'ckg datasets' lists (its format is detected and written into the config)",
    )
    p.add_argument("--out", default="ckg.toml", metavar="FILE", help="config file to write (default: ./ckg.toml)")
    p.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ckgrec.pipeline.files import write_text
    from ckgrec.pipeline.template import config_text
    from ckgrec.schemas.errors import ConfigError

    path = Path(args.out)
    if path.exists() and not args.force:
        raise ConfigError(f"{path} already exists; pass --force to overwrite it, or --out another file")
    if path.is_dir():
        raise ConfigError(f"{path} is a directory; --out names the config file to write")
    write_text(path, config_text(args.dataset, path))
    print(f"wrote {path}; edit it, then run: ckg run {path}")
    return 0
