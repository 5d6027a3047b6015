"""Frozen, validated configuration dataclasses: TOML files and ``--set key=value``.

A scenario config is a flat frozen dataclass whose fields are declared with
:func:`param`, which records the documentation, the provenance tag of the spec
(``paper``, ``3GPP``, ``derived``, ``assumption``, ``REC-L`` ...) and the allowed range or
choices.  ``validate(self)`` in ``__post_init__`` checks every field against that
metadata and raises :class:`ConfigError` naming the field.  Configs are hashable, so
they can be static arguments of ``jax.jit``.
"""
from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
import math
import sys
import typing
from pathlib import Path
from typing import Any, Iterable, Mapping, TypeVar

from solvers.errors import ConfigError  # noqa: F401 (re-exported: solvers.configio.ConfigError)
from solvers.scenarios import get_scenario

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

C = TypeVar("C")



def param(
    default: Any,
    doc: str,
    *,
    source: str = "assumption",
    lo: float | None = None,
    hi: float | None = None,
    lo_open: bool = False,
    hi_open: bool = False,
    choices: Iterable[Any] | None = None,
):
    """Declare a config field with its documentation, provenance and allowed range.

    ``lo``/``hi`` are inclusive bounds unless ``lo_open``/``hi_open``; for tuple fields
    they apply to every element.  ``choices`` restricts the value to a set.
    """
    meta = dict(doc=doc, source=source, lo=lo, hi=hi, lo_open=lo_open, hi_open=hi_open,
                choices=tuple(choices) if choices is not None else None)
    if isinstance(default, list):
        default = tuple(default)
    return dataclasses.field(default=default, metadata=meta)


def _type_hints(cls) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _check_scalar(name: str, v: Any, meta: Mapping[str, Any]) -> None:
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        if isinstance(v, float) and not math.isfinite(v):
            raise ConfigError(f"{name}: expected a finite number, got {v!r}")
        lo, hi = meta.get("lo"), meta.get("hi")
        if lo is not None and (v < lo or (meta.get("lo_open") and v == lo)):
            op = ">" if meta.get("lo_open") else ">="
            raise ConfigError(f"{name}: expected a value {op} {lo}, got {v!r}")
        if hi is not None and (v > hi or (meta.get("hi_open") and v == hi)):
            op = "<" if meta.get("hi_open") else "<="
            raise ConfigError(f"{name}: expected a value {op} {hi}, got {v!r}")


def validate(cfg: Any) -> None:
    """Check every field of a config dataclass against its type and :func:`param` metadata."""
    hints = _type_hints(type(cfg))
    for f in dataclasses.fields(cfg):
        v = getattr(cfg, f.name)
        v = _coerce(f.name, v, hints.get(f.name, Any))
        object.__setattr__(cfg, f.name, v)
        meta = f.metadata
        choices = meta.get("choices")
        if choices is not None and v not in choices:
            raise ConfigError(f"{f.name}: expected one of {list(choices)}, got {v!r}")
        if isinstance(v, tuple):
            for x in v:
                _check_scalar(f.name, x, meta)
        else:
            _check_scalar(f.name, v, meta)


def _coerce(name: str, v: Any, tp: Any) -> Any:
    """Convert ``v`` to the annotated type ``tp`` or raise ConfigError naming the field."""
    origin = typing.get_origin(tp)
    if tp is Any:
        return v
    if origin is typing.Union or (sys.version_info >= (3, 10) and origin is getattr(__import__("types"), "UnionType", None)):
        args = typing.get_args(tp)
        if v is None and type(None) in args:
            return None
        errors = []
        for a in args:
            if a is type(None):
                continue
            try:
                return _coerce(name, v, a)
            except ConfigError as e:
                errors.append(str(e))
        raise ConfigError(errors[0] if errors else f"{name}: invalid value {v!r}")
    if origin is tuple:
        args = typing.get_args(tp)
        if not isinstance(v, (list, tuple)):
            raise ConfigError(f"{name}: expected a list, got {v!r}")
        elem = args[0] if args else Any
        return tuple(_coerce(name, x, elem) for x in v)
    if tp is bool:
        if isinstance(v, bool):
            return v
        if isinstance(v, str) and v.lower() in ("true", "false"):
            return v.lower() == "true"
        raise ConfigError(f"{name}: expected true or false, got {v!r}")
    if tp is int:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or (isinstance(v, float) and not v.is_integer()):
            raise ConfigError(f"{name}: expected an integer, got {v!r}")
        return int(v)
    if tp is float:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ConfigError(f"{name}: expected a number, got {v!r}")
        return float(v)
    if tp is str:
        if not isinstance(v, str):
            raise ConfigError(f"{name}: expected a string, got {v!r}")
        return v
    return v


def parse_value(raw: str) -> Any:
    """Parse the right-hand side of ``--set key=value`` as a TOML value (bare words are strings)."""
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


def parse_overrides(items: Iterable[str]) -> dict[str, Any]:
    """Turn ``["a=1", "b=[1,2]", "c=x"]`` into a dict; a malformed item raises ConfigError."""
    out: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise ConfigError(f"--set {item!r}: expected key=value")
        k, raw = item.split("=", 1)
        k = k.strip()
        if not k:
            raise ConfigError(f"--set {item!r}: empty key")
        out[k] = parse_value(raw.strip())
    return out


def field_names(cls) -> list[str]:
    return [f.name for f in dataclasses.fields(cls)]


def check_keys(cls, keys: Iterable[str], where: str) -> None:
    """Raise ConfigError for any key that is not a field of ``cls``."""
    names = set(field_names(cls))
    unknown = [k for k in keys if k not in names]
    if unknown:
        hints = []
        for k in unknown:
            close = difflib.get_close_matches(k, sorted(names), n=1)
            hints.append(f"{k!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        raise ConfigError(f"{where}: unknown key(s) {', '.join(hints)} for {cls.__name__} (all keys: CONFIG.md)")


def replace(cfg: C, updates: Mapping[str, Any], where: str = "--set") -> C:
    """``dataclasses.replace`` with unknown-key and type checking (re-runs validation)."""
    check_keys(type(cfg), updates.keys(), where)
    return dataclasses.replace(cfg, **dict(updates))


def load_config(cls: type[C], path: str | Path | None = None, overrides: Iterable[str] = (),
                base: C | None = None, scenario: str | None = None) -> C:
    """Build ``cls`` from defaults (or ``base``), a named scenario, a TOML file, then ``--set``.

    ``scenario`` names one of the paper's scenarios (``solvers.scenarios``): its values apply
    on top of the dataclass defaults (ignored when ``base`` is given); a config class without
    scenarios (a solver config) ignores it after checking the name.  None = no scenario.
    """
    sc = get_scenario(cls, scenario) if scenario is not None else None
    cfg = base if base is not None else cls()
    if base is None and sc is not None and sc.values:
        cfg = replace(cfg, sc.values, where=f"scenario {sc.name!r}")
    if path is not None:
        cfg = replace(cfg, read_toml(path), where=f"config file {path}")
    ov = parse_overrides(overrides)
    if ov:
        cfg = replace(cfg, ov)
    return cfg


def read_toml(path: str | Path) -> dict[str, Any]:
    """The table of a ``--config`` TOML file; a missing or malformed file raises ConfigError."""
    p = Path(path)
    try:
        return tomllib.loads(p.read_text())
    except FileNotFoundError:
        raise ConfigError(f"--config: file not found: {p}") from None
    except IsADirectoryError:
        raise ConfigError(f"--config {p}: is a directory, expected a TOML file") from None
    except UnicodeDecodeError as e:
        raise ConfigError(f"--config {p}: not UTF-8 text, expected a TOML file ({e.reason} at byte {e.start})") from None
    except OSError as e:
        raise ConfigError(f"--config {p}: cannot be read ({e.strerror or e})") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"--config {p}: not valid TOML ({e})") from None


def split_keys(classes: Iterable[type], data: Mapping[str, Any], where: str) -> list[dict[str, Any]]:
    """Split ``data`` by the first class of ``classes`` that has each key; unknown keys raise ConfigError."""
    classes = list(classes)
    out: list[dict[str, Any]] = [{} for _ in classes]
    unknown = []
    for k, v in data.items():
        for i, c in enumerate(classes):
            if k in field_names(c):
                out[i][k] = v
                break
        else:
            unknown.append(k)
    if unknown:
        names = sorted({n for c in classes for n in field_names(c)})
        hints = [f"{k!r}" + (f" (did you mean {c[0]!r}?)" if (c := difflib.get_close_matches(k, names, n=1)) else "")
                 for k in unknown]
        raise ConfigError(f"{where}: unknown key(s) {', '.join(hints)} for "
                          f"{' or '.join(c.__name__ for c in classes)}")
    return out


def load_configs(classes: Iterable[type], path: str | Path | None = None, overrides: Iterable[str] = (),
                 scenario: str | None = None, fixed: Mapping[str, Any] | None = None) -> list[Any]:
    """Build several configs from one ``--config`` file and one ``--set`` list (keys split by class).

    Order per class: dataclass defaults, ``scenario``, ``fixed`` (e.g. a figure's settings),
    the file, ``--set``.
    """
    classes = list(classes)
    file_parts = (split_keys(classes, read_toml(path), f"config file {path}") if path is not None
                  else [{}] * len(classes))
    set_parts = split_keys(classes, parse_overrides(overrides), "--set")
    fixed_parts = split_keys(classes, dict(fixed or {}), "fixed settings")
    out = []
    for c, f, s, x in zip(classes, file_parts, set_parts, fixed_parts):
        cfg = load_config(c, None, (), scenario=scenario)
        for part, where in ((x, "fixed settings"), (f, f"config file {path}"), (s, "--set")):
            if part:
                cfg = replace(cfg, part, where=where)
        out.append(cfg)
    return out


def to_dict(cfg: Any) -> dict[str, Any]:
    return {f.name: (list(v) if isinstance(v := getattr(cfg, f.name), tuple) else v)
            for f in dataclasses.fields(cfg)}


def config_hash(cfg: Any) -> str:
    """Stable short hash of a config's values (identifies a Monte-Carlo point)."""
    blob = json.dumps({"type": type(cfg).__name__, **to_dict(cfg)}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def describe(cls) -> str:
    """Markdown table of a config class: key, default, source, doc (for README/--help)."""
    rows = ["| key | default | source | meaning |", "|---|---|---|---|"]
    for f in dataclasses.fields(cls):
        rows.append(f"| `{f.name}` | `{f.default!r}` | {f.metadata.get('source', '')} | {f.metadata.get('doc', '')} |")
    return "\n".join(rows)
