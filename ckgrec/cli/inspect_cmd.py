"""``ckg inspect``: a one-screen summary of a store, a node's neighbourhood, plots."""

from __future__ import annotations

import argparse

from ckgrec.cli.options import NON_NEGATIVE, POSITIVE


def register(sub) -> None:
    p = sub.add_parser(
        "inspect",
        help="summarise a store's graphs, show a node's neighbourhood, plot degree distributions",
        description="Without options: entities by kind, relations with triple counts per graph, interactions "
        "per split, sparsity, degree statistics per entity kind, connected components, cold-start items and "
        "the users/items reachable only through attributes. With --entity: the neighbourhood of one node as a "
        "tree (and --graphml to open it in Gephi or Cytoscape). With --plot: PNG plots (matplotlib, the "
        "'plot' extra).",
    )
    p.add_argument("store", help="store directory written by 'ckg build'")
    p.add_argument(
        "--json", action="store_true", help="print the summary (or the neighbourhood) as JSON instead of text"
    )
    p.add_argument(
        "--entity",
        metavar="LABEL",
        help="show the neighbourhood of this node, e.g. user:u1, item:i7, gender=F, visual:c3 (a bare source id is tried as user:/item:/kg:)",
    )
    p.add_argument("--hops", type=NON_NEGATIVE, default=1, help="neighbourhood radius in edges (default 1)")
    p.add_argument(
        "--graph",
        choices=["user_side", "item_side"],
        help="graph to walk (default: user_side for users and others, item_side for items)",
    )
    p.add_argument(
        "--max-children",
        type=POSITIVE,
        default=10,
        help="children shown per node in the tree before '... N more' (default 10)",
    )
    p.add_argument(
        "--max-nodes",
        type=POSITIVE,
        default=5000,
        help="stop growing the neighbourhood at this many nodes (default 5,000)",
    )
    p.add_argument(
        "--graphml", metavar="FILE", help="also write the neighbourhood subgraph as GraphML (needs --entity)"
    )
    p.add_argument(
        "--plot", metavar="DIR", help="write degree_user_side.png, degree_item_side.png and relations.png into DIR"
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import json

    from ckgrec.pipeline.files import finite_json
    from ckgrec.schemas.errors import ConfigError

    if args.graphml and not args.entity:
        raise ConfigError("--graphml writes the neighbourhood of --entity; pass --entity LABEL too")
    if args.entity:
        from ckgrec.kgbuild.inspect.neighbourhood import (
            format_tree,
            neighbourhood,
            write_graphml,
        )

        nb = neighbourhood(args.store, args.entity, args.hops, graph=args.graph, max_nodes=args.max_nodes)
        if args.json:
            print(
                json.dumps(
                    finite_json(
                        {
                            "graph": nb.graph,
                            "root": nb.labels[nb.root],
                            "nodes": [
                                {
                                    "label": nb.labels[n],
                                    "kind": nb.kinds[n],
                                    "depth": nb.depth[n],
                                    **({"name": nb.names[n]} if n in nb.names else {}),
                                }
                                for n in sorted(nb.labels)
                            ],
                            "edges": [
                                {"head": nb.labels[h], "relation": r, "tail": nb.labels[t], "confidence": c}
                                for h, r, t, c in nb.edges
                            ],
                        }
                    ),
                    indent=2,
                    allow_nan=False,
                )
            )
        else:
            print(format_tree(nb, args.max_children))
        if args.graphml:
            path = write_graphml(nb, args.graphml)
            print(f"wrote {path} ({len(nb.labels):,} nodes, {len(nb.edges):,} edges)")
    else:
        from ckgrec.kgbuild.inspect.summary import format_inspection, summarize

        s = summarize(args.store)
        print(json.dumps(finite_json(s), indent=2, allow_nan=False) if args.json else format_inspection(s))
    if args.plot:
        from ckgrec.kgbuild.inspect.plots import write_plots

        for p in write_plots(args.store, args.plot):
            print(f"wrote {p}")
    return 0
