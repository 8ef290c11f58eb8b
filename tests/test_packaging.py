"""The built wheel installs one top-level name, ``ckgrec``, with the stage folders under it."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _tracked() -> list[str]:
    try:
        out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout: cannot tell the tracked files")
    return [rel for rel in out.decode().split("\0") if rel]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """A wheel built from the tracked files only, as from a clean clone."""
    src = tmp_path_factory.mktemp("clean")
    for rel in _tracked():
        f = ROOT / rel
        if f.is_file():
            (src / rel).parent.mkdir(parents=True, exist_ok=True)
            (src / rel).write_bytes(f.read_bytes())
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(src)],
        check=True,
        capture_output=True,
    )
    (w,) = out.glob("ckgrec-*.whl")
    return w


def test_the_wheel_installs_only_the_ckgrec_namespace(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names if not n.split("/")[0].endswith((".dist-info", ".data"))}
    assert top == {"ckgrec"}
    for module in (
        "ckgrec/kgbuild/build.py",
        "ckgrec/model/training/trainer.py",
        "ckgrec/schemas/store.py",
        "ckgrec/schemas/vocab.ttl",
        "ckgrec/pipeline/demo.toml",
    ):
        assert module in names


def test_every_package_folder_is_in_the_wheel(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    mapped = {"kgbuild": "ckgrec/kgbuild", "model": "ckgrec/model", "schemas": "ckgrec/schemas", "ckgrec": "ckgrec"}
    inits = [rel for rel in _tracked() if rel.endswith("__init__.py")]
    for folder, prefix in mapped.items():
        for init in (rel for rel in inits if rel.startswith(f"{folder}/")):
            rel = init.removeprefix(f"{folder}/")
            assert f"{prefix}/{rel}" in names, f"{init} is missing from the wheel"
    assert any(rel.startswith("model/") for rel in inits)
