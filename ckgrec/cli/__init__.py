"""The ``ckg`` command. Each subcommand lives in its own module with ``register`` and ``run``.

Heavy libraries (torch, pykeen, sklearn) are imported inside ``run`` so that ``ckg --help``
answers instantly.
"""

from __future__ import annotations

import argparse
import errno
import os
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

    _writes_fail_instead_of_killing()
    try:
        return int(args.handler(args) or 0)
    except CkgError as e:
        print(f"ckg {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"ckg {args.command}: interrupted", file=sys.stderr)
        return 130
    except OSError as e:
        message = disk_full_message(e) or filesystem_message(e)
        if message is None:
            raise
        print(f"ckg {args.command}: error: {message}", file=sys.stderr)
        return 2


DISK_FULL = (errno.ENOSPC, errno.EFBIG, errno.EDQUOT)


def disk_full_message(e: OSError) -> str | None:
    """One line for a write that failed for lack of space (or a file-size limit); None for other errors.

    Every writer of ckgrec writes to a temporary file or directory and renames it into place, so the
    previous output is intact when this happens. pyarrow raises OSError without an errno, hence the text test.
    """
    text = str(e)
    if e.errno not in DISK_FULL and not any(os.strerror(n) in text for n in DISK_FULL):
        return None
    where = f" writing {e.filename}" if e.filename else ""
    return (
        f"out of disk space{where} ({e.strerror or text}); nothing was replaced: the previous output is intact "
        "and partial files were removed. Free some space (or raise the file-size limit) and run the command again"
    )


def filesystem_message(e: OSError) -> str | None:
    """One line for a path the user named that cannot be used as asked (no permission, a file where a
    directory belongs, ...); None for other errors, which keep their traceback (they are bugs)."""
    what = {
        PermissionError: "permission denied",
        NotADirectoryError: "a file stands where a directory is needed",
        IsADirectoryError: "a directory stands where a file is needed",
        FileExistsError: "already exists",
    }
    if isinstance(e, FileExistsError) and e.filename and os.path.isfile(e.filename):
        e = NotADirectoryError(e.errno, "it is a file", e.filename)
    for cls, text in what.items():
        if isinstance(e, cls):
            where = f"{e.filename}" + (f" -> {e.filename2}" if e.filename2 else "") if e.filename else str(e)
            return f"{where}: {text} ({e.strerror or e}); check the path, or choose another one"
    return None


def _writes_fail_instead_of_killing() -> None:
    """Under a file-size limit (ulimit -f) a write beyond it raises SIGXFSZ, which kills the process
    without a word; ignored, the write fails with EFBIG and the command reports it in one line."""
    import signal

    if hasattr(signal, "SIGXFSZ"):
        try:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        except (ValueError, OSError):  # not the main thread
            pass


if __name__ == "__main__":
    sys.exit(main())
