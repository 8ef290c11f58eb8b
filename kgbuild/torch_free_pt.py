"""Reading tensors written by ``torch.save`` without importing torch.

kgbuild must stay free of torch (the builder runs where torch is not installed), yet MMGCN-style
datasets ship their item features as ``.pt`` files. A ``.pt`` file is a pickle whose tensors
point at raw storage bytes, so it can be read with a restricted :class:`pickle.Unpickler`:

* ``find_class`` admits only the few globals a saved tensor needs (``torch._utils._rebuild_tensor_v2``,
  ``torch._utils._rebuild_parameter``, the ``torch.<Type>Storage`` classes and
  ``collections.OrderedDict``) and maps them to numpy-building stand-ins; any other global is
  refused, so reading a file never runs code from it;
* ``persistent_load`` records each storage (dtype, element count, key); the bytes are attached
  afterwards and every tensor becomes a numpy array through its offset, size and stride.

Both container layouts are read:

* the zip archive of torch >= 1.6 (``<archive>/data.pkl`` + ``<archive>/data/<key>`` +
  ``<archive>/byteorder``);
* the legacy stream of older torch (magic number, protocol version, system info, the object
  pickle, the storage-key list, then per storage an int64 element count and its bytes) — the
  MMGRec/TikTok sample files are in this layout.

Supported element types: float16/32/64, bfloat16 (returned as float32), int8/16/32/64, uint8
and bool, with any size/stride/offset that stays inside its storage. Sparse, quantized and
subclassed tensors, storage views and arbitrary Python objects raise
:class:`~ckgrec.schemas.errors.InputValidationError` naming the file.
"""

from __future__ import annotations

import collections
import io
import pickle
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from ckgrec.schemas.errors import InputNotFoundError, InputValidationError, Problem

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL = 1001
BFLOAT16 = "bfloat16"  # numpy has no bfloat16; such storages are widened to float32

STORAGE_DTYPES: dict[str, Any] = {
    "DoubleStorage": np.dtype("<f8"),
    "FloatStorage": np.dtype("<f4"),
    "HalfStorage": np.dtype("<f2"),
    "BFloat16Storage": BFLOAT16,
    "LongStorage": np.dtype("<i8"),
    "IntStorage": np.dtype("<i4"),
    "ShortStorage": np.dtype("<i2"),
    "CharStorage": np.dtype("i1"),
    "ByteStorage": np.dtype("u1"),
    "BoolStorage": np.dtype("?"),
}


class _Refused(Exception):
    """Something a tensor file may legitimately hold but this reader does not support."""


@dataclass(frozen=True)
class _StorageType:
    name: str

    @property
    def dtype(self) -> Any:
        return STORAGE_DTYPES[self.name]

    @property
    def itemsize(self) -> int:
        return 2 if self.dtype == BFLOAT16 else self.dtype.itemsize


@dataclass
class _StorageRef:
    key: str
    type: _StorageType
    numel: int
    data: bytes | None = None


@dataclass
class _TensorRef:
    storage: _StorageRef
    offset: int
    size: tuple[int, ...]
    stride: tuple[int, ...]


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None, metadata=None):
    if not isinstance(storage, _StorageRef):
        raise _Refused(f"a tensor whose storage is {type(storage).__name__}, not a saved storage")
    return _TensorRef(storage, int(storage_offset), tuple(int(s) for s in size), tuple(int(s) for s in stride))


def _rebuild_tensor(storage, storage_offset, size, stride):  # torch < 1.0 pickles this one
    return _rebuild_tensor_v2(storage, storage_offset, size, stride)


def _rebuild_parameter(data, requires_grad=False, backward_hooks=None, state=None):
    return data  # an nn.Parameter is its tensor for our purposes


_GLOBALS: dict[tuple[str, str], Any] = {
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
    ("collections", "OrderedDict"): collections.OrderedDict,
}


class _TensorUnpickler(pickle.Unpickler):
    """Unpickles a torch.save payload into :class:`_TensorRef` placeholders; refuses other globals."""

    def __init__(self, file: BinaryIO, storages: dict[str, _StorageRef]):
        super().__init__(file, encoding="latin1")  # legacy files from Python 2 hold byte strings
        self.storages = storages

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _GLOBALS:
            return _GLOBALS[(module, name)]
        if module == "torch" and name in STORAGE_DTYPES:
            return _StorageType(name)
        raise _Refused(f"the file holds '{module}.{name}', which is not a plain tensor, storage or dict")

    def persistent_load(self, pid: Any) -> _StorageRef:
        if not isinstance(pid, tuple) or len(pid) < 5 or pid[0] != "storage":
            raise _Refused(f"unknown persistent record {pid!r:.80}")
        storage_type, key, _location, numel = pid[1:5]
        if not isinstance(storage_type, _StorageType):
            raise _Refused(f"storage of type {storage_type!r:.80}")
        if len(pid) > 5 and pid[5] is not None:
            raise _Refused("a storage view (torch < 0.4 layout)")
        key = str(key)
        ref = self.storages.get(key)
        if ref is None:
            ref = self.storages[key] = _StorageRef(key, storage_type, int(numel))
        return ref


class _PlainUnpickler(pickle.Unpickler):
    """For the legacy header records, which are plain ints, dicts and lists."""

    def find_class(self, module: str, name: str) -> Any:
        raise _Refused(f"unexpected '{module}.{name}' in the file header")


def load(path: str | Path) -> Any:
    """The object saved at ``path`` with every tensor replaced by a numpy array.

    Dicts (also ``OrderedDict``), lists and tuples are rebuilt around the arrays.
    """
    p = Path(path)
    if not p.is_file():
        raise InputNotFoundError(f"tensor file not found: {p}")
    try:
        if zipfile.is_zipfile(p):
            obj, storages = _load_zip(p)
        else:
            obj, storages = _load_legacy(p)
        return _materialize(obj, storages)
    except _Refused as e:
        raise InputValidationError(
            [Problem(str(p), None, None, "unsupported content in a torch .pt file", str(e))]
        ) from e
    except (
        pickle.UnpicklingError,
        EOFError,
        ValueError,
        TypeError,
        KeyError,
        IndexError,
        AttributeError,
        struct.error,
        zipfile.BadZipFile,
        UnicodeDecodeError,
    ) as e:
        raise InputValidationError(
            [Problem(str(p), None, None, "not a readable torch.save file", f"{type(e).__name__}: {e}")]
        ) from e


def load_array(path: str | Path) -> np.ndarray:
    """The single tensor saved at ``path`` as a numpy array (a file holding anything else is an error)."""
    obj = load(path)
    if not isinstance(obj, np.ndarray):
        raise InputValidationError(
            [Problem(str(path), None, None, "expected a file holding one tensor", f"it holds a {type(obj).__name__}")]
        )
    return obj


def _load_zip(p: Path) -> tuple[Any, dict[str, _StorageRef]]:
    with zipfile.ZipFile(p) as z:
        names = z.namelist()
        pkls = [n for n in names if n.endswith("/data.pkl") or n == "data.pkl"]
        if len(pkls) != 1:
            raise _Refused(f"expected one data.pkl in the archive, found {len(pkls)}")
        prefix = pkls[0][: -len("data.pkl")]
        big_endian = False
        if prefix + "byteorder" in names:
            order = z.read(prefix + "byteorder").decode("ascii").strip()
            if order not in ("little", "big"):
                raise _Refused(f"unknown byteorder '{order}'")
            big_endian = order == "big"
        storages: dict[str, _StorageRef] = {}
        obj = _TensorUnpickler(io.BytesIO(z.read(pkls[0])), storages).load()
        for key, ref in storages.items():
            entry = f"{prefix}data/{key}"
            if entry not in names:
                raise _Refused(f"storage '{key}' is missing from the archive")
            data = z.read(entry)
            ref.data = _check_length(data, ref)
            if big_endian:
                ref.data = _byteswap(ref)
    return obj, storages


def _load_legacy(p: Path) -> tuple[Any, dict[str, _StorageRef]]:
    with open(p, "rb") as f:
        head = f.read(1)
        f.seek(0)
        if head != b"\x80":
            raise _Refused("neither a zip archive nor a pickle stream (a tar-format file from torch < 0.4?)")
        magic = _PlainUnpickler(f).load()
        if magic != LEGACY_MAGIC:
            raise _Refused("a pickle, but not one written by torch.save (no torch magic number)")
        protocol = _PlainUnpickler(f).load()
        if protocol != LEGACY_PROTOCOL:
            raise _Refused(f"legacy format protocol {protocol}, expected {LEGACY_PROTOCOL}")
        sys_info = _PlainUnpickler(f).load()
        little = bool(sys_info.get("little_endian", True)) if isinstance(sys_info, dict) else True
        storages: dict[str, _StorageRef] = {}
        obj = _TensorUnpickler(f, storages).load()
        keys = _PlainUnpickler(f).load()
        for key in keys:
            key = str(key)
            if key not in storages:
                raise _Refused(f"storage '{key}' is listed but no tensor uses it")
            ref = storages[key]
            count = struct.unpack("<q" if little else ">q", f.read(8))[0]
            if count != ref.numel:
                raise _Refused(f"storage '{key}' holds {count} elements, its tensor record says {ref.numel}")
            ref.data = _check_length(f.read(count * ref.type.itemsize), ref)
            if not little:
                ref.data = _byteswap(ref)
        missing = [k for k, r in storages.items() if r.data is None]
        if missing:
            raise _Refused(f"storages {missing[:3]} have no data in the file")
    return obj, storages


def _check_length(data: bytes, ref: _StorageRef) -> bytes:
    need = ref.numel * ref.type.itemsize
    if len(data) < need:
        raise _Refused(f"storage '{ref.key}' is truncated: {len(data)} bytes, expected {need}")
    return data[:need]


def _byteswap(ref: _StorageRef) -> bytes:
    size = ref.type.itemsize
    if size == 1:
        return ref.data
    return np.frombuffer(ref.data, dtype=f">u{size}").astype(f"<u{size}").tobytes()


def _materialize(obj: Any, storages: dict[str, _StorageRef]) -> Any:
    if isinstance(obj, _TensorRef):
        return _to_array(obj)
    if isinstance(obj, _StorageRef):
        return _to_array(_TensorRef(obj, 0, (obj.numel,), (1,)))
    if isinstance(obj, dict):
        return type(obj)((k, _materialize(v, storages)) for k, v in obj.items())
    if isinstance(obj, list):
        return [_materialize(v, storages) for v in obj]
    if isinstance(obj, tuple):
        return tuple(_materialize(v, storages) for v in obj)
    return obj


def _to_array(t: _TensorRef) -> np.ndarray:
    ref = t.storage
    kind = ref.type.dtype
    flat = np.frombuffer(ref.data, dtype="<u2" if kind == BFLOAT16 else kind)
    if len(t.size) != len(t.stride):
        raise _Refused(f"tensor with size {t.size} but stride {t.stride}")
    if any(n < 0 for n in t.size) or any(s < 0 for s in t.stride) or t.offset < 0:
        raise _Refused(f"tensor with negative size/stride/offset (size {t.size}, stride {t.stride}, offset {t.offset})")
    if 0 in t.size:
        out = np.empty(t.size, dtype=flat.dtype)
    else:
        last = t.offset + sum((n - 1) * s for n, s in zip(t.size, t.stride))
        if last >= len(flat):
            raise _Refused(
                f"tensor of size {t.size}, stride {t.stride}, offset {t.offset} reaches element {last} "
                f"of a storage with {len(flat)} elements"
            )
        view = np.lib.stride_tricks.as_strided(
            flat[t.offset :], shape=t.size, strides=tuple(s * flat.itemsize for s in t.stride), writeable=False
        )
        out = np.array(view, dtype=flat.dtype.newbyteorder("="), copy=True, order="C")
    if kind == BFLOAT16:
        out = (out.astype(np.uint32) << 16).view(np.float32)
    return out
