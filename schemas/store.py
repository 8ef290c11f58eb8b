"""Reading and writing a ckgrec store: a directory of Parquet tables plus a manifest.

Why a directory with a manifest written last: a build that dies half way leaves no
``manifest.json`` (it is written into a temporary directory that is renamed into place only
when complete), so a reader can always tell a finished store from debris. Every table carries
the store's id-space fingerprint in its metadata, so a table copied in from another build, or
embeddings trained on another build, are refused instead of silently mis-indexed.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ckgrec.schemas.errors import (
    InputNotFoundError,
    StoreCorruptedError,
    StoreError,
    StoreMismatchError,
    UnsafeOutputError,
)
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


def dir_mode() -> int:
    """0777 minus the umask: the mode mkdir() gives a new directory (mkdtemp's is 0700)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o777 & ~mask


def is_store_dir(path: Path) -> bool:
    """Whether ``path`` is a directory whose manifest says it is a ckgrec store (finished by 'ckg build')."""
    mpath = path / MANIFEST
    if not path.is_dir() or not mpath.is_file():
        return False
    try:
        return json.loads(mpath.read_text(encoding="utf-8")).get("format") == FORMAT_NAME
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError):
        return False


def _inside(a: Path, b: Path) -> bool:
    return a == b or b in a.parents


def check_output_path(
    out: str | Path, *, force: bool, sources: Iterable[str | Path] = (), option: str = "--out"
) -> None:
    """Refuse an output that would destroy something ckgrec did not write.

    ``out`` may not be, lie inside or contain one of ``sources`` (the command's own input); an
    existing ``out`` needs ``force``, and even then only a store (or an empty directory) is replaced.
    """
    o = Path(out).resolve()
    for src in sources:
        if not Path(src).exists():
            continue  # not a path on disk (a missing input is reported by whoever reads it)
        s = Path(src).resolve()
        if _inside(o, s) or _inside(s, o):
            where = "is" if o == s else ("lies inside" if _inside(o, s) else "contains")
            raise UnsafeOutputError(
                f"{option} {out} {where} the input {src}: writing the store there would replace or mix with the "
                f"source data; choose an {option} outside {src}"
            )
    p = Path(out)
    if not (p.exists() or p.is_symlink()):
        return
    if not force:
        raise StoreError(f"{out} already exists; pass --force to replace it")
    if p.is_symlink() or not p.is_dir():
        what = "a symbolic link" if p.is_symlink() else "a file"
        raise UnsafeOutputError(
            f"{option} {out} is {what}, not a store; --force replaces only a store 'ckg build' wrote. "
            f"Remove it yourself or choose another {option}"
        )
    if not is_store_dir(p) and any(p.iterdir()):
        raise UnsafeOutputError(
            f"{option} {out} is a non-empty directory that is not a ckgrec store (no valid {MANIFEST}); --force replaces only a "
            f"store 'ckg build' wrote, so nothing was deleted. Remove it yourself or choose another {option}"
        )


def _debris(out: Path, kind: str) -> list[Path]:
    return sorted(out.parent.glob(f".{glob_escape(out.name)}.{kind}.*"))


def glob_escape(name: str) -> str:
    import glob

    return glob.escape(name)


def recover_interrupted(out: str | Path) -> list[str]:
    """Undo what a killed writer of ``out`` left behind; call only while holding ``out``'s lock.

    * ``.NAME.old.<pid>`` is the previous store, moved aside by a commit that could not swap in one
      step: if ``out`` is missing the commit was interrupted and the old store is put back,
      otherwise the commit finished and the copy is removed.
    * ``.NAME.building.<pid>.*`` is a half-written store (or, after a swap, the replaced one): removed.

    Every writer holds the lock, so whatever these names hold belongs to a process that died
    (the ``<pid>`` in the name says which; it is not trusted, as pids are reused).
    Returns what was done, in words.
    """
    out = Path(out)
    done: list[str] = []
    for old in _debris(out, "old"):
        if not (out.exists() or out.is_symlink()) and is_store_dir(old):
            os.replace(old, out)
            done.append(f"restored the previous store {out} from {old.name} (a build was killed while committing)")
        else:
            shutil.rmtree(old, ignore_errors=True)
            done.append(f"removed {old.name}, left by a build killed after its commit")
    for tmp in _debris(out, "building"):
        shutil.rmtree(tmp, ignore_errors=True)
        done.append(f"removed {tmp.name}, left by a killed build")
    return done


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two directory entries (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    import ctypes
    import sys

    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    at_fdcwd, rename_exchange = -100, 2
    if fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EPERM):
        return False
    raise OSError(err, os.strerror(err), str(b))


def manifest_checksum(body: dict[str, Any]) -> str:
    """SHA-256 of the manifest's content minus its own ``checksum`` key (canonical JSON)."""
    rest = {k: v for k, v in body.items() if k != "checksum"}
    return hashlib.sha256(json.dumps(rest, sort_keys=True, separators=(",", ":")).encode("utf-8")).hexdigest()


class StoreWriter:
    """Builds a store in a temporary sibling directory and swaps it into place on commit.

    Use as a context manager; it holds ``out``'s lock (:mod:`ckgrec.schemas.locks`) from
    construction to exit, so a second writer is refused. Leaving the block with an exception removes
    the temporary directory, so the target is either the previous store or the complete new one.
    On Linux the commit is one atomic swap (``renameat2(RENAME_EXCHANGE)``) or one rename when
    nothing was there; elsewhere it is two renames, and :func:`recover_interrupted` restores the
    old store if a kill falls between them.
    """

    def __init__(self, out: str | Path, fingerprint: str, *, force: bool = False, sources: Iterable[str | Path] = ()):
        from ckgrec.schemas.locks import exclusive_lock, lock_path_for

        self.out = Path(out)
        self.fingerprint = fingerprint
        self.force = force
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self._lock = exclusive_lock(lock_path_for(self.out), f"store {self.out}", command="another 'ckg build'")
        self._lock.__enter__()
        try:
            recover_interrupted(self.out)
            check_output_path(self.out, force=force, sources=sources)
            self.tmp = Path(tempfile.mkdtemp(dir=self.out.parent, prefix=f".{self.out.name}.building.{os.getpid()}."))
            os.chmod(self.tmp, dir_mode())
        except BaseException:
            self._lock.__exit__(None, None, None)
            raise
        self.files: dict[str, str] = {}
        self.sizes: dict[str, int] = {}

    def __enter__(self) -> "StoreWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if self.tmp.exists():
                shutil.rmtree(self.tmp, ignore_errors=True)
        finally:
            self._lock.__exit__(exc_type, exc, tb)

    def _record(self, rel: str, path: Path) -> None:
        self.files[rel] = sha256_file(path)
        self.sizes[rel] = path.stat().st_size

    def record_file(self, rel: str) -> None:
        """Take into the store a file the caller wrote itself at ``self.tmp / rel`` (a table streamed
        in row groups, too large for :meth:`write_table`'s one frame): its hash and size go into the
        manifest as every written file's do."""
        path = self.tmp / rel
        if not path.is_file() or not path.resolve().is_relative_to(self.tmp.resolve()):
            raise ValueError(f"{rel}: not a file written inside the store being built ({self.tmp})")
        self._record(rel, path)

    def write_table(self, spec: TableSpec, df: pd.DataFrame, rel_path: str | None = None) -> None:
        rel = rel_path or spec.filename
        path = self.tmp / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(_to_arrow(spec, df, self.fingerprint), path, compression="zstd", row_group_size=1 << 20)
        self._record(rel, path)

    def write_feature(self, modality: str, items: np.ndarray, matrix: np.ndarray) -> None:
        """Store a modality as ``features/<m>.npy`` (memory-mappable) + ``features/<m>.parquet``."""
        rel_npy = f"features/{modality}.npy"
        path = self.tmp / rel_npy
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, np.ascontiguousarray(matrix, dtype=np.float32))
        self._record(rel_npy, path)
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
                "file_sizes": dict(sorted(self.sizes.items())),
            }
        )
        body["checksum"] = manifest_checksum(body)
        with open(self.tmp / MANIFEST, "w", encoding="utf-8") as f:
            f.write(json.dumps(body, indent=2, sort_keys=True) + "\n")
            f.flush()
            os.fsync(f.fileno())
        if not self.out.exists():
            os.rename(self.tmp, self.out)
        elif _exchange(self.tmp, self.out):
            shutil.rmtree(self.tmp, ignore_errors=True)  # now the previous store
        else:
            backup = self.out.with_name(f".{self.out.name}.old.{os.getpid()}")
            os.replace(self.out, backup)
            os.replace(self.tmp, self.out)  # a kill between the two: recover_interrupted() puts the backup back
            shutil.rmtree(backup, ignore_errors=True)
        for rel, digest in self.files.items():  # what we just hashed needs no second hashing in this process
            _remember(self.out / rel, digest)
        return self.out


# ---- verification ---------------------------------------------------------------------------------
# (resolved path) -> (size, mtime_ns, inode, sha256) of a file whose hash this process checked
_verified: dict[str, tuple[int, int, int, str]] = {}


def _remember(path: Path, digest: str) -> None:
    st = path.stat()
    _verified[str(path.resolve())] = (st.st_size, st.st_mtime_ns, st.st_ino, digest)


def _known_good(path: Path, digest: str) -> bool:
    got = _verified.get(str(path.resolve()))
    if got is None:
        return False
    st = path.stat()
    return got == (st.st_size, st.st_mtime_ns, st.st_ino, digest)


def check_manifest(p: Path, manifest: Any) -> list[str]:
    """Problems of a parsed manifest itself (format, version, checksum, listed files and modalities)."""
    mpath = p / MANIFEST
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        return [f"{mpath}: not a ckgrec store manifest"]
    if manifest.get("schema_version") != SCHEMA_VERSION:
        return [
            f"{p}: store schema version {manifest.get('schema_version')} but this ckgrec reads "
            f"version {SCHEMA_VERSION}; rebuild the store with 'ckg build --force'"
        ]
    problems = []
    if "checksum" in manifest and manifest["checksum"] != manifest_checksum(manifest):
        problems.append(
            f"{mpath}: the manifest was edited or corrupted after the build (its checksum does not match "
            "its content); rebuild the store with 'ckg build --force'"
        )
    files = manifest.get("files")
    if not isinstance(files, dict) or not isinstance(manifest.get("fingerprint"), str):
        return problems + [f"{mpath}: the manifest lacks its 'files' or 'fingerprint' entry; rebuild the store"]
    for table in TABLES.values():
        if table.filename not in files:
            problems.append(
                f"{mpath}: table file '{table.filename}' is not listed; the manifest is incomplete, rebuild the store"
            )
    modalities = manifest.get("modalities", [])
    if not isinstance(modalities, list):
        problems.append(f"{mpath}: 'modalities' must be a list of names, got {type(modalities).__name__}")
        modalities = []
    for m in modalities:
        for rel in (f"features/{m}.npy", f"features/{m}.parquet"):
            if rel not in files:
                problems.append(f"{mpath}: modality '{m}' is listed but its file '{rel}' is not; rebuild the store")
    return problems


def _check_file(p: Path, rel: str, digest: str, size: int | None, hash_it: bool) -> str | None:
    path = p / rel
    if not path.is_file():
        return f"{p}: file '{rel}' listed in the manifest is missing (partially copied or damaged store); rebuild it with 'ckg build --force'"
    got_size = path.stat().st_size
    if size is not None and got_size != size:
        return (
            f"{path}: {got_size:,} bytes, but the manifest recorded {int(size):,} (truncated, modified or corrupted); "
            "rebuild the store with 'ckg build --force' or restore the file"
        )
    if hash_it and not _known_good(path, digest):
        if sha256_file(path) != digest:
            return (
                f"{path}: content hash differs from the manifest (modified or corrupted); rebuild the store with "
                "'ckg build --force' or restore the file"
            )
        _remember(path, digest)
    return None


@dataclass
class Store:
    """A finished store opened for reading. Cheap to open: tables load on demand."""

    path: Path
    manifest: dict[str, Any] = field(repr=False)

    @classmethod
    def open(cls, path: str | Path, *, verify: bool = True) -> "Store":
        """Open a finished store, checking its manifest and every listed file against it.

        :param verify: check each file's size *and* SHA-256 (the default; a file already checked by
            this process and unchanged since -- same size, mtime and inode -- is not hashed again).
            ``False`` checks sizes only, for trusted hot paths that reopen a store they just
            verified or wrote (measured: ``benchmarks/fault_campaign.py --measure-open``).
        :raises StoreCorruptedError: one error naming the first file that differs.
        """
        p = Path(path)
        if not p.exists():
            hint = ""
            olds = _debris(p, "old") if p.parent.is_dir() else []
            if olds:
                hint = f"; a build was killed while replacing it and left the previous store in {olds[0]}: rerun the build to restore or replace it"
            raise InputNotFoundError(f"store not found: {p} (build one with 'ckg build'){hint}")
        mpath = p / MANIFEST
        if not mpath.is_file():
            raise StoreError(f"{p} is not a finished store: {MANIFEST} is missing (partially written or not a store)")
        try:
            manifest = json.loads(mpath.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise StoreCorruptedError(
                f"{mpath}: manifest is not valid JSON ({e}); rebuild the store with 'ckg build --force'"
            ) from e
        problems = check_manifest(p, manifest)
        if problems:
            raise StoreCorruptedError(problems[0])
        sizes = manifest.get("file_sizes", {})
        for rel, digest in manifest["files"].items():
            problem = _check_file(p, rel, digest, sizes.get(rel), verify)
            if problem:
                raise StoreCorruptedError(problem)
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
        """Recompute every file's content hash against the manifest (no cache); raise on the first difference."""
        sizes = self.manifest.get("file_sizes", {})
        for rel, digest in self.manifest["files"].items():
            _verified.pop(str((self.path / rel).resolve()), None)
            problem = _check_file(self.path, rel, digest, sizes.get(rel), True)
            if problem:
                raise StoreCorruptedError(problem)

    def _read(self, spec: TableSpec, rel: str, columns: Iterable[str] | None, filters) -> pd.DataFrame:
        path = self.path / rel
        try:
            pf_schema = pq.read_schema(path)
        except (OSError, pa.ArrowInvalid) as e:
            raise StoreError(f"{path}: unreadable Parquet file ({e})") from e
        raw = (pf_schema.metadata or {}).get(META_KEY)
        if raw is None:
            raise StoreError(f"{path}: no ckgrec metadata; this file was not written by 'ckg build'")
        try:
            meta = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise StoreCorruptedError(f"{path}: its ckgrec metadata is not valid JSON ({e}); rebuild the store") from e
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
        try:
            return pq.read_table(path, columns=cols, filters=filters).to_pandas()
        except (OSError, pa.ArrowException) as e:
            raise StoreCorruptedError(
                f"{path}: unreadable Parquet data ({e}); rebuild the store with 'ckg build --force'"
            ) from e

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
        npy = self.path / f"features/{modality}.npy"
        try:
            matrix = np.load(npy, mmap_mode="r" if mmap else None, allow_pickle=False)
        except (OSError, ValueError, EOFError) as e:
            raise StoreCorruptedError(
                f"{npy}: not a readable .npy matrix ({e}); rebuild the store with 'ckg build --force'"
            ) from e
        if matrix.ndim != 2 or matrix.shape[0] != len(index):
            raise StoreCorruptedError(
                f"{npy}: shape {matrix.shape}, but its index {npy.with_suffix('.parquet').name} has "
                f"{len(index)} rows (expected a [{len(index)}, d] matrix); rebuild the store"
            )
        return index, matrix


def store_fingerprint(
    entities: pd.DataFrame, relations: pd.DataFrame, users: pd.DataFrame, items: pd.DataFrame, triples: pd.DataFrame
) -> str:
    """The fingerprint every writer of a store stamps: the id spaces *and* the graph's edges.

    Two stores share it exactly when every dense id means the same thing in both and the graphs hold
    the same (graph, head, relation, tail) triples, so runs trained on different graphs are never
    pooled or resumed across.
    """
    t = triples[["graph", "head", "relation", "tail"]].sort_values(["graph", "head", "relation", "tail"], kind="stable")
    frames = {
        "entities": entities[["graph", "entity", "label", "kind"]],
        "relations": relations[["graph", "relation", "name"]],
        "users": users[["user", "label"]],
        "items": items[["item", "label"]],
        "triples": pd.DataFrame(
            {
                "graph": t["graph"].astype(str).to_numpy(dtype=object),
                **{c: t[c].to_numpy(dtype=np.int64) for c in ("head", "relation", "tail")},
            }
        ),
    }
    frames = {
        k: pd.DataFrame(
            {
                c: (
                    v[c].astype(str).to_numpy(dtype=object)
                    if not pd.api.types.is_integer_dtype(v[c].dtype)
                    else v[c].to_numpy(dtype=np.int64)
                )
                for c in v.columns
            }
        )
        for k, v in frames.items()
    }
    return compute_fingerprint(frames)


def validate_store(path: str | Path) -> tuple[list[str], dict[str, Any]]:
    """Check a whole store: manifest, every file's size and hash, every table's metadata and data,
    every feature matrix against its index, and the fingerprint recomputed from the tables.

    Returns (problems, facts) -- problems empty when the store is sound; every problem is listed,
    not only the first.
    """
    p = Path(path)
    facts: dict[str, Any] = {"files": 0, "bytes": 0}
    if not p.is_dir():
        raise InputNotFoundError(f"store not found: {p} (build one with 'ckg build')")
    mpath = p / MANIFEST
    if not mpath.is_file():
        return [f"{p}: {MANIFEST} is missing (partially written or not a store)"], facts
    try:
        manifest = json.loads(mpath.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        return [f"{mpath}: manifest is not valid JSON ({e})"], facts
    problems = check_manifest(p, manifest)
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        return problems, facts
    sizes = manifest.get("file_sizes", {})
    bad = set()
    for rel, digest in manifest["files"].items():
        _verified.pop(str((p / rel).resolve()), None)
        problem = _check_file(p, rel, digest, sizes.get(rel), True)
        if problem:
            problems.append(problem)
            bad.add(rel)
        else:
            facts["files"] += 1
            facts["bytes"] += (p / rel).stat().st_size
    if "file_sizes" not in manifest:
        facts["note"] = (
            "the manifest predates recorded file sizes (built by an older ckgrec): hashes checked, sizes not"
        )
    if problems:
        return problems, facts
    store = Store(p, manifest)
    frames = {}
    for name in TABLES:
        try:
            frames[name] = store.table(name)
        except StoreError as e:
            problems.append(str(e))
    for m in store.modalities:
        try:
            store.feature(m, mmap=True)
        except StoreError as e:
            problems.append(str(e))
    if not problems:
        fp = store_fingerprint(
            frames["entities"], frames["relations"], frames["users"], frames["items"], frames["triples"]
        )
        facts["recomputed_fingerprint"] = fp
        if fp != store.fingerprint:
            facts["fingerprint_note"] = (
                "the fingerprint recomputed from the tables differs from the manifest's: the store was built by "
                "a ckgrec whose fingerprint did not cover the triples (rebuild to get one that does)"
            )
    return problems, facts


@contextlib.contextmanager
def writing_store(out: str | Path, *, force: bool, sources: Iterable[str | Path] = ()) -> Iterator[Path]:
    """Hold ``out``'s lock for a whole build (read, validate, write): a second build is refused at
    once, debris of killed builds is cleaned, and an unsafe ``out`` is refused before any work."""
    from ckgrec.schemas.locks import exclusive_lock, lock_path_for

    p = Path(out)
    p.parent.mkdir(parents=True, exist_ok=True)
    with exclusive_lock(lock_path_for(p), f"store {p}", command="another 'ckg build'"):
        recover_interrupted(p)
        check_output_path(p, force=force, sources=sources)
        yield p
