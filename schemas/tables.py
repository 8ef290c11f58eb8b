"""Arrow schemas of every table in a store, defined once.

Every Parquet file of a store carries, in its schema metadata under the key ``ckgrec``, the
table name, the schema version and the store's id-space fingerprint; readers check all three
(see :mod:`ckgrec.schemas.store`). Column meanings:

* ids (``entity``, ``head``, ``tail``, ``user``, ``item``) are dense and 0-based;
  entity ids are local to one graph (``graph`` column), user/item ids are global to the store.
* ``graph`` is ``user_side`` (G_u: user -> item -> item attributes/concepts) or ``item_side``
  (G_i: item -> user -> user attributes).
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

SCHEMA_VERSION = 1
GRAPHS = ("user_side", "item_side")
SPLITS = ("train", "valid", "test")

# Entity kinds; the RDF vocabulary maps each to a class.
KIND_USER = "user"
KIND_ITEM = "item"
KIND_USER_ATTRIBUTE = "user_attribute"
KIND_ITEM_ATTRIBUTE = "item_attribute"
KIND_CONCEPT = "modality_concept"
KIND_EXTERNAL = "external_entity"
ENTITY_KINDS = (KIND_USER, KIND_ITEM, KIND_USER_ATTRIBUTE, KIND_ITEM_ATTRIBUTE, KIND_CONCEPT, KIND_EXTERNAL)

# Relation families (``relations.family``): how a relation came to be.
FAMILY_INTERACTION = "interaction"
FAMILY_USER_ATTRIBUTE = "user_attribute"
FAMILY_ITEM_ATTRIBUTE = "item_attribute"
FAMILY_CONCEPT = "modality_concept"
FAMILY_EXTERNAL = "external"
RELATION_FAMILIES = (FAMILY_INTERACTION, FAMILY_USER_ATTRIBUTE, FAMILY_ITEM_ATTRIBUTE, FAMILY_CONCEPT, FAMILY_EXTERNAL)


@dataclass(frozen=True)
class TableSpec:
    """A store table: its file name and Arrow schema."""

    name: str
    filename: str
    schema: pa.Schema
    sort_by: tuple[str, ...] = ()


ENTITIES = TableSpec(
    "entities",
    "entities.parquet",
    pa.schema(
        [
            ("graph", pa.string()),
            ("entity", pa.int64()),
            ("label", pa.string()),
            ("kind", pa.string()),
        ]
    ),
    ("graph", "entity"),
)

RELATIONS = TableSpec(
    "relations",
    "relations.parquet",
    pa.schema(
        [
            ("graph", pa.string()),
            ("relation", pa.int32()),
            ("name", pa.string()),
            ("family", pa.string()),
            # id of the inverse relation in the same graph; inverse relations have no stored
            # triples of their own: propagation reverses the forward triples under this id.
            ("inverse", pa.int32()),
            ("is_inverse", pa.bool_()),
        ]
    ),
    ("graph", "relation"),
)

TRIPLES = TableSpec(
    "triples",
    "triples.parquet",
    pa.schema(
        [
            ("graph", pa.string()),
            ("head", pa.int64()),
            ("relation", pa.int32()),
            ("tail", pa.int64()),
            # how much the edge is trusted (interaction behaviour weight, 1.0 for KG facts);
            # used by confidence-based neighbour sampling.
            ("confidence", pa.float32()),
        ]
    ),
    ("graph", "relation", "head", "tail"),
)

ALIGNMENT_ITEMS = TableSpec(
    "alignment_items",
    "alignment_items.parquet",
    # external: the item's entity id in the source's external KG (e.g. a Freebase mid), if linked
    pa.schema([("graph", pa.string()), ("item", pa.int64()), ("entity", pa.int64()), ("external", pa.string())]),
    ("graph", "item"),
)

ALIGNMENT_USERS = TableSpec(
    "alignment_users",
    "alignment_users.parquet",
    pa.schema([("graph", pa.string()), ("user", pa.int64()), ("entity", pa.int64())]),
    ("graph", "user"),
)

INTERACTIONS = TableSpec(
    "interactions",
    "interactions.parquet",
    pa.schema(
        [
            ("user", pa.int64()),
            ("item", pa.int64()),
            ("relation", pa.string()),  # behaviour relation name, e.g. 'like', 'rating_5'
            ("split", pa.string()),
            ("timestamp", pa.int64()),  # null when the source has none
            ("confidence", pa.float32()),
            # how the pair was held out: 'warm' (ordinary per-user split), 'cold_item' (its item
            # was held out with all its interactions), 'cold_user' (its user was reduced to k pairs)
            ("protocol", pa.string()),
        ]
    ),
    ("user", "item", "relation"),
)

USERS = TableSpec(
    "users",
    "users.parquet",
    # label: the source id; name: a human-readable name when the source has one (else null)
    pa.schema([("user", pa.int64()), ("label", pa.string()), ("name", pa.string())]),
    ("user",),
)

ITEMS = TableSpec(
    "items",
    "items.parquet",
    pa.schema([("item", pa.int64()), ("label", pa.string()), ("name", pa.string())]),
    ("item",),
)

FEATURE_INDEX = TableSpec(
    "feature_index",
    "features/{modality}.parquet",
    pa.schema([("item", pa.int64()), ("row", pa.int64())]),
    ("item",),
)

TABLES: dict[str, TableSpec] = {
    t.name: t for t in (ENTITIES, RELATIONS, TRIPLES, ALIGNMENT_ITEMS, ALIGNMENT_USERS, INTERACTIONS, USERS, ITEMS)
}
