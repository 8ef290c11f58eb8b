"""``ckg build`` / ``ckg datasets`` / config loading through the real entry point."""

from __future__ import annotations

from ckgrec.cli import main
from ckgrec.schemas.store import Store


def test_build_command_writes_a_store(world_dir, tmp_path, capsys):
    assert main(["build", str(world_dir), "--out", str(tmp_path / "s"), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "users 40" in out and "user_side" in out
    assert Store.open(tmp_path / "s").num_users == 40


def test_build_refuses_existing_store_without_force(world_dir, tmp_path, capsys):
    (tmp_path / "s").mkdir()
    assert main(["build", str(world_dir), "--out", str(tmp_path / "s"), "--quiet"]) == 2
    assert "already exists; pass --force" in capsys.readouterr().err


def test_config_file_with_misspelt_key_suggests_the_right_one(world_dir, tmp_path, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_text("[build]\nseed = 3\n[build.concepts]\nclustres = 4\n")
    assert main(["build", str(world_dir), "--out", str(tmp_path / "s"), "--config", str(cfg), "--quiet"]) == 2
    assert "unknown key 'clustres'; did you mean 'clusters'?" in capsys.readouterr().err


def test_config_file_sets_options(world_dir, tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        "[build]\nseed = 3\n[build.concepts]\nclusters = 3\nnearest = 1\n[build.split]\nmethod = 'temporal'\n"
    )
    assert main(["build", str(world_dir), "--out", str(tmp_path / "s"), "--config", str(cfg), "--quiet"]) == 0
    s = Store.open(tmp_path / "s")
    assert s.manifest["config"]["split"]["method"] == "temporal"
    ent = s.graph_table("entities", "user_side")
    assert (ent["kind"] == "modality_concept").sum() == 6  # 3 concepts x 2 modalities


def test_extra_feature_from_outside_the_source(world_dir, tmp_path):
    import numpy as np
    import pandas as pd

    d = tmp_path / "feat"
    d.mkdir()
    np.save(d / "audio_feat.npy", np.ones((3, 2), dtype=np.float32))
    pd.DataFrame({"item_id": ["i1", "i2", "i3"], "row": [2, 1, 0]}).to_csv(d / "item_rows.csv", index=False)
    assert main(["build", str(world_dir), "--out", str(tmp_path / "s"), "--feature", f"audio={d}", "--quiet"]) == 0
    s = Store.open(tmp_path / "s")
    assert "audio" in s.modalities and s.feature("audio")[1].shape == (3, 2)


def test_datasets_lists_every_format(capsys):
    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    for fmt in ("native", "movielens", "recbole", "mmgcn", "kgat"):
        assert out.count(fmt) >= 1


def test_every_option_has_help():
    from ckgrec.cli import make_parser

    parser = make_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name, p in sub.choices.items():
        for action in p._actions:
            if action.dest != "help":
                assert action.help, f"ckg {name} {action.option_strings or action.dest} has no help text"
