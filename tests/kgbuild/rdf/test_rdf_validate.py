"""ckg validate-rdf: SHACL on exports (whole or sampled), whole-graph integrity on stores."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from ckgrec.cli import main
from ckgrec.kgbuild.rdf.export import ExportOptions, export_store
from ckgrec.kgbuild.rdf.validate import integrity_problems, validate_target
from ckgrec.schemas.store import Store, StoreWriter
from ckgrec.schemas.tables import TABLES

pytest.importorskip("pyshacl")
pytest.importorskip("pyoxigraph")
BASE = "https://example.org/v/"


def test_a_built_store_has_no_integrity_problem(store):
    assert integrity_problems(store) == []


def write_tampered(src: Store, out, triples: pd.DataFrame):
    with StoreWriter(out, src.fingerprint) as w:
        for name, spec in TABLES.items():
            w.write_table(spec, triples if name == "triples" else src.table(name))
        for m in src.modalities:
            index, matrix = src.feature(m)
            w.write_feature(m, index["item"].to_numpy(), np.asarray(matrix))
        keep = {k: v for k, v in src.manifest.items() if k not in ("format", "schema_version", "fingerprint", "files")}
        w.commit(keep)
    return Store.open(out)


def test_leaked_and_misdirected_edges_are_all_reported(store, tmp_path):
    t = store.table("triples")
    inter = store.table("interactions")
    rel = store.graph_table("relations", "user_side")
    like = int(rel.loc[rel["name"] == "like", "relation"].iat[0])
    held = inter[(inter["split"] == "test") & (inter["relation"] == "like")].iloc[0]
    n_users = store.num_users
    leak = {
        "graph": "user_side",
        "head": int(held["user"]),
        "relation": like,
        "tail": n_users + int(held["item"]),
        "confidence": np.float32(0.7),
    }
    wrong = {"graph": "user_side", "head": n_users + 1, "relation": like, "tail": 2, "confidence": np.float32(0.7)}
    bad = write_tampered(store, tmp_path / "bad", pd.concat([t, pd.DataFrame([leak, wrong])], ignore_index=True))
    text = "\n".join(map(str, integrity_problems(bad)))
    assert "leakage" in text and "1 edges that are valid/test interactions" in text
    assert "a interaction triple goes from user to item" in text
    assert "counts.triples.user_side" in text


def test_shacl_on_a_small_export_and_on_a_sample(store_dir, tmp_path):
    f = tmp_path / "w.nq"
    export_store(store_dir, f, "nq", ExportOptions(base=BASE, sidecars=False))
    rep = validate_target(f, sample=1500)
    assert rep.ok, [str(p) for p in rep.problems]
    assert rep.shacl_sampled and rep.shacl_triples < 4000


def test_shacl_reports_each_kind_of_violation(store_dir, tmp_path, capsys):
    f = tmp_path / "w.nt"
    export_store(store_dir, f, "nt", ExportOptions(base=BASE, sidecars=False, interactions="none", features=False))
    text = f.read_text(encoding="utf-8")
    label = f'<{BASE}user/u1> <http://www.w3.org/2000/01/rdf-schema#label> "user:u1" .\n'
    assert label in text
    text = text.replace(label, "")
    text += f"<{BASE}item/i1> <{BASE}relation/interaction/like> <{BASE}user/u0> .\n"
    text += f'<{BASE}user/u0> <https://w3id.org/ckgrec/vocab#nmae> "x" .\n'
    f.write_text(text, encoding="utf-8")
    assert main(["validate-rdf", str(f), "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    problems = "\n".join(out["problems"])
    assert "exactly one rdfs:label" in problems
    assert f"subject {BASE}item/i1" in problems and "is not a https://w3id.org/ckgrec/vocab#User" in problems
    assert f"object {BASE}user/u0" in problems
    assert "unknown predicate https://w3id.org/ckgrec/vocab#nmae" in problems


def test_cli_on_a_store_runs_both_checks(store_dir, capsys):
    assert main(["validate-rdf", str(store_dir), "--sample", "1000"]) == 0
    out = capsys.readouterr().out
    assert "OK" in out and "integrity of every table row" in out and "SHACL on a sample" in out
