"""The fault suite's fixture: a world, its store and a short trained run, made by real ``ckg`` subprocesses."""

from __future__ import annotations

import pytest

from benchmarks.fault_campaign import make_fixture


@pytest.fixture(scope="session")
def fx(tmp_path_factory):
    return make_fixture(tmp_path_factory.mktemp("faults"))
