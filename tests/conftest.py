"""Session fixtures: one tiny generated world and the store built from it, shared by all stages."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.world import make_world


class _NoTopLevelStagePackages:
    """The stage folders import only as ``ckgrec.kgbuild`` / ``ckgrec.model`` / ``ckgrec.schemas``.

    pytest puts the repository root on ``sys.path``, where ``kgbuild/`` would also import as a
    top-level ``kgbuild``, which an installed ckgrec does not have. Refusing those names here
    makes a stray ``import kgbuild`` (or ``import_module("model....")``) fail in the tests too.
    """

    BLOCKED = ("kgbuild", "model", "schemas")

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in self.BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r} (import it as 'ckgrec.{name}')")
        return None


sys.meta_path.insert(0, _NoTopLevelStagePackages())

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
