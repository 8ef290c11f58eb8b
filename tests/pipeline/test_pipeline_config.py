"""The ``ckg run`` config: shipped and generated configs load; every mistake names its file, table and key."""

from __future__ import annotations

import re

import pytest

from ckgrec.pipeline.config import load_config
from ckgrec.schemas.errors import ConfigError, InputNotFoundError
from tests.pipeline.conftest import MODELS, config_text, write_config


def _load(tmp_path, text):
    return load_config(write_config(tmp_path, text))


def test_shipped_demo_config_loads():
    from ckgrec.cli.demo_cmd import demo_config

    cfg = load_config(demo_config(), out="somewhere")
    assert {m.name for m in cfg.models} == {"mostpop", "lightgcn", "ease", "dualkgat"}
    assert cfg.models[0].name == "dualkgat"  # the main model first
    assert any(not m.is_baseline for m in cfg.models) and sum(m.is_baseline for m in cfg.models) >= 2
    assert cfg.pretrain is not None and cfg.explain_label == "dualkgat"


@pytest.mark.parametrize("dataset", ["embedded", "world"])
def test_init_config_writes_a_valid_config(tmp_path, world_dir, dataset):
    from ckgrec.cli import main

    path = tmp_path / "conf" / "ckg.toml"
    path.parent.mkdir()
    assert (
        main(["init-config", "--out", str(path), *(["--dataset", str(world_dir)] if dataset == "world" else [])]) == 0
    )
    cfg = load_config(path)
    assert [m.label for m in cfg.models] == ["mostpop", "bprmf", "lightgcn", "dualkgat"]
    assert cfg.out == (path.parent / "runs" / ("embedded" if dataset == "embedded" else world_dir.name)).resolve()
    if dataset == "world":
        assert cfg.data.format == "native" and cfg.data.source == str(world_dir.resolve())
    assert main(["init-config", "--out", str(path)]) == 2  # refuses to overwrite


def test_every_commented_out_option_of_the_starting_config_is_valid(tmp_path):
    """Uncomment every '# key = value' and '# [table]' line (except paths that cannot exist here): still a valid config."""
    from ckgrec.pipeline.template import config_text as template

    text = template("embedded", tmp_path / "ckg.toml")
    lines = []
    for line in text.splitlines():
        m = re.match(r"^# (\[.*\]|(\w+) = .*)$", line)
        lines.append(m.group(1) if m and m.group(2) not in ("store", "features") else line)
    uncommented = "\n".join(lines)
    assert uncommented.count("\n[[models]]") == 5 and "\nenabled = true" in uncommented
    cfg = _load(tmp_path, uncommented)
    assert cfg.model("dualkgat-no-item-side").options.use_item_side is False
    assert cfg.evaluate.reference == "bprmf" and cfg.build.split.method == "random"


@pytest.mark.parametrize(
    "edit, where, suggestion",
    [
        (lambda t: t.replace('out = "out"', 'outt = "out"'), "ckg.toml", "'out'"),
        (lambda t: t.replace("threads = 1", "thread = 1"), "[train]", "'threads'"),
        (
            lambda t: t.replace("use_item_side = false", "use_itemside = false"),
            "[[models]] #4 (dk-no-gi) options",
            "'use_item_side'",
        ),
        (lambda t: t.replace("[train]", '[build.split]\nmethdo = "random"\n\n[train]'), "[build].split", "'method'"),
        (
            lambda t: t.replace("seeds = [1, 2]\ntrain = { epochs = 3 }", "seed = [1, 2]\ntrain = { epochs = 3 }"),
            "[[models]] #2",
            "'seeds'",
        ),
        (lambda t: t.replace("[evaluate]", "[evaluate]\nmetric = []"), "[evaluate]", "'metrics'"),
    ],
)
def test_a_misspelt_key_names_the_closest_valid_one(tmp_path, world_dir, edit, where, suggestion):
    with pytest.raises(ConfigError) as e:
        _load(tmp_path, edit(config_text(world_dir)))
    assert where in str(e.value) and f"did you mean {suggestion}" in str(e.value)


@pytest.mark.parametrize(
    "edit, expected",
    [
        (
            lambda t: t.replace("epochs = 3", 'epochs = "three"'),
            r"#2 \(bprmf\) train .*epochs = 'three': expected an integer",
        ),
        (
            lambda t: t.replace('name = "dualkgat"\nseeds', 'name = "dualkgta"\nseeds'),
            r"\[\[models\]\] #3: unknown model 'dualkgta'; did you mean 'dualkgat'",
        ),
        (
            lambda t: t.replace('label = "dk-no-gi"', 'label = "bprmf"'),
            r"label 'bprmf' is already used by \[\[models\]\] #2",
        ),
        (
            lambda t: t.replace(", use_item_side = false", ""),
            r"#4 \(dk-no-gi\): same model, options and training settings as \[\[models\]\] #3",
        ),
        (
            lambda t: t.replace("embedding_dim = 8", "embedding_dim = 16"),
            r"dim = 8 but \[pretrain\] embedding_dim = 16",
        ),
        (
            lambda t: t.replace('"precision@10"]', '"precision@50"]'),
            r"\[evaluate\]: metrics: 'precision@50' needs K = 50 among ks",
        ),
        (
            lambda t: t.replace("[evaluate]", '[evaluate]\nreference = "lightgcn"'),
            r"\[evaluate\] reference = 'lightgcn': not a model label",
        ),
        (
            lambda t: t.replace("train = { epochs = 3 }", "train = { epochs = 3, seed = 4 }"),
            r"seed cannot be set here; list the seeds in seeds",
        ),
        (
            lambda t: t.replace("threads = 1", "threads = 1\nks = [10]"),
            r"\[train\]: ks cannot be set here; set the cut-offs once, in \[evaluate\] ks",
        ),
        (lambda t: t.replace('out = "out"\n', ""), r"no output directory; set out"),
        (lambda t: t.replace("examples = 2", "examples = [2]"), r"\[report\]: examples = \[2\]: expected an integer"),
        (lambda t: t + "\n[oops", r"not valid TOML"),
        (
            lambda t: t.replace("[pretrain]\n", "[pretrain]\nenabled = false\n").replace(
                'init = "auto" }', 'init = "pretrained" }', 1
            ),
            r"#3 \(dualkgat\) options: init = \"pretrained\" but \[pretrain\] enabled = false",
        ),
    ],
)
def test_config_errors_say_where_and_what(tmp_path, world_dir, edit, expected):
    with pytest.raises(ConfigError, match=expected) as e:
        _load(tmp_path, edit(config_text(world_dir)))
    assert str(tmp_path / "ckg.toml") in str(e.value)


def test_a_wrong_data_path_names_the_key_and_the_path(tmp_path, world_dir):
    with pytest.raises(
        InputNotFoundError,
        match=r"\[data\] source: dataset directory .*no-such-dir does not exist .*config file's directory",
    ):
        _load(tmp_path, config_text(world_dir).replace(str(world_dir), "no-such-dir"))
    with pytest.raises(InputNotFoundError, match="config file not found"):
        load_config(tmp_path / "missing.toml")


def test_relative_paths_are_read_from_the_config_directory(tmp_path, world_dir, monkeypatch):
    import shutil

    shutil.copytree(world_dir, tmp_path / "conf" / "raw")
    monkeypatch.chdir(tmp_path)  # not the config's directory
    cfg = load_config(write_config(tmp_path / "conf", config_text(world_dir).replace(str(world_dir), "raw")))
    assert cfg.data.source == str((tmp_path / "conf" / "raw").resolve())
    assert cfg.out == (tmp_path / "conf" / "out").resolve()
    assert load_config(tmp_path / "conf" / "ckg.toml", out="elsewhere").out == (tmp_path / "elsewhere").resolve()


def test_cli_reports_config_errors_in_one_line(tmp_path, world_dir, capsys):
    from ckgrec.cli import main

    path = write_config(tmp_path, config_text(world_dir, MODELS.replace('"bprmf"', '"bprmff"')))
    assert main(["run", str(path)]) == 2
    err = capsys.readouterr().err
    assert (
        err.startswith("ckg run: error:")
        and "unknown model 'bprmff'; did you mean 'bprmf'" in err
        and "Traceback" not in err
    )
    assert not (tmp_path / "out").exists()  # nothing written before the config is known to be valid


def test_the_documented_example_config_is_valid(tmp_path, world_dir):
    from pathlib import Path

    section = (Path(__file__).resolve().parents[2] / "docs" / "pipeline.md").read_text(encoding="utf-8")
    block = section[section.index("```toml\n") + 8 : section.index("```", section.index("```toml\n") + 8)]
    cfg = _load(tmp_path, block.replace('"../shared/datasets/ml-100k-recbole"', f'"{world_dir}"'))
    assert [m.label for m in cfg.models] == ["bprmf", "dualkgat", "dualkgat-no-item-side"]
    assert cfg.model("dualkgat").options.layer_dims == (64, 32, 16) and cfg.model("dualkgat").train.lr == 0.001
