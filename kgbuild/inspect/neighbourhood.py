"""``ckg inspect STORE --entity LABEL --hops N``: one node's neighbourhood as a readable tree.

The walk is breadth-first over forward triples in both directions (an incoming ``like`` is
shown as ``← like``, which is the stored inverse ``like_inverse``), so each node appears once,
under the node it was first reached from, at its shortest distance. Children are sorted by
relation and label and cut at ``max_children`` per node with a count of the rest; the walk
stops growing at ``max_nodes``. ``write_graphml`` hands the same subgraph (every edge between
the visited nodes) to Gephi or Cytoscape.
"""

from __future__ import annotations

import difflib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ckgrec.kgbuild.inspect.summary import GraphData
from ckgrec.schemas.errors import ConfigError
from ckgrec.schemas.store import Store
from ckgrec.schemas.tables import GRAPHS

GRAPH_ALIASES = {
    "user_side": "user_side",
    "gu": "user_side",
    "user-side": "user_side",
    "item_side": "item_side",
    "gi": "item_side",
    "item-side": "item_side",
}


@dataclass
class Neighbourhood:
    graph: str
    root: int
    labels: dict[int, str]
    kinds: dict[int, str]
    names: dict[int, str]
    depth: dict[int, int]
    children: dict[int, list[tuple[str, str, int]]]  # node -> [(relation name, '→' or '←', child)]
    edges: list[tuple[int, str, int, float]] = field(default_factory=list)  # head, relation, tail, confidence
    truncated: bool = False


def resolve_graph(graph: str | None) -> str | None:
    if graph is None:
        return None
    g = GRAPH_ALIASES.get(graph.lower())
    if g is None:
        raise ConfigError(f"--graph {graph!r}: use user_side (G_u) or item_side (G_i)")
    return g


def _default_graph(label: str) -> str:
    if label.startswith("user:"):
        return "user_side"
    if label.startswith("item:"):
        return "item_side"
    return "user_side"


def find_entity(gd: GraphData, label: str) -> int:
    labels = gd.entities["label"]
    hit = np.flatnonzero((labels == label).to_numpy())
    if len(hit):
        return int(hit[0])
    pool = labels[labels.str[:3] == label[:3]].head(20_000).tolist() or labels.head(20_000).tolist()
    close = difflib.get_close_matches(label, pool, n=3)
    hint = (
        f"; did you mean {', '.join(repr(c) for c in close)}?"
        if close
        else " (labels look like 'user:u1', 'item:i7', 'gender=F', 'visual:c3')"
    )
    raise ConfigError(f"no entity labelled {label!r} in {gd.graph}{hint}")


def neighbourhood(
    path: str | Path,
    label: str,
    hops: int = 1,
    *,
    graph: str | None = None,
    max_nodes: int = 5000,
) -> Neighbourhood:
    if hops < 0:
        raise ConfigError(f"--hops {hops}: must be >= 0")
    s = Store.open(path)
    chosen = resolve_graph(graph)
    loaded: dict[str, GraphData] = {}

    def data(g: str) -> GraphData:
        if g not in loaded:
            loaded[g] = GraphData.load(s, g)
        return loaded[g]

    # the label as given, then as a bare source id; each in its natural graph, then in the other
    root = gd = None
    for cand in [label] + [p + label for p in ("user:", "item:", "kg:") if not label.startswith(p)]:
        order = [chosen] if chosen else [_default_graph(cand)] + [x for x in GRAPHS if x != _default_graph(cand)]
        for g in order:
            hit = np.flatnonzero((data(g).entities["label"] == cand).to_numpy())
            if len(hit):
                root, gd = int(hit[0]), data(g)
                break
        if gd is not None:
            break
    if gd is None:
        find_entity(data(chosen or _default_graph(label)), label)  # raises with the closest labels
    ent, rel, tri = gd.entities, gd.relations, gd.triples
    rel_name = rel.set_index("relation")["name"].to_dict()
    h, r, t, c = (tri[col].to_numpy() for col in ("head", "relation", "tail", "confidence"))
    by_head, by_tail = np.argsort(h, kind="stable"), np.argsort(t, kind="stable")
    h_sorted, t_sorted = h[by_head], t[by_tail]

    def incident(v: int):
        a, b = np.searchsorted(h_sorted, v, "left"), np.searchsorted(h_sorted, v, "right")
        out = by_head[a:b]
        a, b = np.searchsorted(t_sorted, v, "left"), np.searchsorted(t_sorted, v, "right")
        inc = by_tail[a:b]
        return out, inc

    labels_arr = ent["label"].to_numpy(dtype=object)
    depth = {root: 0}
    children: dict[int, list] = defaultdict(list)
    edge_ids: set[int] = set()
    frontier = [root]
    truncated = False
    for d in range(hops):
        nxt = []
        for v in frontier:
            out, inc = incident(v)
            cand = [(rel_name[int(r[e])], "→", int(t[e]), int(e)) for e in out] + [
                (rel_name[int(r[e])], "←", int(h[e]), int(e)) for e in inc
            ]
            cand.sort(key=lambda x: (x[0], x[1], labels_arr[x[2]]))
            for name, arrow, u, e in cand:
                if u in depth:
                    if depth[u] <= d + 1:
                        edge_ids.add(e)
                    continue
                if len(depth) >= max_nodes:
                    truncated = True
                    continue
                depth[u] = d + 1
                children[v].append((name, arrow, u))
                edge_ids.add(e)
                nxt.append(u)
        frontier = nxt
    nodes = sorted(depth)
    kinds = dict(zip(nodes, ent["kind"].to_numpy(dtype=object)[nodes]))
    names = _names(s, {n: labels_arr[n] for n in nodes})
    edges = [(int(h[e]), rel_name[int(r[e])], int(t[e]), float(c[e])) for e in sorted(edge_ids)]
    return Neighbourhood(
        g, root, {n: labels_arr[n] for n in nodes}, kinds, names, depth, dict(children), edges, truncated
    )


def _names(store: Store, labels: dict[int, str]) -> dict[int, str]:
    out = {}
    for table, prefix in (("items", "item:"), ("users", "user:")):
        want = {lab[len(prefix) :]: n for n, lab in labels.items() if lab.startswith(prefix)}
        if not want:
            continue
        t = store.table(table, columns=["label", "name"])
        t = t[t["label"].isin(list(want)) & t["name"].notna()]
        for lab, name in zip(t["label"], t["name"]):
            out[want[lab]] = str(name)
    return out


def _node_text(nb: Neighbourhood, n: int) -> str:
    name = nb.names.get(n)
    return f"{nb.labels[n]}  [{nb.kinds[n]}]" + (f'  "{name}"' if name else "")


def format_tree(nb: Neighbourhood, max_children: int = 10) -> str:
    """The neighbourhood as an indented tree (box-drawing characters)."""
    title = {"user_side": "G_u (user side)", "item_side": "G_i (item side)"}[nb.graph]
    radius = max(nb.depth.values())
    lines = [
        f"{_node_text(nb, nb.root)}   in {title}: {len(nb.labels) - 1} nodes within {radius} hop{'s' if radius != 1 else ''}"
    ]

    def walk(v: int, prefix: str) -> None:
        kids = nb.children.get(v, [])
        shown = kids[:max_children]
        rest = kids[max_children:]
        width = max((len(n) for n, _, _ in shown), default=0)
        for k, (name, arrow, u) in enumerate(shown):
            last = k == len(shown) - 1 and not rest
            lines.append(f"{prefix}{'└─' if last else '├─'} {arrow} {name:<{width}}  {_node_text(nb, u)}")
            walk(u, prefix + ("   " if last else "│  "))
        if rest:
            by_rel = Counter(f"{a} {n}" for n, a, _ in rest)
            summary = ", ".join(f"{c} {k}" for k, c in by_rel.most_common(4))
            lines.append(f"{prefix}└─ ... {len(rest)} more ({summary})")

    walk(nb.root, "")
    if nb.truncated:
        lines.append(f"(stopped growing at {len(nb.labels)} nodes; use fewer --hops or raise --max-nodes)")
    return "\n".join(lines)


def to_networkx(nb: Neighbourhood):
    import networkx as nx

    g = nx.MultiDiGraph(graph=nb.graph, root=nb.labels[nb.root])
    for n, lab in nb.labels.items():
        attrs = {"kind": nb.kinds[n], "depth": nb.depth[n], "entity": int(n)}
        if n in nb.names:
            attrs["name"] = nb.names[n]
        g.add_node(lab, **attrs)
    for h, r, t, c in nb.edges:
        g.add_edge(nb.labels[h], nb.labels[t], key=r, relation=r, confidence=c)
    return g


def write_graphml(nb: Neighbourhood, path: str | Path) -> Path:
    import networkx as nx

    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    nx.write_graphml(to_networkx(nb), p)
    return p
