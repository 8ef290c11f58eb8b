"""One error family for every stage.

Each subclass also inherits the matching built-in so callers that only know Python's own
exceptions (``except ValueError``) still catch ours, while the CLI can catch ``CkgError`` and
print one clear line instead of a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass


class CkgError(Exception):
    """Root of every error ckgrec raises on purpose."""


class ConfigError(CkgError, ValueError):
    """A configuration file or option is wrong (unknown key, bad value, bad range)."""


class InputNotFoundError(CkgError, FileNotFoundError):
    """An input file or directory the user named does not exist."""


class StoreError(CkgError, ValueError):
    """A store is missing, partially written, of another schema version or corrupted."""


class StoreMismatchError(StoreError):
    """Two artefacts come from different builds (their id-space fingerprints differ)."""


class StoreCorruptedError(StoreError):
    """A store file differs from what its manifest recorded (size or SHA-256)."""


class OutputLockedError(CkgError, BlockingIOError):
    """Another live process holds the lock of the output this command would write."""


class UnsafeOutputError(CkgError, FileExistsError):
    """An output path would overwrite something ckgrec did not write (or the command's own input)."""


@dataclass(frozen=True)
class Problem:
    """One validation failure, located precisely enough to fix by hand."""

    file: str
    row: int | None  # 1-based data row (header excluded); None when the whole column/file is wrong
    column: str | None
    rule: str
    detail: str = ""

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column is not None:
            where += f", column '{self.column}'"
        text = f"{where}: {self.rule}"
        return f"{text} ({self.detail})" if self.detail else text


class InputValidationError(CkgError, ValueError):
    """Raw input broke one or more rules; carries every problem found, not just the first."""

    max_shown = 20

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        shown = "\n  ".join(str(p) for p in self.problems[: self.max_shown])
        more = len(self.problems) - self.max_shown
        tail = f"\n  ... and {more} more" if more > 0 else ""
        super().__init__(f"{len(self.problems)} problem(s) in the input:\n  {shown}{tail}")
