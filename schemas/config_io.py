"""Load typed, frozen dataclass configs from TOML/JSON mappings.

Why not a dict: a misspelt key in a dict is silently ignored and the default wins, which is the
classic way an experiment runs with settings nobody asked for. Here an unknown key is an error
that names the closest valid key.
"""
from __future__ import annotations

import dataclasses
import difflib
import tomllib
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

from ckgrec.schemas.errors import ConfigError, InputNotFoundError

T = TypeVar("T")


def _unknown_key_message(key: str, valid: list[str], where: str) -> str:
    close = difflib.get_close_matches(key, valid, n=1, cutoff=0.5)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return f"{where}: unknown key '{key}'{hint} (valid keys: {', '.join(sorted(valid))})"


def _is_dataclass_type(tp: Any) -> bool:
    return isinstance(tp, type) and dataclasses.is_dataclass(tp)


def from_mapping(cls: type[T], data: dict[str, Any], where: str = "config") -> T:
    """Build ``cls`` from a mapping, recursing into nested dataclass fields.

    Unknown keys raise :class:`ConfigError` with a suggestion; values are handed to the
    dataclass constructor so its ``__post_init__`` validates ranges.
    """
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a table of keys, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        if key not in fields:
            raise ConfigError(_unknown_key_message(key, list(fields), where))
        tp = hints[key]
        inner = _dataclass_in(tp)
        if inner is not None and isinstance(value, dict):
            value = from_mapping(inner, value, f"{where}.{key}")
        elif isinstance(value, list):
            value = tuple(value)
        kwargs[key] = value
    try:
        return cls(**kwargs)
    except TypeError as e:
        raise ConfigError(f"{where}: {e}") from e


def _dataclass_in(tp: Any) -> type | None:
    if _is_dataclass_type(tp):
        return tp
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(tp):
            if _is_dataclass_type(arg):
                return arg
    return None


def read_toml(path: str | Path) -> dict[str, Any]:
    """The tables of a TOML file; a missing file or bad TOML is one error naming the file."""
    p = Path(path)
    if not p.is_file():
        raise InputNotFoundError(f"config file not found: {p}")
    try:
        return tomllib.loads(p.read_text(encoding="utf-8"))
    except UnicodeDecodeError as e:
        raise ConfigError(f"{p}: not UTF-8 text (byte {e.start}); TOML files are UTF-8") from e
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{p}: not valid TOML: {e}") from e


def load_toml(cls: type[T], path: str | Path, section: str | None = None) -> T:
    """Read ``path`` (TOML) into ``cls``, optionally from one ``[section]`` only."""
    p = Path(path)
    data = read_toml(p)
    where = str(p)
    if section is not None:
        data = data.get(section, {})
        where = f"{p} [{section}]"
    return from_mapping(cls, data, where)


def to_dict(obj: Any) -> Any:
    """JSON-friendly dict of a (nested) dataclass, used to stamp configs into artefacts."""
    if dataclasses.is_dataclass(obj):
        return {f.name: to_dict(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (list, tuple)):
        return [to_dict(v) for v in obj]
    if isinstance(obj, dict):
        return {str(k): to_dict(v) for k, v in obj.items()}
    return obj
