"""Session fixtures: one tiny generated world and the store built from it, shared by all stages."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.world import make_world

SHARED_DATASETS = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"


def shared_dataset(name: str) -> Path:
    """Path of a dataset under ../shared/datasets, or skip the test when it is not there."""
    p = SHARED_DATASETS / name
    if not p.exists():
        pytest.skip(f"shared dataset {name} not present at {p}")
    return p


@pytest.fixture(scope="session")
def world_dir(tmp_path_factory) -> Path:
    return make_world(tmp_path_factory.mktemp("world") / "raw")


@pytest.fixture(scope="session")
def store_dir(world_dir, tmp_path_factory) -> Path:
    from ckgrec.kgbuild.build import build

    return build(world_dir, tmp_path_factory.mktemp("stores") / "world", fmt="native").store


@pytest.fixture(scope="session")
def store(store_dir):
    from ckgrec.schemas.store import Store

    return Store.open(store_dir)
