"""Import rules between the stages (see README, "Architecture")."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _modules_after_import(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys; print('\\n'.join(sys.modules))"],
        capture_output=True, text=True, check=True, cwd=ROOT,
    ).stdout
    return set(out.split())


def _all_modules(package: str) -> list[str]:
    return sorted(
        ".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for p in (ROOT / package).rglob("*.py")
    )


def test_kgbuild_never_imports_torch_pykeen_or_model():
    code = "\n".join(f"import {m}" for m in _all_modules("kgbuild"))
    loaded = _modules_after_import(code)
    assert not {m for m in loaded if m.split(".")[0] in {"torch", "pykeen", "model"}}


def test_schemas_imports_no_project_package():
    code = "\n".join(f"import {m}" for m in _all_modules("schemas"))
    loaded = _modules_after_import(code)
    assert not {m for m in loaded if m.split(".")[0] in {"kgbuild", "model", "ckgrec", "torch"}}


def test_model_never_imports_kgbuild():
    if not (ROOT / "model").is_dir():
        pytest.skip("no model package yet")
    code = "\n".join(f"import {m}" for m in _all_modules("model"))
    loaded = _modules_after_import(code)
    assert not {m for m in loaded if m.split(".")[0] == "kgbuild"}


def test_help_is_instant_and_imports_no_heavy_library():
    start = time.perf_counter()
    loaded = _modules_after_import("from ckgrec.cli import make_parser\nmake_parser().format_help()")
    assert not {m for m in loaded if m.split(".")[0] in {"torch", "pykeen", "sklearn", "pandas", "rdflib"}}
    assert time.perf_counter() - start < 30  # generous: this is about imports, not speed
