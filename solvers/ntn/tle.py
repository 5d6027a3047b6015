"""Real two-line element sets through SGP4, with the positions interface of ``jaxcore.ntn.orbits``.

Optional input of issue 5 item 1: ``sgp4.api.SatrecArray`` propagates N satellites at T
times in one call (vectorised C++); positions come out in the TEME frame (km) and are
rotated to the Earth-fixed frame with the Greenwich mean sidereal time (IAU-82; polar
motion and the equation of the equinoxes are neglected, < 1 km at LEO).  The result has
the same shape and units as :func:`jaxcore.ntn.orbits.ecef_positions`: [T, N, 3] metres.

Time convention: ``times`` are seconds after a reference instant given as a Julian date
split ``(jd, fr)`` (``sgp4.api.jday``); the Walker model uses its own t = 0 where ECEF and
inertial frames coincide, so a Walker shell matching a TLE set has RAAN_walker =
RAAN_tle - GMST(reference) (see ``tests/jaxcore/ntn/test_orbits.py``).
"""
from __future__ import annotations

import numpy as np

from solvers.npzio import InstanceError


def satrecs_from_tle(text: str):
    """Parse two-line element sets (optional name lines) into a ``SatrecArray`` and the list of Satrec."""
    from sgp4.api import Satrec, SatrecArray

    lines = [ln.rstrip() for ln in text.splitlines() if ln.strip()]
    sats = []
    i = 0
    while i < len(lines):
        if lines[i].startswith("1 ") and i + 1 < len(lines) and lines[i + 1].startswith("2 "):
            sats.append(Satrec.twoline2rv(lines[i], lines[i + 1]))
            i += 2
        elif lines[i].startswith(("1 ", "2 ")):
            raise InstanceError(f"TLE: line {i + 1} is not part of a line-1/line-2 pair: {lines[i]!r}")
        else:
            i += 1  # name line
    if not sats:
        raise InstanceError("TLE: no two-line element set found")
    return SatrecArray(sats), sats


def gmst(jd, fr):
    """Greenwich mean sidereal time [rad] (IAU-82) at UT1 Julian date jd + fr."""
    t = ((jd - 2451545.0) + fr) / 36525.0
    sec = 67310.54841 + (876600.0 * 3600.0 + 8640184.812866) * t + 0.093104 * t ** 2 - 6.2e-6 * t ** 3
    return np.mod(np.radians(sec / 240.0), 2 * np.pi)


def sgp4_teme_positions(sat_array, jd: float, fr: float, times) -> np.ndarray:
    """TEME positions [T, N, 3] (m) at ``times`` [T] s after (jd, fr); raises on SGP4 errors."""
    t = np.asarray(times, np.float64)
    jd_a = np.full(t.shape, float(jd))
    fr_a = float(fr) + t / 86400.0
    err, r, _ = sat_array.sgp4(jd_a, fr_a)  # err [N, T], r [N, T, 3] km
    if np.any(err != 0):
        n, k = np.argwhere(err != 0)[0]
        raise InstanceError(f"TLE: SGP4 error code {int(err[n, k])} for satellite {int(n)} at t = {t[k]} s")
    return np.transpose(r, (1, 0, 2)) * 1e3


def teme_to_ecef(r_teme, jd: float, fr: float, times) -> np.ndarray:
    """Rotate TEME vectors [T, N, 3] to the Earth-fixed frame by GMST(t)."""
    th = gmst(float(jd), float(fr) + np.asarray(times, np.float64) / 86400.0)[:, None]  # [T, 1]
    c, s = np.cos(th), np.sin(th)
    x, y, z = r_teme[..., 0], r_teme[..., 1], r_teme[..., 2]
    return np.stack([c * x + s * y, -s * x + c * y, z], axis=-1)


def sgp4_ecef_positions(sat_array, jd: float, fr: float, times) -> np.ndarray:
    """Earth-fixed positions [T, N, 3] (m), same interface as ``orbits.ecef_positions``."""
    return teme_to_ecef(sgp4_teme_positions(sat_array, jd, fr, times), jd, fr, times)
