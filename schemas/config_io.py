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
        expected = _type_problem(tp, value)
        if expected is not None:
            raise ConfigError(f"{where}: {key} = {value!r}: expected {expected}")
        kwargs[key] = value
    try:
        return cls(**kwargs)
    except TypeError as e:
        raise ConfigError(f"{where}: {e}") from e


_SCALARS = {int: "an integer", float: "a number", bool: "true or false", str: "a string"}


def _scalar_ok(tp: Any, value: Any) -> bool:
    if tp is bool:
        return isinstance(value, bool)
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if tp is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, tp)


def _type_problem(tp: Any, value: Any) -> str | None:
    """What a value of the simple type ``tp`` looks like, when ``value`` is not one (e.g. a string where a
    number belongs, which would otherwise fail deep inside as "'<' not supported"); None when it fits or
    the type is not a simple one."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if tp in _SCALARS:
        return None if _scalar_ok(tp, value) else _SCALARS[tp]
    if origin in (typing.Union, types.UnionType):
        options = [a for a in args if a is not type(None)]
        if value is None and len(options) < len(args):
            return None
        if len(options) == 1:
            return _type_problem(options[0], value)
        return None
    if origin is tuple and isinstance(value, tuple):
        if len(args) == 2 and args[1] is Ellipsis and args[0] in _SCALARS:
            return (
                None
                if all(_scalar_ok(args[0], v) for v in value)
                else f"a list of {_SCALARS[args[0]].removeprefix('an ').removeprefix('a ')}s"
            )
        if args and Ellipsis not in args and all(a in _SCALARS for a in args):
            ok = len(value) == len(args) and all(_scalar_ok(a, v) for a, v in zip(args, value))
            return None if ok else f"a list of {len(args)} values ({', '.join(_SCALARS[a] for a in args)})"
    return None


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
