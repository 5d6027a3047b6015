"""Frame-by-frame NTN simulation with sensing, allocation and KPIs (spec §3 evaluation loop).

One *episode* = ``n_frames`` consecutive frames of one world (seeded by ``(seed, episode)``).
Per frame k and method m:

1. world step (:func:`solvers.ntn.world.evolve`): geometry, in-range pairs, clear-sky and
   true SNR, rain attenuation, pilot estimates ``A~`` (22) of frame k;
2. the allocator's SNR for frame k uses frame-k geometry and the estimates of frame k-1
   (the allocation computed in frame k-1 is applied in frame k, spec §3 step 4, TXT):
   ``perfect``: true SNR (no sensing overhead); ``none``: clear-sky SNR; ``pilots``: per
   cell, the rain index ``rho_c = mean_{s' sensed in k-1} A~_dB(k-1, s') sin(elev(k-1, s'))``
   converted to every rain-band pair of frame k as ``A_dB = rho_c / sin(elev(k, s))`` — the
   spec's rain-rate conversion (6) with the slant path h_R/sin(elev), h_R cancelling (REC-L;
   the same rule covers satellites not sensed in k-1).  Frame 0 has no history: it uses
   clear-sky SNR;
3. allocation by ``m`` with (23) charged against the pairs served in frame k-1 (matched by
   global satellite id);
4. delivered rate: the selected rate ``B log2(1 + snr_alloc)`` if it does not exceed the true
   capacity, else outage (0 bit/s for the frame, spec REC-M);
5. KPIs: user-weighted mean per-user throughput (24), Jain's index (38), handovers (cells
   newly attached) per second, NMSE (39) of the allocator's SNR and attenuation over the
   rain-band pairs in range, DMRAB infeasibility.

Frames are sequential (the handover charge of frame k depends on the allocation of k-1),
so the frame loop is a Python loop; each frame's solve is one jitted call.  Independent
episodes are the runner's "drops" (:mod:`solvers.runner`), one row per frame and method.
"""
from __future__ import annotations

import numpy as np

from solvers.ntn.allocate import JmraConfig, per_user_throughput, solve_allocation
from solvers.ntn.config import NtnConfig
from solvers.ntn.world import checked_timing, evolve, make_world
from solvers.runner.montecarlo import chunk_progress


def jain_index(thr: np.ndarray, na: np.ndarray) -> float:
    """(38), user-weighted: (sum N R)^2 / (sum N * sum N R^2) over populated cells."""
    m = na > 0
    num = np.sum(na[m] * thr[m]) ** 2
    den = np.sum(na[m]) * np.sum(na[m] * thr[m] ** 2)
    return float(num / den) if den > 0 else float("nan")


def nmse(est: np.ndarray, true: np.ndarray, mask: np.ndarray) -> float:
    """(39): sum (est - true)^2 / sum true^2 over ``mask``."""
    if not mask.any():
        return float("nan")
    return float(np.sum((est[mask] - true[mask]) ** 2) / np.sum(true[mask] ** 2))


def allocator_snr(cfg: NtnConfig, fr: dict, k: int) -> np.ndarray:
    """SNR the allocator uses for frame k (step 2 of the module docstring); [C, S]."""
    if cfg.sensing_mode == "perfect":
        return fr["snr"][k]
    if cfg.sensing_mode == "none" or k == 0:
        return fr["snr_clear"][k]
    sens = fr["sensed"][k - 1]  # # [C, S'] pairs measured in frame k-1
    a_db = 10 * np.log10(np.maximum(fr["atten_est"][k - 1], 1.0))
    s_prev = np.sin(np.maximum(fr["elevation"][k - 1], 1e-3))
    num = np.sum(np.where(sens, a_db * s_prev, 0.0), axis=1)
    cnt = np.sum(sens, axis=1)
    rho = np.where(cnt > 0, num / np.maximum(cnt, 1), 0.0)  # # [C] rain index, dB x sin
    rain_band = fr["sensed"][k] | (fr["in_range"][k] & (fr["atten"][k] > 1.0))
    a_k = 10 ** (rho[:, None] / np.sin(np.maximum(fr["elevation"][k], 1e-3)) / 10)
    return np.where(rain_band, fr["snr_clear"][k] / a_k, fr["snr_clear"][k])


def run_episode(cfg: NtnConfig, jcfg: JmraConfig, seed: int, n_frames: int, methods, dtype=None,
                progress=None) -> list[dict]:
    """Simulate one episode; returns one row (dict) per frame and method."""
    world = make_world(cfg, seed)
    fr, _ = evolve(world, 0, n_frames)
    tm = checked_timing(cfg, fr["rate"].shape[1])
    na = np.asarray(fr["n_active"], np.float64)
    C = na.size
    bw_shell = np.array(cfg.shell_bandwidth_mhz) * 1e6
    beams = np.array(cfg.shell_beams)
    prev_sat = {m: np.full(C, -1) for m in methods}  # global id serving each cell in k-1
    rows = []
    for k in range(n_frames):
        sid = fr["sat_id"][k]  # # [S]
        shell = fr["shell"][k]
        bw = np.where(shell >= 0, bw_shell[np.maximum(shell, 0)], 0.0)
        snr_a = allocator_snr(cfg, fr, k)
        in_r = fr["in_range"][k]
        rate_a = np.where(in_r, bw[None, :] * np.log2(1.0 + snr_a), 0.0)  # # [C, S] selected rate
        rate_t = fr["rate"][k]
        delivered = np.where(rate_a <= rate_t * (1 + 1e-12), rate_a, 0.0)  # outage rule
        rain_pairs = fr["sensed"][k]
        base = dict(rate=rate_a[None], n_active=na[None], t_ho=np.array([tm["t_ho"]]),
                    n_com=np.array([tm["n_com"]]), n_beams=np.where(shell >= 0, beams[np.maximum(shell, 0)], 0)[None],
                    t_ofdma=np.array([cfg.t_ofdma_s]), t_frame=np.array([cfg.t_frame_s]),
                    eps=np.array([cfg.eps_bits]))
        for m in methods:
            prev = (sid[None, :] == prev_sat[m][:, None]) & (sid[None, :] >= 0) & in_r
            inst = dict(base, prev_served=prev[None])
            sol = solve_allocation(inst, m, jcfg, dtype=dtype, metric=snr_a[None])
            x = sol.x[0]
            infeasible = bool(sol.infeasible[0])
            thr = np.maximum(per_user_throughput(inst, x[None], rate=delivered[None])[0], 0.0)
            served = x > 0
            new = served & ~prev
            n_ho = int(new.any(axis=1).sum())
            rows.append(dict(
                drop=0, frame=k, method=m, infeasible=infeasible,
                throughput_kbps=float(np.sum(na * thr) / np.sum(na) / 1e3),
                jain=jain_index(thr, na) if not infeasible else float("nan"),
                handovers=n_ho, handovers_per_s=n_ho / cfg.t_frame_s,
                cells_served=int(served.any(axis=1).sum()),
                outage_pairs=int((served & (rate_a > rate_t * (1 + 1e-12))).sum()),
                objective=float(sol.objective[0]), iterations=int(sol.iterations[0]),
                status=int(sol.status[0]), multi_served=int(sol.multi_served_before_rounding[0]),
                nmse_snr=nmse(snr_a, fr["snr"][k], rain_pairs),
                nmse_atten=nmse(fr["atten_est"][k], fr["atten"][k], rain_pairs),
                n_sens=int(tm["n_sens"]), n_com=int(tm["n_com"]), t_ho=float(tm["t_ho"])))
            srv = np.where(served.any(axis=1), sid[np.argmax(served, axis=1)], -1)
            prev_sat[m] = srv
        if progress is not None:
            progress(k + 1)
    return rows


def make_work(jcfg: JmraConfig, n_frames: int, methods, dtype=None):
    """``work(point_cfg, episodes, seed) -> rows`` for :func:`solvers.runner.montecarlo.run_sweep`."""
    def work(cfg: NtnConfig, drops: np.ndarray, seed: int):
        rows = []
        for i, e in enumerate(drops):
            ep_seed = int(np.random.default_rng([int(seed), int(e)]).integers(0, 2 ** 31 - 1))
            tick = lambda k, i=i: chunk_progress((i + k / n_frames) / len(drops))  # noqa: E731  per frame
            for r in run_episode(cfg, jcfg, ep_seed, n_frames, methods, dtype, progress=tick):
                r["drop"] = int(e)
                rows.append(r)
        return rows
    return work
