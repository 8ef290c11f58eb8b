"""A VoID description of an export, written beside it as ``<name>.void.ttl``.

The dataset ``{base}dataset`` has one ``void:subset`` per graph of the export (the default
graph with node descriptions, G_u, G_i, the interaction log), each with its triple count and
a class and property partition (instances per class, triples per property). The counts come
from the writer itself, so they are exact without reading the file back. Partition nodes get
IRIs under ``{base}void/`` (no blank nodes).
"""

from __future__ import annotations

from pathlib import Path

from ckgrec.kgbuild.rdf.iri import (
    GRAPH_INTERACTIONS,
    GRAPH_ITEM_SIDE,
    GRAPH_USER_SIDE,
    encode_key,
    prefixes,
)

VOID = "http://rdfs.org/ns/void#"
DCTERMS = "http://purl.org/dc/terms/"
FORMAT_IRI = {
    "nt": "http://www.w3.org/ns/formats/N-Triples",
    "nq": "http://www.w3.org/ns/formats/N-Quads",
    "ttl": "http://www.w3.org/ns/formats/Turtle",
}
GRAPH_TITLES = {
    "default": "node descriptions, relation declarations, feature pointers",
    GRAPH_USER_SIDE: "G_u: user -interaction-> item -attribute|concept|KG-> entity (training interactions only)",
    GRAPH_ITEM_SIDE: "G_i: item -interaction_by-> user -attribute-> entity (training interactions only)",
    GRAPH_INTERACTIONS: "interaction log: one ckg:InteractionRecord per interaction, train/valid/test marked",
}


def _short(iri: str, pmap: dict[str, str]) -> str:
    iri = iri.strip("<>")
    best = max((ns for ns in pmap.values() if iri.startswith(ns)), key=len, default=None)
    if best is None:
        return iri
    name = next(p for p, ns in pmap.items() if ns == best)
    return f"{name}:{iri[len(best) :]}"


def void_graph(report, exporter):
    """The VoID description as an rdflib Graph."""
    from rdflib import Graph, Literal, Namespace, URIRef
    from rdflib.namespace import RDF, XSD

    void, dct = Namespace(VOID), Namespace(DCTERMS)
    base = report.base
    pmap = prefixes(base)
    g = Graph(bind_namespaces="none")
    g.bind("void", void)
    g.bind("dcterms", dct)
    for p in ("ckg", "rdf", "rdfs", "owl", "xsd", "graph"):
        g.bind(p, pmap[p])
    ds = URIRef(exporter.dataset_iri)
    g.add((ds, RDF.type, void.Dataset))
    name = exporter.store.manifest.get("source", {}).get("name", "")
    g.add((ds, dct.title, Literal(f"ckgrec export of store '{name}'")))
    g.add((ds, void.uriSpace, Literal(base)))
    g.add((ds, void.feature, URIRef(FORMAT_IRI[report.format])))
    g.add((ds, void.dataDump, URIRef(report.output.name)))
    for vocab in (pmap["ckg"], pmap["rdfs"], pmap["owl"]):
        g.add((ds, void.vocabulary, URIRef(vocab.rstrip("#"))))
    if exporter.opts.license:
        g.add((ds, dct.license, URIRef(exporter.opts.license)))
    g.add((ds, void.triples, Literal(report.triples, datatype=XSD.integer)))
    g.add((ds, void.classes, Literal(len(report.per_class), datatype=XSD.integer)))
    g.add((ds, void.properties, Literal(len(report.per_property), datatype=XSD.integer)))
    g.add((ds, void.entities, Literal(exporter.node_count, datatype=XSD.integer)))

    def partitions(node, tag, classes: dict, props: dict):
        for cls, n in sorted(classes.items()):
            part = URIRef(f"{base}void/{tag}/class/{encode_key(_short(cls, pmap))}")
            g.add((node, void.classPartition, part))
            g.add((part, void["class"], URIRef(cls.strip("<>"))))
            g.add((part, void.entities, Literal(n, datatype=XSD.integer)))
        for prop, n in sorted(props.items()):
            part = URIRef(f"{base}void/{tag}/property/{encode_key(_short(prop, pmap))}")
            g.add((node, void.propertyPartition, part))
            g.add((part, void.property, URIRef(prop.strip("<>"))))
            g.add((part, void.triples, Literal(n, datatype=XSD.integer)))

    partitions(ds, "all", report.per_class, report.per_property)
    for key in ["default", GRAPH_USER_SIDE, GRAPH_ITEM_SIDE, GRAPH_INTERACTIONS]:
        if key not in report.per_graph:
            continue
        sub = URIRef(f"{base}void/default-graph") if key == "default" else URIRef(exporter.graph_iri[key])
        g.add((ds, void.subset, sub))
        g.add((sub, RDF.type, void.Dataset))
        g.add((sub, dct.description, Literal(GRAPH_TITLES[key])))
        g.add((sub, void.triples, Literal(report.per_graph[key], datatype=XSD.integer)))
        props = report.graph_properties.get(key, {})
        classes = report.graph_classes.get(key, {})
        g.add((sub, void.properties, Literal(len(props), datatype=XSD.integer)))
        partitions(sub, key, classes, props)
    return g


def write_void(report, exporter, path: Path) -> Path:
    g = void_graph(report, exporter)
    path.write_bytes(g.serialize(format="turtle", encoding="utf-8"))
    return path
