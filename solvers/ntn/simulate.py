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
episodes are the runner's "drops" (:mod:`solvers.runner`), one row per frame and method;
:func:`run_episodes` runs several of them (sweep points, seeds) side by side, frame k of all
of them in one batched call (``satisac --scenario-batch N``, :func:`solvers.runtime.scenario_batch`).
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


def _pad_sats(a: np.ndarray, width: int) -> np.ndarray:
    """Pad the satellite (last) axis of ``a`` with zeros/False to ``width`` columns (a padded
    column has rate 0 and no beams: the solvers never serve it; tests/solvers/ntn/test_simulate_batched.py)."""
    return np.concatenate([a, np.zeros(a.shape[:-1] + (width - a.shape[-1],), a.dtype)], axis=-1)


def run_episodes(scenarios, jcfg: JmraConfig, n_frames: int, methods, dtype=None, progress=None) -> list[list[dict]]:
    """Simulate independent episodes side by side: one row list per ``(cfg, seed)`` of ``scenarios``.

    The frames of each episode stay sequential (frame k's handover charge needs frame k-1's
    allocation); frame k of every episode with the same cell count is solved by ONE batched
    call of :func:`~solvers.ntn.allocate.solve_allocation` per method, over a leading
    scenario axis (the episodes' satellite axes padded to the widest with columns of rate 0).
    Episodes may differ in any :class:`NtnConfig` key that keeps the cell grid (timing,
    sensing, rain, seed...).  Rows are those of :func:`run_episode` for each episode alone, to
    the solver's tolerance: identical on small frames; on large ones JMRA's path can move
    with the last bits of a batched kernel (objective within 1e-4 relative on default
    600-cell frames, ``benchmarks.ntn_scenarios``).
    ``progress(k)`` is called after frame k of every episode is done.
    """
    eps = []
    for cfg, seed in scenarios:
        fr, _ = evolve(make_world(cfg, seed), 0, n_frames)
        tm = checked_timing(cfg, fr["rate"].shape[1])
        eps.append(dict(cfg=cfg, fr=fr, tm=tm, na=np.asarray(fr["n_active"], np.float64),
                        bw_shell=np.array(cfg.shell_bandwidth_mhz) * 1e6, beams=np.array(cfg.shell_beams),
                        prev_sat={m: np.full(fr["rate"].shape[1], -1) for m in methods}, rows=[]))
    groups: dict[int, list[dict]] = {}  # cell count -> episodes solved together
    for e in eps:
        groups.setdefault(e["fr"]["rate"].shape[1], []).append(e)
    for k in range(n_frames):
        for group in groups.values():
            _frame(group, k, jcfg, methods, dtype)
        if progress is not None:
            progress(k + 1)
    return [e["rows"] for e in eps]


def _frame(group: list[dict], k: int, jcfg: JmraConfig, methods, dtype) -> None:
    """Steps 1-5 of the module docstring for frame k of every episode of ``group`` (equal C)."""
    width = max(e["fr"]["rate"].shape[2] for e in group)
    for e in group:
        cfg, fr, tm, na = e["cfg"], e["fr"], e["tm"], e["na"]
        shell = fr["shell"][k]
        bw = np.where(shell >= 0, e["bw_shell"][np.maximum(shell, 0)], 0.0)
        e["snr_a"] = snr_a = allocator_snr(cfg, fr, k)
        e["in_r"] = in_r = fr["in_range"][k]
        e["rate_a"] = rate_a = np.where(in_r, bw[None, :] * np.log2(1.0 + snr_a), 0.0)  # # [C, S] selected rate
        e["delivered"] = np.where(rate_a <= fr["rate"][k] * (1 + 1e-12), rate_a, 0.0)  # outage rule
        e["base"] = dict(rate=rate_a[None], n_active=na[None], t_ho=np.array([tm["t_ho"]]),
                         n_com=np.array([tm["n_com"]]),
                         n_beams=np.where(shell >= 0, e["beams"][np.maximum(shell, 0)], 0)[None],
                         t_ofdma=np.array([cfg.t_ofdma_s]), t_frame=np.array([cfg.t_frame_s]),
                         eps=np.array([cfg.eps_bits]))
    for m in methods:
        insts = []
        for e in group:
            sid = e["fr"]["sat_id"][k]
            prev = (sid[None, :] == e["prev_sat"][m][:, None]) & (sid[None, :] >= 0) & e["in_r"]
            e["inst"] = dict(e["base"], prev_served=prev[None])
            insts.append(e["inst"])
        batch = {key: np.concatenate([_pad_sats(np.asarray(i[key]), width) if key in _SAT_AXIS else
                                      np.asarray(i[key]) for i in insts]) for key in insts[0]}
        metric = np.stack([_pad_sats(e["snr_a"], width) for e in group])  # # [B, C, S]
        sol = solve_allocation(batch, m, jcfg, dtype=dtype, metric=metric)
        for b, e in enumerate(group):
            _record(e, k, m, sol, b)


_SAT_AXIS = ("rate", "prev_served", "n_beams")  # instance fields with a satellite (last) axis


def _record(e: dict, k: int, m: str, sol, b: int) -> None:
    """Append the KPI row of episode ``e``, frame k, method m (episode ``b`` of ``sol``)."""
    cfg, fr, tm, na, inst = e["cfg"], e["fr"], e["tm"], e["na"], e["inst"]
    S = fr["rate"].shape[2]
    x = np.asarray(sol.x[b])[:, :S]
    infeasible = bool(sol.infeasible[b])
    thr = np.maximum(per_user_throughput(inst, x[None], rate=e["delivered"][None])[0], 0.0)
    served = x > 0
    prev = inst["prev_served"][0]
    n_ho = int((served & ~prev).any(axis=1).sum())
    rain_pairs = fr["sensed"][k]
    rate_a = e["rate_a"]
    e["rows"].append(dict(
        drop=0, frame=k, method=m, infeasible=infeasible,
        throughput_kbps=float(np.sum(na * thr) / np.sum(na) / 1e3),
        jain=jain_index(thr, na) if not infeasible else float("nan"),
        handovers=n_ho, handovers_per_s=n_ho / cfg.t_frame_s,
        cells_served=int(served.any(axis=1).sum()),
        outage_pairs=int((served & (rate_a > fr["rate"][k] * (1 + 1e-12))).sum()),
        objective=float(sol.objective[b]), iterations=int(sol.iterations[b]),
        status=int(sol.status[b]), multi_served=int(sol.multi_served_before_rounding[b]),
        nmse_snr=nmse(e["snr_a"], fr["snr"][k], rain_pairs),
        nmse_atten=nmse(fr["atten_est"][k], fr["atten"][k], rain_pairs),
        n_sens=int(tm["n_sens"]), n_com=int(tm["n_com"]), t_ho=float(tm["t_ho"])))
    sid = fr["sat_id"][k]
    e["prev_sat"][m] = np.where(served.any(axis=1), sid[np.argmax(served, axis=1)], -1)


def run_episode(cfg: NtnConfig, jcfg: JmraConfig, seed: int, n_frames: int, methods, dtype=None,
                progress=None) -> list[dict]:
    """Simulate one episode; returns one row (dict) per frame and method (:func:`run_episodes`
    with one scenario)."""
    return run_episodes([(cfg, seed)], jcfg, n_frames, methods, dtype, progress)[0]


def episode_seed(seed: int, episode: int) -> int:
    """World seed of episode ``episode`` of a run seeded ``seed`` (depends on both only)."""
    return int(np.random.default_rng([int(seed), int(episode)]).integers(0, 2 ** 31 - 1))


def make_work(jcfg: JmraConfig, n_frames: int, methods, dtype=None):
    """``work(point_cfg, episodes, seed) -> rows`` for :func:`solvers.runner.montecarlo.run_sweep`,
    with ``work.many([(point_cfg, episodes), ...], seed)``: every episode of several chunks
    (sweep points) simulated side by side by :func:`run_episodes` (``run_sweep(batch=N)``)."""
    def many(items, seed: int) -> list[list[dict]]:
        scen = [(cfg, episode_seed(seed, e)) for cfg, drops in items for e in drops]
        ids = [int(e) for _, drops in items for e in drops]
        tick = lambda k: chunk_progress(k / n_frames)  # noqa: E731  per frame of every episode
        out, i = [], 0
        per_ep = run_episodes(scen, jcfg, n_frames, methods, dtype, progress=tick)
        for _, drops in items:
            rows = []
            for rs in per_ep[i:i + len(drops)]:
                for r in rs:
                    r["drop"] = ids[i]
                    rows.append(r)
                i += 1
            out.append(rows)
        return out

    def work(cfg: NtnConfig, drops: np.ndarray, seed: int):
        rows = []
        for i, e in enumerate(drops):  # one episode after the other (the fastest on a CPU)
            tick = lambda k, i=i: chunk_progress((i + k / n_frames) / len(drops))  # noqa: E731  per frame
            for r in run_episodes([(cfg, episode_seed(seed, e))], jcfg, n_frames, methods, dtype, tick)[0]:
                r["drop"] = int(e)
                rows.append(r)
        return rows
    work.many = many
    return work


