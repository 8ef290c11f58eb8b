"""The vocabulary file, the closed namespace and the SHACL shapes agree with each other."""

from __future__ import annotations

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import OWL, RDF, RDFS

from ckgrec.schemas.rdf_vocab import (
    CKG,
    KIND_CLASS,
    RELATION_KINDS,
    SHAPES_FILE,
    VOCAB_FILE,
    VOCAB_IRI,
    relation_kind,
    vocabulary_terms,
)
from ckgrec.schemas.tables import ENTITY_KINDS, GRAPHS, RELATION_FAMILIES


@pytest.fixture(scope="module")
def vocab() -> Graph:
    return Graph().parse(VOCAB_FILE, format="turtle")


def test_a_misspelt_term_is_an_error():
    assert str(CKG.User) == VOCAB_IRI + "#User"
    with pytest.raises(AttributeError, match="Usr"):
        CKG.Usr  # noqa: B018


def test_vocab_file_and_closed_namespace_define_the_same_terms(vocab):
    defined = {str(s) for s in vocab.subjects(RDFS.isDefinedBy, URIRef(VOCAB_IRI))}
    assert defined == {str(v) for v in vocabulary_terms().values()}


def test_every_term_has_a_label_and_every_kind_a_domain_range_and_comment(vocab):
    for term in vocabulary_terms().values():
        assert vocab.value(term, RDFS.label) is not None, term
    for k in RELATION_KINDS:
        assert (k.term, RDF.type, OWL.ObjectProperty) in vocab
        assert (k.term, RDFS.subPropertyOf, CKG.graphRelation) in vocab
        for p in (RDFS.domain, RDFS.range, RDFS.comment):
            assert vocab.value(k.term, p) is not None, (k.term, p)
    for cls in KIND_CLASS.values():
        assert (cls, RDFS.subClassOf, CKG.Node) in vocab and vocab.value(cls, RDFS.comment) is not None


def test_every_entity_kind_and_relation_family_has_a_term():
    assert set(KIND_CLASS) == set(ENTITY_KINDS)
    assert {k.family for k in RELATION_KINDS} == set(RELATION_FAMILIES)
    assert {k.graph for k in RELATION_KINDS} == set(GRAPHS)
    assert relation_kind("item_side", "interaction").term == CKG.interactionBy
    with pytest.raises(KeyError):
        relation_kind("user_side", "user_attribute")


def test_shapes_parse_and_only_name_vocabulary_terms():
    shapes = Graph().parse(SHAPES_FILE, format="turtle")
    known = {str(v) for v in vocabulary_terms().values()}
    used = {str(t) for triple in shapes for t in triple if isinstance(t, URIRef) and str(t).startswith(VOCAB_IRI + "#")}
    assert used and used <= known
