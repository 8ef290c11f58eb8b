"""``ckg build``: raw data -> store."""

from __future__ import annotations

import argparse
from pathlib import Path

from ckgrec.cli.options import SEED


def register(sub) -> None:
    p = sub.add_parser(
        "build",
        help="build the two collaborative KGs and write a store",
        description="Read a dataset (native layout or a public format), validate it, split "
        "interactions per user, build the user-side and item-side collaborative KGs from the "
        "training interactions only, and write everything to a store directory.",
    )
    p.add_argument(
        "source",
        help="dataset directory (see 'ckg datasets' for accepted layouts), or 'embedded' for the bundled micro-video dataset",
    )
    p.add_argument("--out", required=True, help="store directory to write (refused if it exists, unless --force)")
    p.add_argument(
        "--format",
        default="auto",
        choices=["auto", "native", "movielens", "recbole", "mmgcn", "kgat", "mmrec"],
        help="layout of SOURCE; 'auto' (default) detects it from the files present",
    )
    p.add_argument(
        "--feature",
        action="append",
        default=[],
        metavar="NAME=PATH",
        help="add a modality from outside the source: a .npy with a .csv index (item_id,row) beside "
        "it, a directory holding one of each, or a .parquet with a vector column; repeatable",
    )
    p.add_argument(
        "--config",
        help="TOML file whose [build] table sets build options (docs/data.md), e.g. [build.split] method, "
        "ratios, k_core, train_fraction (share of each user's training pairs kept; default 1)",
    )
    p.add_argument(
        "--seed", type=SEED, help="seed for the split and concept clustering (overrides the config; default 2020)"
    )
    p.add_argument(
        "--memory-limit",
        metavar="SIZE",
        help="which builder writes the store (the same store, byte for byte, either way): 'auto' (default) builds "
        "a native interactions file of 64 MB or more out of core (DuckDB, spilling to a scratch directory beside "
        "--out) with at most 40%% of the machine's memory in DuckDB, and smaller or non-native inputs in memory; "
        "a SIZE such as 4GB builds out of core with that limit whatever the input's size; 'none' (or 0) builds "
        "in memory. Options the out-of-core build does not cover yet (cold-start splits, rating columns read as "
        "weights or bins) are built in memory; the summary's 'engine:' line says which builder ran and why. "
        "Default: [build] memory_limit of --config, else auto",
    )
    p.add_argument("--force", action="store_true", help="replace an existing store at --out")
    p.add_argument("--quiet", action="store_true", help="do not report stages while building")
    p.set_defaults(handler=run)


def parse_features(values: list[str]) -> dict[str, str]:
    from ckgrec.schemas.errors import ConfigError

    out = {}
    for v in values:
        name, sep, path = v.partition("=")
        if not sep or not name or not path:
            raise ConfigError(f"--feature '{v}': expected NAME=PATH, e.g. text=features/text.npy")
        out[name] = path
    return out


def load_build_config(path: str | None, seed: int | None):
    import dataclasses

    from ckgrec.kgbuild.config import BuildConfig
    from ckgrec.schemas.config_io import load_toml

    cfg = load_toml(BuildConfig, path, section="build") if path else BuildConfig()
    return dataclasses.replace(cfg, seed=seed) if seed is not None else cfg


def run(args: argparse.Namespace) -> int:
    import warnings

    from ckgrec.kgbuild.notices import BuildWarning

    cfg = load_build_config(args.config, args.seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BuildWarning)  # the summary below prints each one, as 'warning: ...'
        report = _build(args, cfg)
    return _report(Path(args.out), report.seconds, report.engine)


def _build(args: argparse.Namespace, cfg):
    from ckgrec.api import EMBEDDED
    from ckgrec.kgbuild.build import build as build_store

    source = args.source
    if source == EMBEDDED and not Path(source).exists():
        from ckgrec.kgbuild.embedded import embedded_dataset_dir

        source = embedded_dataset_dir()
    limit = args.memory_limit if args.memory_limit is not None else cfg.memory_limit
    return build_store(
        source,
        args.out,
        fmt=args.format,
        config=cfg,
        extra_features=parse_features(args.feature),
        force=args.force,
        verbose=not args.quiet,
        memory_limit="auto" if limit is None else limit,
    )


def _report(out: Path, seconds: dict, engine: str = "") -> int:
    from ckgrec.kgbuild.summary import format_summary

    print(format_summary(out))
    if engine:
        print(engine)
    total = sum(seconds.values())
    where = ", ".join(f"{k} {v:.2f}s" for k, v in seconds.items())
    print(f"\nbuilt {out} in {total:.1f}s ({where})")
    return 0
