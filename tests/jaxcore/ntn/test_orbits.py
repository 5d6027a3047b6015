"""Walker shells and orbital speed (1) against independent numbers; SGP4 agreement."""
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxcore.ntn import orbits


def test_orbital_period_and_speed_from_eq1():
    # Kepler with R_E = 6371 km: 550 km -> 95.50 min, 1110 km -> 107.33 min; GEO radius 42164.17 km ->
    # one sidereal day (23 h 56 min 4.1 s = 1436.068 min)
    for h_km, t_min in ((550.0, 95.50), (1110.0, 107.33), (42164.17 - 6371.0, 1436.068)):
        assert float(orbits.orbital_period(h_km * 1e3)) / 60 == pytest.approx(t_min, abs=0.05)
    # speed from positions (central finite difference) equals v_s of (1)
    el = orbits.walker_delta(550e3, math.radians(53.0), 3, 4, 1)
    dt = 0.5
    r = orbits.eci_positions(el, jnp.array([100.0 - dt, 100.0 + dt]))  # [2, N, 3]
    v = jnp.linalg.norm(r[1] - r[0], axis=-1) / (2 * dt)
    np.testing.assert_allclose(v, orbits.orbital_speed(550e3), rtol=1e-7)
    assert float(orbits.orbital_speed(550e3)) == pytest.approx(7589.0, abs=0.5)  # sqrt(3.986e14 / 6.921e6)


def test_walker_structure_and_period_return():
    el = orbits.walker_delta(1110e3, math.radians(53.8), 32, 50, 1)
    assert el.radius.shape == (1600,)
    r0 = orbits.eci_positions(el, jnp.array(0.0))  # [N, 3]
    np.testing.assert_allclose(jnp.linalg.norm(r0, axis=-1), orbits.R_E + 1110e3, rtol=1e-12)
    # max |z| / r over a full orbit = sin(inclination)
    t = np.linspace(0, float(orbits.orbital_period(1110e3)), 100)
    z = np.asarray(jax.jit(orbits.eci_positions)(el, t))[..., 2] / (orbits.R_E + 1110e3)
    assert z.max() == pytest.approx(math.sin(math.radians(53.8)), abs=2e-3)
    # after one period the inertial positions repeat; the Earth-fixed ones moved west by omega_E T
    tp = orbits.orbital_period(1110e3)
    np.testing.assert_allclose(orbits.eci_positions(el, tp), r0, atol=1e-4)
    lat0, lon0 = orbits.subsatellite_point(orbits.ecef_positions(el, 0.0))
    lat1, lon1 = orbits.subsatellite_point(orbits.ecef_positions(el, tp))
    np.testing.assert_allclose(lat1, lat0, atol=1e-9)
    dlon = np.mod(np.asarray(lon0 - lon1), 2 * np.pi)
    np.testing.assert_allclose(dlon, orbits.OMEGA_E * float(tp), rtol=1e-9)
    # plane RAANs equally spaced: satellite p*50 has RAAN 2 pi p / 32
    np.testing.assert_allclose(el.raan[::50], 2 * np.pi * np.arange(32) / 32)


def test_sgp4_agrees_with_walker():
    from sgp4.api import WGS72, Satrec, SatrecArray, jday

    from solvers.ntn.tle import gmst, satrecs_from_tle, sgp4_ecef_positions

    el = orbits.walker_delta(550e3, math.radians(53.0), 4, 3, 1)
    jd, fr = jday(2024, 3, 1, 12, 0, 0)
    g0 = gmst(jd, fr)
    sats = []
    for n in range(12):  # the same circular orbits as a (mean-element) set written here
        s = Satrec()
        s.sgp4init(WGS72, "i", n + 1, jd + fr - 2433281.5, 0.0, 0.0, 0.0, 0.0, 0.0, float(el.incl[n]),
                   float(el.u0[n]), float(el.rate[n]) * 60.0, float(el.raan[n]) + g0)
        sats.append(s)
    t = np.linspace(0.0, 600.0, 11)
    r_sgp4 = sgp4_ecef_positions(SatrecArray(sats), jd, fr, t)  # [T, N, 3]
    r_walker = np.asarray(orbits.ecef_positions(el, t))
    err_km = np.linalg.norm(r_sgp4 - r_walker, axis=-1) / 1e3
    # tolerance 20 km over 10 min: SGP4 adds J2 short-period terms (~7 km in radius at 550 km);
    # a 1 deg error in RAAN or phase would give ~120 km
    assert err_km.max() < 20.0
    # TLE text path: one line pair from the first satellite
    from sgp4 import exporter
    l1, l2 = exporter.export_tle(sats[0])
    arr, parsed = satrecs_from_tle(f"TEST-0\n{l1}\n{l2}\n")
    r_tle = sgp4_ecef_positions(arr, jd, fr, t)
    assert np.linalg.norm(r_tle[:, 0] - r_sgp4[:, 0], axis=-1).max() < 5e3  # TLE text rounding
