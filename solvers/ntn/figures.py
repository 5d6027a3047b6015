"""``satisac reproduce ntn-table3, ntn-fig6 ... ntn-fig11, ntn-realtime`` (NTN paper §VII, spec §5).

Each entry of ``FIGURES`` writes ``<name>.csv`` (the tidy schema of :mod:`solvers.tidy`, one
row per experiment x x x method x metric) and ``<name>.png`` laid out like the paper's
table/figure and returns a printable table.  Simulation-based items (Table III, Figs. 10-11)
go through the resumable runner store under ``out_dir/<name>_runs/<experiment>`` (the
experiment is the sensing mode: ``perfect``, ``pilots``, ``none``; re-running resumes; a
store under the old name ``out_dir/<name>_run[_<mode>]`` is still found, :data:`LEGACY_RUNS`).
Fig. 7 keeps each (rho, I_max) point in a store too (``ntn-fig7_runs/points``).
``--quick`` uses 1-degree cells (150 cells) and 2 frames per point; the full run uses the
default 0.5-degree grid (600 cells) and 10 frames per point; ``--drops`` overrides the
number of frames per point (an episode of consecutive frames).
"""
from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm.auto import tqdm

from jaxcore.ntn import sensing
from jaxcore.ntn.timing import ra_budget
from solvers import plotting, tidy
from solvers.configio import load_configs, to_dict
from solvers.figure import Figure, runs_dir
from solvers.npzio import atomic_writer
from solvers.ntn import allocate  # allocate.solve_allocation: read at call time (tests replace it)
from solvers.ntn.allocate import JmraConfig
from solvers.ntn.config import NtnConfig
from solvers.ntn.simulate import make_work, nmse
from solvers.ntn.world import allocation_instance, frame_timing, world_frames
from solvers.plotting import pyplot, save_figure
from solvers.runner.montecarlo import run_sweep
from solvers.runtime import scenario_batch
from solvers.runner.stats import mean_ci
from solvers.runner.store import RunStore, load_results, to_numpy
from solvers.scenarios import current_settings

QUICK = dict(cell_deg=1.0)


def _cfg(quick: bool, **kw):
    """The NTN config of a figure point: scenario, then the figure's values, then --config/--set."""
    return resolved_configs({**(QUICK if quick else {}), **kw})[0]


def resolved_configs(fixed: dict):
    """(NtnConfig, JmraConfig) from ``satisac reproduce --scenario/--config/--set`` (solvers.scenarios)."""
    st = current_settings()
    return load_configs((NtnConfig, JmraConfig), st.config, st.overrides, st.scenario_name(NtnConfig), fixed=fixed)


def _frames(quick: bool, drops):
    return int(drops) if drops else (2 if quick else 10)


# the run stores: (figure, experiment) -> the folder's name before ``<figure>_runs/<experiment>``
LEGACY_RUNS = {("ntn-table3", "perfect"): "ntn-table3_run", ("ntn-fig10", "pilots"): "ntn-fig10_run",
               ("ntn-fig10", "none"): "ntn-fig10_run_nosensing", ("ntn-fig10", "perfect"): "ntn-fig10_run_perfect",
               ("ntn-fig11", "perfect"): "ntn-fig11_run"}
MAIN_RUN = {"ntn-table3": "perfect", "ntn-fig10": "pilots", "ntn-fig11": "perfect"}  # the swept store
THR_UNIT = "kbit/s per active user"


def run_dir(out_dir: Path, figure: str, experiment: str | None = None) -> Path:
    """The run store of ``figure``'s ``experiment`` (default its swept one, :data:`MAIN_RUN`)."""
    experiment = experiment or MAIN_RUN[figure]
    return runs_dir(out_dir, figure, experiment, LEGACY_RUNS.get((figure, experiment)))


def _caption(fig, n, quick: bool, unit: str, means: str | None = None, extra: str = "", paper_n=None,
             scenario: bool = True, ci: str = "") -> None:
    """The shared caption line under an NTN figure: n per point, scenario, QUICK or full."""
    plotting.add_caption(fig, plotting.caption(n, current_settings().scenario_name(NtnConfig) if scenario
                                               else None, quick, paper_n=paper_n, unit=unit, means=means, extra=extra,
                                               ci=ci))


def _plt():
    """pyplot with the shared figure style's rcParams (solvers/plotting.py: sizes, CM mathtext)."""
    plt = pyplot()
    plt.rcParams.update(plotting.RC)
    return plt


def _simulate(run_dir: Path, cfg, sweep, methods, n_frames, seed, jcfg=None):
    jcfg = jcfg or resolved_configs({})[1]
    scenario = current_settings().scenario_name(type(cfg))
    run_sweep(run_dir, cfg, make_work(jcfg, n_frames, methods), n_drops=1, seed=seed, sweep=sweep,
              methods=methods, chunk_size=1, extra=dict(frames=n_frames, solver=to_dict(jcfg), scenario=scenario),
              unit="episode", batch=scenario_batch())
    return to_numpy(load_results(run_dir))


def _agg(cols, sel, key):
    v = cols[key][sel]
    return float(np.nanmean(v)) if v.size else float("nan")


def _episode_rows(figure: str, experiment: str, x_name: str, x, method: str, cols, sel) -> list[dict]:
    """Tidy rows of throughput and Jain's index over the frames of one episode: the mean, n =
    frames, no CI (consecutive frames of one episode; the figures draw no error bars)."""
    out = []
    for key, unit in (("throughput_kbps", THR_UNIT), ("jain", "1")):
        v = np.asarray(cols[key][sel], float)
        out.append(tidy.row(figure, experiment, x_name, x, method, key, unit, int(np.isfinite(v).sum()),
                            _agg(cols, sel, key)))
    return out


# ---------------------------------------------------------------- Table III
TABLE3_METRICS = (("throughput_kbps", "kbit/s per active user"), ("jain", "1"), ("handovers_per_s", "1/s"))


def table3(out_dir: Path, quick: bool, seed: int, drops) -> str:
    """Table III as a tidy CSV: one row per T_HO x T_f x method x metric with the frame count
    ``n``, mean and 95 % t-interval over the frames (consecutive frames of one episode are
    correlated, so the interval is optimistic); ``infeasible`` = frames where the method had
    no feasible allocation (the paper's "-", mean left empty).  ``experiment`` = ``t_frame_s=<T_f>``,
    ``x`` = T_HO; the extra columns ``t_ho_s``, ``t_frame_s``, ``infeasible``.  Also ``ntn-table3.md``."""
    methods = ("dmrab", "jmra-nohop", "jmra")
    cfg = _cfg(quick, sensing_mode="perfect")
    tfs, thos = (10.0, 30.0), (0.02, 0.05)
    cols = _simulate(run_dir(out_dir, "ntn-table3"), cfg, {"t_ho_s": list(thos), "t_frame_s": list(tfs)}, methods,
                     _frames(quick, drops), seed)
    rows, cells = [], {}
    for tho in thos:
        for tf in tfs:
            for m in methods:
                s = (cols["t_ho_s"] == tho) & (cols["t_frame_s"] == tf) & (cols["method"] == m)
                n_inf = int(np.sum(cols["infeasible"][s]))
                for key, unit in TABLE3_METRICS:
                    mean, lo, hi, n = mean_ci(cols[key][s]) if not n_inf else (None, None, None, int(s.sum()))
                    rows.append(tidy.row("ntn-table3", f"t_frame_s={tf:g}", "t_ho_s", tho, m, key, unit, n, mean, lo,
                                         hi, t_ho_s=tho, t_frame_s=tf, infeasible=n_inf))
                    cells[(tho, tf, m, key)] = (mean, lo, hi, n, n_inf)
    tidy.write(out_dir / "ntn-table3.csv", rows)
    md = _table3_markdown(cells, thos, tfs, methods)
    with atomic_writer(out_dir / "ntn-table3.md") as tmp:
        tmp.write_text(md + "\n")
    _plot_table3(out_dir / "ntn-table3.png", cells, thos, tfs, methods, quick)
    return md


def _table3_markdown(cells, thos, tfs, methods) -> str:
    fmt = {"throughput_kbps": "{:.2f}", "jain": "{:.3f}", "handovers_per_s": "{:.2f}"}
    head = ["T_HO [ms]", "method"] + [f"{lab} (T_f={tf:g} s)" for tf in tfs
                                      for lab in ("thr [kbit/s/user]", "Jain", "HO/s")]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for tho in thos:
        for m in methods:
            row = [f"{tho * 1e3:.0f}", m]
            for tf in tfs:
                for key, _ in TABLE3_METRICS:
                    mean, lo, hi, n, n_inf = cells[(tho, tf, m, key)]
                    row.append(f"– ({n_inf}/{n} frames infeasible)" if n_inf else fmt[key].format(mean)
                               + ("" if lo is None or not np.isfinite(lo) else f" ± {fmt[key].format((hi - lo) / 2)}"))
            lines.append("| " + " | ".join(row) + " |")
    ns = sorted({c[3] for c in cells.values()})
    lines.append(f"\nMean ± 95 % CI half-width over n = {'/'.join(map(str, ns))} frames per cell; throughput is per "
                 "active user of a cell (a populous cell shares its beams among many users, hence kbit/s).")
    return "\n".join(lines)


def _plot_table3(path: Path, cells, thos, tfs, methods, quick: bool) -> None:
    """Table III as grouped markers: one panel per metric, x = method, one series per (T_HO, T_f)."""
    with plotting.style() as plt:
        fig, axes = plt.subplots(1, 3, figsize=(plotting.PAGE_IN, 2.3), gridspec_kw={"wspace": 0.4})
        combos = [(tho, tf) for tho in thos for tf in tfs]
        for ax, (key, unit) in zip(axes, TABLE3_METRICS):
            for (tho, tf), d, mk, col in zip(combos, plotting.dodges(len(combos), 0.3), "osD^", plotting._CYCLE):
                ax.plot([], [], marker=mk, color=col, ls="none",
                        label=rf"$T_{{\mathrm{{HO}}}}$ = {tho * 1e3:.0f} ms, $T_f$ = {tf:g} s")
                for i, m in enumerate(methods):
                    mean, lo, hi, n, n_inf = cells[(tho, tf, m, key)]
                    if n_inf:
                        ax.plot(i + d, 0, "x", color=col, ms=4)
                        continue
                    yerr = None if lo is None or not np.isfinite(lo) else [[mean - lo], [hi - mean]]
                    ax.errorbar(i + d, mean, yerr=yerr, marker=mk, color=col, ls="none")
            ax.set_xticks(range(len(methods)), [m.upper().replace("-NOHOP", "\nw/o HOP") for m in methods])
            ax.set_ylabel({"throughput_kbps": "throughput per active user\n(kbit/s)", "jain": "Jain's index",
                           "handovers_per_s": "handovers / s"}[key])
        plotting.legend_outside(fig, *axes[0].get_legend_handles_labels(), ncol=4)
        ns = [c[3] for c in cells.values()]
        plotting.add_caption(fig, "Table III (perfect CSI); x on the axis = infeasible (the paper's \"-\")\n"
                             + plotting.caption(ns, current_settings().scenario_name(NtnConfig), quick,
                                                paper_n=_frames(False, None), unit="frames",
                                                means="the frames of one episode"))
        plotting.save_figure(fig, path, pdf=True)


# ---------------------------------------------------------------- Figs. 6-7 (Algorithm 1)
def _instances(quick: bool, seed: int, drops):
    cfg = _cfg(quick, sensing_mode="perfect")
    n = int(drops) if drops else (4 if quick else 20)
    fr = world_frames(cfg, seed, n)
    return allocation_instance(fr, cfg), fr


def fig6(out_dir: Path, quick: bool, seed: int, drops) -> str:
    """Fig. 6: the CDF of Algorithm 1's iterations per rho.  CSV: one row per rho x frame x metric
    (``iterations``, ``converged`` 1/0; extra column ``frame``), n = 1: the CDF is of frames."""
    inst, _ = _instances(quick, seed, drops)
    jcfg = resolved_configs({})[1]  # the --config/--set solver, with the figure's rho and I_max
    rhos = (1.5, 2.0, 5.0)
    plt = _plt()
    fig, ax = plt.subplots(figsize=(plotting.COLUMN_IN, 2.4))
    rows, text = [], ["rho  mean_iter  max_iter  converged"]
    for rho in rhos:
        sol = allocate.solve_allocation(inst, "jmra", dataclasses.replace(jcfg, rho=rho, max_outer=200))
        it = np.sort(sol["iterations"])
        ax.step(it, np.arange(1, it.size + 1) / it.size, where="post", label=f"ρ = {rho:g}")
        for f, (i, s) in enumerate(zip(sol["iterations"], sol["status"])):
            rows += [tidy.row("ntn-fig6", "", "rho", rho, "jmra", "iterations", "1", 1, int(i), frame=f),
                     tidy.row("ntn-fig6", "", "rho", rho, "jmra", "converged", "1", 1, int(s == 0), frame=f)]
        text.append(f"{rho:<4g} {it.mean():9.2f} {it.max():9d}  {int((sol['status'] == 0).sum())}/{it.size}")
    tidy.write(out_dir / "ntn-fig6.csv", rows)
    ax.set_xlabel("iterations of Algorithm 1 to convergence")
    ax.set_ylabel("CDF")
    ax.legend()
    ax.grid(alpha=0.3)
    _caption(fig, inst["rate"].shape[0], quick, "frames", extra="CDF over the frames (perfect CSI)", paper_n=20)
    save_figure(fig, out_dir / "ntn-fig6.png", pdf=True)
    return "\n".join(text)


FIG7_RHOS = (2.0, 5.0)


def _fig7_point(inst: dict, jc: JmraConfig) -> pa.Table:
    """One (rho, I_max) point of Fig. 7: a warm-up solve (the first point compiles the one
    program every point runs: ``rho`` and ``max_outer`` are traced, ``solvers.ntn.allocate.SWEPT``),
    then one timed solve of the whole batch.  One row per frame."""
    B = inst["rate"].shape[0]
    allocate.solve_allocation(inst, "jmra", jc)  # compile + warm-up (same shapes as the timed call)
    t = time.perf_counter()
    sol = allocate.solve_allocation(inst, "jmra", jc)
    dt = (time.perf_counter() - t) / B
    return pa.table({"frame": np.arange(B, dtype=np.int64),
                     "violating_cells": np.asarray(sol["multi_served_before_rounding"], np.float64),
                     "iterations": np.asarray(sol["iterations"], np.int64),
                     "time_per_frame_s": np.full(B, dt)})


def fig7(out_dir: Path, quick: bool, seed: int, drops) -> str:
    """Fig. 7: time per frame and cells violating (30) vs I_max.  CSV: experiment ``rho=<rho>``
    (extra column ``rho``), x = I_max; ``time_per_frame_s`` is one timed batch (n = frames, no CI),
    ``violating_cells`` and ``mean_outer_iterations`` means over the frames with 95 % CIs.

    Resumable: each (rho, I_max) point is written to the run store ``out_dir/ntn-fig7_runs/points``
    as it finishes (one row per frame, the batch's time on every row); a re-run solves only the
    missing points and refuses a store of other settings.  The solver is the ``--config/--set``
    one with the figure's rho and I_max."""
    inst, _ = _instances(quick, seed, drops)
    B = inst["rate"].shape[0]
    caps = (1, 3, 10, 40) if quick else (1, 2, 3, 5, 10, 20, 40, 100)
    cfg, jcfg = _cfg(quick, sensing_mode="perfect"), resolved_configs({})[1]  # _instances' world; the --set solver
    points = [(rho, cap) for rho in FIG7_RHOS for cap in caps]
    store = RunStore(runs_dir(out_dir, "ntn-fig7", "points"), {
        "figure": "ntn-fig7", "seed": int(seed), "frames": int(B), "quick": bool(quick),
        "scenario": current_settings().scenario_name(NtnConfig), "config": to_dict(cfg),
        "solver": {k: v for k, v in to_dict(jcfg).items() if k not in ("rho", "max_outer")},
        "sweep": {"rho": list(FIG7_RHOS), "i_max": list(caps)}})
    bar = tqdm(total=len(points), desc="ntn-fig7", unit="point", disable=None)
    tables = {}
    for k, (rho, cap) in enumerate(points):
        if not store.has_chunk(k, 0):
            store.write_chunk(k, 0, _fig7_point(inst, dataclasses.replace(jcfg, rho=rho, max_outer=cap)))
        tables[rho, cap] = pq.read_table(store.chunk_path(k, 0)).to_pydict()
        bar.update(1)
    bar.close()
    plt = _plt()
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(plotting.PAGE_IN, 2.4), gridspec_kw={"wspace": 0.35})
    rows, text = [], ["rho  I_max  time_per_frame_s  violating_cells  mean_outer_iterations"]
    for rho in FIG7_RHOS:
        ts, vs = [], []
        for cap in caps:
            tab = tables[rho, cap]
            dt = float(tab["time_per_frame_s"][0])
            ts.append(dt)
            v = mean_ci(np.asarray(tab["violating_cells"], float))
            vs.append(v[0])
            it = mean_ci(np.asarray(tab["iterations"], float))  # a count: the load-free proxy of the time
            exp = f"rho={rho:g}"
            rows += [tidy.row("ntn-fig7", exp, "i_max", cap, "jmra", "time_per_frame_s", "s", B, dt, rho=rho),
                     tidy.row("ntn-fig7", exp, "i_max", cap, "jmra", "violating_cells", "1", v[3], v[0], v[1], v[2],
                              rho=rho),
                     tidy.row("ntn-fig7", exp, "i_max", cap, "jmra", "mean_outer_iterations", "1", it[3], it[0], it[1],
                              it[2], rho=rho)]
            text.append(f"{rho:<4g} {cap:5d}  {dt:16.3f}  {vs[-1]:15.2f}  {it[0]:8.2f}")
        mk = "o" if rho == 2.0 else "s"
        a1.plot(caps, ts, mk + "-", label=f"ρ = {rho:g}")
        a2.plot(caps, vs, mk + "-", label=f"ρ = {rho:g}")
    tidy.write(out_dir / "ntn-fig7.csv", rows)
    a1.set_xlabel("I_max")
    a1.set_ylabel("execution time per frame [s] (this CPU)")
    a2.set_xlabel("I_max")
    a2.set_ylabel("cells violating (30)")
    for a in (a1, a2):
        a.legend()
        a.grid(alpha=0.3)
    _caption(fig, B, quick, "frames", means="the frames", paper_n=20,
             extra="time: one timed batch per point on this machine, after a warm-up")
    save_figure(fig, out_dir / "ntn-fig7.png", pdf=True)
    return "\n".join(text)


# ---------------------------------------------------------------- Figs. 8-9 (sensing)
FIG8_METRICS = ("nmse_snr_rain", "nmse_snr_norain", "nmse_att_rain", "nmse_att_norain")


def fig8(out_dir: Path, quick: bool, seed: int, drops) -> str:
    """Fig. 8: NMSE (39) of the SNR and attenuation estimates vs L.  CSV: x = pilot length, one
    metric per estimate and weather (``nmse_snr_rain`` ...), n = sensed pairs in that weather;
    no CI ((39) is a ratio of sums)."""
    _, fr = _instances(quick, seed, drops or 2)
    m = fr["sensed"]
    snr, cs, A = fr["snr"][m], fr["snr_clear"][m], fr["atten"][m]
    rain = A > 1.0 + 1e-9
    Ls = [2 ** e for e in range(4, 21, 2)]
    rows, arr, text = [], [], ["L        NMSE(snr) rain  no-rain   NMSE(A~) rain  no-rain"]
    key = jax.random.PRNGKey(seed)
    with jax.enable_x64(True):
        for L in Ls:
            g = np.asarray(sensing.sample_snr_estimate(jax.random.fold_in(key, L), jnp.asarray(snr), L))
            a_t = np.asarray(sensing.corrected_attenuation(jnp.asarray(cs), jnp.asarray(g), L))
            r = [nmse(g, snr, rain), nmse(g, snr, ~rain), nmse(a_t, A, rain), nmse(a_t, A, ~rain)]
            arr.append(r)
            rows += [tidy.row("ntn-fig8", "", "pilot_len", L, "mle", k, "1", int(w.sum()), v)
                     for k, v, w in zip(FIG8_METRICS, r, (rain, ~rain, rain, ~rain))]
            text.append(f"{L:<8d} {r[0]:10.3e} {r[1]:10.3e}   {r[2]:10.3e} {r[3]:10.3e}")
    tidy.write(out_dir / "ntn-fig8.csv", rows)
    plt = _plt()
    fig, ax = plt.subplots(figsize=(plotting.COLUMN_IN, 2.6))
    arr = np.array(arr)
    for i, lab in enumerate(["γ̂ rain", "γ̂ no rain", "Ã rain", "Ã no rain"]):
        ax.loglog(Ls, arr[:, i], "o-" if i < 2 else "s--", label=lab, base=2)
    ax.set_xlabel("pilot length L")
    ax.set_ylabel("NMSE (39)")
    ax.legend()
    ax.grid(alpha=0.3)
    _caption(fig, [int(rain.sum()), int((~rain).sum())], quick, "sensed links",
             extra="(39) over the sensed cell-satellite links of the frames, rain / no rain")
    save_figure(fig, out_dir / "ntn-fig8.png", pdf=True)
    return "\n".join(text)


def fig9(out_dir: Path, quick: bool, seed: int, drops) -> str:
    """Fig. 9: NMSE of the ML SNR estimator (18) vs SNR with the CRB (19).  CSV: x = SNR (dB);
    ``nmse_mle`` (method ``mle``: mean of the n squared relative errors, 95 % CI), ``crb_normalised``
    = CRB / gamma^2 and ``crb`` (method ``crb``: formula values, n = 1, no CI)."""
    n = int(drops) if drops else (4000 if quick else 20000)
    snr_db = np.arange(-10.0, 21.0, 2.5)
    L = 64
    rows, arr, text = [], [], ["SNR[dB]  NMSE(MLE)  CRB/g^2   CRB"]
    with jax.enable_x64(True):
        for i, sdb in enumerate(snr_db):
            g = 10 ** (sdb / 10)
            est = np.asarray(sensing.sample_snr_estimate(jax.random.PRNGKey(seed * 1000 + i), jnp.full(n, g), L))
            nm, lo, hi, k = mean_ci(((est - g) / g) ** 2)
            crb = float(sensing.crb_snr(g, L))
            arr.append([sdb, nm, crb / g ** 2, crb])
            rows += [tidy.row("ntn-fig9", "", "snr_db", float(sdb), "mle", "nmse_mle", "1", k, nm, lo, hi),
                     tidy.row("ntn-fig9", "", "snr_db", float(sdb), "crb", "crb_normalised", "1", 1, crb / g ** 2),
                     tidy.row("ntn-fig9", "", "snr_db", float(sdb), "crb", "crb", "1", 1, crb)]
            text.append(f"{sdb:7.1f}  {nm:9.3e}  {crb / g ** 2:8.3e}  {crb:8.3e}")
    tidy.write(out_dir / "ntn-fig9.csv", rows)
    plt = _plt()
    fig, ax = plt.subplots(figsize=(plotting.COLUMN_IN, 2.6))
    arr = np.array(arr)
    ax.semilogy(arr[:, 0], arr[:, 1], "o-", label=f"MLE (18), L={L}")
    ax.semilogy(arr[:, 0], arr[:, 2], "--", label="CRB / γ²")
    ax.semilogy(arr[:, 0], arr[:, 3], ":", label="CRB (19)")
    ax.set_xlabel("SNR [dB]")
    ax.set_ylabel("NMSE")
    ax.legend()
    ax.grid(alpha=0.3)
    _caption(fig, n, quick, "estimates", scenario=False, paper_n=20000,
             extra="Monte-Carlo MLE at each SNR (no world: scenario-free)")
    save_figure(fig, out_dir / "ntn-fig9.png", pdf=True)
    return "\n".join(text)


# ---------------------------------------------------------------- Figs. 10-11 (frame loop)
def _two_panel(out_png: Path, xs, series, xlabel, logx=False, n=None, quick=None):
    """Throughput and Jain's index vs ``xs`` in the shared style (solvers/plotting.py): a
    marker/colour per method, reference levels (no sensing, perfect CSI) as dashed/dotted
    lines, a caption with the frames per point, scenario and QUICK stamp; PNG + PDF."""
    with plotting.style() as plt:
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(plotting.PAGE_IN, 2.5), gridspec_kw={"wspace": 0.3})
        for lab, (thr, jain) in series.items():
            method = lab.split(" ")[0]
            ls = "--" if "no sensing" in lab else (":" if "perfect" in lab else "-")
            for a, y in ((a1, thr), (a2, jain)):
                if logx:
                    a.set_xscale("log", base=2)
                a.plot(xs, y, ls=ls, marker=plotting.marker(method) if ls == "-" else None,
                       color=plotting.color(method), label=lab)
        for a, yl in ((a1, "throughput per active user (kbit/s)"), (a2, "Jain's index (38)")):
            a.set_xlabel(xlabel.replace("T_f", "$T_f$").replace(" L", " $L$").replace("[s]", "(s)"))
            a.set_ylabel(yl)
        plotting.legend_outside(fig, *a1.get_legend_handles_labels(), ncol=min(len(series), 3))
        if n is not None:
            plotting.add_caption(fig, plotting.caption(
                n, current_settings().scenario_name(NtnConfig), quick, paper_n=_frames(False, None), unit="frames",
                means="the frames of one episode", ci="no error bars (one episode per point)",
                extra="throughput per active user of a cell: a populous cell shares its beams, hence kbit/s"))
        plotting.save_figure(fig, out_png, pdf=True)


def fig10(out_dir: Path, quick: bool, seed: int, drops) -> str:
    """Fig. 10: throughput and Jain's index vs L.  CSV: experiment = sensing mode (``pilots``: x =
    pilot length, plus ``n_sens`` = most satellites sensed in a frame; ``none`` and ``perfect``:
    the reference levels, x empty); means over the frames of one episode (n = frames, no CI)."""
    methods = ("dmrab", "jmra")
    Ls = [2 ** e for e in ((4, 10, 14, 16, 20) if quick else range(4, 21, 2))]
    n = _frames(quick, drops)
    cols = _simulate(run_dir(out_dir, "ntn-fig10", "pilots"), _cfg(quick, sensing_mode="pilots", t_ho_s=0.05),
                     {"pilot_len": Ls}, methods, n, seed)
    ref = _simulate(run_dir(out_dir, "ntn-fig10", "none"), _cfg(quick, sensing_mode="none", t_ho_s=0.05),
                    None, methods, n, seed)
    perf = _simulate(run_dir(out_dir, "ntn-fig10", "perfect"), _cfg(quick, sensing_mode="perfect", t_ho_s=0.05),
                     None, methods, n, seed)
    rows, series, text = [], {}, ["method  L        thr[kbit/s]  Jain   N_sens"]
    for m in methods:
        thr, jn = [], []
        for L in Ls:
            s = (cols["pilot_len"] == L) & (cols["method"] == m)
            thr.append(_agg(cols, s, "throughput_kbps"))
            jn.append(_agg(cols, s, "jain"))
            ns = int(np.max(cols["n_sens"][s]))
            rows += _episode_rows("ntn-fig10", "pilots", "pilot_len", L, m, cols, s)
            rows.append(tidy.row("ntn-fig10", "pilots", "pilot_len", L, m, "n_sens", "1", int(s.sum()), ns))
            text.append(f"{m:<7} {L:<8d} {thr[-1]:11.3f}  {jn[-1]:.3f}  {ns}")
        series[m] = (thr, jn)
        s = ref["method"] == m
        t0, j0 = _agg(ref, s, "throughput_kbps"), _agg(ref, s, "jain")
        series[f"{m} (no sensing)"] = ([t0] * len(Ls), [j0] * len(Ls))
        rows += _episode_rows("ntn-fig10", "none", "pilot_len", None, m, ref, s)
        text.append(f"{m:<7} none     {t0:11.3f}  {j0:.3f}  0")
        s = perf["method"] == m  # perfect-CSI upper bound (no sensing overhead), claim N13
        t1, j1 = _agg(perf, s, "throughput_kbps"), _agg(perf, s, "jain")
        series[f"{m} (perfect CSI)"] = ([t1] * len(Ls), [j1] * len(Ls))
        rows += _episode_rows("ntn-fig10", "perfect", "pilot_len", None, m, perf, s)
        text.append(f"{m:<7} perfect  {t1:11.3f}  {j1:.3f}  0   best-L/perfect = {np.nanmax(thr) / t1:.3f}")
    tidy.write(out_dir / "ntn-fig10.csv", rows)
    _two_panel(out_dir / "ntn-fig10.png", Ls, series, "pilot length L", logx=True, n=n, quick=quick)
    return "\n".join(text)


def _in_range_stats(cfg, seed: int, n_frames: int) -> dict:
    """Condition (5) vs T_f: satellites in range for the WHOLE frame per populated cell, per
    shell, and the best clear-sky SNR per cell (worst-case distance (3) over the frame).

    Returns ``{key: value}`` and, under ``"_n"``, ``{key: (count averaged, unit)}``."""
    fr = world_frames(cfg, seed, n_frames)
    ok = np.asarray(fr["in_range"])  # [F, C, S]
    pop = np.asarray(fr["n_active"]).reshape(-1) > 0  # [C]
    out, n = {}, {}
    for j, band in enumerate(cfg.shell_band):
        col = (np.asarray(fr["shell"]) == j)[:, None, :]  # [F, 1, S]
        per_cell = (ok & col).sum(-1)[:, pop]  # [F, C']
        out[f"sats_in_range_{band}"] = float(per_cell.mean())
        n[f"sats_in_range_{band}"] = (int(per_cell.size), "1")
    best = np.max(np.where(ok, np.asarray(fr["snr_clear"]), 0.0), axis=-1)[:, pop]  # [F, C']
    out["cells_unserved_frac"] = float((best <= 0).mean())
    n["cells_unserved_frac"] = (int(best.size), "1")
    out["best_snr_clear_db"] = float(np.mean(10 * np.log10(best[best > 0]))) if (best > 0).any() else float("nan")
    n["best_snr_clear_db"] = (int((best > 0).sum()), "dB")
    return {**out, "_n": n}


def fig11(out_dir: Path, quick: bool, seed: int, drops) -> str:
    """Fig. 11: throughput and Jain's index vs T_f, plus why (condition (5)): satellites of each
    shell in range for the whole frame per cell and the best clear-sky SNR, vs T_f.  CSV: x = T_f;
    throughput and Jain per method (means over the frames of one episode, n = frames, no CI);
    the range statistics with an empty method (means over frames x populated cells = n)."""
    methods = ("dmrab", "jmra")
    tfs = [5.0, 30.0, 90.0] if quick else [5.0, 10.0, 20.0, 30.0, 45.0, 60.0, 90.0]
    n = _frames(quick, drops)
    cols = _simulate(run_dir(out_dir, "ntn-fig11"), _cfg(quick, sensing_mode="perfect", t_ho_s=0.05),
                     {"t_frame_s": tfs}, methods, n, seed)
    rng = {tf: _in_range_stats(_cfg(quick, sensing_mode="perfect", t_ho_s=0.05, t_frame_s=tf), seed, n) for tf in tfs}
    keys = [k for k in rng[tfs[0]] if k != "_n"]
    rows, series, text = [], {}, ["method  T_f[s]  thr[kbit/s]  Jain   " + "  ".join(keys)]
    for m in methods:
        thr, jn = [], []
        for tf in tfs:
            s = (cols["t_frame_s"] == tf) & (cols["method"] == m)
            thr.append(_agg(cols, s, "throughput_kbps"))
            jn.append(_agg(cols, s, "jain"))
            rows += _episode_rows("ntn-fig11", "perfect", "t_frame_s", tf, m, cols, s)
            text.append(f"{m:<7} {tf:6.0f}  {thr[-1]:11.3f}  {jn[-1]:.3f}  " + "  ".join(f"{rng[tf][k]:.3g}" for k in keys))
        series[m] = (thr, jn)
    rows += [tidy.row("ntn-fig11", "perfect", "t_frame_s", tf, "", k, rng[tf]["_n"][k][1], rng[tf]["_n"][k][0],
                      rng[tf][k]) for tf in tfs for k in keys]
    tidy.write(out_dir / "ntn-fig11.csv", rows)
    _two_panel(out_dir / "ntn-fig11.png", tfs, series, "frame length T_f [s]", n=n, quick=quick)
    plt = _plt()
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(plotting.PAGE_IN, 2.6), gridspec_kw={"wspace": 0.35})
    for k in keys:
        if k.startswith("sats_in_range_"):
            a1.plot(tfs, [rng[tf][k] for tf in tfs], "o-", label=k.replace("sats_in_range_", "") + " shell")
    a1.set_ylabel("satellites in range for the whole frame, per cell")
    a2.plot(tfs, [rng[tf]["best_snr_clear_db"] for tf in tfs], "o-")
    a2.set_ylabel("best clear-sky SNR per cell [dB]")
    a2.set_title("worst case over the frame, (3)", fontsize=9)
    a1.set_title("condition (5): in range for the whole frame", fontsize=9)
    for a in (a1, a2):
        a.set_xlabel("frame length T_f [s]")
        a.grid(alpha=0.3)
    a1.legend()
    _caption(fig, n, quick, "frames", means="frames x populated cells", paper_n=_frames(False, None))
    save_figure(fig, out_dir / "ntn-fig11-range.png", pdf=True)
    return "\n".join(text)


# ---------------------------------------------------------------- Sec. VII-A: real time (N8)
REALTIME_TF = (10.0, 20.0, 30.0)  # the paper's "T_f 10-30 s" (L257)


def _realtime_instance(cfg, seed: int, n_frames: int) -> dict:
    """The allocation instance of ``n_frames`` consecutive frames of a fresh default world."""
    return allocation_instance(world_frames(cfg, seed, n_frames), cfg)


def _one_frame(inst: dict, i: int) -> dict:
    """Frame ``i`` of a batched instance as a one-frame instance (leading axis 1)."""
    return {k: np.asarray(v)[i:i + 1] for k, v in inst.items()}


def _solve_seconds(one: dict, jcfg) -> tuple[float, int]:
    """Wall seconds and outer iterations of one warm JMRA solve of a one-frame instance."""
    t = time.perf_counter()
    sol = jax.block_until_ready(allocate.solve_allocation(one, "jmra", jcfg))
    return time.perf_counter() - t, int(np.asarray(sol["iterations"])[0])


def realtime(out_dir: Path, quick: bool, seed: int, drops) -> str:
    """Sec. VII-A (claim N8): is Algorithm 1 fast enough for the frame?  For each T_f of
    :data:`REALTIME_TF` the default frame (the scenario's config: 600 cells, pilot-based
    sensing) is solved one frame per call, as a ground station would, after one compiling call,
    and each frame's wall time is set against the budget T_f - T_sens - T_HO (T_sens and T_HO
    from (11)-(16), :func:`jaxcore.ntn.timing.ra_budget`).  CSV: experiment ``t_frame_s=<T_f>``,
    one row per frame and metric (``solve_s``, ``iterations``; n = 1), extra columns ``frame``
    and ``budget_s``.  Times are of this machine: the caption says so."""
    tfs = (10.0, 30.0) if quick else REALTIME_TF
    n = int(drops) if drops else (4 if quick else 20)
    jcfg = resolved_configs({})[1]
    rows, text, curves = [], ["T_f[s]  budget[s]  median[s]  max[s]  over_budget"], {}
    bar = tqdm(total=len(tfs) * n, desc="ntn-realtime", unit="frame", disable=None)
    for tf in tfs:
        cfg = _cfg(quick, t_frame_s=tf)
        inst = _realtime_instance(cfg, seed, n)
        F, C = inst["rate"].shape[:2]
        tm = frame_timing(cfg, C)
        budget = float(ra_budget(tf, tm["t_sens"], tm["t_ho"]))
        _solve_seconds(_one_frame(inst, 0), jcfg)  # compile (the frames share their shapes)
        secs, exp = [], f"t_frame_s={tf:g}"
        for i in range(F):
            dt, its = _solve_seconds(_one_frame(inst, i), jcfg)
            secs.append(dt)
            bar.update(1)
            rows += [tidy.row("ntn-realtime", exp, "t_frame_s", tf, "jmra", "solve_s", "s", 1, dt, frame=i,
                              budget_s=budget),
                     tidy.row("ntn-realtime", exp, "t_frame_s", tf, "jmra", "iterations", "1", 1, its, frame=i,
                              budget_s=budget)]
        s = np.asarray(secs)
        curves[tf] = (np.sort(s), budget)
        text.append(f"{tf:6g}  {budget:9.3f}  {np.median(s):9.3f}  {s.max():6.3f}  {int((s > budget).sum())}/{s.size}")
    bar.close()
    tidy.write(out_dir / "ntn-realtime.csv", rows)
    plt = _plt()
    fig, ax = plt.subplots(figsize=(plotting.COLUMN_IN, 2.4))
    for k, (tf, (s, budget)) in enumerate(curves.items()):
        colour = f"C{k}"
        ax.step(s, np.arange(1, s.size + 1) / s.size, where="post", color=colour, label=f"$T_f$ = {tf:g} s")
        ax.axvline(budget, color=colour, ls="--", lw=0.9)
    ax.set_xscale("log")
    ticks = [v for v in (0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100)
             if min(s[0] for s, _ in curves.values()) / 2 <= v <= 2 * max(b for _, b in curves.values())]
    ax.set_xticks(ticks, [f"{v:g}" for v in ticks])
    ax.set_xticks([], minor=True)
    ax.set_xlabel("warm solve time of one frame [s] (dashed: $T_f - T_{sens} - T_{HO}$)")
    ax.set_ylabel("CDF over frames")
    ax.set_ylim(0, 1.02)
    ax.legend()
    ax.grid(alpha=0.3)
    _caption(fig, n, quick, "frames", extra="JMRA, one frame per call after a compiling call; this machine",
             paper_n=20)
    save_figure(fig, out_dir / "ntn-realtime.png", pdf=True)
    return "\n".join(text)


FIGURES = {
    "ntn-table3": Figure("ntn-table3", "Table III: JMRA vs JMRA w/o HOP vs DMRAB, T_HO x T_f", table3),
    "ntn-fig6": Figure("ntn-fig6", "CDF of Algorithm-1 iterations for several rho", fig6),
    "ntn-fig7": Figure("ntn-fig7", "execution time and violating cells vs I_max", fig7),
    "ntn-fig8": Figure("ntn-fig8", "NMSE of SNR and attenuation estimates vs pilot length", fig8),
    "ntn-fig9": Figure("ntn-fig9", "NMSE of the ML SNR estimator vs SNR with the CRB", fig9),
    "ntn-fig10": Figure("ntn-fig10", "throughput and fairness vs pilot length (+ no sensing)", fig10),
    "ntn-fig11": Figure("ntn-fig11", "throughput and fairness vs frame length", fig11),
    "ntn-realtime": Figure("ntn-realtime", "Sec. VII-A: warm solve time per frame vs T_f - T_sens - T_HO", realtime),
}
