"""ckg export-rdf: what the files hold, streaming, sidecars, formats."""

from __future__ import annotations

import gzip
from collections import Counter

import pytest

from ckgrec.cli import main
from ckgrec.kgbuild.rdf.export import ExportOptions, export_store
from ckgrec.schemas.rdf_vocab import CKG

ox = pytest.importorskip("pyoxigraph")
BASE = "https://example.org/world/"


def quads(path, fmt):
    rf = {"nt": ox.RdfFormat.N_TRIPLES, "nq": ox.RdfFormat.N_QUADS, "ttl": ox.RdfFormat.TURTLE}[fmt]
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as f:
        return list(ox.parse(f, format=rf))


@pytest.fixture(scope="module")
def nq(store_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("rdf_export") / "world.nq"
    rep = export_store(store_dir, out, "nq", ExportOptions(base=BASE))
    return out, rep, quads(out, "nq")


def test_nquads_has_the_two_graphs_the_log_and_matching_counts(nq, store):
    out, rep, qs = nq
    by_graph = Counter(
        "default" if isinstance(q.graph_name, ox.DefaultGraph) else q.graph_name.value.rsplit("/", 1)[1] for q in qs
    )
    assert dict(by_graph) == rep.per_graph
    assert len(qs) == rep.triples
    # every forward triple of each store graph, and nothing more, is an edge of its named graph
    kinds = {"user-side": store.counts["triples"]["user_side"], "item-side": store.counts["triples"]["item_side"]}
    for g, n in kinds.items():
        edges = [
            q
            for q in qs
            if not isinstance(q.graph_name, ox.DefaultGraph)
            and q.graph_name.value.endswith(g)
            and "/relation/" in q.predicate.value
        ]
        assert len(edges) == n


def test_no_blank_nodes_and_no_inverse_relations(nq):
    _, _, qs = nq
    assert not any(isinstance(t, ox.BlankNode) for q in qs for t in (q.subject, q.object))
    assert not any(q.predicate.value.endswith("_inverse") for q in qs)


def test_iris_come_from_source_ids_one_path_per_kind(nq, store):
    _, _, qs = nq
    subjects = {q.subject.value for q in qs}
    users = store.table("users")["label"]
    assert {f"{BASE}user/{u}" for u in users} <= subjects
    assert f"{BASE}relation/interaction/like" in subjects and f"{BASE}relation/interaction-by/like_by" in subjects
    assert f"{BASE}user-attribute/gender=F" in subjects


def test_held_out_interactions_are_records_never_edges(nq, store):
    _, _, qs = nq
    inter = store.table("interactions")
    users, items = store.table("users")["label"], store.table("items")["label"]
    held = {
        (f"{BASE}user/{users[u]}", f"{BASE}item/{items[i]}")
        for u, i, s in zip(inter["user"], inter["item"], inter["split"])
        if s != "train"
    }
    assert held
    edges = {(q.subject.value, q.object.value) for q in qs if "/relation/interaction/" in q.predicate.value}
    edges |= {(q.object.value, q.subject.value) for q in qs if "/relation/interaction-by/" in q.predicate.value}
    assert not edges & held
    records = [q for q in qs if q.predicate.value == str(CKG.split)]
    assert len(records) == len(inter)
    assert {q.graph_name.value for q in records} == {BASE + "graph/interactions"}


def test_relations_are_subproperties_of_their_kind_and_features_are_pointers(nq, store):
    _, _, qs = nq
    sub = {q.subject.value: q.object.value for q in qs if q.predicate.value.endswith("#subPropertyOf")}
    assert sub[BASE + "relation/interaction/like"] == str(CKG.interaction)
    assert sub[BASE + "relation/concept/has_visual_concept"] == str(CKG.hasModalityConcept)
    assert sub[BASE + "relation/external/directed_by"] == str(CKG.externalRelation)
    rows = {
        q.subject.value: int(q.object.value)
        for q in qs
        if q.predicate.value == str(CKG.row) and "/feature/visual/" in q.subject.value
    }
    index, _ = store.feature("visual")
    items = store.table("items")["label"]
    assert {f"{BASE}feature/visual/{items[i]}": r for i, r in zip(index["item"], index["row"])} == rows
    assert not any(q.predicate.value.endswith("vector") and isinstance(q.object, ox.Literal) for q in qs)


def test_per_edge_confidence_is_kept_where_it_differs_from_the_default(nq, store):
    _, _, qs = nq
    conf = [q for q in qs if q.predicate.value == str(CKG.confidence) and "/statement/" in q.subject.value]
    t = store.table("triples")
    r = store.table("relations")
    concept = r[(r["graph"] == "user_side") & (r["family"] == "modality_concept")]["relation"]
    assert conf and len(conf) <= int(t[(t["graph"] == "user_side") & t["relation"].isin(concept)].shape[0])


def test_every_format_holds_the_same_triples(store_dir, tmp_path, nq):
    _, _, qs = nq
    want = {(q.subject, q.predicate, q.object) for q in qs}
    for fmt in ("nt", "ttl"):
        out = tmp_path / f"w.{fmt}.gz"
        export_store(store_dir, out, fmt, ExportOptions(base=BASE, gzip=True, sidecars=False))
        with open(out, "rb") as f:
            assert f.read(2) == b"\x1f\x8b"
        assert {(q.subject, q.predicate, q.object) for q in quads(out, fmt)} == want


def test_output_does_not_depend_on_the_batch_size(store_dir, tmp_path):
    a, b = tmp_path / "a.nt", tmp_path / "b.nt"
    export_store(store_dir, a, "nt", ExportOptions(base=BASE, sidecars=False))
    export_store(store_dir, b, "nt", ExportOptions(base=BASE, sidecars=False, batch_rows=97))
    assert sorted(a.read_bytes().splitlines()) == sorted(b.read_bytes().splitlines())


def test_ntriples_and_nquads_never_build_an_rdflib_graph(store_dir, tmp_path, monkeypatch):
    import rdflib

    def refuse(*a, **k):
        raise AssertionError("an rdflib Graph was built for a streamed format")

    monkeypatch.setattr(rdflib.Graph, "__init__", refuse)
    for fmt in ("nt", "nq"):
        export_store(store_dir, tmp_path / f"s.{fmt}", fmt, ExportOptions(base=BASE, sidecars=False))


def test_void_counts_match_the_file_and_sssom_lists_the_links(nq, store):
    out, rep, qs = nq
    from rdflib import Graph, Namespace, URIRef

    void = Namespace("http://rdfs.org/ns/void#")
    g = Graph().parse(rep.void, format="turtle", publicID=out.parent.as_uri() + "/")
    ds = URIRef(BASE + "dataset")
    assert int(g.value(ds, void.triples)) == len(qs)
    for key in ("user-side", "item-side", "interactions"):
        assert int(g.value(URIRef(BASE + "graph/" + key), void.triples)) == rep.per_graph[key]
    parts = {str(g.value(p, void["class"])): int(g.value(p, void.entities)) for p in g.objects(ds, void.classPartition)}
    assert parts[str(CKG.User)] == store.num_users
    lines = [x for x in rep.sssom.read_text().splitlines() if not x.startswith("#")]
    links = store.graph_table("alignment_items", "user_side")["external"].notna().sum()
    assert lines[0].startswith("subject_id\t") and len(lines) - 1 == links
    assert lines[1].split("\t")[2] == "owl:sameAs"


def test_interactions_option_and_turtle_limit(store_dir, tmp_path, store):
    r = export_store(
        store_dir, tmp_path / "h.nq", "nq", ExportOptions(base=BASE, interactions="held-out", sidecars=False)
    )
    held = int((store.table("interactions")["split"] != "train").sum())
    assert r.graph_classes["interactions"][str(CKG.InteractionRecord)] == held
    r = export_store(store_dir, tmp_path / "n.nq", "nq", ExportOptions(base=BASE, interactions="none", sidecars=False))
    assert "interactions" not in r.per_graph
    from ckgrec.kgbuild.rdf.errors import RdfExportError

    with pytest.raises(RdfExportError, match="Turtle is built in memory"):
        export_store(store_dir, tmp_path / "big.ttl", "ttl", ExportOptions(turtle_limit=100))
    assert not (tmp_path / "big.ttl").exists()


def test_cli_infers_format_and_gzip_from_the_name(store_dir, tmp_path, capsys):
    out = tmp_path / "g.nq.gz"
    assert main(["export-rdf", str(store_dir), "--output", str(out), "--base", BASE]) == 0
    text = capsys.readouterr().out
    assert "triples (nq, gzip)" in text and "VoID" in text
    assert (tmp_path / "g.void.ttl").is_file() and (tmp_path / "g.sssom.tsv").is_file()
    assert len(quads(out, "nq")) > 1000
