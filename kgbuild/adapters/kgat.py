"""KGAT's text format (xiangwang1223/knowledge_graph_attention_network, ``Data/<name>/``).

* ``train.txt`` / ``test.txt``: one line per user, ``user item item ...`` (space-separated
  integers; a user may list no items);
* ``kg_final.txt``: one triple per line, ``head relation tail`` (integers).

In KGAT's data the items are the entities ``0..n_items-1`` of the KG, so every item that
appears in an interaction is linked to the entity with the same number (``kg_links``).
Train and test are read into one implicit interactions frame (behaviour ``interact``); each row
keeps where it came from in the column ``source_split`` (``train``/``test``), which is the given
split: with ``split.method = "auto"`` (default) or ``"given"`` the test pairs are KGAT's and
validation is drawn from each user's training pairs (see ``kgbuild.split.assign_given``). Users whose lines list no items produce no
rows. ``test.txt`` is optional. Ids keep their spelling; KGAT's relation ids are kept as they
are (KGAT adds inverse relations at training time; the builder does its own).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ckgrec.kgbuild.raw import RawDataset
from ckgrec.kgbuild.tabular import require_file
from ckgrec.schemas.errors import InputNotFoundError, InputValidationError, Problem

NAME = "kgat"
DESCRIPTION = "KGAT text format: train.txt/test.txt (user item item ...) + kg_final.txt (head relation tail)"
FILES = (
    "train.txt      user item item ...   (space-separated ints, one line per user)",
    "test.txt       same layout (optional; the given test split)",
    "kg_final.txt   head relation tail   (ints; items are entities 0..n_items-1)",
)
BEHAVIOR = "interact"
SPLIT_FILES = (("train", "train.txt"), ("test", "test.txt"))
MAX_PROBLEMS = 50


def detect(path: Path) -> bool:
    return path.is_dir() and (path / "train.txt").is_file() and (path / "kg_final.txt").is_file()


def read(path: str | Path) -> RawDataset:
    root = Path(path)
    if not root.is_dir():
        raise InputNotFoundError(f"KGAT directory not found: {root}")
    require_file(root / "train.txt")
    users: list[str] = []
    items: list[str] = []
    splits: list[str] = []
    sources: dict[str, str] = {}
    problems: list[Problem] = []  # of every file, reported together
    read_from = []
    for split, filename in SPLIT_FILES:
        p = root / filename
        if not p.is_file():
            continue
        read_from.append(str(p))
        for _, fields in _int_lines(p, problems, min_fields=1, max_fields=None):
            user = fields[0]
            for item in fields[1:]:
                users.append(user)
                items.append(item)
                splits.append(split)
    kg_path = require_file(root / "kg_final.txt")
    kg = _read_kg(kg_path, problems)
    if not users and not problems:
        problems.append(Problem(" + ".join(read_from), None, None, "no interactions: every user line lists no items"))
    if problems:
        raise InputValidationError(problems)
    sources["interactions"] = " + ".join(read_from)
    inter = pd.DataFrame({"user_id": users, "item_id": items, "behavior": BEHAVIOR, "source_split": splits})
    sources["kg"] = str(kg_path)
    linked = pd.unique(inter["item_id"])
    links = pd.DataFrame({"item_id": linked, "entity_id": linked})
    sources["links"] = f"{sources['interactions']} (item k = KG entity k)"
    return RawDataset(
        name=root.name,
        interactions=inter,
        kg_triples=kg,
        kg_links=links,
        sources=sources,
        split_column="source_split",
        split_origin=f"KGAT {sources['interactions']}",
    )


def _read_kg(path: Path, problems: list[Problem]) -> pd.DataFrame:
    """``kg_final.txt`` through pandas' C parser (millions of lines); on any doubt the file is
    re-scanned line by line so that every problem is reported with its line number."""
    columns = ["head", "relation", "tail"]
    try:
        kg = pd.read_csv(
            path,
            sep=r"\s+",
            header=None,
            names=columns,
            dtype=str,
            keep_default_na=False,
            na_values=[],
            encoding="ascii",
            engine="c",
        )
        if len(kg) and all(kg[c].str.fullmatch(r"[0-9]+").all() for c in columns):
            return kg
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError):
        pass
    kg = pd.DataFrame(
        [fields for _, fields in _int_lines(path, problems, min_fields=3, max_fields=3)], columns=columns, dtype=str
    )
    if len(kg) == 0 and not problems:
        problems.append(Problem(str(path), None, None, "file is empty", "expected lines 'head relation tail'"))
    return kg


def _int_lines(path: Path, problems: list[Problem], *, min_fields: int, max_fields: int | None):
    """Yields ``(line number, [field, ...])`` for each non-blank line (blank lines are skipped);
    every field must be a non-negative integer. Bad lines are appended to ``problems`` (at most
    ``MAX_PROBLEMS`` per file); once a file has one, nothing more is yielded."""
    start = len(problems)
    with open(path, "rb") as fh:
        for no, raw in enumerate(fh, start=1):
            fields = raw.split()
            if not fields:
                continue
            if len(fields) < min_fields or (max_fields is not None and len(fields) > max_fields):
                want = f"{min_fields}" if min_fields == max_fields else f"at least {min_fields}"
                problems.append(
                    Problem(
                        str(path),
                        no,
                        None,
                        f"expected {want} space-separated integers",
                        f"got {len(fields)}: '{_text(raw)}'",
                    )
                )
            else:
                bad = next((k for k, tok in enumerate(fields) if not tok.isdigit()), None)
                if bad is None:
                    if len(problems) == start:
                        yield no, [t.decode("ascii") for t in fields]
                else:
                    problems.append(
                        Problem(
                            str(path),
                            no,
                            _column(bad, max_fields),
                            "must be a non-negative integer",
                            f"got '{_text(fields[bad])}'",
                        )
                    )
            if len(problems) - start >= MAX_PROBLEMS:
                break


def _column(k: int, max_fields: int | None) -> str:
    if max_fields == 3:
        return ("head", "relation", "tail")[k]
    return "user" if k == 0 else f"item {k}"


def _text(raw: bytes) -> str:
    return raw[:80].decode("utf-8", "replace").strip()
