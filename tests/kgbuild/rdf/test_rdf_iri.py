"""IRI minting: one validated, percent-encoding rule, reversible, and N-Triples-safe terms."""

from __future__ import annotations

import pyarrow as pa
import pytest

from ckgrec.kgbuild.rdf.iri import (
    check_base,
    decode,
    encode_key,
    encode_keys,
    encode_keys_arrow,
    escape_literals,
    float_lexical,
    mint,
    mint_all,
    nt_string,
)
from ckgrec.schemas.errors import ConfigError

BASE = "https://example.org/data/"
WEIRD = [
    "u1",
    "a b",
    "x/y",
    "50%",
    "..",
    ".",
    "ü-ñ",
    'q"t',
    "<i>",
    "age=[25,34)",
    "gender=F",
    "a#b?c",
    "tab\tx",
    "visual:c3",
]


@pytest.mark.parametrize("key", WEIRD)
def test_mint_percent_encodes_and_decodes_back(key):
    iri = mint(BASE, "user/", key)
    assert iri.startswith(BASE + "user/")
    tail = iri[len(BASE + "user/") :]
    assert not any(ch in tail for ch in ' <>"{}|^`\\')
    assert "/" not in tail and "#" not in tail and " " not in tail
    assert tail not in (".", "..")
    assert decode(BASE, "user/", iri) == key


def test_readable_keys_stay_readable():
    assert mint(BASE, "user-attribute/", "gender=F") == BASE + "user-attribute/gender=F"
    assert mint(BASE, "user-attribute/", "age=[25,34)") == BASE + "user-attribute/age=%5B25,34)"
    assert mint(BASE, "concept/", "visual:c3") == BASE + "concept/visual:c3"


def test_vectorised_minting_follows_the_same_rule():
    assert list(mint_all(BASE, "item/", WEIRD)) == [mint(BASE, "item/", k) for k in WEIRD]
    assert list(encode_keys(WEIRD)) == [encode_key(k) for k in WEIRD]
    assert encode_keys_arrow(pa.array(WEIRD)).to_pylist() == [encode_key(k) for k in WEIRD]


@pytest.mark.parametrize(
    "base, why",
    [
        ("example.org/x/", "scheme"),
        ("https://example.org/x", "end with"),
        ("https://exa mple.org/", "contains"),
        ("https:///x/", "host"),
        ("https://example.org/%zz/", "%XX"),
        ("https://example.org/a#b#", "trailing"),
    ],
)
def test_bad_base_iris_are_refused_with_the_reason(base, why):
    with pytest.raises(ConfigError, match=why):
        check_base(base)


def test_empty_keys_and_unknown_paths_are_refused():
    with pytest.raises(ConfigError):
        mint(BASE, "user/", "")
    with pytest.raises(ValueError):
        mint(BASE, "users/", "u1")


def test_literals_survive_a_parser():
    pyoxigraph = pytest.importorskip("pyoxigraph")
    texts = ["plain", 'q"uote', "back\\slash", "new\nline", "cr\rx", "tab\tx", "ünï"]
    lines = [f"<{BASE}s> <{BASE}p> {lit} .\n" for lit in escape_literals(pa.array(texts)).to_pylist()]
    assert [nt_string(t) for t in texts] == escape_literals(pa.array(texts)).to_pylist()
    parsed = [q.object.value for q in pyoxigraph.parse("".join(lines), format=pyoxigraph.RdfFormat.N_TRIPLES)]
    assert parsed == texts


def test_float_text_reads_back_to_the_same_float32():
    import numpy as np

    v = np.array([0.7, 1.0, 1e-5, 0.123456789, 0.3333333], dtype=np.float32)
    text = float_lexical(v)
    assert np.array_equal(np.array([float(x) for x in text], dtype=np.float32), v)
    assert text[0] == "0.7" and text[1] == "1.0"
