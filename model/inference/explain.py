"""Explaining a recommendation by the knowledge-graph paths that connect user and item.

A path is scored by the product of the attention weights along it, as the propagation would
weigh the message travelling it: π(h, r, t) is how much node h listens to its neighbour t, so a
path user → a → b → item scores π(user, ·, a) · π(a, ·, b) · π(b, ·, item). A beam search from
the user's entity keeps the strongest partial paths at each hop and reports those that end at
the item, within ``max_hops`` hops (3 reaches user → item A → shared concept → item B).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Path:
    graph: str
    score: float
    nodes: tuple[str, ...]  # entity labels, from the user to the item
    relations: tuple[str, ...]  # relation names between consecutive nodes

    def text(self) -> str:
        out = self.nodes[0]
        for rel, node in zip(self.relations, self.nodes[1:]):
            if rel.endswith("_inverse"):
                out += f" ←{rel.removesuffix('_inverse')}— {node}"
            else:
                out += f" —{rel}→ {node}"
        return out


def _csr(head: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(head, kind="stable")
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.add.at(ptr, head + 1, 1)
    return order, np.cumsum(ptr)


def best_paths(
    graph: str,
    head: np.ndarray,
    relation: np.ndarray,
    tail: np.ndarray,
    weight: np.ndarray,
    labels: np.ndarray,
    relation_names: list[str],
    source: int,
    target: int,
    max_hops: int = 3,
    beam: int = 256,
    top: int = 3,
) -> list[Path]:
    """The ``top`` highest-attention simple paths from ``source`` to ``target`` entity."""
    n = len(labels)
    order, ptr = _csr(head, n)
    # partial paths: (score, node list, relation-id list)
    frontier: list[tuple[float, list[int], list[int]]] = [(1.0, [source], [])]
    found: list[tuple[float, list[int], list[int]]] = []
    for _ in range(max_hops):
        candidates = []
        for score, nodes, rels in frontier:
            node = nodes[-1]
            edges = order[ptr[node] : ptr[node + 1]]
            for e in edges:
                nxt = int(tail[e])
                if nxt in nodes:
                    continue
                cand = (score * float(weight[e]), nodes + [nxt], rels + [int(relation[e])])
                if nxt == target:
                    found.append(cand)
                else:
                    candidates.append(cand)
        candidates.sort(key=lambda c: -c[0])
        frontier = candidates[:beam]
        if not frontier:
            break
    found.sort(key=lambda c: -c[0])
    return [
        Path(graph, s, tuple(str(labels[v]) for v in nodes), tuple(relation_names[r] for r in rels))
        for s, nodes, rels in found[:top]
    ]
