"""Pilot-based SNR/attenuation estimators, NTN spec eqs. (17)-(22), by Monte Carlo.

Tolerances: means within 5 standard errors; sample variances within 3 % (N = 200 000,
relative std of a sample variance ~ sqrt(2/N) ~ 0.3 %, heavier tails at small L).
"""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxcore.ntn import sensing as S

SNR_DB = np.array([-5.0, 0.0, 10.0, 20.0])
LS = (16, 64, 256, 1024)


def test_explicit_pilots_ml_mean_and_sufficient_statistic_sampler():
    # (17)+(18) on explicit samples: E[gamma_ML] = (2L gamma + 1)/(2L - 3); same law as the fast sampler
    key = jax.random.PRNGKey(11)
    n = 12000
    g = np.array([0.5, 1.0, 10.0])
    for L in (24,):  # one compile; the L grid is covered with the exact sampler below
        @jax.jit
        def draw(k):
            y, x = S.pilot_observations(k, jnp.broadcast_to(jnp.asarray(g), (n, 3)), L)
            return S.ml_snr(y, x), jnp.abs(x).mean()
        gml, xabs = map(np.asarray, draw(jax.random.fold_in(key, L)))
        assert float(xabs) == pytest.approx(1.0)
        se = gml.std(0) / np.sqrt(n)
        assert np.all(np.abs(gml.mean(0) - np.asarray(S.ml_snr_mean(g, L))) < 5 * se)
        gh = np.asarray(S.unbias_snr(gml, L))
        fast = np.asarray(S.sample_snr_estimate(jax.random.fold_in(key, 99 + L), jnp.broadcast_to(jnp.asarray(g), (n, 3)), L))
        assert np.all(np.abs(fast.mean(0) - gh.mean(0)) < 6 * se)
        # variance of a 20k-sample variance of this heavy-tailed ratio: ~5 % at L = 24 -> 15 % tolerance
        np.testing.assert_allclose(gh.var(0), np.asarray(S.exact_var_unbiased(g, L)), rtol=0.15)
        np.testing.assert_allclose(fast.var(0), np.asarray(S.exact_var_unbiased(g, L)), rtol=0.15)


def test_unbiased_snr_and_variance_vs_crb_grid():
    key = jax.random.PRNGKey(5)
    n = 200000
    g = jnp.asarray(10 ** (SNR_DB / 10))
    for L in LS:
        est = np.asarray(S.sample_snr_estimate(jax.random.fold_in(key, L), jnp.broadcast_to(g, (n, g.size)), L))  # [n, 4]
        mean, var = est.mean(0), est.var(0)
        se = np.sqrt(var / n)
        assert np.all(np.abs(mean - np.asarray(g)) < 5 * se), (L, mean, g)  # (18) unbiased
        crb = np.asarray(S.crb_snr(g, L))
        exact = np.asarray(S.exact_var_unbiased(g, L))
        np.testing.assert_allclose(var, exact, rtol=0.03)
        # variance within the MC tolerance of the CRB (19), excess shrinking as O(1/L): 1 <= var/CRB <= 1 + 3/L
        assert np.all(var / crb > 1 - 0.03) and np.all(var / crb < 1 + 3.0 / L + 0.03), (L, var / crb)
        assert np.all(exact >= crb) and np.all(exact / crb - 1 < 3.0 / L)


def test_attenuation_estimators_bias():
    key = jax.random.PRNGKey(8)
    n = 200000
    for L in (64, 256):
        for gcs_db in (10.0, 20.0):
            for a_db in (0.0, 3.0, 10.0):
                gcs, a = 10 ** (gcs_db / 10), 10 ** (a_db / 10)
                gh = np.asarray(S.sample_snr_estimate(jax.random.fold_in(key, int(L * 100 + gcs_db * 10 + a_db)),
                                                      jnp.full(n, gcs / a), L))
                naive = gcs / np.maximum(gh, S.SNR_FLOOR)  # (20), numpy for speed
                corr = L * gcs / ((L + 1.0) * np.maximum(gh, S.SNR_FLOOR) + 2.0)  # (22)
                np.testing.assert_allclose(np.asarray(S.corrected_attenuation(gcs, jnp.asarray(gh[:8]), L)), corr[:8])
                np.testing.assert_allclose(np.asarray(S.naive_attenuation(gcs, jnp.asarray(gh[:8]))), naive[:8])
                # (22): unbiased within 0.3 % (spec §8: within +-0.2 % at L = 64)
                assert abs(corr.mean() / a - 1) < 3e-3, (L, gcs_db, a_db, corr.mean() / a)
                # (20) shows the bias predicted by (21): relative bias = Var/gamma^2 (within 15 %), >> MC error
                pred = float(S.naive_attenuation_bias(a, gcs / a, L)) / a - 1
                got = naive.mean() / a - 1
                assert got == pytest.approx(pred, rel=0.15), (L, gcs_db, a_db, got, pred)
                assert got > 10 * naive.std() / a / np.sqrt(n)


def test_float32_estimator_keeps_dtype_and_is_unbiased():
    est = S.sample_snr_estimate(jax.random.PRNGKey(2), jnp.full(100000, 10.0, jnp.float32), 256)
    assert est.dtype == jnp.float32
    est = np.asarray(est, np.float64)
    assert est.mean() == pytest.approx(10.0, abs=5 * est.std() / np.sqrt(1e5))


def test_allocator_snr_modes():
    key = jax.random.PRNGKey(0)
    cs = jnp.array([20.0, 20.0, 20.0])
    true = cs / jnp.array([1.0, 4.0, 4.0])
    sensed = jnp.array([False, True, True])
    s, a = S.allocator_snr("perfect", key, true, cs, 1024, sensed)
    np.testing.assert_allclose(s, true)
    s, a = S.allocator_snr("none", key, true, cs, 1024, sensed)
    np.testing.assert_allclose(s, cs)
    s, a = S.allocator_snr("pilots", key, true, cs, 2 ** 20, sensed)
    assert float(a[0]) == 1.0 and float(s[0]) == 20.0  # unsensed (S-band) pair: A = 1, gamma^cs
    np.testing.assert_allclose(a[1:], 4.0, rtol=0.01)  # L = 2^20: NMSE ~ 1e-5
    with pytest.raises(ValueError, match="mode"):
        S.allocator_snr("magic", key, true, cs, 16, sensed)
