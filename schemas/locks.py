"""One writer at a time: an exclusive lock file beside (or inside) what a command writes.

Every command that writes a store, a run directory or a pretrained folder holds the lock of that
output for as long as it writes. The lock is a small file holding the holder's pid, locked with
``flock``: the kernel releases it when the holder dies, however it dies, so a lock file left by a
killed process is *stale* -- the next writer finds it unlocked, takes it over and writes its own
pid. A second live writer is refused at once with the holder's pid (no waiting: two writers of
one output are a mistake to report, not a queue to form). A clean release removes the file (while
still holding the lock; a locker checks that the inode it locked is still the one at the path).

Locks are re-entrant within a process (``ckg run`` holds its output's lock and then the build
stage takes the store's), because ``flock`` on a second descriptor of the same file would
otherwise deadlock the process against itself.
"""

from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path
from typing import Iterator

from ckgrec.schemas.errors import OutputLockedError

_held: dict[str, list] = {}  # resolved lock path -> [open file, depth]


def pid_alive(pid: int) -> bool:
    """Whether a process ``pid`` exists (ours or another user's)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def lock_path_for(out: str | Path) -> Path:
    """The lock of an output that is replaced as a whole (a store): a hidden sibling ``.NAME.lock``."""
    p = Path(out)
    return p.with_name(f".{p.name}.lock")


def read_holder(lock_file: str | Path) -> int | None:
    try:
        text = Path(lock_file).read_text(encoding="ascii", errors="replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


@contextlib.contextmanager
def exclusive_lock(lock_file: str | Path, what: str, *, command: str = "another ckg command") -> Iterator[Path]:
    """Hold the exclusive lock ``lock_file`` (created if needed) while the block runs.

    :param what: the output in words, for the refusal (``"store out/store"``).
    :raises OutputLockedError: another live process holds the lock; the message names its pid.
    """
    path = Path(lock_file)
    key = str(path.resolve())
    if key in _held:
        _held[key][1] += 1
        try:
            yield path
        finally:
            _held[key][1] -= 1
        return
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no lock
        yield path
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        f = open(path, "a+", encoding="ascii")
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            f.close()
            if e.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise
            holder = read_holder(path)
            raise OutputLockedError(
                f"{what} is being written by {command} (pid {holder if holder is not None else '?'}, lock file {path}); "
                "wait for it to finish, or write to another output"
            ) from None
        try:
            same = os.fstat(f.fileno()).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        f.close()  # the holder removed the file between our open and our lock: lock the new one
    try:
        # ours now: the file was free, or left by a dead process (a stale lock, still holding its pid)
        f.seek(0)
        f.truncate()
        f.write(f"{os.getpid()}\n")
        f.flush()
        _held[key] = [f, 1]
        try:
            yield path
        finally:
            del _held[key]
            try:
                path.unlink()  # while still locked: a waiter that opened it sees a stale inode and retries
            except OSError:
                pass
            fcntl.flock(f, fcntl.LOCK_UN)
    finally:
        f.close()


def holds(lock_file: str | Path) -> bool:
    """Whether this process holds ``lock_file``."""
    return str(Path(lock_file).resolve()) in _held
