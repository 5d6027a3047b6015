"""Link geometry and budget, NTN spec eqs. (2)-(5), against independent numbers (spec §8)."""
import math

import jax.numpy as jnp
import numpy as np
import pytest

from jaxcore.ntn import links, orbits


def test_d_max_default_shells_spec8():
    d = links.max_slant_range(jnp.array([1110e3, 550e3]), jnp.radians(jnp.array([40.0, 25.0])))
    np.testing.assert_allclose(np.asarray(d) / 1e3, [1574.6, 1123.3], atol=0.05)


@pytest.mark.parametrize("h_km,el_deg", [(550.0, 25.0), (1110.0, 40.0), (800.0, 10.0)])
def test_d_max_matches_geometry(h_km, el_deg):
    # a point seen at elevation alpha at distance d_max(2) lies exactly on the orbit sphere
    d = float(links.max_slant_range(h_km * 1e3, math.radians(el_deg)))
    g = orbits.geodetic_to_ecef(jnp.radians(47.0), jnp.radians(11.0))  # ground point
    up = g / jnp.linalg.norm(g)
    east = jnp.array([-math.sin(math.radians(11.0)), math.cos(math.radians(11.0)), 0.0])
    a = math.radians(el_deg)
    sat = g + d * (math.cos(a) * east + math.sin(a) * up)
    assert float(jnp.linalg.norm(sat)) == pytest.approx(orbits.R_E + h_km * 1e3, rel=1e-12)
    assert math.degrees(float(links.elevation(sat, g))) == pytest.approx(el_deg, abs=1e-9)


def test_elevation_90_under_satellite_and_slant_range():
    g = orbits.geodetic_to_ecef(jnp.radians(jnp.array([50.0, -20.0])), jnp.radians(jnp.array([10.0, 100.0])))
    sat = g * (orbits.R_E + 550e3) / orbits.R_E
    np.testing.assert_allclose(np.degrees(links.elevation(sat, g)), 90.0, atol=1e-6)
    np.testing.assert_allclose(links.slant_range(sat, g), 550e3, rtol=1e-12)
    # a satellite over the horizon of a point 90 deg away has negative elevation
    assert float(links.elevation(sat[0], orbits.geodetic_to_ecef(jnp.radians(-40.0), jnp.radians(10.0)))) < 0


def test_fspl_known_values():
    # FSPL[dB] = 20 log10(d_km) + 20 log10(f_GHz) + 92.45
    assert float(links.lin_to_db(links.fspl(1000e3, 20e9))) == pytest.approx(60 + 26.0206 + 92.4478, abs=1e-3)
    assert float(links.lin_to_db(links.fspl(1574.6e3, 2e9))) == pytest.approx(162.41, abs=0.01)


def test_worst_case_distance_brute_force_and_rate_rule():
    rng = np.random.default_rng(3)
    sat = rng.normal(size=(3, 4, 3)) * 7e6  # [T, S, 3]
    pts = rng.normal(size=(5, 5, 3)) * 6.4e6  # [C, P, 3]
    d = np.linalg.norm(sat[:, None, None, :, :] - pts[None, :, :, None, :], axis=-1)  # [T, C, P, S]
    np.testing.assert_allclose(links.worst_case_distance(jnp.asarray(sat), jnp.asarray(pts)), d.max(axis=(0, 2)), rtol=1e-9)
    snr = jnp.array([[1.0, 3.0], [15.0, 0.5]])
    in_r = jnp.array([[True, False], [True, True]])
    r = links.rate(400e6, snr, in_r)
    np.testing.assert_allclose(r, [[400e6, 0.0], [1600e6, 400e6 * math.log2(1.5)]])


def test_snr_link_budget_ka_spec8():
    # Ka shell at d = 550 km (zenith): 0.1419 W, 38.5 dBi, 39.7 dBi, 0.3 dB, -172.8 dBm/Hz, 400 MHz
    pl = links.fspl(550e3, 20e9)
    g = links.snr(0.1419, links.db_to_lin(38.5), links.db_to_lin(39.7), links.db_to_lin(0.3), pl, 1.0,
                  links.db_to_lin(-172.8 - 30), 400e6)
    # independent dB sum: -8.48 + 38.5 + 39.7 - 0.3 - 173.27 + 172.8 + 30 - 86.02 = 12.93 dB
    expect = 10 * math.log10(0.1419) + 38.5 + 39.7 - 0.3 - float(links.lin_to_db(pl)) + 172.8 + 30 - 10 * math.log10(400e6)
    assert float(links.lin_to_db(g)) == pytest.approx(expect, abs=1e-9)
    assert 12.5 < expect < 13.3  # spec §8: Ka clear-sky SNR up to 13.2 dB (without pointing loss)
    assert float(links.lin_to_db(links.snr(0.1419, 1e4, 1e4, 1.0, pl, 2.0, 1e-20, 1e6))) == pytest.approx(
        float(links.lin_to_db(links.snr(0.1419, 1e4, 1e4, 1.0, pl, 1.0, 1e-20, 1e6))) - 3.0103, abs=1e-4)
