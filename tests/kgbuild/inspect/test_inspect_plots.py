"""ckg inspect --plot: PNGs are written; a missing matplotlib is one clear message."""

from __future__ import annotations

import sys

import pytest

from ckgrec.cli import main


def test_plots_are_png_files(store_dir, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    assert main(["inspect", str(store_dir), "--plot", str(tmp_path / "plots")]) == 0
    names = sorted(p.name for p in (tmp_path / "plots").iterdir())
    assert names == ["degree_item_side.png", "degree_user_side.png", "relations.png"]
    for p in (tmp_path / "plots").iterdir():
        data = p.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    assert "wrote" in capsys.readouterr().out


def test_missing_matplotlib_says_which_extra(store_dir, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    assert main(["inspect", str(store_dir), "--plot", str(tmp_path / "p")]) == 2
    err = capsys.readouterr().err
    assert "pip install 'ckgrec[plot]'" in err and "Traceback" not in err
