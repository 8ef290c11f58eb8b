"""The ckgrec RDF vocabulary as a closed namespace: a misspelt term is an error, not a new IRI.

``CKG.Usr`` raises ``AttributeError`` (rdflib's ``DefinedNamespace`` with ``_fail = True``),
where ``Namespace(...)["Usr"]`` would silently mint a term nobody defined. The terms, their
labels, comments, domains and ranges are in ``schemas/vocab.ttl``; the SHACL shapes of an
export in ``schemas/shapes.ttl``. A test checks that this class and the Turtle file define
the same terms.

Also here, because export, import and validation must agree on it: which relation kind
(a super-property) each store relation family maps to, and in which graph it lives.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rdflib.namespace import DefinedNamespace, Namespace
from rdflib.term import URIRef

from ckgrec.schemas.tables import (
    FAMILY_CONCEPT,
    FAMILY_EXTERNAL,
    FAMILY_INTERACTION,
    FAMILY_ITEM_ATTRIBUTE,
    FAMILY_USER_ATTRIBUTE,
    KIND_CONCEPT,
    KIND_EXTERNAL,
    KIND_ITEM,
    KIND_ITEM_ATTRIBUTE,
    KIND_USER,
    KIND_USER_ATTRIBUTE,
)

VOCAB_IRI = "https://w3id.org/ckgrec/vocab"
VOCAB_FILE = Path(__file__).resolve().parent / "vocab.ttl"
SHAPES_FILE = Path(__file__).resolve().parent / "shapes.ttl"


class CKG(DefinedNamespace):
    """ckgrec vocabulary (``schemas/vocab.ttl``)."""

    _fail = True
    _NS = Namespace(VOCAB_IRI + "#")

    # node classes
    Node: URIRef
    User: URIRef
    Item: URIRef
    UserAttribute: URIRef
    ItemAttribute: URIRef
    ModalityConcept: URIRef
    ExternalEntity: URIRef
    # relations and relation kinds
    Relation: URIRef
    graphRelation: URIRef
    interaction: URIRef
    interactionBy: URIRef
    hasUserAttribute: URIRef
    hasItemAttribute: URIRef
    hasModalityConcept: URIRef
    externalRelation: URIRef
    defaultConfidence: URIRef
    confidence: URIRef
    name: URIRef
    # feature pointers
    Modality: URIRef
    FeatureVector: URIRef
    hasFeatureVector: URIRef
    modality: URIRef
    row: URIRef
    dimension: URIRef
    matrixFile: URIRef
    indexFile: URIRef
    # interaction log
    InteractionRecord: URIRef
    user: URIRef
    item: URIRef
    behaviour: URIRef
    split: URIRef
    timestamp: URIRef
    protocol: URIRef
    Split: URIRef
    train: URIRef
    valid: URIRef
    test: URIRef
    # dataset and graphs
    Dataset: URIRef
    UserSideGraph: URIRef
    ItemSideGraph: URIRef
    InteractionLogGraph: URIRef
    baseIri: URIRef
    fingerprint: URIRef
    schemaVersion: URIRef
    buildManifest: URIRef
    interactionsExported: URIRef
    userSideGraph: URIRef
    itemSideGraph: URIRef
    interactionLogGraph: URIRef
    hasModality: URIRef


def vocabulary_terms() -> dict[str, URIRef]:
    """Every term of the closed namespace, local name -> IRI."""
    return {name: CKG[name] for name in CKG.__annotations__}


# Entity kind (entities.kind) -> class.
KIND_CLASS: dict[str, URIRef] = {
    KIND_USER: CKG.User,
    KIND_ITEM: CKG.Item,
    KIND_USER_ATTRIBUTE: CKG.UserAttribute,
    KIND_ITEM_ATTRIBUTE: CKG.ItemAttribute,
    KIND_CONCEPT: CKG.ModalityConcept,
    KIND_EXTERNAL: CKG.ExternalEntity,
}


@dataclass(frozen=True)
class RelationKind:
    """A relation kind: its super-property, the store graph and family it stands for, and the
    path segment under ``{base}relation/`` of the relations minted for it."""

    term: URIRef
    graph: str
    family: str
    path: str


RELATION_KINDS: tuple[RelationKind, ...] = (
    RelationKind(CKG.interaction, "user_side", FAMILY_INTERACTION, "interaction"),
    RelationKind(CKG.interactionBy, "item_side", FAMILY_INTERACTION, "interaction-by"),
    RelationKind(CKG.hasUserAttribute, "item_side", FAMILY_USER_ATTRIBUTE, "user-attribute"),
    RelationKind(CKG.hasItemAttribute, "user_side", FAMILY_ITEM_ATTRIBUTE, "item-attribute"),
    RelationKind(CKG.hasModalityConcept, "user_side", FAMILY_CONCEPT, "concept"),
    RelationKind(CKG.externalRelation, "user_side", FAMILY_EXTERNAL, "external"),
)


def relation_kind(graph: str, family: str) -> RelationKind:
    """The kind of a store relation; a family in a graph the builder never puts it in is an error."""
    for k in RELATION_KINDS:
        if k.graph == graph and k.family == family:
            return k
    raise KeyError((graph, family))


SPLIT_TERMS: dict[str, URIRef] = {"train": CKG.train, "valid": CKG.valid, "test": CKG.test}
