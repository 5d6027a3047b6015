"""ISTN channel model (issue 2, "must show"): 38.901 UMa statistics, satellite gains eqs.
(1)-(2), ULA responses (spec §1.4), sensing channels (8)-(10), batching/reproducibility and
float32 vs float64.

Statistical bounds: a sample mean of n i.i.d. draws is compared with its expectation within
5 standard errors (false-alarm probability < 1e-6 per check); standard deviations within
5 standard errors sigma / sqrt(2 n).
"""
from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxcore.istn import uma
from jaxcore.istn.drops import QUICK_COMPILE, draw_cell, drop_keys
from jaxcore.istn.geometry import draw_geometry, slant_range
from jaxcore.istn.satellite import beam_pattern, path_gain_constant, satellite_gains
from jaxcore.istn.sensing_channels import bistatic_gain
from jaxcore.istn.ula import direction_cosine, ula_ray_sum, ula_response
from solvers.istn.config import IstnConfig
from solvers.istn.generate import generate_instance

SMALL = dict(n_tut=10, n_tx=8, n_targets=2, n_radar=2, n_rx=2, clutter_per_target=1, aging_corr=0.9)
N_DROPS, N_CELLS, SEED = 400, 2, 7      # 400 x 2 cells x 10 TUTs = 8,000 generated TBS-TUT links


@pytest.fixture(scope="module")
def small_cfg():
    return IstnConfig(**SMALL)


@pytest.fixture(scope="module")
def drops(small_cfg):
    return generate_instance(small_cfg, N_DROPS, SEED, N_CELLS, precision="float64", quick_compile=True)


# ------------------------------------------------------------------ 38.901 formulas and statistics
def test_uma_formulas_match_spec_tables():
    d = np.array([18.0, 25, 50, 75, 100, 150, 200, 250])
    np.testing.assert_allclose(uma.los_probability(d), [1, 0.908, 0.649, 0.471, 0.348, 0.201, 0.128, 0.090], atol=6e-4)
    assert uma.breakpoint_distance(15e9, 10.0, 1.5) == pytest.approx(4 * 9 * 0.5 * 15e9 / uma.C_LIGHT)
    d2 = np.array([10.0, 25, 50, 100, 150, 200, 500, 1000])
    d3 = np.hypot(d2, 8.5)
    np.testing.assert_allclose(uma.pathloss_los(d2, d3, 15e9, 10, 1.5), [76.1, 82.8, 89.0, 95.6, 99.4, 102.2, 110.9, 118.4], atol=0.06)
    np.testing.assert_allclose(uma.pathloss_nlos(d2, d3, 15e9, 10, 1.5), [80.8, 92.6, 103.7, 115.3, 122.1, 127.0, 142.5, 154.3], atol=0.06)


def test_uma_large_scale_statistics(small_cfg):
    """20,000 draws per distance: LOS fraction (binomial), PL + shadow fading mean and 4/6 dB spread."""
    p = small_cfg.channel_params()
    n = 20_000
    dist = np.array([25.0, 50.0, 100.0, 200.0, 1000.0])        # 1000 m is beyond d'_BP = 900 m (PL2)
    d2 = np.repeat(dist, n)
    d3 = np.hypot(d2, p.h_bs_m - p.h_ut_m)
    keys = jax.random.split(jax.random.PRNGKey(11), d2.size)
    ls = jax.jit(jax.vmap(uma.large_scale, (0, 0, 0, None)), static_argnums=3)(keys, d2, d3, p)
    los = np.asarray(ls["los"]).reshape(len(dist), n)
    pr = np.asarray(uma.los_probability(dist))
    assert np.all(np.abs(los.mean(1) - pr) <= 5 * np.sqrt(pr * (1 - pr) / n) + 1e-12)
    for name, pl_fn, sig in (("beta_los", uma.pathloss_los, 4.0), ("beta_nlos", uma.pathloss_nlos, 6.0)):
        loss_db = -10 * np.log10(np.asarray(ls[name])).reshape(len(dist), n)
        pl = np.asarray(pl_fn(dist, np.hypot(dist, 8.5), 15e9, 10, 1.5))
        assert np.all(np.abs(loss_db.mean(1) - pl) <= 5 * sig / math.sqrt(n)), name
        assert np.all(np.abs(loss_db.std(1) - sig) <= 5 * sig / math.sqrt(2 * n)), name


def test_generated_los_fraction_and_mean_path_gain_vs_distance(drops):
    """End to end (8,000 TBS-TUT links of generated drops; the 20,000-draw checks per
    distance are in test_uma_large_scale_statistics): per distance bin, the LOS
    fraction equals the mean Pr_LOS(d) and mean ||h||^2 / Nt equals E[beta | d] =
    Pr_LOS 10^{-PL_L/10} e^{s_L^2/2} + (1 - Pr_LOS) 10^{-PL_N/10} e^{s_N^2/2}
    (s = sigma_SF ln10 / 10; unit-power small scale), both within 5 standard errors."""
    d = drops["tut_d2d"].ravel()
    los = drops["tut_los"].ravel()
    assert d.size == 8_000 and d.min() >= 10.0 and d.max() <= 200.0
    gain = np.sum(np.abs(drops["h_tut"]) ** 2, -1).ravel() / 8
    d3 = np.hypot(d, 8.5)
    pr = np.asarray(uma.los_probability(d))
    s = lambda sig: math.exp((sig * math.log(10) / 10) ** 2 / 2)  # noqa: E731
    e_beta = (pr * 10 ** (-np.asarray(uma.pathloss_los(d, d3, 15e9, 10, 1.5)) / 10) * s(4)
              + (1 - pr) * 10 ** (-np.asarray(uma.pathloss_nlos(d, d3, 15e9, 10, 1.5)) / 10) * s(6))
    edges = [10, 50, 100, 150, 200.01]
    for lo, hi in zip(edges[:-1], edges[1:]):
        b = (d >= lo) & (d < hi)
        n = b.sum()
        assert abs(los[b].mean() - pr[b].mean()) <= 5 * math.sqrt(np.sum(pr[b] * (1 - pr[b]))) / n
        # ratio estimator: sum gain / sum E[beta]; per-draw normalised residuals
        r = gain[b] / e_beta[b]
        assert abs(r.mean() - 1.0) <= 5 * r.std() / math.sqrt(n), (lo, hi, r.mean())


def test_satellite_shadowing_and_sut_gain(drops, small_cfg):
    """g_SUT (beam centre, B = 1): 10 lg(g / (C G_s G_main / d^2)) ~ N(0, 4 dB)."""
    p = small_cfg.channel_params()
    el = drops["sat_elevation"].ravel()
    assert el.min() >= math.radians(30) and el.max() <= math.radians(90)
    d = np.asarray(slant_range(el, p.earth_radius_m, p.leo_altitude_m))
    g0 = float(path_gain_constant(p)) * p.g_sat * p.g_sut_main / d ** 2
    xi_db = 10 * np.log10(drops["g_sut"].ravel() / g0)
    n = xi_db.size
    assert abs(xi_db.mean()) <= 5 * 4 / math.sqrt(n)
    assert abs(xi_db.std() - 4.0) <= 5 * 4 / math.sqrt(2 * n)


def test_slant_range_table():
    el = np.radians([90.0, 60.0, 45.0, 30.0, 10.0])
    np.testing.assert_allclose(np.asarray(slant_range(el, 6371e3, 500e3)) / 1e3, [500, 570, 683, 909, 1695], atol=1.0)


# ------------------------------------------------------------------ satellite eqs. (1)-(2)
def test_beam_pattern_minus_3db_at_phi3db():
    phi3 = math.radians(1.0)
    assert 10 * math.log10(float(beam_pattern(phi3, phi3))) == pytest.approx(-3.0, abs=1e-9)
    assert float(beam_pattern(0.0, phi3)) == 1.0
    assert 10 * math.log10(float(beam_pattern(2 * phi3, phi3))) == pytest.approx(-12.0, abs=1e-9)


def test_satellite_gains_beam_offset_and_friis_vs_literal(small_cfg):
    """A node seen phi_3dB off the beam centre gets half the centre gain (times d^2 ratio)."""
    p = small_cfg.channel_params()._replace(sat_shadow_std_db=0.0, g_tut_rx=small_cfg.channel_params().g_sut_main)
    h = 500e3
    off = h * math.tan(p.phi_3db_rad)
    geo = dict(sat=jnp.array([0.0, 0.0, h + 1.5]), sut=jnp.array([0.0, 0.0, 1.5]),
               tut=jnp.array([[off, 0.0, 1.5]] * p.n_tut), rx=jnp.zeros((p.n_radar, 3)),
               rx_axis=jnp.tile(jnp.array([1.0, 0.0, 0.0]), (p.n_radar, 1)))
    g = satellite_gains(jax.random.PRNGKey(0), geo, p)
    ratio = float(g["g_tut"][0] / g["g_sut"]) * (h ** 2 + off ** 2) / h ** 2
    assert 10 * math.log10(ratio) == pytest.approx(-3.0, abs=1e-6)
    # eq. (1): Friis 20 lg(lambda / 4 pi d); literal form is 20 lg 2 = 6.02 dB higher
    assert float(path_gain_constant(p)) == pytest.approx((p.wavelength_m / (4 * math.pi)) ** 2)
    lit = float(path_gain_constant(p._replace(sat_path_gain="paper_literal")))
    assert 10 * math.log10(lit / float(path_gain_constant(p))) == pytest.approx(6.0206, abs=1e-4)
    # budget of spec §5: Friis, el = 60 deg, G_main, no shadowing: g_SUT = -98.9 dB
    d60 = float(slant_range(math.radians(60), p.earth_radius_m, p.leo_altitude_m))
    g60 = float(path_gain_constant(p)) * p.g_sat * p.g_sut_main / d60 ** 2
    assert 10 * math.log10(g60) == pytest.approx(-98.9, abs=0.1)


# ------------------------------------------------------------------ ULA, spec §1.4
@pytest.mark.parametrize("dtype", [jnp.complex64, jnp.complex128])
def test_ula_response_norms_and_nulls(dtype):
    u = jnp.linspace(-1, 1, 41)
    a = ula_response(u, 16, dtype)
    assert a.dtype == dtype
    np.testing.assert_allclose(np.abs(np.asarray(a)), 1.0, rtol=1e-6)          # unit modulus
    np.testing.assert_allclose(np.sum(np.abs(np.asarray(a)) ** 2, -1), 16.0, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(ula_response(0.0, 16, dtype)), np.ones(16), atol=1e-7)
    # first null at |du| = 2/N (the association threshold default); half-wavelength phase step pi u
    inner = np.vdot(np.asarray(ula_response(0.3, 16, dtype)), np.asarray(ula_response(0.3 + 2 / 16, 16, dtype)))
    assert abs(inner) < 1e-4
    np.testing.assert_allclose(np.angle(np.asarray(ula_response(0.5, 2, dtype))[1]), math.pi / 2, rtol=1e-6)
    # ray sum by recurrence == explicit sum_r amp_r a(u_r)^H (n eps relative error)
    rng = np.random.default_rng(0)
    amp = (rng.standard_normal(300) + 1j * rng.standard_normal(300)).astype(dtype)
    uu = rng.uniform(-1, 1, 300)
    explicit = np.asarray(amp, np.complex128) @ np.conj(np.exp(1j * np.pi * np.outer(uu, np.arange(30))))
    got = np.asarray(ula_ray_sum(jnp.asarray(amp), jnp.asarray(uu), 30))
    assert got.dtype == dtype
    assert np.linalg.norm(got - explicit) <= (1e-5 if dtype == jnp.complex64 else 1e-12) * np.linalg.norm(explicit)
    # a source 30 deg off broadside of an x-axis array at elevation 0: u = cos(60 deg) = 0.5
    v = jnp.array([math.cos(math.radians(60)), math.sin(math.radians(60)), 0.0])
    assert float(direction_cosine(v, jnp.array([1.0, 0.0, 0.0]))) == pytest.approx(0.5)


# ------------------------------------------------------------------ sensing channels (8)-(10)
def test_sensing_channels_amplitude_and_rank(drops, small_cfg):
    """|G_tar| elementwise = sqrt(eq. (9)) (unit-modulus responses), each G_tar is rank one."""
    assert 10 * math.log10(float(bistatic_gain(50.0, 25.0, 1.0, 0.02))) == pytest.approx(-128.9, abs=0.05)
    G = drops["G_tar"][:50]                                     # [b, M, T, R, Nr, Nt]
    alpha = drops["alpha_tar"][:50]                             # [b, M, T, R]
    np.testing.assert_allclose(np.abs(G), np.sqrt(alpha)[..., None, None] * np.ones(G.shape), rtol=1e-10)
    s = np.linalg.svd(G.reshape(-1, *G.shape[-2:]), compute_uv=False)
    assert np.all(s[:, 1] <= 1e-10 * s[:, 0])
    # receiver broadside toward the centre: u of each target within [-1, 1]; geometry of eq. (9)
    assert np.all(np.abs(drops["theta_tar_rx"]) <= 1.0) and np.all(np.abs(drops["theta_sat_rx"]) <= 1.0)
    np.testing.assert_allclose(drops["delta_sat"], 2.0 / small_cfg.n_rx)
    assert drops["G_cl"].shape[2] == small_cfg.n_clutter


def test_geometry_placement_bounds(small_cfg):
    p = small_cfg.channel_params()
    geo = jax.jit(jax.vmap(draw_geometry, (0, None)), static_argnums=1, compiler_options=QUICK_COMPILE)(jax.random.split(jax.random.PRNGKey(3), 500), p)
    assert np.all(np.linalg.norm(geo["tar"][..., :2], axis=-1) <= p.r_sens_m)
    cl_off = geo["cl"][..., :2] - np.repeat(geo["tar"][..., :2], p.clutter_per_target, axis=1)
    assert np.all(np.linalg.norm(cl_off, axis=-1) <= p.clutter_radius_m + 1e-9)
    sut_d = np.linalg.norm(geo["sut"][:, :2], axis=-1)
    assert sut_d.min() >= p.min_d2d_m and sut_d.max() <= p.cell_radius_m
    # radar receivers at (r/2, 0), (0, r/2) for R = 2; array axis perpendicular to the radius
    np.testing.assert_allclose(geo["rx"][0, :, :2], [[25.0, 0.0], [-25.0, 0.0]], atol=1e-9)
    np.testing.assert_allclose(np.sum(geo["rx"][0] * geo["rx_axis"][0], -1), 0.0, atol=1e-9)


def test_paper_literal_mode_is_eq4():
    ls = dict(los=jnp.array(False), pr_los=jnp.array(0.4), beta_los=jnp.array(4.0), beta_nlos=jnp.array(9.0),
              k_r=jnp.array(8.0))
    ss = dict(los_path=jnp.ones(3, complex), diff_los=2j * jnp.ones(3), diff_nlos=3 * jnp.ones(3, complex))
    np.testing.assert_allclose(uma.combine(ls, ss, "paper_literal"), 0.4 * 2 + 3 * 3)
    np.testing.assert_allclose(uma.combine(ls, ss, "3gpp"), 3 * 3)               # NLOS state
    ls["los"] = jnp.array(True)
    np.testing.assert_allclose(uma.combine(ls, ss, "3gpp"), 2 * (math.sqrt(8 / 9) + 2j / 3))


# ------------------------------------------------------------------ aging, batching, precision
def test_channel_aging_correlation(drops):
    """h = rho h_pre + sqrt(1 - rho^2) h_new with the same large scale: E[<h_pre, h> / ||h_pre||^2] = rho."""
    hp, h = drops["h_tut_pre"], drops["h_tut"]
    r = np.real(np.sum(np.conj(hp) * h, -1)) / np.sum(np.abs(hp) ** 2, -1)
    assert abs(r.mean() - 0.9) <= 5 * r.std() / math.sqrt(r.size)
    assert np.allclose(drops["h_sut_pre"].shape, drops["h_sut"].shape)


def test_vmap_over_drops_equals_loop_over_single_drops(drops, small_cfg):
    """Batched (vmap) drops equal jit(draw_cell) called drop by drop.  Tolerance 1e-7 relative:
    XLA's vectorised p / max(p) is not exactly 1 for the strongest cluster, and eq. (7.5-9)'s
    sqrt(-ln(p / max p)) turns that ulp into a ~1e-8 degree cluster-angle difference."""
    p = small_cfg.channel_params()
    keys = drop_keys(jax.random.PRNGKey(SEED), jnp.arange(3), N_CELLS)
    one = jax.jit(draw_cell, static_argnums=1, compiler_options=QUICK_COMPILE)
    for i in range(3):
        for m in range(N_CELLS):
            single = one(keys[i, m], p)
            for name, v in single.items():
                ref = drops[name][i, m]
                if ref.dtype.kind in "fc":
                    np.testing.assert_allclose(np.asarray(v), ref, rtol=1e-7, atol=1e-7 * np.max(np.abs(ref)), err_msg=name)
                else:
                    np.testing.assert_array_equal(np.asarray(v), ref, err_msg=name)


def test_drop_is_independent_of_chunking(drops, small_cfg):
    """Drops 100..227 drawn starting at 100 (same jit chunk shape as the fixture, other batch composition) equal those of the fixture, bit for bit."""
    part = generate_instance(small_cfg, 128, SEED, N_CELLS, precision="float64", start=100, chunk=128,
                            quick_compile=True)
    for name, v in part.items():
        np.testing.assert_array_equal(v, drops[name][100:228], err_msg=name)


def test_float32_agrees_with_float64(drops, small_cfg):
    """Same seed: complex64 synthesis vs complex128 within 2e-5 relative (norm per field);
    random draws and geometry are float64 in both, so real fields are identical."""
    f32 = generate_instance(small_cfg, 128, SEED, N_CELLS, precision="float32", chunk=128, quick_compile=True)
    for name, v in f32.items():
        ref = drops[name][:128]
        if np.iscomplexobj(v):
            assert v.dtype == np.complex64
            assert np.linalg.norm(v - ref) <= 2e-5 * np.linalg.norm(ref), name
        else:
            np.testing.assert_array_equal(v, ref, err_msg=name)


def test_cluster_azimuth_offset_is_finite_at_ratio_rounding():
    """38.901 eq. (7.5-9) at P_n / max P = 1 + eps (XLA:GPU's x * (1/max) rewrite) and at 0.

    The strongest cluster gets offset 0; a cluster 25 dB down gets 2 (ASA/1.4) sqrt(ln 10^2.5) / C.
    """
    import jax.numpy as jnp
    from jaxcore.istn.uma import cluster_azimuth_offset

    r = jnp.array([1.0 + 2e-16, 1.0 + 1e-7, 1.0, 10.0 ** -2.5, 0.0], jnp.float64)
    out = np.asarray(cluster_azimuth_offset(r, 14.0, 1.289))
    assert np.all(np.isfinite(out))
    assert out[0] == out[1] == out[2] == 0.0
    np.testing.assert_allclose(out[3], 2 * 10.0 * np.sqrt(2.5 * np.log(10)) / 1.289, rtol=1e-12)
