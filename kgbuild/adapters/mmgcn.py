"""MMGCN-style dumps: ``user_item_dict*.npy`` plus per-modality item features.

``user_item_dict*.npy`` is a pickled ``{user (int): [item (int), ...]}`` (read with a restricted
unpickler that admits only numpy arrays, ints, lists and dicts); every listed pair is
an implicit interaction (behaviour ``interact``, no rating, no timestamp). Feature files are
``v_feat*`` (visual), ``a_feat*`` (acoustic) and ``t_feat*`` (text), each ``.npy`` or a
torch-saved ``.pt`` (read by :mod:`ckgrec.kgbuild.torch_free_pt`, without torch). Row ``k`` of a
feature matrix describes item ``k``, so item ids are the row numbers as text.

MMGCN's TikTok text file is not a dense matrix but an int64 ``[2, n]`` tensor of
``(item, word id)`` pairs (MMGCN learns word embeddings from it). Such a file becomes the
multi-valued item attribute ``text_word`` (word ids joined by ``|``, first-seen order, repeats
dropped) instead of a feature modality.

Items: every row of the feature matrices, including items nobody interacted with (pass
``only_interacted_items=True`` to keep only rows of items that have an interaction). The
original MMGCN training files number items after users (item ``k`` stored as
``n_users + k``); this layout is not guessed: an item beyond the matrices' rows is an error.
"""

from __future__ import annotations

import importlib
import pickle
from pathlib import Path

import numpy as np
import pandas as pd

from ckgrec.kgbuild import torch_free_pt
from ckgrec.kgbuild.raw import FeatureMatrix, RawDataset
from ckgrec.schemas.errors import InputNotFoundError, InputValidationError, Problem

NAME = "mmgcn"
DESCRIPTION = "MMGCN-style dumps: user_item_dict*.npy + v_feat/a_feat/t_feat (.npy or .pt), row k = item k"
FILES = (
    "user_item_dict*.npy   pickled dict: user (int) -> list of items (int)",
    "v_feat*.npy|.pt       visual features [n_items, d] (optional)",
    "a_feat*.npy|.pt       acoustic features [n_items, d] (optional)",
    "t_feat*.npy|.pt       text features [n_items, d], or int [2, n] (item, word) pairs (optional)",
)
MODALITIES = {"v": "visual", "a": "acoustic", "t": "text"}
FEATURE_SUFFIXES = (".npy", ".pt")
WORD_COLUMN = "text_word"
WORD_SEPARATOR = "|"
BEHAVIOR = "interact"
MAX_PROBLEMS = 50


def detect(path: Path) -> bool:
    return path.is_dir() and any(path.glob("user_item_dict*.npy"))


def read(path: str | Path, *, only_interacted_items: bool = False) -> RawDataset:
    root = Path(path)
    if not root.is_dir():
        raise InputNotFoundError(f"MMGCN directory not found: {root}")
    dicts = sorted(root.glob("user_item_dict*.npy"))
    if len(dicts) != 1:
        raise InputValidationError(
            [
                Problem(
                    str(root),
                    None,
                    None,
                    "expected exactly one user_item_dict*.npy",
                    f"found {len(dicts)}: {', '.join(p.name for p in dicts)}",
                )
            ]
        )
    inter_path = dicts[0]
    inter = _read_user_item_dict(inter_path)
    ds = RawDataset(name=root.name, interactions=inter, sources={"interactions": str(inter_path)})

    matrices: dict[str, tuple[Path, np.ndarray]] = {}
    words: tuple[Path, np.ndarray] | None = None
    for prefix, modality in MODALITIES.items():
        files = sorted(p for p in root.glob(f"{prefix}_feat*") if p.suffix in FEATURE_SUFFIXES)
        if len(files) > 1:
            raise InputValidationError(
                [
                    Problem(
                        str(root),
                        None,
                        None,
                        f"more than one {modality} feature file ({prefix}_feat*)",
                        ", ".join(p.name for p in files),
                    )
                ]
            )
        if not files:
            continue
        array = _load(files[0])
        if prefix == "t" and _is_word_pairs(array):
            if array.size and int(array.min()) < 0:
                raise InputValidationError(
                    [
                        Problem(
                            str(files[0]),
                            None,
                            None,
                            "item and word ids must be non-negative",
                            f"smallest is {int(array.min())}",
                        )
                    ]
                )
            words = (files[0], array)
        elif array.ndim == 2 and np.issubdtype(array.dtype, np.floating):
            matrices[modality] = (files[0], array)
        else:
            raise InputValidationError(
                [
                    Problem(
                        str(files[0]),
                        None,
                        None,
                        "feature file must hold a float matrix [n_items, d]",
                        f"got {array.dtype} of shape {array.shape}"
                        + ("; a text file may also be int [2, n] (item, word) pairs" if prefix == "t" else ""),
                    )
                ]
            )

    n_items = _item_count(matrices, words)
    if n_items is None:
        return ds  # no feature file: the items are those of the interactions
    _check_items_in_range(inter, n_items, inter_path, matrices, words)
    keep = np.arange(n_items)
    if only_interacted_items:
        keep = np.flatnonzero(np.isin(np.arange(n_items), inter["item_id"].astype(np.int64).unique()))
    item_ids = np.array([str(k) for k in keep], dtype=object)
    for modality, (p, matrix) in matrices.items():
        ds.features[modality] = FeatureMatrix(
            item_ids=item_ids, matrix=matrix[keep] if only_interacted_items else matrix, source=str(p)
        )
    items = pd.DataFrame({"item_id": pd.Series(item_ids, dtype=str)})
    if words is not None:
        items[WORD_COLUMN] = _joined_words(words[1], n_items)[keep]
        ds.multi_valued = {WORD_COLUMN: WORD_SEPARATOR}
    ds.items = items
    ds.sources["items"] = str(words[0] if words is not None else next(iter(matrices.values()))[0])
    return ds


def _read_user_item_dict(path: Path) -> pd.DataFrame:
    f = str(path)
    obj = _load_pickled_npy(path)
    if isinstance(obj, np.ndarray) and obj.dtype == object and obj.shape == ():
        obj = obj.item()
    if not isinstance(obj, dict):
        raise InputValidationError(
            [Problem(f, None, None, "expected a pickled dict user -> list of items", f"got {type(obj).__name__}")]
        )
    users: list[str] = []
    items: list[str] = []
    problems: list[Problem] = []
    for pos, (user, listed) in enumerate(obj.items(), start=1):
        u = _as_int(user)
        if u is None:
            problems.append(Problem(f, pos, "user", "user id must be an integer", f"got {user!r:.40}"))
            continue
        try:
            seq = list(listed)
        except TypeError:
            problems.append(
                Problem(f, pos, "items", f"user {u}: items must be a list of integers", f"got {type(listed).__name__}")
            )
            continue
        for item in seq:
            i = _as_int(item)
            if i is None or i < 0:
                problems.append(
                    Problem(f, pos, "items", f"user {u}: item ids must be non-negative integers", f"got {item!r:.40}")
                )
                break
            users.append(str(u))
            items.append(str(i))
        if len(problems) >= MAX_PROBLEMS:
            break
    if problems:
        raise InputValidationError(problems)
    if not users:
        raise InputValidationError([Problem(f, None, None, "no interactions: every user's item list is empty")])
    return pd.DataFrame({"user_id": users, "item_id": items, "behavior": BEHAVIOR})


class _DictUnpickler(pickle.Unpickler):
    """Admits only what a pickled numpy array of a dict of int lists needs, so loading a
    downloaded file cannot run code from it (``np.load(allow_pickle=True)`` would)."""

    def find_class(self, module: str, name: str):
        if (module, name) not in _PICKLE_GLOBALS:
            raise pickle.UnpicklingError(f"'{module}.{name}' is not allowed in a user -> items dict")
        if module.startswith("numpy.core"):  # written by numpy 1.x; numpy 2 renamed the package
            renamed = "numpy._core" + module[len("numpy.core") :]
            try:
                importlib.import_module(renamed)
                module = renamed
            except ImportError:
                pass
        return super().find_class(module, name)


_NUMPY_INTERNALS = [f"numpy.{core}.{mod}" for core in ("core", "_core") for mod in ("multiarray", "_multiarray_umath")]
_PICKLE_GLOBALS = {
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("_codecs", "encode"),
    ("collections", "OrderedDict"),
    ("collections", "defaultdict"),
    ("builtins", "list"),
    ("builtins", "set"),
    ("builtins", "tuple"),
    ("builtins", "int"),
    ("builtins", "dict"),
    *((m, n) for m in _NUMPY_INTERNALS for n in ("_reconstruct", "scalar")),
}


def _load_pickled_npy(path: Path):
    f = str(path)
    try:
        with open(path, "rb") as fh:
            version = np.lib.format.read_magic(fh)
            if version == (1, 0):
                _, _, dtype = np.lib.format.read_array_header_1_0(fh)
            elif version == (2, 0):
                _, _, dtype = np.lib.format.read_array_header_2_0(fh)
            else:
                raise ValueError(f".npy format version {version} is not supported")
            if dtype != np.dtype(object):
                return np.load(path, allow_pickle=False)
            return _DictUnpickler(fh, encoding="latin1").load()
    except (ValueError, OSError, EOFError, pickle.UnpicklingError, AttributeError, TypeError, ImportError) as e:
        raise InputValidationError(
            [Problem(f, None, None, "not a readable pickled .npy dict", f"{type(e).__name__}: {e}")]
        ) from e


def _as_int(x) -> int | None:
    if isinstance(x, (bool, np.bool_)):
        return None
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)) and float(x).is_integer():
        return int(x)
    if isinstance(x, str) and x.strip().isdigit():
        return int(x)
    return None


def _load(p: Path) -> np.ndarray:
    if p.suffix == ".pt":
        return torch_free_pt.load_array(p)
    try:
        array = np.load(p, allow_pickle=False)
    except ValueError as e:
        raise InputValidationError([Problem(str(p), None, None, "not a numeric .npy array", str(e))]) from e
    if not isinstance(array, np.ndarray):
        raise InputValidationError([Problem(str(p), None, None, "expected one array, found an .npz archive")])
    return array


def _is_word_pairs(array: np.ndarray) -> bool:
    return array.ndim == 2 and array.shape[0] == 2 and np.issubdtype(array.dtype, np.integer)


def _item_count(matrices: dict[str, tuple[Path, np.ndarray]], words) -> int | None:
    counts = {str(p): m.shape[0] for p, m in matrices.values()}
    if len(set(counts.values())) > 1:
        raise InputValidationError(
            [
                Problem(p, None, None, "feature files disagree on the number of items (rows)", f"{n} rows")
                for p, n in counts.items()
            ]
        )
    if counts:
        n = next(iter(counts.values()))
        if words is not None and len(words[1][0]) and int(words[1][0].max()) >= n:
            raise InputValidationError(
                [
                    Problem(
                        str(words[0]),
                        None,
                        "item",
                        f"item {int(words[1][0].max())} has words but the feature matrices have {n} rows",
                    )
                ]
            )
        return n
    if words is not None:
        return int(words[1][0].max()) + 1 if len(words[1][0]) else 0
    return None


def _check_items_in_range(inter: pd.DataFrame, n_items: int, inter_path: Path, matrices, words) -> None:
    ids = inter["item_id"].astype(np.int64).to_numpy()
    out = ids >= n_items
    if out.any():
        first = int(np.flatnonzero(out)[0])
        holder = next(iter(matrices.values()))[0] if matrices else words[0]
        raise InputValidationError(
            [
                Problem(
                    str(inter_path),
                    None,
                    "items",
                    f"{int(out.sum())} interactions name items beyond the feature rows 0..{n_items - 1} of {holder.name}",
                    f"first: user {inter['user_id'].iat[first]}, item {ids[first]}; if items are numbered after users "
                    "(MMGCN's training files), subtract the number of users first",
                )
            ]
        )


def _joined_words(pairs: np.ndarray, n_items: int) -> np.ndarray:
    """``[2, n]`` (item, word) pairs -> per item the distinct word ids joined by ``|``."""
    frame = pd.DataFrame({"item": pairs[0], "word": pairs[1].astype(str)}).drop_duplicates()
    joined = frame.groupby("item", sort=True)["word"].agg(WORD_SEPARATOR.join)
    out = np.full(n_items, "", dtype=object)
    out[joined.index.to_numpy()] = joined.to_numpy()
    return out
