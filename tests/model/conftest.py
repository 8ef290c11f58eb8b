"""Fixtures of the model tests: one CPU thread, the tiny world's TrainData, block-structured data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread():
    """The machine is shared: one torch thread, and a deterministic reduction order."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def world_data(store):
    from ckgrec.model.data.train_data import TrainData

    return TrainData.from_store(store)


@pytest.fixture(scope="session")
def embedded_store_dir(tmp_path_factory) -> Path:
    from ckgrec.kgbuild.build import build
    from ckgrec.kgbuild.embedded import embedded_dataset_dir

    return build(embedded_dataset_dir(), tmp_path_factory.mktemp("embedded") / "store", fmt="native").store


def block_pairs(n_blocks: int = 4, size: int = 8):
    """Known-answer data: users of block b interacted with every item of block b but one.

    User j of block b (0 <= j < size) withholds item j of the block, so every item is withheld
    by exactly one user and all in-block items have equal training popularity. The withheld
    item is the user's test item; a model that learned the blocks ranks it first, because
    every other unseen item lies outside the user's block.
    """
    tr_u, tr_i, te_u, te_i = [], [], [], []
    for b in range(n_blocks):
        for j in range(size):
            u = b * size + j
            for k in range(size):
                (te_u if k == j else tr_u).append(u)
                (te_i if k == j else tr_i).append(b * size + k)
    n = n_blocks * size
    return n, n, (np.array(tr_u), np.array(tr_i)), (np.array(te_u), np.array(te_i))


@pytest.fixture
def block_data():
    from ckgrec.model.data.train_data import TrainData

    n_users, n_items, train, test = block_pairs()
    return TrainData.from_pairs(n_users, n_items, train, test=test)
