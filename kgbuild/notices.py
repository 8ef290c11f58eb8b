"""Build warnings: things a build survives but a person should know about.

Each is raised as a :class:`BuildWarning` (so ``pytest.warns`` and ``warnings`` filters see it)
and kept in the store manifest under ``warnings``, where the build summary shows it. They are
for data the builder keeps as it is (an empty split, links to unknown items, a replaced
modality), never for data it drops: bad data is an error.
"""

from __future__ import annotations

import warnings


class BuildWarning(UserWarning):
    """A build finished, but with something the user should check."""


class Notices:
    """Collects a build's warnings in order."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def warn(self, message: str) -> None:
        self.messages.append(message)
        warnings.warn(message, BuildWarning, stacklevel=3)
