"""Items' raw modality vectors as one dense input matrix for a learned projection.

Each modality is L2-normalised per row (modalities come on unrelated scales: a 384-d sentence
embedding and a 128-d audio descriptor) and concatenated; items without a row of a modality get
zeros there plus a 1 in that modality's "missing" indicator column, so the projection can tell
"silent clip" from "average clip".

Shape: (n_items, Σ_m d_m + n_modalities).
"""

from __future__ import annotations

import numpy as np
import torch

from ckgrec.schemas.store import Store


def modality_blocks(store: Store, n_items: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per modality: (row-L2-normalised matrix (n_items, d_m) with zeros where missing, present mask (n_items,))."""
    blocks = []
    for m in store.modalities:
        index, matrix = store.feature(m)
        x = np.zeros((n_items, matrix.shape[1]), dtype=np.float32)
        rows = np.asarray(matrix, dtype=np.float32)[index["row"].to_numpy()]
        items = index["item"].to_numpy()
        x[items] = rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)
        present = np.zeros(n_items, dtype=bool)
        present[items] = True
        blocks.append((x, present))
    return blocks


def item_feature_matrix(store: Store, n_items: int) -> torch.Tensor | None:
    blocks = modality_blocks(store, n_items)
    if not blocks:
        return None
    missing = np.stack([~present for _, present in blocks], axis=1).astype(np.float32)
    return torch.from_numpy(np.concatenate([x for x, _ in blocks] + [missing], axis=1))
