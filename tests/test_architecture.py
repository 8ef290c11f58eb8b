"""Import rules between the stages and inside the model package, checked by import-linter.

The contracts are declared in ``pyproject.toml`` (``[tool.importlinter]``). import-linter reads
a package from one folder, while the repository keeps ``kgbuild/``, ``model/`` and ``schemas/``
beside ``ckgrec/`` (``setup.py`` maps them to ``ckgrec.kgbuild`` ...). So the test lays out the
installed view - a temporary ``ckgrec/`` whose entries link to the real folders - and lints that.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAPPED = {"kgbuild": "kgbuild", "model": "model", "schemas": "schemas"}


def installed_view(dest: Path, plant: tuple[str, str] | None = None) -> Path:
    """Write ``dest/ckgrec`` as it installs; ``plant`` = (relative file, line) adds an import to a copy."""
    pkg = dest / "ckgrec"
    pkg.mkdir(parents=True)
    for entry in (ROOT / "ckgrec").iterdir():
        if entry.name != "__pycache__":
            (pkg / entry.name).symlink_to(entry)
    for name, folder in MAPPED.items():
        (pkg / name).symlink_to(ROOT / folder)
    if plant is not None:
        rel, line = plant
        top = rel.split("/")[0]
        (pkg / top).unlink()
        import shutil

        shutil.copytree(ROOT / top, pkg / top, ignore=shutil.ignore_patterns("__pycache__"))
        target = pkg / rel
        target.write_text(target.read_text() + f"\n{line}\n")
    return dest


def lint_imports(view: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(view)}
    exe = Path(sys.executable).with_name("lint-imports")
    return subprocess.run(
        [str(exe), str(ROOT / "pyproject.toml"), "--no-cache"], capture_output=True, text=True, env=env, cwd=view
    )


def test_import_contracts_hold(tmp_path):
    result = lint_imports(installed_view(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "broken" in result.stdout and "0 broken" in result.stdout


@pytest.mark.parametrize(
    "rel, line, contract",
    [
        ("kgbuild/graphs.py", "import torch", "kgbuild imports schemas only"),
        ("schemas/tables.py", "from ckgrec.kgbuild import graphs", "schemas imports no other ckgrec package"),
        ("model/evaluation/metrics.py", "from ckgrec.kgbuild import split", "model reads the store through schemas"),
        ("model/nn/losses.py", "from ckgrec.model.models import base", "model layers"),
        ("model/inference/recommend.py", "from ckgrec.model.training import trainer", "model layers"),
    ],
)
def test_a_planted_forbidden_import_breaks_its_contract(tmp_path, rel, line, contract):
    result = lint_imports(installed_view(tmp_path, plant=(rel, line)))
    assert result.returncode != 0
    assert f"{contract}" in result.stdout and "BROKEN" in result.stdout


def _modules_after_import(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys; print('\\n'.join(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout
    return set(out.split())


def test_help_is_instant_and_imports_no_heavy_library():
    start = time.perf_counter()
    loaded = _modules_after_import("from ckgrec.cli import make_parser\nmake_parser().format_help()")
    assert not {m for m in loaded if m.split(".")[0] in {"torch", "pykeen", "sklearn", "pandas", "rdflib"}}
    assert time.perf_counter() - start < 30  # generous: this is about imports, not speed
