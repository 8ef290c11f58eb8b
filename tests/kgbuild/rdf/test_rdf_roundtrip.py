"""store -> RDF -> store gives the same tables (and fingerprint); RDF -> store -> RDF is isomorphic."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ckgrec.kgbuild.rdf.export import ExportOptions, export_store
from ckgrec.kgbuild.rdf.import_ import import_rdf
from ckgrec.schemas.store import Store

pytest.importorskip("pyoxigraph")
TABLES = ["entities", "relations", "triples", "alignment_items", "alignment_users", "interactions", "users", "items"]


def assert_same_store(a_path, b_path, *, features: bool = True) -> None:
    a, b = Store.open(a_path), Store.open(b_path)
    for t in TABLES:
        pd.testing.assert_frame_equal(a.table(t), b.table(t), check_dtype=False, obj=t)
    assert a.fingerprint == b.fingerprint
    if features:
        assert a.modalities == b.modalities
        for m in a.modalities:
            (ia, ma), (ib, mb) = a.feature(m), b.feature(m)
            pd.testing.assert_frame_equal(ia, ib)
            assert np.array_equal(ma, mb)
        assert a.counts == b.counts


@pytest.mark.parametrize(
    "name, fmt, engine",
    [("w.nt", "nt", "auto"), ("w.nq.gz", "nq", "auto"), ("w.ttl", "ttl", "auto"), ("w.nq", "nq", "rdflib")],
)
def test_world_round_trip_is_exact(store_dir, tmp_path, name, fmt, engine):
    f = tmp_path / name
    export_store(store_dir, f, fmt, ExportOptions(gzip=name.endswith(".gz"), sidecars=False))
    rep = import_rdf(f, tmp_path / "back", features_from=store_dir, engine=engine)
    assert rep.same_fingerprint and not rep.notes
    assert_same_store(store_dir, tmp_path / "back")


def test_without_feature_matrices_the_graph_part_still_round_trips(store_dir, tmp_path):
    f = tmp_path / "w.nq"
    export_store(store_dir, f, "nq", ExportOptions(sidecars=False))
    rep = import_rdf(f, tmp_path / "back")
    assert rep.same_fingerprint and any("feature vectors are not in RDF" in n for n in rep.notes)
    assert_same_store(store_dir, tmp_path / "back", features=False)
    assert Store.open(tmp_path / "back").modalities == []


def test_held_out_only_export_rebuilds_training_rows_from_the_edges(store_dir, tmp_path):
    f = tmp_path / "h.nq"
    export_store(store_dir, f, "nq", ExportOptions(interactions="held-out", sidecars=False))
    rep = import_rdf(f, tmp_path / "back", features_from=store_dir)
    assert rep.same_fingerprint and any("rebuilt from the G_u edges" in n for n in rep.notes)
    a, b = Store.open(store_dir).table("interactions"), Store.open(tmp_path / "back").table("interactions")
    cols = ["user", "item", "relation", "split", "confidence", "protocol"]
    pd.testing.assert_frame_equal(a[cols], b[cols], check_dtype=False)
    assert b.loc[b["split"] == "train", "timestamp"].isna().all()


def test_export_import_export_is_isomorphic(store_dir, tmp_path):
    from rdflib import Graph
    from rdflib.compare import isomorphic

    first, second = tmp_path / "1.nt", tmp_path / "2.nt"
    export_store(store_dir, first, "nt", ExportOptions(sidecars=False))
    import_rdf(first, tmp_path / "back", features_from=store_dir)
    export_store(tmp_path / "back", second, "nt", ExportOptions(base=None, sidecars=False))
    g1, g2 = Graph().parse(first, format="nt"), Graph().parse(second, format="nt")
    # the re-imported store records where it came from in its manifest; the graph itself is the same
    assert isomorphic(g1, g2)


def write_awkward_world(root):
    """A small random dataset whose ids and values need every escape the IRI and literal rules have."""
    rng = np.random.default_rng(11)
    root.mkdir(parents=True)
    users = ["u 1", "ü/2", "50%", "..", 'q"t', "a#b", "7", "x<y>", "tab\tu", "ok"]
    items = ["i 1", "i/2", "i%3", ".", "ïtem", "{5}", "i|6", "i^7", "i`8", "i\\9", "i10", "i11"]
    rows = []
    for u in users:
        for i in rng.choice(items, size=6, replace=False):
            rows.append(
                (u, i, rng.choice(["like", "favorite", "co-watch"]), int(rng.integers(1_600_000_000, 1_700_000_000)))
            )
    pd.DataFrame(rows, columns=["user_id", "item_id", "behavior", "timestamp"]).to_csv(
        root / "interactions.csv", index=False
    )
    pd.DataFrame({"user_id": users, "region": rng.choice(["n/a", "east & west", "[north]", "süd"], len(users))}).to_csv(
        root / "users.csv", index=False
    )
    pd.DataFrame(
        {
            "item_id": items,
            "name": [f'clip "{k}"\nsecond line' for k in range(len(items))],
            "genre": rng.choice(["a|b", "c", "d e", "f%g"], len(items)),
        }
    ).to_csv(root / "items.csv", index=False)
    kg = [(f"m {k}", "film/directed by", f"d/{k % 3}") for k in range(6)] + [("d/0", "born.in", "c#1")]
    pd.DataFrame(kg, columns=["head", "relation", "tail"]).to_csv(root / "kg.csv", index=False)
    pd.DataFrame({"item_id": items[:6], "entity_id": [f"m {k}" for k in range(6)]}).to_csv(
        root / "links.csv", index=False
    )
    return root


def test_random_world_with_awkward_ids_round_trips(tmp_path):
    from ckgrec.kgbuild.build import build

    store = build(write_awkward_world(tmp_path / "raw"), tmp_path / "s", fmt="native").store
    for fmt in ("nq", "ttl"):
        f = tmp_path / f"a.{fmt}"
        export_store(store, f, fmt, ExportOptions(sidecars=False))
        rep = import_rdf(f, tmp_path / f"back_{fmt}")
        assert rep.same_fingerprint, fmt
        assert_same_store(store, tmp_path / f"back_{fmt}", features=False)


def test_generated_benchmark_store_round_trips(tmp_path):
    from benchmarks.bench_rdf import generate_store

    generate_store(tmp_path / "g", 800, seed=3)
    export_store(tmp_path / "g", tmp_path / "g.nq", "nq", ExportOptions(sidecars=False))
    rep = import_rdf(tmp_path / "g.nq", tmp_path / "back", features_from=tmp_path / "g")
    assert rep.same_fingerprint
    a, b = Store.open(tmp_path / "g"), Store.open(tmp_path / "back")
    for t in TABLES:
        pd.testing.assert_frame_equal(a.table(t), b.table(t), check_dtype=False, obj=t)


def test_embedded_dataset_round_trips(tmp_path_factory):
    from ckgrec.kgbuild.build import build
    from ckgrec.kgbuild.embedded import embedded_dataset_dir

    d = tmp_path_factory.mktemp("embedded_rdf")
    store = build(embedded_dataset_dir(), d / "store", fmt="native").store
    f = d / "embedded.nq"
    rep = export_store(store, f, "nq", ExportOptions(sidecars=False))
    assert rep.triples > 100_000
    back = import_rdf(f, d / "back", features_from=store)
    assert back.same_fingerprint and not back.notes
    assert_same_store(store, d / "back")
