"""Rain model, NTN spec eqs. (6)-(10): ITU coefficients, Markov chain, rain-cell statistics."""
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxcore.ntn import rain


def test_p838_p839_equal_itur(tmp_path, monkeypatch):
    from itur.models import itu838, itu839

    from solvers.ntn import itu
    monkeypatch.setenv("SATISAC_CACHE_DIR", str(tmp_path))
    itu.p838_coefficients.cache_clear()
    for f in (2.0, 20.0, 30.0):
        k, a = itu838.rain_specific_attenuation_coefficients(f, 45.0, 45.0)
        assert itu.p838_coefficients(f) == pytest.approx((float(k), float(a)), rel=1e-12)
    # spec §4 values (circular polarisation)
    assert itu.p838_coefficients(20.0) == pytest.approx((0.09388, 1.0199), abs=5e-5)
    assert itu.p838_coefficients(2.0) == pytest.approx((9.22e-5, 1.003), rel=2e-3)
    lat, lon = np.array([45.0, 50.0, 54.5]), np.array([5.0, 10.0, 19.5])
    expect = np.asarray(itu839.rain_height(lat, lon).value, float)
    np.testing.assert_allclose(itu.p839_rain_height(lat, lon), expect, rtol=1e-12)
    assert itu.p839_rain_height(50.0, 10.0)[0] == pytest.approx(2.98, abs=0.01)  # spec §4
    assert (tmp_path / "itu.json").exists()  # disk cache written; second call from memory/disk
    itu.p838_coefficients.cache_clear()
    assert itu.p838_coefficients(20.0) == pytest.approx((0.09388, 1.0199), abs=5e-5)


def test_power_law_attenuation_spec8():
    a, b = 0.0938769, 1.0198776
    for rr, el, db in ((10.0, 25.0, 7.0), (10.0, 40.0, 4.6), (50.0, 25.0, 36.0), (50.0, 40.0, 24.0)):
        path = rain.slant_path_km(3.0, math.radians(el))
        assert float(rain.rain_attenuation_db(a, b, rr, path)) == pytest.approx(db, abs=0.5)
    assert float(rain.rain_attenuation_db(a, b, 0.0, 7.0)) == 0.0


def test_transition_probs_spec8():
    p10, p01 = rain.transition_probs(10.0, 3600.0, 9 * 3600.0)
    assert float(p10) == pytest.approx(2.77e-3, rel=2e-3)
    assert float(p01) == pytest.approx(3.09e-4, rel=2e-3)
    assert float(rain.stationary_active(p10, p01)) == pytest.approx(0.100, abs=5e-4)


def test_markov_chain_long_run_fraction_eq9():
    # fast chain (T_f = 600 s, mu_D = 1 h, mu_I = 2 h): start ALL OFF, check the long-run active
    # fraction converges to pi_1 of (9); tolerance 0.01 (>> MC std 0.0015 for 20k chains)
    p10, p01 = rain.transition_probs(600.0, 3600.0, 7200.0)
    pi1 = float(rain.stationary_active(p10, p01))
    n = 20000
    st = rain.RainState(jnp.zeros(n, bool), jnp.ones(n))
    keys = jax.random.split(jax.random.PRNGKey(7), 120)
    _, hist = jax.jit(rain.evolve_rain)(st, keys, p10, p01, 10.0)
    hist = rain.RainState(*(np.asarray(a) for a in hist))
    frac = hist.active[60:].mean()  # mixing time 1/(p10+p01) ~ 4 frames
    assert abs(frac - pi1) < 0.01
    # empirical one-step transitions match (7)-(8)
    a = np.asarray(hist.active)
    on, off = a[:-1], ~a[:-1]
    assert (~a[1:] & on).sum() / on.sum() == pytest.approx(float(p10), rel=0.05)
    assert (a[1:] & off).sum() / off.sum() == pytest.approx(float(p01), rel=0.05)
    # on-period intensity is kept, redrawn only at an off->on switch
    same = on & a[1:]
    inten = np.asarray(hist.intensity)
    assert np.all(inten[1:][same] == inten[:-1][same])


def test_rain_cell_statistics_match_means():
    lat0, lat1, lon0, lon1 = map(math.radians, (45.0, 55.0, 5.0, 20.0))
    area = float(rain.box_area_km2(lat0, lat1, lon0, lon1))
    strips = np.radians(np.linspace(45.0, 55.0, 2001))
    mid = (strips[1:] + strips[:-1]) / 2  # midpoint rule: sum R^2 cos(lat) dlat dlon
    assert area == pytest.approx(float(np.sum(rain.R_E_KM ** 2 * np.cos(mid) * np.diff(strips) * (lon1 - lon0))), rel=1e-6)
    keys = jax.random.split(jax.random.PRNGKey(0), 64)
    rc = jax.jit(jax.vmap(lambda k: rain.sample_rain_cells(k, 1400, lat0, lat1, lon0, lon1, 1e-3, 10.0)))(keys)
    rc = rain.RainCells(*(np.asarray(a) for a in rc))
    counts = rc.valid.sum(-1)
    mean = 1e-3 * area  # ~1190 cells
    assert abs(counts.mean() - mean) < 4 * math.sqrt(mean / 64)  # Poisson mean, 4 sigma
    assert counts.var() == pytest.approx(mean, rel=0.5)  # Poisson: variance = mean
    r = np.asarray(rc.radius_km)[np.asarray(rc.valid)]
    assert r.mean() == pytest.approx(10.0, rel=0.02)  # exponential radius, mean mu_r (n ~ 76k)
    assert r.std() == pytest.approx(10.0, rel=0.03)
    s = np.sin(np.asarray(rc.lat)[np.asarray(rc.valid)])  # uniform in area <=> sin(lat) uniform
    assert s.mean() == pytest.approx((math.sin(lat0) + math.sin(lat1)) / 2, abs=2e-3)
    st = jax.jit(rain.init_rain_state, static_argnums=1)(jax.random.PRNGKey(1), 200000, 0.1, 10.0)
    assert np.asarray(st.active).mean() == pytest.approx(0.1, abs=0.003)
    assert np.asarray(st.intensity).mean() == pytest.approx(10.0, rel=0.01)  # mean mu_R
    # mean episode duration mu_D and gap mu_I from the chain: E[on] = T_f / p10 ~ mu_D + T_f/2
    p10, p01 = rain.transition_probs(10.0, 3600.0, 9 * 3600.0)
    assert 10.0 / float(p10) == pytest.approx(3600.0, rel=2e-3)
    assert 10.0 / float(p01) == pytest.approx(9 * 3600.0, rel=2e-3)


def test_cell_rain_rate_eq10():
    rc = rain.RainCells(jnp.radians(jnp.array([50.0, 50.0, 50.0])), jnp.radians(jnp.array([10.0, 10.2, 30.0])),
                        jnp.array([20.0, 5.0, 50.0]), jnp.array([True, True, False]))
    lat = jnp.radians(jnp.array([50.0, 50.1, 51.0]))
    lon = jnp.radians(jnp.array([10.1, 10.2, 10.0]))
    cover = rain.cell_cover(lat, lon, rc)
    # distances: cell0 to rc0 7.2 km (<20), to rc1 7.2 km (>5); cell1 to rc0 ~13.6 km, to rc1 11.1 km; cell2 far
    np.testing.assert_array_equal(cover, [[True, False, False], [True, False, False], [False, False, False]])
    rr = rain.cell_rain_rate(cover, jnp.array([[True, True, True], [False, True, True]]), jnp.array([[4.0, 7.0, 9.0]] * 2))
    np.testing.assert_allclose(rr, [[4.0, 4.0, 0.0], [0.0, 0.0, 0.0]])
    assert float(rain.great_circle_km(0.0, 0.0, 0.0, math.radians(1.0))) == pytest.approx(111.19, abs=0.01)
