"""Reading and writing a ckgrec store: a directory of Parquet tables plus a manifest.

Why a directory with a manifest written last: a build that dies half way leaves no
``manifest.json`` (it is written into a temporary directory that is renamed into place only
when complete), so a reader can always tell a finished store from debris. Every table carries
the store's id-space fingerprint in its metadata, so a table copied in from another build, or
embeddings trained on another build, are refused instead of silently mis-indexed.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from ckgrec.schemas.errors import InputNotFoundError, StoreError, StoreMismatchError
from ckgrec.schemas.tables import FEATURE_INDEX, SCHEMA_VERSION, TABLES, TableSpec

MANIFEST = "manifest.json"
META_KEY = b"ckgrec"
FORMAT_NAME = "ckgrec-store"


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def compute_fingerprint(frames: dict[str, pd.DataFrame]) -> str:
    """Hash of the id spaces: which label sits at which id, in every graph.

    Two stores share a fingerprint exactly when every dense id means the same thing in both,
    which is the condition for reusing embeddings or checkpoints across them.
    """
    h = hashlib.sha256()
    for name in sorted(frames):
        df = frames[name]
        h.update(name.encode())
        for col in df.columns:
            h.update(col.encode())
            values = df[col].to_numpy()
            if values.dtype == object or pd.api.types.is_string_dtype(values.dtype):
                h.update("\x1f".join(map(str, values)).encode("utf-8"))
            else:
                h.update(np.ascontiguousarray(values).tobytes())
    return h.hexdigest()[:32]


def _to_arrow(spec: TableSpec, df: pd.DataFrame, fingerprint: str) -> pa.Table:
    missing = [n for n in spec.schema.names if n not in df.columns]
    if missing:
        raise StoreError(f"internal: table '{spec.name}' lacks columns {missing}")
    table = pa.Table.from_pandas(df[spec.schema.names], schema=spec.schema, preserve_index=False)
    meta = {"table": spec.name, "schema_version": SCHEMA_VERSION, "fingerprint": fingerprint}
    return table.replace_schema_metadata({META_KEY: json.dumps(meta, sort_keys=True).encode()})


def file_mode() -> int:
    """0666 minus the umask: the mode open() gives a new file (mkstemp's is 0600, too private
    for stores and results that are meant to be shared)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def atomic_write_bytes(path: Path, data: bytes | memoryview, fsync: bool = False) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same directory and rename
    (``fsync``: flush to disk first, for files a crash must not leave empty, e.g. checkpoints)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            if fsync:
                f.flush()
                os.fsync(f.fileno())
        os.chmod(tmp, file_mode())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


class StoreWriter:
    """Builds a store in a temporary sibling directory and renames it into place on commit.

    Use as a context manager; leaving the block with an exception removes the temporary
    directory, so the target is either the previous store or the complete new one.
    """

    def __init__(self, out: str | Path, fingerprint: str, *, force: bool = False):
        self.out = Path(out)
        self.fingerprint = fingerprint
        self.force = force
        if self.out.exists() and not force:
            raise StoreError(f"{self.out} already exists; pass --force to replace it")
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = Path(tempfile.mkdtemp(dir=self.out.parent, prefix=f".{self.out.name}.building."))
        self.files: dict[str, str] = {}

    def __enter__(self) -> "StoreWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if self.tmp.exists():
            shutil.rmtree(self.tmp, ignore_errors=True)

    def write_table(self, spec: TableSpec, df: pd.DataFrame, rel_path: str | None = None) -> None:
        rel = rel_path or spec.filename
        path = self.tmp / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(_to_arrow(spec, df, self.fingerprint), path, compression="zstd", row_group_size=1 << 20)
        self.files[rel] = sha256_file(path)

    def write_feature(self, modality: str, items: np.ndarray, matrix: np.ndarray) -> None:
        """Store a modality as ``features/<m>.npy`` (memory-mappable) + ``features/<m>.parquet``."""
        rel_npy = f"features/{modality}.npy"
        path = self.tmp / rel_npy
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, np.ascontiguousarray(matrix, dtype=np.float32))
        self.files[rel_npy] = sha256_file(path)
        index = pd.DataFrame({"item": np.asarray(items, dtype=np.int64), "row": np.arange(len(items), dtype=np.int64)})
        self.write_table(FEATURE_INDEX, index, f"features/{modality}.parquet")

    def commit(self, manifest: dict[str, Any]) -> Path:
        body = dict(manifest)
        body.update(
            {
                "format": FORMAT_NAME,
                "schema_version": SCHEMA_VERSION,
                "fingerprint": self.fingerprint,
                "files": dict(sorted(self.files.items())),
            }
        )
        (self.tmp / MANIFEST).write_text(json.dumps(body, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        backup = None
        if self.out.exists():
            backup = self.out.with_name(f".{self.out.name}.old.{os.getpid()}")
            os.replace(self.out, backup)
        os.replace(self.tmp, self.out)
        if backup is not None:
            shutil.rmtree(backup, ignore_errors=True)
        return self.out


@dataclass
class Store:
    """A finished store opened for reading. Cheap to open: tables load on demand."""

    path: Path
    manifest: dict[str, Any] = field(repr=False)

    @classmethod
    def open(cls, path: str | Path) -> "Store":
        p = Path(path)
        if not p.exists():
            raise InputNotFoundError(f"store not found: {p} (build one with 'ckg build')")
        mpath = p / MANIFEST
        if not mpath.is_file():
            raise StoreError(f"{p} is not a finished store: {MANIFEST} is missing (partially written or not a store)")
        try:
            manifest = json.loads(mpath.read_text(encoding="utf-8"))
        except json.JSONDecodeError as e:
            raise StoreError(f"{mpath}: manifest is not valid JSON ({e})") from e
        if manifest.get("format") != FORMAT_NAME:
            raise StoreError(f"{mpath}: not a ckgrec store manifest")
        if manifest.get("schema_version") != SCHEMA_VERSION:
            raise StoreError(
                f"{p}: store schema version {manifest.get('schema_version')} but this ckgrec reads "
                f"version {SCHEMA_VERSION}; rebuild the store with 'ckg build --force'"
            )
        for rel in manifest.get("files", {}):
            if not (p / rel).is_file():
                raise StoreError(f"{p}: file '{rel}' listed in the manifest is missing (partially copied store?)")
        return cls(p, manifest)

    @property
    def fingerprint(self) -> str:
        return self.manifest["fingerprint"]

    @property
    def counts(self) -> dict[str, Any]:
        return self.manifest.get("counts", {})

    @property
    def num_users(self) -> int:
        return int(self.counts["users"])

    @property
    def num_items(self) -> int:
        return int(self.counts["items"])

    @property
    def modalities(self) -> list[str]:
        return list(self.manifest.get("modalities", []))

    def verify(self) -> None:
        """Recompute every file's content hash against the manifest (slow on big stores)."""
        for rel, digest in self.manifest["files"].items():
            if sha256_file(self.path / rel) != digest:
                raise StoreError(f"{self.path / rel}: content hash differs from the manifest (modified or corrupted)")

    def _read(self, spec: TableSpec, rel: str, columns: Iterable[str] | None, filters) -> pd.DataFrame:
        path = self.path / rel
        try:
            pf_schema = pq.read_schema(path)
        except (OSError, pa.ArrowInvalid) as e:
            raise StoreError(f"{path}: unreadable Parquet file ({e})") from e
        raw = (pf_schema.metadata or {}).get(META_KEY)
        if raw is None:
            raise StoreError(f"{path}: no ckgrec metadata; this file was not written by 'ckg build'")
        meta = json.loads(raw)
        if meta.get("table") != spec.name:
            raise StoreError(f"{path}: holds table '{meta.get('table')}', expected '{spec.name}'")
        if meta.get("schema_version") != SCHEMA_VERSION:
            raise StoreError(f"{path}: schema version {meta.get('schema_version')}, expected {SCHEMA_VERSION}")
        if meta.get("fingerprint") != self.fingerprint:
            raise StoreMismatchError(
                f"{path}: fingerprint {meta.get('fingerprint')} does not match the store's "
                f"{self.fingerprint}; the file comes from another build"
            )
        cols = list(columns) if columns is not None else None
        return pq.read_table(path, columns=cols, filters=filters).to_pandas()

    def table(self, name: str, columns: Iterable[str] | None = None, filters=None) -> pd.DataFrame:
        """Load one table (``entities``, ``triples``, ...) as a DataFrame, checking its metadata."""
        if name not in TABLES:
            raise StoreError(f"unknown table '{name}'; tables: {', '.join(TABLES)}")
        spec = TABLES[name]
        return self._read(spec, spec.filename, columns, filters)

    def graph_table(self, name: str, graph: str, columns: Iterable[str] | None = None) -> pd.DataFrame:
        """Rows of a per-graph table (entities, relations, triples, alignments) for one graph."""
        return self.table(name, columns, filters=[("graph", "=", graph)])

    def feature(self, modality: str, mmap: bool = True) -> tuple[pd.DataFrame, np.ndarray]:
        """(index with columns item,row ; matrix [rows, d]) of one modality, memory-mapped."""
        if modality not in self.modalities:
            raise StoreError(f"{self.path}: no modality '{modality}'; stored: {', '.join(self.modalities) or 'none'}")
        index = self._read(FEATURE_INDEX, f"features/{modality}.parquet", None, None)
        matrix = np.load(self.path / f"features/{modality}.npy", mmap_mode="r" if mmap else None)
        return index, matrix
