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

from schemas.store import Store


def item_feature_matrix(store: Store, n_items: int) -> torch.Tensor | None:
    mods = store.modalities
    if not mods:
        return None
    blocks = []
    missing = np.ones((n_items, len(mods)), dtype=np.float32)
    for k, m in enumerate(mods):
        index, matrix = store.feature(m)
        x = np.zeros((n_items, matrix.shape[1]), dtype=np.float32)
        rows = np.asarray(matrix, dtype=np.float32)[index["row"].to_numpy()]
        norms = np.linalg.norm(rows, axis=1, keepdims=True)
        x[index["item"].to_numpy()] = rows / np.maximum(norms, 1e-12)
        missing[index["item"].to_numpy(), k] = 0.0
        blocks.append(x)
    return torch.from_numpy(np.concatenate(blocks + [missing], axis=1))
