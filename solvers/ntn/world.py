"""The NTN world: Walker shells over a populated cell grid with a rain field, frame by frame.

NTN spec ``../shared/spec/ntn.md`` §2 eqs. (1)-(10) and §3 evaluation loop steps 1-3.

Public API (for ``satisac ntn generate`` and the frame-loop simulation)::

    world = make_world(cfg, seed)                       # static part, host + JAX, float64
    frames, rain_state = evolve(world, start, n_frames, rain_state=None)
    frames = world_frames(cfg, seed, n_frames)          # make_world + evolve from frame 0
    timing = frame_timing(cfg, n_cells)                 # (11)-(16): tau_max, n_sens, t_ho, n_com
    inst = allocation_instance(frames, cfg, prev_served=None)   # interfaces.md §3 dict

``frames`` is a dict of numpy arrays, F frames, C cells, S = static satellites-in-view
width (the set S(k) of satellites with >= 1 cell in range for the WHOLE frame, padded with
``sat_id = -1`` columns whose rate is 0; columns sorted by global satellite id):

    frame [F] int            frame index k          t_start [F] s   start time of frame k
    sat_id [F,S] int         global id (-1 = pad)   shell [F,S] int  shell index (-1 = pad)
    in_range [F,C,S] bool    max distance over the frame <= d_max (condition of (5))
    distance [F,C,S] m       worst-case distance d_{c,s}(k) (corners+centre, start/mid/end)
    elevation [F,C,S] rad    min over start/mid/end of the elevation at the cell centre
    snr_clear [F,C,S]        clear-sky SNR gamma^cs (4) with A = 1 (linear; 0 if not in range)
    atten [F,C,S]            rain attenuation A_{c,s}(k) (6), linear >= 1 (1 for rain-free bands)
    snr [F,C,S]              true SNR gamma = gamma^cs / A (0 if not in range)
    rate [F,C,S] bit/s       true rate r_{c,s}(k) (5)
    sensed [F,C,S] bool      pair measured with pilots (rain band and in range)
    snr_seen [F,C,S]         SNR the allocator sees this frame for cfg.sensing_mode
                             (perfect: snr; none: snr_clear; pilots: snr_clear / A_tilde (22))
    atten_est [F,C,S]        A_tilde used for snr_seen (1 where not sensed)
    rain_rate [F,C] mm/h     R_c(k) (10)
    sat_lat, sat_lon [F,S]   sub-satellite point at mid-frame, degrees (NaN for pads)
    rain_active [F,N_rain]   rain-cell activity X_i(k);  n_in_view [F] |S(k)|;  n_dropped [F]
                             satellites beyond a fixed ``max_sats_in_view`` (0 when auto)
    n_active [C]             active users beta N_c;  population [C];  cell_lat, cell_lon [C] deg
Per-column constants (bandwidth, beams, ...) come from ``cfg.shell_*[shell]``.  All float
arrays are float64 whatever the CLI precision (geometry is computed under x64).
Cell index c = i_lat * n_lon + i_lon (i_lat = 0 southernmost), see ``population.grid_centres``.
S is the max |S(k)| over the frames of ONE ``evolve`` call (or ``max_sats_in_view``): two
calls may give different S; pass ``max_sats_in_view`` for a fixed width.

Randomness: frame k uses keys ``fold_in(key, k)``, so a run split into chunks (``evolve``
with ``start`` and the returned ``rain_state``) gives the same frames as one call.
Rain chain: the stored state is that of frame ``start - 1``; the initial draw (frame -1)
is from the stationary law (9), so every frame is stationary.

Choices (spec REC-M): slant path for (6) uses the smallest centre elevation of the frame
(consistent with the worst-case distance in (3)); satellite candidates for each frame are
the K nearest of each shell to the box centre at mid-frame, with K checked to contain every
satellite that could be in range (doubled and recomputed otherwise).
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from jaxcore.ntn import links, orbits, rain, sensing, timing
from solvers.configio import ConfigError
from solvers.ntn.config import NtnConfig
from solvers.ntn.itu import p838_coefficients, p839_rain_height
from solvers.ntn.population import cell_population, grid_centres

PAD_SIGMAS = 8.0  # rain-cell slots: mean + PAD_SIGMAS sqrt(mean) + 16


@dataclass(frozen=True, eq=False)
class World:
    """Static part of the world (numpy float64 arrays; see module docstring)."""

    cfg: NtnConfig
    seed: int
    cell_lat: np.ndarray  # [C] deg
    cell_lon: np.ndarray  # [C] deg
    cell_points: np.ndarray  # [C, 5, 3] m, 4 corners + centre (ECEF)
    population: np.ndarray  # [C]
    n_active: np.ndarray  # [C]
    elements: orbits.Elements  # [N] each, all shells
    sat_shell: np.ndarray  # [N] int
    shell_offsets: tuple  # first satellite id of each shell
    d_max: np.ndarray  # [n_shells] m, eq. (2)
    snr_const: np.ndarray  # [n_shells] P G_s G_cs / (eta N_0 B) (linear, per m^-2 x FSPL)
    freq_hz: np.ndarray  # [n_shells]
    bandwidth_hz: np.ndarray  # [n_shells]
    rain_a: np.ndarray  # [n_shells] P.838 a (0 for rain-free bands)
    rain_b: np.ndarray  # [n_shells] P.838 b
    rain_height_km: np.ndarray  # [C]
    rain_cells: rain.RainCells  # [N_rain]
    cover: np.ndarray  # [C, N_rain] bool
    rain_state0: rain.RainState  # state of frame -1
    cand_k: tuple  # candidates per shell
    box_centre: np.ndarray  # [3] m
    box_radius: float  # m, max distance from the box centre to a cell corner


def _initial_cand_k(cfg, d_max, box_radius):
    """Guess of the candidates needed per shell: 3x the uniform-density count in the cap + 16."""
    out = []
    for j in range(cfg.n_shells):
        n = cfg.shell_planes[j] * cfg.shell_sats_per_plane[j]
        r = orbits.R_E + cfg.shell_altitude_km[j] * 1e3
        d = d_max[j] + box_radius
        cos_t = np.clip((orbits.R_E ** 2 + r ** 2 - d ** 2) / (2 * orbits.R_E * r), -1, 1)
        out.append(int(min(n, math.ceil(3 * n * (1 - cos_t) / 2) + 16)))
    return tuple(out)


def _rain_box(cfg: NtnConfig):
    """Box plus margin (rad) where rain cells are placed, the mean count and the static slot count."""
    m_lat = cfg.rain_margin_km / rain.R_E_KM
    m_lon = m_lat / math.cos(math.radians(min(89.0, max(abs(cfg.lat_min_deg), abs(cfg.lat_max_deg)))))
    lat0 = max(-math.pi / 2, math.radians(cfg.lat_min_deg) - m_lat)
    lat1 = min(math.pi / 2, math.radians(cfg.lat_max_deg) + m_lat)
    lon0, lon1 = math.radians(cfg.lon_min_deg) - m_lon, math.radians(cfg.lon_max_deg) + m_lon
    mean = cfg.rain_density_per_km2 * rain.R_E_KM ** 2 * (lon1 - lon0) * (math.sin(lat1) - math.sin(lat0))
    return (lat0, lat1, lon0, lon1), mean, int(math.ceil(mean + PAD_SIGMAS * math.sqrt(mean) + 16))


@jax.jit
def _cell_points(lat_c, lon_c, half):
    dl = jnp.array([[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0], [0.0, 0.0]]) * half  # corners + centre
    return orbits.geodetic_to_ecef(jnp.radians(lat_c[:, None] + dl[None, :, 0]),
                                   jnp.radians(lon_c[:, None] + dl[None, :, 1]))  # [C, 5, 3]


def _program_cfg(cfg: NtnConfig) -> NtnConfig:
    """``cfg`` as the static argument of the jitted world programs: T_HO (read on the host only)
    and T_f (passed traced) set to None, so a sweep over them (Table III, Fig. 11) reuses one
    compiled program; a program that read either would fail loudly.  Frames are bit-identical
    to the build with both as constants (``tests/solvers/ntn/test_world.py``)."""
    c = copy.copy(cfg)
    object.__setattr__(c, "t_ho_s", None)
    object.__setattr__(c, "t_frame_s", None)
    return c


@partial(jax.jit, static_argnums=0)
def _make_device(cfg: NtnConfig, t_frame_s, key, lat_c, lon_c):
    """Constellation elements, rain cells, cover matrix and initial rain state (one compile;
    ``cfg`` from ``_program_cfg``, ``t_frame_s`` traced)."""
    el = orbits.concat_elements([
        orbits.walker_delta(cfg.shell_altitude_km[j] * 1e3, math.radians(cfg.shell_inclination_deg[j]),
                            cfg.shell_planes[j], cfg.shell_sats_per_plane[j], cfg.shell_phasing[j])
        for j in range(cfg.n_shells)])
    k_cells, k_init = jax.random.split(jax.random.fold_in(key, 1))
    (lat0, lat1, lon0, lon1), _, n_max = _rain_box(cfg)
    rc = rain.sample_rain_cells(k_cells, n_max, lat0, lat1, lon0, lon1, cfg.rain_density_per_km2,
                                cfg.rain_mean_radius_km)
    cover = rain.cell_cover(jnp.radians(lat_c), jnp.radians(lon_c), rc)
    p10, p01 = rain.transition_probs(t_frame_s, cfg.rain_mean_duration_h * 3600, cfg.rain_mean_gap_h * 3600)
    st0 = rain.init_rain_state(k_init, n_max, rain.stationary_active(p10, p01), cfg.rain_mean_intensity_mmh)
    return el, rc, cover, st0


def make_world(cfg: NtnConfig, seed: int) -> World:
    """Build the grid, population, constellation, link constants and the rain cells."""
    with jax.enable_x64(True):
        lat_c, lon_c = grid_centres(cfg)
        cell_points = np.asarray(_cell_points(jnp.asarray(lat_c), jnp.asarray(lon_c), cfg.cell_deg / 2))
        pop = cell_population(cfg)
        el, rc, cover, st0 = _make_device(_program_cfg(cfg), jnp.asarray(cfg.t_frame_s, jnp.float64),
                                          jax.random.PRNGKey(seed), jnp.asarray(lat_c), jnp.asarray(lon_c))
        el = orbits.Elements(*(np.asarray(a) for a in el))
        counts = [p * q for p, q in zip(cfg.shell_planes, cfg.shell_sats_per_plane)]
        sat_shell = np.repeat(np.arange(cfg.n_shells), counts)
        offs = tuple(int(o) for o in np.concatenate([[0], np.cumsum(counts)[:-1]]))
        alt = np.array(cfg.shell_altitude_km) * 1e3
        s = np.sin(np.radians(cfg.shell_min_elev_deg))
        d_max = np.sqrt((orbits.R_E * s) ** 2 + 2 * orbits.R_E * alt + alt ** 2) - orbits.R_E * s  # eq. (2)
        db = lambda x: 10.0 ** (np.asarray(x, float) / 10.0)  # noqa: E731
        bw = np.array(cfg.shell_bandwidth_mhz) * 1e6
        n0 = db(np.array(cfg.shell_noise_psd_dbm_hz) - 30.0)  # W/Hz
        snr_const = (np.array(cfg.shell_power_w) * db(cfg.shell_sat_gain_dbi) * db(cfg.shell_user_gain_dbi)
                     / (db(np.array(cfg.shell_pointing_loss_db) + np.array(cfg.shell_misc_loss_db)) * n0 * bw))  # eq. (4) times PL
        freq = np.array(cfg.shell_freq_ghz) * 1e9
        ab = [p838_coefficients(f, 45.0, cfg.rain_tilt_deg) if r else (0.0, 1.0)
              for f, r in zip(cfg.shell_freq_ghz, cfg.shell_rain)]
        if cfg.rain_height_mode == "itu-p839":
            h_r = p839_rain_height(lat_c, lon_c)
        else:
            h_r = np.full(lat_c.shape, cfg.rain_height_km)
        clat, clon = np.radians((cfg.lat_min_deg + cfg.lat_max_deg) / 2), np.radians((cfg.lon_min_deg + cfg.lon_max_deg) / 2)
        centre = orbits.R_E * np.array([np.cos(clat) * np.cos(clon), np.cos(clat) * np.sin(clon), np.sin(clat)])
        box_radius = float(np.linalg.norm(cell_points - centre, axis=-1).max())
        return World(cfg, int(seed), lat_c, lon_c, cell_points, pop, cfg.active_ratio * pop, el, sat_shell, offs,
                     d_max, snr_const, freq, bw, np.array([a for a, _ in ab]), np.array([b for _, b in ab]), h_r,
                     rain.RainCells(*(np.asarray(a) for a in rc)), np.asarray(cover),
                     rain.RainState(*(np.asarray(a) for a in st0)),
                     _initial_cand_k(cfg, d_max, box_radius), centre, box_radius)


def _frame_geometry(cfg: NtnConfig, shells: tuple, s_cap: int, tf, w: dict, t0, rain_rate, key):
    """One frame: candidates, worst-case geometry, (3)-(6), compaction to ``s_cap`` columns
    (``cfg`` from ``_program_cfg``; ``tf`` = T_f, traced)."""
    times = t0 + jnp.array([0.0, tf / 2, tf])  # [3]
    pos = orbits.ecef_positions(w["el"], times)  # [3, N, 3]
    d_centre = jnp.linalg.norm(pos[1] - w["centre"], axis=-1)  # [N]
    idx, ok = [], []
    for j, (o, n, k) in enumerate(shells):  # static (first id, count, candidates) per shell
        negd, ii = jax.lax.top_k(-d_centre[o:o + n], k)
        idx.append(ii + o)
        ok.append((k == n) | (-negd[-1] > w["d_max"][j] + w["box_radius"]))
    idx = jnp.concatenate(idx)  # [K]
    shell = w["sat_shell"][idx]  # [K]
    p = pos[:, idx]  # [3, K, 3]
    dist = links.worst_case_distance(p, w["points"])  # [C, K]
    centre_pts = w["points"][:, 4]  # [C, 3]
    elev = jnp.min(jax.vmap(lambda s: links.elevation(s[None, :, :], centre_pts[:, None, :]))(p), axis=0)  # [C, K]
    in_range = links.in_range_whole_frame(dist, w["d_max"][shell][None, :])
    snr_cs = w["snr_const"][shell] / links.fspl(dist, w["freq"][shell])  # [C, K]
    snr_cs = snr_cs / links.gas_loss(w["gas_zenith_db"][shell], jnp.maximum(elev, 1e-3))  # 1 when zenith loss is 0
    path = rain.slant_path_km(w["h_r"][:, None], jnp.maximum(elev, 1e-3))
    a_db = rain.rain_attenuation_db(w["rain_a"][shell], w["rain_b"][shell], rain_rate[:, None], path)
    atten = 10.0 ** (a_db / 10.0)
    snr_cs = jnp.where(in_range, snr_cs, 0.0)
    snr_t = snr_cs / atten
    rate_t = links.rate(w["bw"][shell], snr_t, in_range)
    sensed = in_range & w["rain_shell"][shell][None, :]
    any_in = in_range.any(axis=0)  # [K]
    sid = idx
    order = jnp.argsort(jnp.where(any_in, sid, sid + 10 ** 9))[:s_cap]  # in-view first, by id
    valid = any_in[order]
    lat, lon = orbits.subsatellite_point(p[1, order])
    col = lambda a: a[:, order]  # noqa: E731  [C, s_cap]
    ok_c, sensed_c, snr_c, cs_c = col(in_range), col(sensed), col(snr_t), col(snr_cs)
    # sensing on the compacted columns only (step 3 of spec §3)
    seen, a_est = sensing.allocator_snr(cfg.sensing_mode, key, jnp.where(ok_c, snr_c, 1.0),
                                        jnp.where(ok_c, cs_c, 1.0), cfg.pilot_len, sensed_c)
    out = dict(sat_id=jnp.where(valid, sid[order], -1), shell=jnp.where(valid, shell[order], -1),
               in_range=ok_c, distance=col(dist), elevation=col(elev), snr_clear=cs_c,
               atten=col(atten), snr=snr_c, rate=col(rate_t), sensed=sensed_c,
               snr_seen=jnp.where(ok_c, seen, 0.0), atten_est=jnp.where(sensed_c, a_est, 1.0),
               sat_lat=jnp.where(valid, jnp.degrees(lat), jnp.nan), sat_lon=jnp.where(valid, jnp.degrees(lon), jnp.nan))
    return out, jnp.all(jnp.array(ok)), any_in.sum()


_frames_jit = jax.jit(lambda cfg, shells, s_cap, tf, w, t0s, rr, keys: jax.lax.map(
    lambda a: _frame_geometry(cfg, shells, s_cap, tf, w, *a), (t0s, rr, keys)), static_argnums=(0, 1, 2))


@partial(jax.jit, static_argnums=0)
def _rain_jit(cfg: NtnConfig, t_frame_s, key, frames, st, cover):
    """Rain chain over the frames (lax.scan), R_c(k) (10) and the per-frame sensing keys
    (``cfg`` from ``_program_cfg``, ``t_frame_s`` traced)."""
    k_rain, k_sense = jax.random.fold_in(key, 2), jax.random.fold_in(key, 3)
    keys_r = jax.vmap(lambda k: jax.random.fold_in(k_rain, k))(frames)
    keys_s = jax.vmap(lambda k: jax.random.fold_in(k_sense, k))(frames)
    p10, p01 = rain.transition_probs(t_frame_s, cfg.rain_mean_duration_h * 3600, cfg.rain_mean_gap_h * 3600)
    st_end, hist = rain.evolve_rain(st, keys_r, p10, p01, cfg.rain_mean_intensity_mmh, cfg.rain_redraw == "frame")
    return st_end, hist, rain.cell_rain_rate(cover, hist.active, hist.intensity), keys_s


def _device_world(world: World) -> dict:
    cfg = world.cfg
    return dict(el=orbits.Elements(*(jnp.asarray(a) for a in world.elements)), centre=jnp.asarray(world.box_centre),
                d_max=jnp.asarray(world.d_max), box_radius=world.box_radius, sat_shell=jnp.asarray(world.sat_shell),
                points=jnp.asarray(world.cell_points), snr_const=jnp.asarray(world.snr_const),
                freq=jnp.asarray(world.freq_hz), h_r=jnp.asarray(world.rain_height_km),
                rain_a=jnp.asarray(world.rain_a), rain_b=jnp.asarray(world.rain_b), bw=jnp.asarray(world.bandwidth_hz),
                rain_shell=jnp.asarray(np.array(cfg.shell_rain)),
                gas_zenith_db=jnp.asarray(np.array(cfg.shell_gas_zenith_db, float)))


def evolve(world: World, start: int, n_frames: int, rain_state: rain.RainState | None = None, chunk: int = 60,
           progress=None):
    """Frames ``start .. start + n_frames - 1`` (dict of numpy arrays) and the final rain state.

    ``rain_state`` is the state of frame ``start - 1`` (``None``: ``world.rain_state0``, only
    valid for ``start = 0``).  Frames are computed ``chunk`` at a time to bound memory;
    ``progress(n)`` (optional) is called with the number of frames finished after each chunk.
    """
    cfg = world.cfg
    if rain_state is None:
        if start != 0:
            raise ValueError("evolve: rain_state of frame start-1 is required when start > 0")
        rain_state = world.rain_state0
    with jax.enable_x64(True):
        frames = np.arange(start, start + n_frames)
        pcfg, tf = _program_cfg(cfg), jnp.asarray(cfg.t_frame_s, jnp.float64)
        st_end, hist, rr, keys_s = _rain_jit(pcfg, tf, jax.random.PRNGKey(world.seed), jnp.asarray(frames),
                                             rain.RainState(*(jnp.asarray(a) for a in rain_state)),
                                             jnp.asarray(world.cover))
        t0s = cfg.epoch_offset_s + frames * cfg.t_frame_s
        w = _device_world(world)
        counts = tuple(p * q for p, q in zip(cfg.shell_planes, cfg.shell_sats_per_plane))
        cand_k = world.cand_k
        k_tot = sum(cand_k)
        s_cap = min(k_tot, cfg.max_sats_in_view or 128)
        parts = []
        chunk = min(chunk, n_frames)
        for a in range(0, n_frames, chunk):
            # fixed chunk length (last chunk padded by repeating its last frame) -> one compile
            sl = np.minimum(np.arange(a, a + chunk), n_frames - 1)
            n_real = min(chunk, n_frames - a)
            while True:
                out, ok, n_in = _frames_jit(pcfg, tuple(zip(world.shell_offsets, counts, cand_k)), s_cap, tf, w,
                                            jnp.asarray(t0s[sl]), rr[sl], keys_s[sl])
                if not bool(np.all(ok)):
                    cand_k = tuple(min(2 * k, n) for k, n in zip(cand_k, counts))
                    k_tot = sum(cand_k)
                    s_cap = min(k_tot, cfg.max_sats_in_view or 128)
                    continue
                if not cfg.max_sats_in_view and int(np.max(n_in)) > s_cap and s_cap < k_tot:
                    s_cap = k_tot
                    continue
                break
            n_keep = int(np.max(n_in[:n_real])) if not cfg.max_sats_in_view else s_cap
            # copy the used columns so the full-width device buffers of the chunk are freed
            parts.append(({k: np.array(np.asarray(v)[:n_real, ..., :max(1, min(n_keep, s_cap))]) for k, v in out.items()},
                          int(np.max(n_in[:n_real]))))
            del out
            if progress is not None:
                progress(n_real)
        object.__setattr__(world, "cand_k", cand_k)
        s_need = max(n for _, n in parts)
        s_out = cfg.max_sats_in_view or max(1, s_need)
        res = {}
        for k in list(parts[0][0]):  # key by key, freeing the chunks as we go (peak ~ output size)
            res[k] = np.concatenate([_pad_cols(k, p.pop(k), s_out) for p, _ in parts])
        res.update(frame=frames, t_start=t0s, rain_rate=np.asarray(rr), n_active=world.n_active,
                   population=world.population, cell_lat=world.cell_lat, cell_lon=world.cell_lon,
                   n_in_view=(res["sat_id"] >= 0).sum(-1),
                   n_dropped=np.maximum(0, s_need - s_out) * np.ones(n_frames, int),
                   rain_active=np.asarray(hist.active))
        return res, rain.RainState(*(np.asarray(a) for a in st_end))


_PAD = dict(sat_id=-1, shell=-1, sat_lat=np.nan, sat_lon=np.nan, atten=1.0, atten_est=1.0)


def _pad_cols(name: str, a: np.ndarray, width: int) -> np.ndarray:
    """Slice or pad the satellite (last) axis of a chunk to ``width`` with padding-column values."""
    if a.shape[-1] >= width:
        return a[..., :width]
    pad = np.full(a.shape[:-1] + (width - a.shape[-1],), _PAD.get(name, 0), a.dtype)
    return np.concatenate([a, pad], axis=-1)


def world_frames(cfg: NtnConfig, seed: int, n_frames: int) -> dict:
    """Frames 0..n_frames-1 of a fresh world (``make_world`` + ``evolve``)."""
    return evolve(make_world(cfg, seed), 0, n_frames)[0]


def frame_timing(cfg: NtnConfig, n_cells: int | None = None) -> dict:
    """(11)-(16) from the config: tau_max, n_sens (0 unless sensing_mode = pilots), t_sens, t_ho, n_com."""
    alt = np.array(cfg.shell_altitude_km) * 1e3
    with jax.enable_x64(True):
        d_max = [float(links.max_slant_range(jnp.float64(a), math.radians(e))) for a, e in zip(alt, cfg.shell_min_elev_deg)]
    sensed = [j for j in range(cfg.n_shells) if cfg.shell_rain[j]]
    tau = timing.tau_max([d_max[j] for j in sensed] if (cfg.tau_sensed_only and sensed) else d_max)
    n_bar = cfg.sensing_max_cells or (n_cells if n_cells is not None else cfg.n_cells)
    n_sens = 0
    if cfg.sensing_mode == "pilots" and sensed:
        n_sens = max(timing.n_sensing_frames_for(n_bar, cfg.shell_beams[j], cfg.pilot_len, cfg.feedback_len,
                                                 cfg.shell_bandwidth_mhz[j] * 1e6, tau, cfg.t_ofdma_s) for j in sensed)
    t_ho = timing.handover_time(cfg.ho_kappa, tau, cfg.t_ofdma_s) if cfg.handover_mode == "kappa" else cfg.t_ho_s
    return dict(tau_max=tau, d_max=d_max, n_sens=n_sens, t_sens=n_sens * cfg.t_ofdma_s, t_ho=t_ho,
                n_com=timing.n_com(cfg.t_frame_s, cfg.t_ofdma_s, n_sens))


def checked_timing(cfg: NtnConfig, n_cells: int | None = None) -> dict:
    """:func:`frame_timing`, raising ConfigError when sensing leaves no OFDMA frame (N_com < 1)."""
    tm = frame_timing(cfg, n_cells)
    if tm["n_com"] < 1:
        raise ConfigError(f"pilot_len: sensing takes N_sens = {tm['n_sens']} OFDMA frames, leaving no frame "
                          f"for communication (N_F = {cfg.n_frames_per_frame}); shorten pilot_len or lengthen t_frame_s")
    return tm


def previous_best_served(frames: dict) -> np.ndarray:
    """Default ``prev_served`` [F,C,S] of ``satisac ntn generate`` (documented rule).

    Frame 0 (first frame of the file): all False.  Frame k > 0: cell c counts as served in
    frame k-1 by its best satellite there (largest ``snr_seen`` among in-range pairs); the
    flag is set on the column of frame k holding the same satellite id, if that pair is in
    range in frame k (otherwise no pair of c is marked and a handover is charged).
    """
    sid, ok, seen = frames["sat_id"], frames["in_range"], frames["snr_seen"]
    prev = np.zeros(ok.shape, bool)
    if ok.shape[0] > 1:
        best_col = np.argmax(np.where(ok[:-1], seen[:-1], -1.0), axis=-1)  # [F-1, C]
        has = ok[:-1].any(-1)
        best_id = np.where(has, np.take_along_axis(sid[:-1], best_col, axis=-1), -2)  # [F-1, C]
        prev[1:] = (sid[1:, None, :] == best_id[:, :, None]) & ok[1:]
    return prev


def allocation_instance(frames: dict, cfg: NtnConfig, prev_served: np.ndarray | None = None,
                        rate_from: str = "seen") -> dict:
    """Allocation instance arrays of interfaces.md §3 for every frame in ``frames``.

    ``rate`` = B log2(1 + snr_seen) on in-range pairs (the rate the allocator believes,
    for ``cfg.sensing_mode``) or the true rate (``rate_from="true"``).  ``n_com`` =
    N_F - N_sens with N_sens from (12)-(14) for ``pilots`` and 0 otherwise; ``t_ho`` from
    config or (16).  Padding columns get ``n_beams = 0``.
    """
    F, C, S = frames["rate"].shape
    tm = checked_timing(cfg, C)
    shell = frames["shell"]
    bw = np.array(cfg.shell_bandwidth_mhz)[np.maximum(shell, 0)] * 1e6  # [F, S]
    if rate_from == "true":
        rate = frames["rate"]
    else:
        rate = np.where(frames["in_range"], bw[:, None, :] * np.log2(1.0 + frames["snr_seen"]), 0.0)
    prev = previous_best_served(frames) if prev_served is None else np.asarray(prev_served, bool)
    ones = np.ones(F)
    return dict(rate=rate, n_active=np.broadcast_to(frames["n_active"], (F, C)).astype(float), prev_served=prev,
                t_ho=tm["t_ho"] * ones, n_com=np.full(F, tm["n_com"], np.int32),
                n_beams=np.where(shell >= 0, np.array(cfg.shell_beams)[np.maximum(shell, 0)], 0).astype(np.int32),
                t_ofdma=cfg.t_ofdma_s * ones, t_frame=cfg.t_frame_s * ones, eps=cfg.eps_bits * ones,
                sat_id=frames["sat_id"].astype(np.int32), shell=frames["shell"].astype(np.int32),
                frame=np.asarray(frames["frame"], np.int64), snr_clear=frames["snr_clear"],
                cell_lat=np.broadcast_to(frames["cell_lat"], (F, C)).astype(float),
                cell_lon=np.broadcast_to(frames["cell_lon"], (F, C)).astype(float))
