"""Typed ``key=value`` overrides of a config dataclass, and configs built from mappings.

Shared by every stage that reads a config: the trainer's, each model's and the pretrainer's.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import types
import typing
from typing import Any

from ckgrec.schemas.config_io import from_mapping
from ckgrec.schemas.errors import ConfigError


def _strip_optional(tp: Any) -> tuple[Any, bool]:
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0], True
    return tp, False


def coerce(text: str, tp: Any, where: str) -> Any:
    """Parse ``text`` as the annotated type ``tp`` (int, float, bool, str, tuple[X, ...], X | None)."""
    inner, optional = _strip_optional(tp)
    if optional and text.strip().lower() in ("none", "null", ""):
        return None
    if typing.get_origin(inner) is tuple:
        args = typing.get_args(inner)
        elem = args[0] if args else str
        parts = [p for p in text.replace(" ", "").split(",") if p != ""]
        return tuple(coerce(p, elem, where) for p in parts)
    try:
        if inner is bool:
            low = text.strip().lower()
            if low in ("true", "1", "yes", "on"):
                return True
            if low in ("false", "0", "no", "off"):
                return False
            raise ValueError(text)
        if inner is int:
            return int(text)
        if inner is float:
            return float(text)
        if inner is str:
            return text
    except ValueError as e:
        raise ConfigError(f"{where}: '{text}' is not a valid {getattr(inner, '__name__', inner)}") from e
    raise ConfigError(f"{where}: cannot set a field of type {tp} from the command line")


def parse_assignments(cls: type, assignments: list[str], where: str = "--set") -> dict[str, Any]:
    """``["layers=2", "hidden=64,64"]`` -> ``{"layers": 2, "hidden": (64, 64)}`` typed by ``cls``'s fields."""
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls) if f.init]
    out: dict[str, Any] = {}
    for a in assignments:
        key, sep, value = a.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"{where} '{a}': expected KEY=VALUE, e.g. {names[0] if names else 'key'}=...")
        if key not in names:
            close = difflib.get_close_matches(key, names, n=1, cutoff=0.5)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            valid = ", ".join(names) if names else "none (this model has no options)"
            raise ConfigError(f"{where}: unknown key '{key}'{hint} (valid keys: {valid})")
        out[key] = coerce(value.strip(), hints[key], f"{where} {key}")
    return out


def build_config(
    cls: type, base: dict[str, Any] | None = None, assignments: list[str] | None = None, where: str = "config"
) -> Any:
    """``cls`` from a mapping (e.g. a TOML table) with ``key=value`` overrides on top."""
    data = dict(base or {})
    data.update(parse_assignments(cls, assignments or []))
    for key, value in data.items():  # whatever the model's own checks: NaN and infinities are never valid options
        if any(
            isinstance(v, float) and not math.isfinite(v)
            for v in (value if isinstance(value, (list, tuple)) else (value,))
        ):
            raise ConfigError(f"{where}: {key} = {value!r}: must be a finite number")
    return from_mapping(cls, data, where)


def config_options(cls: type) -> list[tuple[str, str, Any, str]]:
    """(name, type, default, help) of each field of a config dataclass, for ``ckg models``."""
    hints = typing.get_type_hints(cls)
    rows = []
    for f in dataclasses.fields(cls):
        default = (
            f.default
            if f.default is not dataclasses.MISSING
            else (f.default_factory() if f.default_factory is not dataclasses.MISSING else None)
        )
        tp = hints[f.name]
        tname = getattr(tp, "__name__", None) or str(tp).replace("typing.", "")
        rule = option_rule(f.metadata)
        rows.append((f.name, tname, default, f.metadata.get("help", "") + (f" [{rule}]" if rule else "")))
    return rows


def option_rule(meta: Any) -> str:
    """The valid values of an option in words (``ckg models``): ``a | b``, ``>= 0``, ``[0, 1)``."""
    if meta.get("choices"):
        return " | ".join(meta["choices"])
    low, high = meta.get("low"), meta.get("high")
    if low is not None and high is not None:
        return f"{'(' if meta.get('low_open') else '['}{low:g}, {high:g}{')' if meta.get('high_open') else ']'}"
    if low is not None:
        return f"{'>' if meta.get('low_open') else '>='} {low:g}"
    if high is not None:
        return f"{'<' if meta.get('high_open') else '<='} {high:g}"
    return ""


def check_option(name: str, value: Any, meta: Any) -> None:
    """Raise a ConfigError naming ``name``, ``value`` and the valid values when ``value`` breaks ``meta``'s rule."""
    choices = meta.get("choices")
    if choices and value not in choices:
        raise ConfigError(f"{name} = {value!r}: choose one of {', '.join(choices)}")
    low, high, high_open, low_open = meta.get("low"), meta.get("high"), meta.get("high_open"), meta.get("low_open")
    if low is None and high is None:
        return
    for v in value if isinstance(value, tuple) else (value,):
        if (
            isinstance(v, float)
            and not math.isfinite(v)
            or (low is not None and (v <= low if low_open else v < low))
            or (high is not None and (v >= high if high_open else v > high))
        ):
            raise ConfigError(f"{name} = {value!r}: must be in {option_rule(meta)}")
