"""Source adapters: each turns one public or native layout into a :class:`RawDataset`.

An adapter module provides ``NAME`` (its ``--format`` value), ``DESCRIPTION`` (one line for
``ckg datasets``), ``FILES`` (what it expects), ``detect(path) -> bool`` and
``read(path) -> RawDataset``. Detection order matters: the most specific layouts first.
"""

from __future__ import annotations

from importlib import import_module
from pathlib import Path
from types import ModuleType

from ckgrec.schemas.errors import ConfigError, InputNotFoundError

ADAPTER_MODULES = ("mmrec", "recbole", "movielens", "mmgcn", "kgat", "native")


def adapters() -> dict[str, ModuleType]:
    return {name: import_module(f"ckgrec.kgbuild.adapters.{name}") for name in ADAPTER_MODULES}


def get_adapter(fmt: str) -> ModuleType:
    if fmt not in ADAPTER_MODULES:
        raise ConfigError(f"unknown format '{fmt}'; choose one of: auto, {', '.join(ADAPTER_MODULES)}")
    return import_module(f"ckgrec.kgbuild.adapters.{fmt}")


def detect_format(path: str | Path) -> str:
    p = Path(path)
    if not p.exists():
        raise InputNotFoundError(f"source not found: {p}")
    for name, module in adapters().items():
        if module.detect(p):
            return name
    raise ConfigError(
        f"could not recognise the layout of {p}; pass --format ({', '.join(ADAPTER_MODULES)}) "
        "or see 'ckg datasets' for what each format expects"
    )
