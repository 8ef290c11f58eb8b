"""ckg inspect --entity: neighbourhood trees and GraphML."""

from __future__ import annotations

import pytest

from ckgrec.cli import main
from ckgrec.kgbuild.inspect.neighbourhood import format_tree, neighbourhood
from ckgrec.schemas.errors import ConfigError


def test_one_hop_of_a_user_is_its_training_edges(store_dir, store):
    nb = neighbourhood(store_dir, "user:u3", 1)
    assert nb.graph == "user_side"
    inter = store.table("interactions")
    users = store.table("users")
    u = int(users.index[users["label"] == "u3"][0])
    train_items = set(inter[(inter["user"] == u) & (inter["split"] == "train")]["item"])
    assert len(nb.labels) - 1 == len(train_items)
    assert all(arrow == "→" for _, arrow, _ in nb.children[nb.root])


def test_two_hops_reach_attributes_and_other_users(store_dir):
    nb = neighbourhood(store_dir, "user:u3", 2)
    kinds = set(nb.kinds.values())
    assert {"user", "item", "item_attribute", "modality_concept"} <= kinds
    assert max(nb.depth.values()) == 2
    text = format_tree(nb, max_children=3)
    assert text.splitlines()[0].startswith("user:u3  [user]")
    assert "← like" in text or "← favorite" in text
    assert "more (" in text


def test_bare_ids_and_attribute_labels_are_found_in_their_graph(store_dir):
    assert neighbourhood(store_dir, "i3", 1).labels[neighbourhood(store_dir, "i3", 1).root] == "item:i3"
    assert neighbourhood(store_dir, "i3", 1).graph == "item_side"
    assert neighbourhood(store_dir, "gender=F", 1).graph == "item_side"
    assert neighbourhood(store_dir, "u3", 1, graph="item_side").graph == "item_side"


def test_unknown_label_suggests_close_ones(store_dir):
    with pytest.raises(ConfigError, match="did you mean.*user:u9"):
        neighbourhood(store_dir, "user:u999", 1)


def test_graphml_hands_the_subgraph_to_networkx(store_dir, tmp_path, capsys):
    import networkx as nx

    f = tmp_path / "n.graphml"
    assert (
        main(
            [
                "inspect",
                str(store_dir),
                "--entity",
                "user:u3",
                "--hops",
                "2",
                "--graphml",
                str(f),
                "--max-children",
                "2",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "wrote" in out and "├─" in out
    g = nx.read_graphml(f)
    nb = neighbourhood(store_dir, "user:u3", 2)
    assert g.number_of_nodes() == len(nb.labels) and g.number_of_edges() == len(nb.edges)
    assert g.nodes["user:u3"]["kind"] == "user"
    assert {d["relation"] for _, _, d in g.edges(data=True)} >= {"like"}


def test_graphml_needs_an_entity(store_dir, tmp_path, capsys):
    assert main(["inspect", str(store_dir), "--graphml", str(tmp_path / "x.graphml")]) == 2
    assert "--entity" in capsys.readouterr().err
