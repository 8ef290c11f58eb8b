"""One collaborative KG of a store as tensors: the edge list in both directions, sorted by
relation so attention can project one relation segment at a time, plus the forward triples for
the TransR loss and the alignment of users/items to entities.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ckgrec.schemas.store import Store


@dataclass
class GraphTensors:
    graph: str
    num_entities: int
    num_relations: int  # forward + inverse (2R)
    head: torch.Tensor  # (E,) both directions, sorted by relation then head
    relation: torch.Tensor  # (E,)
    tail: torch.Tensor  # (E,)
    confidence: torch.Tensor  # (E,)
    offsets: list[int]  # (2R + 1,) relation segment bounds in the edge list
    triples: torch.Tensor  # (T, 3) forward (h, r, t) for the KG loss
    user_entity: torch.Tensor  # (n_users,) entity id of each store user
    item_entity: torch.Tensor  # (n_items,) entity id of each store item
    labels: np.ndarray  # (N,) entity labels, for explanations
    kinds: np.ndarray  # (N,) entity kinds
    relation_names: list[str]  # (2R,)
    stored: torch.Tensor | None = (
        None  # (E,) bool: the edge in the direction its triple is stored (head <- tail), False for the inverse
    )

    @classmethod
    def from_store(cls, store: Store, graph: str) -> "GraphTensors":
        ent = store.graph_table("entities", graph, ["entity", "label", "kind"]).sort_values("entity")
        rel = store.graph_table("relations", graph, ["relation", "name", "inverse"]).sort_values("relation")
        tr = store.graph_table("triples", graph, ["head", "relation", "tail", "confidence"])
        n_rel = len(rel)
        inverse = rel["inverse"].to_numpy()
        h, r, t = tr["head"].to_numpy(), tr["relation"].to_numpy(), tr["tail"].to_numpy()
        conf = tr["confidence"].to_numpy(np.float32)
        all_h = np.concatenate([h, t])
        all_t = np.concatenate([t, h])
        all_r = np.concatenate([r, inverse[r]])
        all_c = np.concatenate([conf, conf])
        all_s = np.concatenate([np.ones(len(h), bool), np.zeros(len(h), bool)])
        order = np.lexsort((all_t, all_h, all_r))
        all_h, all_r, all_t, all_c, all_s = all_h[order], all_r[order], all_t[order], all_c[order], all_s[order]
        offsets = np.searchsorted(all_r, np.arange(n_rel + 1)).tolist()
        users = store.graph_table("alignment_users", graph, ["user", "entity"]).sort_values("user")
        items = store.graph_table("alignment_items", graph, ["item", "entity"]).sort_values("item")
        return cls(
            graph=graph,
            num_entities=len(ent),
            num_relations=n_rel,
            head=torch.from_numpy(all_h.astype(np.int64)),
            relation=torch.from_numpy(all_r.astype(np.int64)),
            tail=torch.from_numpy(all_t.astype(np.int64)),
            confidence=torch.from_numpy(all_c),
            offsets=offsets,
            triples=torch.from_numpy(np.stack([h, r, t], 1).astype(np.int64)),
            user_entity=torch.from_numpy(np.array(users["entity"], dtype=np.int64)),
            item_entity=torch.from_numpy(np.array(items["entity"], dtype=np.int64)),
            labels=ent["label"].to_numpy(dtype=object),
            kinds=ent["kind"].to_numpy(dtype=object),
            relation_names=rel["name"].tolist(),
            stored=torch.from_numpy(all_s),
        )

    def to(self, device: torch.device | str) -> "GraphTensors":
        moved = {k: (v.to(device) if isinstance(v, torch.Tensor) else v) for k, v in self.__dict__.items()}
        return GraphTensors(**moved)

    @property
    def num_edges(self) -> int:
        return int(self.head.numel())

    def kind_mask(self, kind: str) -> torch.Tensor:
        """(N,) bool: the entities of ``kind`` ("user", "item", ...), on the edges' device."""
        return torch.as_tensor(np.asarray(self.kinds) == kind, device=self.head.device)

    def _between_user_and_item(self, head: torch.Tensor, tail: torch.Tensor) -> torch.Tensor:
        is_user, is_item = self.kind_mask("user").to(head.device), self.kind_mask("item").to(head.device)
        return (is_user[head] & is_item[tail]) | (is_item[head] & is_user[tail])

    def interaction_edges(self) -> torch.Tensor:
        """(E,) bool: the user <-> item edges (either direction); the rest are side edges."""
        return self._between_user_and_item(self.head, self.tail)

    def interaction_triples(self) -> torch.Tensor:
        """(T,) bool: the stored triples between a user and an item (either way round)."""
        return self._between_user_and_item(self.triples[:, 0], self.triples[:, 2])

    def users_have_side_edges(self) -> bool:
        """Whether some user entity has an edge to something other than an item (a profile attribute)."""
        is_user = self.kind_mask("user")
        return bool((is_user[self.head] & ~is_user[self.tail] & ~self.interaction_edges()).any())
