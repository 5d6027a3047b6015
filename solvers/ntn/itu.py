"""ITU-R P.838-3 rain coefficients and P.839 rain heights, computed once on the host.

NTN spec ``ntn.md`` eq. (6) and §4 Table II.  The ``itur`` package (ITU-R P.838-3 /
P.839-4 implementation) is called once per distinct argument and the results are cached
in memory (``lru_cache``) and on disk in a small JSON file
(``$XDG_CACHE_HOME/satisac/itu.json``, default ``~/.cache/satisac/itu.json``; set
``SATISAC_CACHE_DIR`` to move it), so JAX only ever sees plain numbers.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from functools import lru_cache
from pathlib import Path

import numpy as np


def _cache_file() -> Path:
    base = os.environ.get("SATISAC_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "satisac")
    return Path(base) / "itu.json"


def _disk_get(key: str):
    try:
        return json.loads(_cache_file().read_text()).get(key)
    except (OSError, ValueError):
        return None


def _disk_put(key: str, value) -> None:
    p = _cache_file()
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        try:
            data = json.loads(p.read_text())
        except (OSError, ValueError):
            data = {}
        data[key] = value
        fd, tmp = tempfile.mkstemp(dir=p.parent, suffix=".tmp")
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh)
        os.replace(tmp, p)
    except OSError:  # read-only home: the in-memory cache still works
        pass


@lru_cache(maxsize=None)
def p838_coefficients(freq_ghz: float, elev_deg: float = 45.0, tilt_deg: float = 45.0) -> tuple[float, float]:
    """(a, b) of the power law gamma_R = a R^b [dB/km], ITU-R P.838-3 (k, alpha).

    ``tilt_deg`` = 45 is circular polarisation (then the elevation has no effect).
    """
    key = f"p838:{freq_ghz:.9g}:{elev_deg:.9g}:{tilt_deg:.9g}"
    hit = _disk_get(key)
    if hit is not None:
        return float(hit[0]), float(hit[1])
    from itur.models import itu838
    k, alpha = itu838.rain_specific_attenuation_coefficients(freq_ghz, elev_deg, tilt_deg)
    val = (float(np.asarray(k)), float(np.asarray(alpha)))
    _disk_put(key, list(val))
    return val


def p839_rain_height(lat_deg, lon_deg) -> np.ndarray:
    """Rain height h_R [km] (ITU-R P.839) at points ``lat_deg``/``lon_deg`` (arrays, degrees)."""
    lat = np.atleast_1d(np.asarray(lat_deg, np.float64))
    lon = np.atleast_1d(np.asarray(lon_deg, np.float64))
    lat, lon = np.broadcast_arrays(lat, lon)
    return np.array(_p839_tuple(tuple(np.round(lat.ravel(), 6)), tuple(np.round(lon.ravel(), 6)))).reshape(lat.shape)


@lru_cache(maxsize=32)
def _p839_tuple(lat: tuple, lon: tuple) -> tuple:
    key = "p839:" + hashlib.sha256(repr((lat, lon)).encode()).hexdigest()[:20]
    hit = _disk_get(key)
    if hit is not None and len(hit) == len(lat):
        return tuple(hit)
    from itur.models import itu839
    h = itu839.rain_height(np.asarray(lat), np.asarray(lon))
    val = tuple(float(v) for v in np.atleast_1d(np.asarray(getattr(h, "value", h), np.float64)))
    _disk_put(key, list(val))
    return val
