"""Fixtures of the pipeline tests: tiny configs on the shared test world, and one finished pipeline run.

Settings are the smallest that still exercise every stage (1 TransR epoch, 2-3 training epochs,
8-dimensional dualkgat), so the whole pipeline on the world takes seconds.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

MODELS = """
[[models]]
name = "mostpop"

[[models]]
name = "bprmf"
seeds = [1, 2]
train = { epochs = 3 }

[[models]]
name = "dualkgat"
seeds = [1, 2]
train = { epochs = 2 }
options = { dim = 8, layer_dims = [8], init = "auto" }

[[models]]
name = "dualkgat"
label = "dk-no-gi"
seeds = [1, 2]
train = { epochs = 2 }
options = { dim = 8, layer_dims = [8], init = "auto", use_item_side = false }
"""


def config_text(source: Path, models: str = MODELS, *, pretrain: bool = True, extra: str = "") -> str:
    pre = (
        '[pretrain]\nepochs = 1\nwarm_start = "none"\nholdout = 0.0\nembedding_dim = 8\nrelation_dim = 8\npatience = 0\n'
        if pretrain
        else "[pretrain]\nenabled = false\n"
    )
    return f"""out = "out"

[data]
source = "{source}"
format = "native"

{pre}
[train]
threads = 1

{models}

[evaluate]
ks = [5, 10, 20]
metrics = ["recall@20", "ndcg@20", "precision@10"]

[report]
title = "pipeline test"
examples = 2
top_k = 2
{extra}"""


def write_config(directory: Path, text: str, name: str = "ckg.toml") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    p = directory / name
    p.write_text(text, encoding="utf-8")
    return p


@pytest.fixture(scope="session")
def finished(world_dir, tmp_path_factory):
    """A pipeline run to the end on the test world: (config, result, log lines)."""
    from ckgrec.pipeline.config import load_config
    from ckgrec.pipeline.runner import run_pipeline

    path = write_config(tmp_path_factory.mktemp("pipeline"), config_text(world_dir))
    cfg = load_config(path)
    lines: list[str] = []
    result = run_pipeline(cfg, log=lines.append)
    return cfg, result, lines


@pytest.fixture
def finished_copy(finished, tmp_path):
    """A private copy of the finished run (config beside its output), for tests that change or damage it."""
    cfg, _, _ = finished
    shutil.copytree(cfg.out, tmp_path / "out")
    shutil.copy(cfg.path, tmp_path / "ckg.toml")
    return tmp_path / "ckg.toml"
