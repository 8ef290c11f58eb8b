"""Hashes of what a stage reads, so a rerun can tell "inputs unchanged" from "redo".

Content hashes, not modification times: a fresh clone or a copied directory has new times and
the same content, and must not retrain anything. Hashing the embedded dataset (2.4 MB) takes
milliseconds; a source of a few GB takes seconds, small next to any build.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from ckgrec.schemas.store import sha256_file


def digest(obj: Any) -> str:
    """Stable hash of a JSON-able description (keys sorted; paths and other objects as text)."""
    text = json.dumps(obj, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def file_digest(path: str | Path) -> str | None:
    """sha256 of a file's content; None when it does not exist."""
    p = Path(path)
    return sha256_file(p) if p.is_file() else None


def tree_digest(root: str | Path) -> str:
    """Hash of every regular file under ``root`` (relative path + content), hidden files and caches skipped."""
    root = Path(root)
    if root.is_file():
        return sha256_file(root)
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if any(part.startswith(".") or part == "__pycache__" for part in rel.parts) or not p.is_file():
            continue
        h.update(str(rel.as_posix()).encode("utf-8") + b"\0" + sha256_file(p).encode() + b"\n")
    return h.hexdigest()[:32]
