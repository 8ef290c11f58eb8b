"""Pretrained TransR tensors in a store: ``STORE/pretrained/<graph>.safetensors`` + ``<graph>.json``.

The tensor file holds plain float32 tensors (no pickles), in the store's id spaces:

* ``entity``     ``(N, d)``   - row i is entity i of the graph
* ``relation``   ``(2R, k)``  - rows 0..R-1 forward relations, R..2R-1 their inverses
* ``projection`` ``(2R, d, k)`` - ``W_r``, applied as ``e @ W_r`` (see :mod:`ckgrec.model.nn.transr`)

Both files carry the store's id-space fingerprint and the sha256 of its ``triples.parquet``:
the fingerprint says the ids mean the same entities; the triples hash says the KG is the same
build (a store rebuilt with another split seed keeps its fingerprint but has other training
interactions in its KG, so embeddings pretrained there may have seen this store's test
interactions). The JSON sidecar adds the config, shapes and metrics, and the tensor file's
sha256, so a tensor file and a sidecar from different runs are caught. Both are written
atomically (temporary file + ``os.replace``); the tensor file first.

:func:`load_pretrained` is the only reader the model needs (the writer is
:func:`ckgrec.model.pretraining.save.save_pretrained`); it refuses, naming both values,
anything that does not belong to the given store.
"""

from __future__ import annotations

import hashlib
import json
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load as st_load

from ckgrec.schemas.errors import (
    ConfigError,
    InputNotFoundError,
    StoreError,
    StoreMismatchError,
)
from ckgrec.schemas.store import Store
from ckgrec.schemas.tables import GRAPHS

FORMAT = "ckgrec-pretrained-transr"
FORMAT_VERSION = 1
DIRECTORY = "pretrained"
TENSORS = ("entity", "relation", "projection")


@dataclass(frozen=True)
class PretrainedEmbeddings:
    """Pretrained TransR tensors of one graph of one store (see the module docstring for shapes)."""

    graph: str
    entity: torch.Tensor
    relation: torch.Tensor
    projection: torch.Tensor
    fingerprint: str
    config: dict[str, Any] = field(default_factory=dict, repr=False)
    metrics: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def num_entities(self) -> int:
        return self.entity.shape[0]

    @property
    def num_relations(self) -> int:
        """All relation ids, forward and inverse (2R)."""
        return self.relation.shape[0]

    @property
    def embedding_dim(self) -> int:
        return self.entity.shape[1]

    @property
    def relation_dim(self) -> int:
        return self.relation.shape[1]


def pretrained_paths(store_path: str | Path, graph: str) -> tuple[Path, Path]:
    """(tensor file, JSON sidecar) of ``graph`` under ``store_path``."""
    d = Path(store_path) / DIRECTORY
    return d / f"{graph}.safetensors", d / f"{graph}.json"


def store_stamp(store: Store, graph: str) -> dict[str, Any]:
    n_entities = len(store.graph_table("entities", graph, columns=["entity"]))
    n_relations = len(store.graph_table("relations", graph, columns=["relation"]))
    return {
        "graph": graph,
        "fingerprint": store.fingerprint,
        "triples_sha256": store.manifest.get("files", {}).get("triples.parquet"),
        "num_entities": n_entities,
        "num_relations": n_relations,
    }


def check_graph(graph: str) -> None:
    if graph not in GRAPHS:
        raise ConfigError(f"unknown graph '{graph}'; graphs: {', '.join(GRAPHS)}")


def _safetensors_metadata(data: bytes, path: Path) -> dict[str, str]:
    try:
        (n,) = struct.unpack("<Q", data[:8])
        return json.loads(data[8 : 8 + n]).get("__metadata__", {}) or {}
    except (struct.error, json.JSONDecodeError, UnicodeDecodeError) as e:
        raise StoreError(f"{path}: not a safetensors file ({e})") from e


def load_pretrained(
    store: Store, graph: str, *, directory: str | Path | None = None, device: str | torch.device = "cpu"
) -> PretrainedEmbeddings:
    """Pretrained TransR tensors of ``graph`` for ``store``, refused unless they belong to it.

    :param directory: where the files are (default ``STORE/pretrained``)
    :raises InputNotFoundError: nothing pretrained for this graph
    :raises StoreMismatchError: fingerprint, KG build or shapes differ from the store's
        (every difference is named, with both values)
    """
    check_graph(graph)
    tensor_path, sidecar_path = pretrained_paths(store.path, graph)
    if directory is not None:
        tensor_path, sidecar_path = Path(directory) / tensor_path.name, Path(directory) / sidecar_path.name
    for p in (tensor_path, sidecar_path):
        if not p.is_file():
            raise InputNotFoundError(
                f"no pretrained embeddings for {graph}: {p} is missing; run 'ckg pretrain {store.path}'"
            )
    try:
        sidecar = json.loads(sidecar_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise StoreError(f"{sidecar_path}: not valid JSON ({e}); rerun 'ckg pretrain'") from e
    if sidecar.get("format") != FORMAT or sidecar.get("format_version") != FORMAT_VERSION:
        raise StoreError(
            f"{sidecar_path}: format {sidecar.get('format')!r} v{sidecar.get('format_version')}, "
            f"expected {FORMAT!r} v{FORMAT_VERSION}; rerun 'ckg pretrain'"
        )
    data = tensor_path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != sidecar.get("tensor_sha256"):
        raise StoreMismatchError(
            f"{tensor_path}: content sha256 {digest} differs from {sidecar_path.name}'s {sidecar.get('tensor_sha256')}; "
            "the tensor file and its sidecar come from different runs; rerun 'ckg pretrain'"
        )
    header = _safetensors_metadata(data, tensor_path)
    stamp = store_stamp(store, graph)
    problems = []
    if header.get("graph") != graph or sidecar.get("graph") != graph:
        problems.append(f"graph: the file holds {header.get('graph')!r}, asked for {graph!r}")
    if header.get("fingerprint") != stamp["fingerprint"]:
        problems.append(
            f"fingerprint: embeddings {header.get('fingerprint')} vs store {stamp['fingerprint']} "
            "(trained on another store: its ids mean other entities)"
        )
    elif header.get("triples_sha256") != str(stamp["triples_sha256"]):
        problems.append(
            f"KG build: embeddings trained on triples.parquet sha256 {header.get('triples_sha256')} vs store "
            f"{stamp['triples_sha256']} (same id space, another build: e.g. another split seed, whose KG may "
            "contain this store's test interactions)"
        )
    tensors = st_load(data)
    missing = [n for n in TENSORS if n not in tensors]
    if missing:
        raise StoreError(f"{tensor_path}: tensors {missing} missing; rerun 'ckg pretrain'")
    entity, relation, projection = (tensors[n] for n in TENSORS)
    want_entity = (stamp["num_entities"], entity.shape[1] if entity.ndim == 2 else -1)
    want_relation = (stamp["num_relations"], relation.shape[1] if relation.ndim == 2 else -1)
    want_projection = (stamp["num_relations"], want_entity[1], want_relation[1])
    for name, tensor, want in (
        ("entity", entity, want_entity),
        ("relation", relation, want_relation),
        ("projection", projection, want_projection),
    ):
        if tuple(tensor.shape) != want:
            problems.append(f"{name} shape: embeddings {tuple(tensor.shape)} vs store {want}")
    if problems:
        raise StoreMismatchError(
            f"{tensor_path} does not belong to store {store.path} ({graph}):\n  "
            + "\n  ".join(problems)
            + f"\n  fix: run 'ckg pretrain {store.path}' to pretrain on this store"
        )
    dev = torch.device(device)
    return PretrainedEmbeddings(
        graph=graph,
        entity=entity.to(dev),
        relation=relation.to(dev),
        projection=projection.to(dev),
        fingerprint=stamp["fingerprint"],
        config=sidecar.get("config", {}),
        metrics=sidecar.get("metrics", {}),
    )
