"""ckg query: SPARQL over the export agrees with the same question asked of the tables."""

from __future__ import annotations

import csv
import io

import pytest

from ckgrec.cli import main
from ckgrec.kgbuild.inspect.query import format_csv, run_query

EXAMPLE = """
SELECT DISTINCT ?user ?item WHERE {
  item:i0 cprop:has_visual_concept ?c .
  ?item cprop:has_visual_concept ?c .
  FILTER (?item != item:i0)
  ?user act:favorite ?item .
}"""


def expected(store) -> set[tuple[str, str]]:
    """Users who favourited (in training) an item sharing a visual concept with i0, from the tables."""
    t = store.graph_table("triples", "user_side")
    e = store.graph_table("entities", "user_side").set_index("entity")["label"]
    r = store.graph_table("relations", "user_side").set_index("name")["relation"]
    concept = t[t["relation"] == r["has_visual_concept"]]
    i0 = int(e.index[e == "item:i0"][0])
    shared = set(concept[concept["tail"].isin(concept[concept["head"] == i0]["tail"])]["head"]) - {i0}
    fav = t[(t["relation"] == r["favorite"]) & t["tail"].isin(shared)]
    return {(e[h].removeprefix("user:"), e[i].removeprefix("item:")) for h, i in zip(fav["head"], fav["tail"])}


@pytest.mark.parametrize("engine", ["oxigraph", "rdflib"])
def test_example_query_matches_the_tables(store_dir, store, engine):
    if engine == "oxigraph":
        pytest.importorskip("pyoxigraph")
    res = run_query(store_dir, EXAMPLE, engine=engine)
    got = {(row[0][1].rsplit("/", 1)[1], row[1][1].rsplit("/", 1)[1]) for row in res.rows}
    assert got == expected(store) and got


def test_table_and_csv_output(store_dir, capsys):
    pytest.importorskip("pyoxigraph")
    assert main(["query", str(store_dir), EXAMPLE + " ORDER BY ?user LIMIT 3"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["user", "item"] and out[2].startswith("user:") and out[-1] == "(3 rows)"
    assert main(["query", str(store_dir), "--csv", EXAMPLE]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows[0] == ["user", "item"] and rows[1][0].startswith("https://") and "/user/" in rows[1][0]


def test_ask_and_named_graphs(store_dir):
    pytest.importorskip("pyoxigraph")
    assert run_query(store_dir, "ASK { GRAPH graph:item-side { ?i actby:like_by ?u } }").boolean is True
    assert run_query(store_dir, "ASK { GRAPH graph:item-side { ?u act:like ?i } }").boolean is False
    held = run_query(store_dir, "SELECT (COUNT(*) AS ?n) WHERE { ?r ckg:split ckg:test }")
    assert int(held.rows[0][0][1]) > 0
    assert format_csv(run_query(store_dir, "ASK { user:u0 ?p ?o }")) == "boolean\ntrue\n"


def test_query_from_a_file(store_dir, tmp_path, capsys):
    pytest.importorskip("pyoxigraph")
    q = tmp_path / "q.rq"
    q.write_text("SELECT ?u WHERE { ?u a ckg:User } LIMIT 2", encoding="utf-8")
    assert main(["query", str(store_dir), f"@{q}"]) == 0
    assert "(2 rows)" in capsys.readouterr().out
