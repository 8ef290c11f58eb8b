"""The ``ckg`` command. Each subcommand lives in its own module with ``register`` and ``run``.

Heavy libraries (torch, pykeen, sklearn) are imported inside ``run`` so that ``ckg --help``
answers instantly.
"""
from __future__ import annotations

import argparse
import sys
from importlib import import_module


def command_modules() -> list[str]:
    """Every ``*_cmd`` module in this package; adding a command is adding a file."""
    import pkgutil

    import ckgrec.cli as pkg

    return sorted(m.name for m in pkgutil.iter_modules(pkg.__path__) if m.name.endswith("_cmd"))


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ckg",
        description="ckgrec: build collaborative knowledge graphs from recommendation data, "
        "pretrain TransR on them, train and evaluate knowledge-aware recommenders.",
    )
    from ckgrec import __version__

    parser.add_argument("--version", action="version", version=f"ckgrec {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in command_modules():
        import_module(f"ckgrec.cli.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = make_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 0
    from ckgrec.schemas.errors import CkgError

    try:
        return int(args.handler(args) or 0)
    except CkgError as e:
        print(f"ckg {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"ckg {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
