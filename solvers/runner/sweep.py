"""Sweep specifications: which config values a Monte-Carlo run varies.

A sweep is a mapping ``{field: [v1, v2, ...]}`` over the fields of a frozen config
dataclass (``IstnConfig``, ``NtnConfig``, ...).  Several keys are combined as a full grid
(``mode="grid"``, the default) or element-wise (``mode="zip"``, all lists of equal length).
Every point is built with :func:`solvers.configio.replace`, so each value is checked against
the field's type and ``param`` range *before* any drop is generated or solved; a bad
specification raises one :class:`~solvers.configio.ConfigError` naming the key.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from solvers.configio import ConfigError, check_keys, config_hash, parse_value, replace

SWEEP_MODES = ("grid", "zip")


@dataclass(frozen=True)
class SweepPoint:
    """One point of a sweep.

    Attributes:
      index: position in the expanded sweep (0-based; names the store's files).
      values: the swept keys and their values at this point (JSON-able scalars).
      cfg: the full config at this point (base config with ``values`` applied).
      cfg_hash: :func:`solvers.configio.config_hash` of ``cfg``.
    """

    index: int
    values: dict
    cfg: Any
    cfg_hash: str


def _norm_values(key: str, vals: Any) -> list:
    if isinstance(vals, (str, bytes)) or not isinstance(vals, Sequence):
        raise ConfigError(f"sweep key {key!r}: expected a list of values, got {vals!r}")
    vals = list(vals)
    if not vals:
        raise ConfigError(f"sweep key {key!r}: empty range (give at least one value)")
    for v in vals:
        if isinstance(v, float) and not math.isfinite(v):
            raise ConfigError(f"sweep key {key!r}: expected finite values, got {v!r}")
        if isinstance(v, (dict, set)):
            raise ConfigError(f"sweep key {key!r}: expected scalar or list values, got {v!r}")
    if len({repr(v) for v in vals}) != len(vals):
        raise ConfigError(f"sweep key {key!r}: repeated values in {vals!r}")
    return vals


def expand_sweep(base_cfg: Any, sweep: Mapping[str, Any] | None, mode: str = "grid") -> list[SweepPoint]:
    """Expand a sweep into validated points (all checks happen here, before any work).

    Args:
      base_cfg: a frozen config dataclass instance; un-swept fields keep its values.
      sweep: ``{field: [values...]}``; ``None`` or ``{}`` gives the single point ``base_cfg``.
      mode: ``"grid"`` (Cartesian product, first key slowest) or ``"zip"``.

    Raises:
      ConfigError: unknown key (with a did-you-mean hint), empty or non-list range, repeated
        values, wrong type or out-of-range value (naming the key and the value), unequal
        lengths in zip mode.
    """
    if mode not in SWEEP_MODES:
        raise ConfigError(f"sweep mode: expected one of {list(SWEEP_MODES)}, got {mode!r}")
    if sweep is None:
        sweep = {}
    if not isinstance(sweep, Mapping):
        raise ConfigError(f"sweep: expected a mapping of config key -> list of values, got {sweep!r}")
    check_keys(type(base_cfg), sweep.keys(), "sweep")
    keys = list(sweep.keys())
    lists = [_norm_values(k, sweep[k]) for k in keys]
    if mode == "zip":
        lens = {len(v) for v in lists}
        if len(lens) > 1:
            raise ConfigError("sweep (zip mode): all keys need the same number of values, got "
                              + ", ".join(f"{k}: {len(v)}" for k, v in zip(keys, lists)))
        combos = list(zip(*lists)) if lists else [()]
    else:
        combos = list(itertools.product(*lists))
    points = []
    for i, combo in enumerate(combos):
        values = dict(zip(keys, combo))
        try:
            cfg = replace(base_cfg, values, where="sweep")
        except ConfigError as e:
            raise ConfigError(f"sweep point {values}: {e}") from None
        except (TypeError, ValueError) as e:  # a config's own validate() raising plain errors
            raise ConfigError(f"sweep point {values}: {e}") from None
        # store the coerced values (e.g. 20 -> 20.0 for a float field) so rows are typed
        values = {k: getattr(cfg, k) for k in keys}
        values = {k: (list(v) if isinstance(v, tuple) else v) for k, v in values.items()}
        points.append(SweepPoint(i, values, cfg, config_hash(cfg)))
    return points


def parse_sweep(items: Sequence[str]) -> dict[str, list]:
    """Parse command-line sweep items ``"key=v1,v2,v3"`` or ``"key=[v1, v2]"`` (TOML values).

    ``"p_bs_dbm=20:40:5"`` (start:stop:step, stop inclusive) is also accepted.
    """
    out: dict[str, list] = {}
    for item in items:
        if "=" not in item:
            raise ConfigError(f"--sweep {item!r}: expected key=v1,v2,...")
        k, raw = (s.strip() for s in item.split("=", 1))
        if not k:
            raise ConfigError(f"--sweep {item!r}: empty key")
        if not raw:
            raise ConfigError(f"--sweep {item!r}: empty range")
        if raw.startswith("["):
            vals = parse_value(raw)
            if not isinstance(vals, list):
                raise ConfigError(f"--sweep {item!r}: expected a list")
        elif raw.count(":") == 2 and "," not in raw:
            try:
                a, b, s = (float(x) for x in raw.split(":"))
            except ValueError:
                raise ConfigError(f"--sweep {item!r}: expected start:stop:step numbers") from None
            if s <= 0 or b < a:
                raise ConfigError(f"--sweep {item!r}: expected step > 0 and stop >= start")
            n = int(math.floor((b - a) / s + 1e-9)) + 1
            vals = [a + i * s for i in range(n)]
            if all(float(v).is_integer() for v in (a, b, s)):
                vals = [int(round(v)) for v in vals]
        else:
            vals = [parse_value(x.strip()) for x in raw.split(",") if x.strip() != ""]
        if k in out:
            raise ConfigError(f"--sweep: key {k!r} given twice")
        out[k] = vals
    return out
