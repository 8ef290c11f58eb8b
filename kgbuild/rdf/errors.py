"""Errors of the RDF tools, in the CkgError family so the CLI prints one line and exits 2."""

from __future__ import annotations

from ckgrec.schemas.errors import CkgError


class RdfInputError(CkgError, ValueError):
    """An RDF file is malformed (syntax, bad IRI, truncated) or is not a ckgrec export
    (unknown predicate, node without a class, edge in the wrong graph)."""


class RdfExportError(CkgError, ValueError):
    """A store cannot be exported as asked (Turtle above the size limit, bad base IRI, ...)."""


class MissingExtraError(CkgError, ImportError):
    """An optional dependency is not installed."""


def require(module: str, extra: str, purpose: str):
    """Import an optional dependency or say which extra installs it."""
    from importlib import import_module

    try:
        return import_module(module)
    except ImportError as e:
        raise MissingExtraError(f"{purpose} needs the '{module}' package: pip install 'ckgrec[{extra}]'") from e
