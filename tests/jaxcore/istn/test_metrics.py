"""ISTN single-cell metrics: SINR (16)-(17), SCNR (18)-(22), MSEs (32)-(34), MMSE identities
with the virtual covariance (spec istn.md §1.6-3), noise-unit invariance, float32 vs float64."""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxcore.istn import metrics as M
from jaxcore.istn import wmmse as W
from jaxcore.istn.problem import batch_cells, random_cell_problem

K, NT, T, R, NR, L = 5, 30, 4, 4, 4, 12
N_DROPS = 8


@pytest.fixture(scope="module")
def batch():
    keys = jax.random.split(jax.random.PRNGKey(7), N_DROPS)
    prob = jax.jit(jax.vmap(lambda k: random_cell_problem(k, K, NT, T, R, NR, L)))(keys)
    kf, kp = jax.random.split(jax.random.PRNGKey(8))
    F = jax.random.normal(kf, (N_DROPS, NT, K + T, 2)) @ jnp.array([1.0, 1j])
    F = F * jnp.sqrt(prob.p_bs / jnp.sum(jnp.abs(F) ** 2, axis=(1, 2)))[:, None, None]
    p_sat = jax.random.uniform(kp, (N_DROPS,), minval=1.0, maxval=200.0)
    return prob, F, p_sat


def vm(f, *args):
    return jax.jit(jax.vmap(f))(*args)


def test_radar_mmse_equals_one_over_one_plus_scnr(batch):
    prob, F, p = batch
    w = vm(M.mmse_radar_filter, prob, F, p)
    mse = vm(M.radar_mse, prob, F, p, w)
    s_w = vm(M.scnr, prob, F, p, w)
    s_opt = vm(M.scnr_mmse, prob, F, p)
    np.testing.assert_allclose(mse, 1.0 / (1.0 + s_opt), rtol=1e-10, atol=0)
    np.testing.assert_allclose(s_w, s_opt, rtol=1e-10)
    # the MMSE filter maximises the SCNR: random filters never do better
    wr = jax.random.normal(jax.random.PRNGKey(3), w.shape + (2,)) @ jnp.array([1.0, 1j])
    assert np.all(np.asarray(vm(M.scnr, prob, F, p, wr)) <= np.asarray(s_opt) * (1 + 1e-12))


def test_comm_mmse_identities(batch):
    prob, F, p = batch
    r_t, r_s = vm(M.rates, prob, F, p)
    wt = vm(M.tut_mmse_receiver, prob, F, p)
    ws = vm(M.sut_mmse_receiver, prob, F, p)
    np.testing.assert_allclose(vm(M.tut_mse, prob, F, p, wt), 2.0 ** (-np.asarray(r_t)), rtol=1e-10)
    np.testing.assert_allclose(vm(M.sut_mse, prob, F, p, ws), 2.0 ** (-np.asarray(r_s)), rtol=1e-10)
    # any other equaliser has a larger MSE (the conjugate fix of §1.6-2 matters)
    assert np.all(np.asarray(vm(M.tut_mse, prob, F, p, jnp.conj(wt))) >= np.asarray(2.0 ** -r_t) - 1e-12)
    # WMMSE cost at MMSE receivers and weights = (K+1) - ln2 * sum rate
    rx = vm(W.mmse_receivers, prob, F, p)
    wts = vm(W.mmse_weights, prob, F, p)
    cost = vm(W.wmmse_objective, prob, F, p, rx, wts)
    np.testing.assert_allclose(cost, (K + 1) - np.log(2) * np.asarray(vm(M.sum_rate, prob, F, p)),
                               rtol=1e-10)


def _numpy_metrics(prob, F, p, w_rad):
    """Direct evaluation of (16), (17), (18)-(22) from the signal model, loops and all."""
    P = jax.tree_util.tree_map(np.asarray, prob)
    F = np.asarray(F)
    sinr_t = np.zeros(K)
    for k in range(K):
        sig = abs(P.h_tut[k] @ F[:, k]) ** 2
        inter = sum(abs(P.h_tut[k] @ F[:, j]) ** 2 for j in range(K + T) if j != k)
        sinr_t[k] = sig / (inter + P.g_tut[k] * p + P.noise_tut)
    sinr_s = P.g_sut * p / (sum(abs(P.h_sut @ F[:, j]) ** 2 for j in range(K + T)) + P.noise_sut)
    scnr = np.zeros(T)
    for i in range(T):
        n = P.assoc[i]
        w = w_rad[i]
        sig = abs(w @ P.G_tar[i, n] @ F[:, K + i]) ** 2
        i1 = sum(abs(w @ P.G_tar[j, n] @ F[:, K + i]) ** 2 for j in range(T) if j != i)
        i2 = sum(np.linalg.norm(w @ P.G_cl[l, n] @ F) ** 2 for l in range(L))
        G = P.G_tar[:, n].sum(axis=0)
        i3 = sum(abs(w @ G @ F[:, j]) ** 2 for j in range(K + T) if j != K + i)
        i4 = abs(w @ P.g_rad[n]) ** 2 * p
        scnr[i] = sig / (i1 + i2 + i3 + i4 + np.linalg.norm(w) ** 2 * P.noise_rad)
    return sinr_t, sinr_s, scnr


def test_formulas_against_direct_numpy(batch):
    prob, F, p = batch
    for d in range(3):
        pd = jax.tree_util.tree_map(lambda x: x[d], prob)
        w = np.asarray(jax.random.normal(jax.random.PRNGKey(d), (T, NR, 2)) @ jnp.array([1.0, 1j]))
        st, ss, sc = _numpy_metrics(pd, F[d], float(p[d]), w)
        jt, js, jc = jax.jit(lambda *a: (M.tut_sinr(*a[:3]), M.sut_sinr(*a[:3]), M.scnr(*a)))(
            pd, F[d], p[d], jnp.asarray(w))
        np.testing.assert_allclose(jt, st, rtol=1e-12)
        np.testing.assert_allclose(js, ss, rtol=1e-12)
        np.testing.assert_allclose(jc, sc, rtol=1e-12)


def test_noise_units_invariance(batch):
    """A cell in watts (noise 2.5e-12 W) gives the same SINR/SCNR/rates as its normalised copy."""
    prob, F, p = batch
    s2 = 2.512e-12
    watts = prob._replace(
        h_tut=prob.h_tut * np.sqrt(s2), h_sut=prob.h_sut * np.sqrt(s2), g_tut=prob.g_tut * s2,
        g_sut=prob.g_sut * s2, g_rad=prob.g_rad * np.sqrt(s2), G_tar=prob.G_tar * np.sqrt(s2),
        G_cl=prob.G_cl * np.sqrt(s2), noise_tut=prob.noise_tut * s2,
        noise_sut=prob.noise_sut * s2, noise_rad=prob.noise_rad * s2)
    for f in (M.tut_sinr, M.sut_sinr, M.scnr_mmse):
        np.testing.assert_allclose(vm(f, watts, F, p), vm(f, prob, F, p), rtol=1e-9)
    flat, lead = batch_cells(jax.tree_util.tree_map(lambda x: x.reshape((2, 4) + x.shape[1:]), prob))
    assert lead == (2, 4) and flat.G_tar.shape == prob.G_tar.shape


def test_float32_matches_float64(batch):
    prob, F, p = batch

    def cast(x):
        if jnp.iscomplexobj(x):
            return x.astype(jnp.complex64)
        return x.astype(jnp.float32) if jnp.issubdtype(x.dtype, jnp.floating) else x

    p32 = jax.tree_util.tree_map(cast, prob)
    F32, ps32 = F.astype(jnp.complex64), p.astype(jnp.float32)
    r64 = vm(M.all_metrics, prob, F, p)
    r32 = vm(M.all_metrics, p32, F32, ps32)
    assert r32[0].dtype == jnp.float32 and r32[3].dtype == jnp.float32
    for a, b in zip(r32, r64):
        np.testing.assert_allclose(a, b, rtol=2e-3, atol=1e-4)
