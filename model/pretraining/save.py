"""Write pretrained TransR tensors into a store (the layout and its reader: :mod:`ckgrec.model.data.pretrained`)."""

from __future__ import annotations

import datetime as _dt
import hashlib
import importlib.metadata
import json
from pathlib import Path

import torch
from safetensors.torch import save as st_save

from ckgrec.model.data.pretrained import (
    FORMAT,
    FORMAT_VERSION,
    check_graph,
    pretrained_paths,
    store_stamp,
)
from ckgrec.model.pretraining.config import PretrainConfig
from ckgrec.model.pretraining.pretrain import TrainedTransR
from ckgrec.schemas.config_io import to_dict
from ckgrec.schemas.errors import StoreMismatchError
from ckgrec.schemas.store import Store, atomic_write_bytes


def save_pretrained(store: Store, graph: str, trained: "TrainedTransR", config: "PretrainConfig") -> Path:
    """Write ``trained`` (forward relations; inverses are derived) for ``graph`` into ``store``.

    :return: path of the tensor file
    """
    check_graph(graph)
    entity, relation, projection = (t.detach().to("cpu", torch.float32).contiguous() for t in trained.with_inverses())
    stamp = store_stamp(store, graph)
    for name, tensor, rows in (
        ("entity", entity, stamp["num_entities"]),
        ("relation", relation, stamp["num_relations"]),
    ):
        if tensor.shape[0] != rows:
            raise StoreMismatchError(
                f"{store.path} {graph}: the {name} tensor has {tensor.shape[0]} rows but the store has {rows} "
                f"{name} ids; these embeddings were trained on another graph"
            )
    shapes = {"entity": list(entity.shape), "relation": list(relation.shape), "projection": list(projection.shape)}
    header = {
        "format": FORMAT,
        "format_version": str(FORMAT_VERSION),
        "graph": graph,
        "fingerprint": stamp["fingerprint"],
        "triples_sha256": str(stamp["triples_sha256"]),
        "config": json.dumps(to_dict(config), sort_keys=True),
    }
    data = st_save({"entity": entity, "relation": relation, "projection": projection}, metadata=header)
    tensor_path, sidecar_path = pretrained_paths(store.path, graph)
    atomic_write_bytes(tensor_path, data)
    sidecar = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "graph": graph,
        "store": str(store.path),
        "fingerprint": stamp["fingerprint"],
        "triples_sha256": stamp["triples_sha256"],
        "tensor_file": tensor_path.name,
        "tensor_sha256": hashlib.sha256(data).hexdigest(),
        "shapes": shapes,
        "config": to_dict(config),
        "metrics": trained.metrics,
        "versions": {"torch": torch.__version__, "pykeen": importlib.metadata.version("pykeen")},
        "created": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    atomic_write_bytes(
        sidecar_path, (json.dumps(sidecar, indent=2, sort_keys=True, default=str) + "\n").encode("utf-8")
    )
    return tensor_path
