"""Malformed RDF, foreign RDF, broken stores, bad SPARQL: one clear line and exit 2, no traceback."""

from __future__ import annotations

import gzip
import json
import shutil

import pytest

from ckgrec.cli import main
from ckgrec.kgbuild.rdf.export import ExportOptions, export_store

pytest.importorskip("pyoxigraph")
BASE = "https://example.org/w/"


@pytest.fixture(scope="module")
def nt_text(store_dir, tmp_path_factory):
    f = tmp_path_factory.mktemp("bad_rdf") / "w.nt"
    export_store(store_dir, f, "nt", ExportOptions(base=BASE, sidecars=False))
    return f.read_text(encoding="utf-8")


def run_cli(capsys, *argv) -> tuple[int, str]:
    rc = main(list(argv))
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return rc, err


def expect_error(capsys, argv, *fragments) -> str:
    rc, err = run_cli(capsys, *argv)
    assert rc == 2, err
    assert len(err.strip().splitlines()) == 1, err
    for frag in fragments:
        assert frag in err, err
    return err


def edit(text: str, old: str, new: str, count: int = 1) -> str:
    assert old in text, old
    return text.replace(old, new, count)


@pytest.mark.parametrize("engine", ["auto", "rdflib"])
def test_truncated_file(nt_text, tmp_path, capsys, engine):
    f = tmp_path / "t.nt"
    f.write_text(nt_text[: len(nt_text) // 2], encoding="utf-8")
    expect_error(
        capsys, ["import-rdf", str(f), "--out", str(tmp_path / "s"), "--engine", engine], "t.nt", "malformed NT"
    )
    assert not (tmp_path / "s").exists()


def test_truncated_gzip(nt_text, tmp_path, capsys):
    f = tmp_path / "t.nt.gz"
    f.write_bytes(gzip.compress(nt_text.encode())[:2000])
    expect_error(capsys, ["import-rdf", str(f), "--out", str(tmp_path / "s")], "truncated")


@pytest.mark.parametrize("engine", ["auto", "rdflib"])
def test_bad_iri(nt_text, tmp_path, capsys, engine):
    f = tmp_path / "b.nt"
    f.write_text(edit(nt_text, f"<{BASE}user/u0>", f"<{BASE}user/u 0>"), encoding="utf-8")
    expect_error(capsys, ["import-rdf", str(f), "--out", str(tmp_path / "s"), "--engine", engine], "b.nt")


def test_misspelt_vocabulary_predicate_suggests_the_right_one(nt_text, tmp_path, capsys):
    f = tmp_path / "p.nt"
    f.write_text(edit(nt_text, "vocab#defaultConfidence>", "vocab#defaultConfidance>"), encoding="utf-8")
    expect_error(
        capsys,
        ["import-rdf", str(f), "--out", str(tmp_path / "s")],
        "unknown predicate",
        "did you mean",
        "defaultConfidence",
    )


def test_predicate_that_is_not_a_declared_relation(nt_text, tmp_path, capsys):
    f = tmp_path / "p.nt"
    f.write_text(nt_text + f"<{BASE}user/u0> <http://xmlns.com/foaf/0.1/knows> <{BASE}user/u1> .\n", encoding="utf-8")
    expect_error(
        capsys,
        ["import-rdf", str(f), "--out", str(tmp_path / "s")],
        "unknown predicate <http://xmlns.com/foaf/0.1/knows>",
        "not declared as a relation",
    )


@pytest.mark.parametrize(
    "extra, fragment",
    [
        (f'<{BASE}user/u0> <{BASE}relation/interaction/like> "i1" .\n', "literal"),
        (f"_:x <{BASE}relation/interaction/like> <{BASE}item/i1> .\n", "blank node"),
        (f"<{BASE}user/zz> <{BASE}relation/interaction/like> <{BASE}item/i1> .\n", "has no ckgrec node class"),
        (f"<{BASE}item/i1> <{BASE}relation/interaction/like> <{BASE}user/u0> .\n", "joins a item to a user"),
    ],
)
def test_foreign_or_inconsistent_triples(nt_text, tmp_path, capsys, extra, fragment):
    f = tmp_path / "x.nt"
    f.write_text(nt_text + extra, encoding="utf-8")
    expect_error(capsys, ["import-rdf", str(f), "--out", str(tmp_path / "s")], fragment)


def test_edge_in_the_wrong_named_graph(store_dir, tmp_path, capsys):
    f = tmp_path / "w.nq"
    export_store(store_dir, f, "nq", ExportOptions(base=BASE, sidecars=False))
    text = f.read_text(encoding="utf-8")
    line = next(x for x in text.splitlines() if "/relation/interaction/like>" in x and x.endswith("graph/user-side> ."))
    f.write_text(text.replace(line, line.replace("graph/user-side>", "graph/item-side>")), encoding="utf-8")
    expect_error(capsys, ["import-rdf", str(f), "--out", str(tmp_path / "s")], "is in graph", "belong to")


def test_not_an_export_and_missing_file(tmp_path, capsys):
    f = tmp_path / "other.ttl"
    f.write_text("@prefix ex: <http://example.org/> .\nex:a ex:b ex:c .\n", encoding="utf-8")
    expect_error(capsys, ["import-rdf", str(f), "--out", str(tmp_path / "s")], "not a ckgrec export")
    g = tmp_path / "garbage.ttl"
    g.write_text("garbage\n", encoding="utf-8")
    expect_error(capsys, ["import-rdf", str(g), "--out", str(tmp_path / "s")], "malformed TTL")
    expect_error(capsys, ["import-rdf", str(tmp_path / "none.nt"), "--out", str(tmp_path / "s")], "not found")
    h = tmp_path / "noext.rdf"
    h.write_text("", encoding="utf-8")
    expect_error(capsys, ["import-rdf", str(h), "--out", str(tmp_path / "s")], "--format")


@pytest.fixture()
def broken_store(store_dir, tmp_path):
    from ckgrec.schemas.store import manifest_checksum

    bad = tmp_path / "broken"
    shutil.copytree(store_dir, bad)
    m = json.loads((bad / "manifest.json").read_text())
    m["fingerprint"] = "0" * 32
    m["checksum"] = manifest_checksum(m)  # a self-consistent manifest: the tables' own stamps must object
    (bad / "manifest.json").write_text(json.dumps(m))
    return bad


@pytest.mark.parametrize(
    "argv",
    [
        ["export-rdf", "{s}", "--output", "{t}/x.nt"],
        ["inspect", "{s}"],
        ["query", "{s}", "ASK {{ ?s ?p ?o }}"],
        ["validate-rdf", "{s}"],
    ],
)
def test_store_with_broken_fingerprint(broken_store, tmp_path, capsys, argv):
    argv = [a.format(s=broken_store, t=tmp_path) for a in argv]
    expect_error(capsys, argv, "fingerprint", "does not match")
    assert not (tmp_path / "x.nt").exists()


@pytest.mark.parametrize(
    "query, fragment",
    [
        ("SELECT ?x WHERE { ?x ?p ", "SPARQL syntax error"),
        ("SELEC ?x WHERE { ?x ?p ?o }", "SPARQL syntax error"),
        ("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", "only SELECT and ASK"),
    ],
)
def test_bad_sparql(store_dir, capsys, query, fragment):
    expect_error(capsys, ["query", str(store_dir), query], fragment)


def test_bad_export_options(store_dir, tmp_path, capsys):
    expect_error(
        capsys,
        ["export-rdf", str(store_dir), "--output", str(tmp_path / "x.nt"), "--base", "example.org/"],
        "base IRI",
        "scheme",
    )
    expect_error(capsys, ["export-rdf", str(store_dir), "--output", str(tmp_path / "x.rdf")], "--format")
    expect_error(
        capsys,
        ["export-rdf", str(store_dir), "--output", str(tmp_path / "x.ttl"), "--turtle-limit", "10"],
        "Turtle is built in memory",
    )
