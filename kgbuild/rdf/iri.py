"""Minting IRIs for a store's nodes and relations, and writing N-Triples terms.

Every IRI of an export is ``{base}{path}{key}``: a configurable base, one fixed path per kind
of thing, and a key taken from the source (a user's source id, an attribute label, a relation
name), never from the store's internal integers, so two builds of the same data agree on
every IRI. :func:`mint` is the one place that validates the base and percent-encodes the key;
the vectorised :func:`mint_all` applies exactly the same rule.

Paths::

    user/{id}   item/{id}   user-attribute/{label}   item-attribute/{label}
    concept/{label}   entity/{kg id}   relation/{kind path}/{name}   modality/{name}
    feature/{modality}/{item id}   record/{user id}/{item id}/{behaviour}
    statement/{hash}   graph/user-side|item-side|interactions   dataset

Keys are percent-encoded as UTF-8 except for letters, digits and ``-._~=:,()@`` (so
``gender=F`` stays readable and ``age=[25,34)`` becomes ``age=%5B25,34)``); a key that is
``.`` or ``..`` is encoded too, so no IRI normaliser can collapse it. Decoding is
``urllib.parse.unquote`` of the key.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterable
from urllib.parse import quote, unquote, urlsplit

import numpy as np
import pandas as pd

from ckgrec.schemas.errors import ConfigError
from ckgrec.schemas.rdf_vocab import RELATION_KINDS, VOCAB_IRI
from ckgrec.schemas.tables import (
    KIND_CONCEPT,
    KIND_EXTERNAL,
    KIND_ITEM,
    KIND_ITEM_ATTRIBUTE,
    KIND_USER,
    KIND_USER_ATTRIBUTE,
)

SAFE = "-._~=:,()@"
_PLAIN = re.compile(r"^[A-Za-z0-9\-._~=:,()@]+$")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
_FORBIDDEN = re.compile(r'[\x00-\x20<>"{}|^`\\]')
_PCT = re.compile(r"%(?![0-9A-Fa-f]{2})")

NODE_PATH = {
    KIND_USER: "user/",
    KIND_ITEM: "item/",
    KIND_USER_ATTRIBUTE: "user-attribute/",
    KIND_ITEM_ATTRIBUTE: "item-attribute/",
    KIND_CONCEPT: "concept/",
    KIND_EXTERNAL: "entity/",
}
# store label = prefix + key for these kinds; attribute and concept labels are the key itself
LABEL_PREFIX = {KIND_USER: "user:", KIND_ITEM: "item:", KIND_EXTERNAL: "kg:"}
RELATION_PATH = {k.term: f"relation/{k.path}/" for k in RELATION_KINDS}
PATHS = frozenset(
    [
        *NODE_PATH.values(),
        *RELATION_PATH.values(),
        "modality/",
        "feature/",
        "record/",
        "statement/",
        "graph/",
        "void/",
        "",
    ]
)

# Prefixes bound in Turtle output and injected into queries (dataset ones are relative to the base).
STANDARD_PREFIXES = {
    "ckg": VOCAB_IRI + "#",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}
DATASET_PREFIXES = {
    "user": "user/",
    "item": "item/",
    "uattr": "user-attribute/",
    "iattr": "item-attribute/",
    "concept": "concept/",
    "kg": "entity/",
    "act": "relation/interaction/",
    "actby": "relation/interaction-by/",
    "uprop": "relation/user-attribute/",
    "iprop": "relation/item-attribute/",
    "cprop": "relation/concept/",
    "kgrel": "relation/external/",
    "modality": "modality/",
    "feature": "feature/",
    "record": "record/",
    "graph": "graph/",
}

GRAPH_USER_SIDE = "user-side"
GRAPH_ITEM_SIDE = "item-side"
GRAPH_INTERACTIONS = "interactions"
STORE_GRAPH_KEY = {"user_side": GRAPH_USER_SIDE, "item_side": GRAPH_ITEM_SIDE}


def default_base(dataset_name: str) -> str:
    """``https://example.org/ckgrec/{dataset}/``: fine for a look, replace it to publish."""
    return "https://example.org/ckgrec/" + encode_key(dataset_name or "dataset") + "/"


def prefixes(base: str) -> dict[str, str]:
    return {**STANDARD_PREFIXES, **{p: base + path for p, path in DATASET_PREFIXES.items()}}


@lru_cache(maxsize=64)
def check_base(base: str) -> str:
    """Return ``base`` if it can prefix every minted IRI, else raise a ConfigError saying why."""
    why = None
    if not isinstance(base, str) or not _SCHEME.match(base):
        why = "it must be an absolute IRI starting with a scheme, e.g. https://example.org/mydata/"
    elif _FORBIDDEN.search(base):
        bad = _FORBIDDEN.search(base).group()
        why = f"it contains {bad!r}, which no IRI may contain (percent-encode it)"
    elif _PCT.search(base):
        why = "it has a '%' that does not start a %XX escape"
    elif not base.endswith(("/", "#")):
        why = "it must end with '/' or '#' so that a path can be appended"
    elif base.count("#") > 1 or ("#" in base[:-1]):
        why = "only a trailing '#' is allowed"
    else:
        parts = urlsplit(base)
        if parts.scheme.lower() in ("http", "https") and not parts.netloc:
            why = "an http(s) IRI needs a host, e.g. https://example.org/mydata/"
    if why:
        raise ConfigError(f"base IRI {base!r} is not usable: {why}")
    return base


def encode_key(key: str) -> str:
    """Percent-encode one key (see the module docstring)."""
    if not isinstance(key, str) or key == "":
        raise ConfigError(f"cannot mint an IRI from an empty or non-text key ({key!r})")
    if key in (".", ".."):
        return key.replace(".", "%2E")
    return key if _PLAIN.match(key) else quote(key, safe=SAFE)


def mint(base: str, path: str, key: str) -> str:
    """The IRI ``{base}{path}{encoded key}``: validates base and path, percent-encodes the key."""
    if path not in PATHS:
        raise ValueError(f"internal: unknown IRI path {path!r}")
    return check_base(base) + path + encode_key(key)


def encode_keys(keys: Iterable[str]) -> np.ndarray:
    """:func:`encode_key` over many keys; keys needing no escape are passed through untouched."""
    s = pd.Series(
        np.asarray(list(keys) if not isinstance(keys, (np.ndarray, pd.Series)) else keys, dtype=object), dtype=object
    )
    if len(s) == 0:
        return np.array([], dtype=object)
    plain = s.astype(str).str.match(_PLAIN.pattern).to_numpy(dtype=bool) & ~s.isin([".", ".."]).to_numpy()
    out = s.to_numpy(dtype=object).copy()
    for i in np.flatnonzero(~plain):
        out[i] = encode_key(out[i])
    return out


def encode_keys_arrow(keys):
    """:func:`encode_key` over a pyarrow string array (Python runs only for keys needing escapes)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    keys = keys.combine_chunks() if isinstance(keys, pa.ChunkedArray) else keys
    if len(keys) == 0:
        return pa.array([], type=pa.string())
    if keys.null_count:
        raise ConfigError("cannot mint an IRI from a missing (null) key")
    plain = pc.and_(pc.match_substring_regex(keys, _PLAIN.pattern), pc.invert(pc.is_in(keys, pa.array([".", ".."]))))
    if pc.all(plain).as_py():
        return keys.cast(pa.string())
    odd = pc.invert(plain)
    fixed = pa.array([encode_key(k) for k in pc.filter(keys, odd).to_pylist()], type=pa.string())
    return pc.replace_with_mask(keys.cast(pa.string()), odd, fixed)


def escape_literals(values):
    """N-Triples string literals (with quotes) of a pyarrow string array, escaped like :func:`nt_string`."""
    import pyarrow.compute as pc

    v = values
    for raw, esc in (("\\", "\\\\"), ('"', '\\"'), ("\n", "\\n"), ("\r", "\\r")):
        v = pc.replace_substring(v, raw, esc)
    return pc.binary_join_element_wise('"', v, '"', "")


def mint_all(base: str, path: str, keys: Iterable[str]) -> np.ndarray:
    """:func:`mint` over many keys (object array of IRIs, no angle brackets)."""
    if path not in PATHS:
        raise ValueError(f"internal: unknown IRI path {path!r}")
    prefix = check_base(base) + path
    enc = encode_keys(keys)
    return np.array([prefix + k for k in enc], dtype=object)


def decode(base: str, path: str, iri: str) -> str | None:
    """The key of ``iri`` if it is ``{base}{path}{key}``, else None."""
    head = base + path
    if not iri.startswith(head) or len(iri) == len(head):
        return None
    return unquote(iri[len(head) :])


def node_key(kind: str, label: str) -> str:
    """The IRI key of a store entity: the source id for users, items and KG entities, the label otherwise."""
    prefix = LABEL_PREFIX.get(kind)
    if prefix is None:
        return label
    if not label.startswith(prefix):
        raise ValueError(f"entity label {label!r} of kind {kind} does not start with {prefix!r}")
    return label[len(prefix) :]


def graph_iri(base: str, key: str) -> str:
    return mint(base, "graph/", key)


# ---------------------------------------------------------------- N-Triples terms

_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r"})
XSD = STANDARD_PREFIXES["xsd"]


def nt_iri(iri: str) -> str:
    return f"<{iri}>"


def nt_string(text: str) -> str:
    """A plain string literal, escaped for N-Triples / N-Quads / Turtle."""
    return '"' + str(text).translate(_ESCAPES) + '"'


def nt_typed(lexical: str, datatype: str) -> str:
    return f'"{lexical}"^^<{datatype}>'


def float_lexical(values: np.ndarray) -> np.ndarray:
    """Shortest decimal text of float32 values that reads back to the same float32."""
    v = np.asarray(values, dtype=np.float32)
    uniq, inv = np.unique(v, return_inverse=True)
    text = np.array(
        [
            np.format_float_positional(x, unique=True, trim="0")
            if 1e-4 <= abs(x) < 1e7 or x == 0
            else np.format_float_scientific(x, unique=True, trim="0")
            for x in uniq
        ],
        dtype=object,
    )
    text = np.array([t + "0" if t.endswith(".") else t for t in text], dtype=object)
    return text[inv.reshape(-1)] if len(v) else np.array([], dtype=object)
