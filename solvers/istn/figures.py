"""``satisac reproduce istn-fig4 ... istn-fig10``: the ISTN paper's Sec. IV experiments.

Each figure is a list of :class:`Experiment` runs of the resumable Monte-Carlo runner
(``out_dir/<name>_runs/<experiment>_<scenario>_d<drops>_s<seed>/``, Parquet + run.json; re-running the
same command resumes / does no work; Figs. 4-6 share ``istn-fig4_runs``), a reduction of the rows to curve data with 95 %
confidence intervals (``<name>.csv`` in the tidy schema of :mod:`solvers.tidy`: one row per
experiment x x x method x metric; the rate figures add ``means`` and ``n_all``), a PNG laid
out like the paper's figure and a printed table.  Settings follow the paper (Sec. IV-A/B) and spec istn.md §5 where the paper is
silent (the P_BS axis 20-40 dBm, the Fig. 7 receive-antenna pair, the r_sens axis of
Fig. 8, the satellite-power axis of Fig. 7 -- all recorded below).  ``--quick`` keeps every
curve but uses fewer drops and sweep points (minutes on a laptop CPU).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from jaxcore.precision import current_precision
from solvers.configio import ConfigError, load_configs, to_dict
from solvers.figure import Figure, runs_dir
from solvers import plotting, tidy
from solvers.istn import experiments as istn_experiments  # .istn_work read at call time (tests replace it)
from solvers.istn.baselines import BASELINE_METHODS, BaselineConfig
from solvers.istn.config import IstnConfig
from solvers.istn.pipeline import SolverConfig
from solvers.runner.montecarlo import run_sweep
from solvers.runner.stats import group_mean_ci
from solvers.runner.store import load_results, to_numpy
from solvers.scenarios import current_settings

DEFAULT_DROPS = 200
QUICK_DROPS = 6
RATE_METHODS = ("proposed", "interference-free", "zf-eps", "greedy", "uniform")
LABEL = {"proposed": "Proposed", "interference-free": "Interference-free", "zf-eps": "ZF-EPS",
         "greedy": "Greedy", "uniform": "Uniform", "coop-uniform": "Coop-uniform",
         "assoc-proposed": "Proposed association", "assoc-nearest": "Nearest neighbor",
         "assoc-greedy": "Greedy association", "assoc-random": "Random association",
         "fail-satellite-free": "Satellite-free", "fail-proposed": "Proposed",
         "fail-random": "Random association", "fail-monostatic": "Monostatic"}
MARK = {"proposed": "o", "interference-free": "s", "zf-eps": "^", "greedy": "v", "uniform": "d",
        "coop-uniform": "x"}


@dataclass(frozen=True)
class Experiment:
    """One runner run of a figure: fixed overrides, one swept key, methods."""

    key: str
    label: str
    overrides: dict
    sweep_key: str
    values: tuple
    quick_values: tuple
    methods: tuple
    chunk: int = 25
    group: str | None = None  # runs dir name when figures share runs (default: the figure's own)


@dataclass(frozen=True)
class FigureSpec:
    name: str
    title: str
    experiments: tuple
    reduce: Callable  # (results: dict[key -> cols], spec) -> list of CSV rows
    plot: Callable  # (rows, spec, path) -> None
    table_cols: tuple = ()
    notes: dict = field(default_factory=dict)


# ----------------------------------------------------------------------------- running
def run_experiment(exp: Experiment, out_dir: Path, name: str, quick: bool, seed: int, drops: int | None,
                   progress: bool = True) -> dict:
    """Run (or resume) one experiment; returns its rows as numpy columns."""
    n = drops if drops is not None else (QUICK_DROPS if quick else DEFAULT_DROPS)
    values = list(exp.quick_values if quick else exp.values)
    settings = current_settings()  # satisac reproduce --scenario/--config/--set (paper scenario by default)
    scenario = settings.scenario_name(IstnConfig)
    base, solver_cfg, baseline_cfg = load_configs((IstnConfig, SolverConfig, BaselineConfig), settings.config,
                                                  settings.overrides, scenario,
                                                  fixed={**exp.overrides, "progress": False})
    precision = current_precision()
    group = exp.group or name
    run_dir = experiment_dir(out_dir, exp, name, scenario, n, seed, quick)
    extra = {"figure": group, "experiment": exp.key, "precision": precision, "scenario": scenario}
    if any(not m.startswith("fail-") for m in exp.methods):  # the solver settings identify rate runs
        extra["solver"] = to_dict(solver_cfg)
    if baseline_cfg != BaselineConfig() and set(exp.methods) & set(BASELINE_METHODS):
        extra["baselines"] = to_dict(baseline_cfg)  # only when set: stores made at the defaults still resume
    work = istn_experiments.istn_work(exp.methods, solver_cfg, precision, baseline_cfg)
    run_sweep(run_dir, base, work, n_drops=n, seed=seed,
              sweep={exp.sweep_key: values}, methods=exp.methods, chunk_size=min(exp.chunk, n), extra=extra,
              progress=progress, desc=f"{name} {exp.key}")
    return to_numpy(load_results(run_dir))


def experiment_dir(out_dir: Path, exp: Experiment, name: str, scenario: str, n: int, seed: int, quick: bool) -> Path:
    """The run store of ``exp``: ``<out>/<group>_runs/<key>_<scenario>_d<drops>_s<seed>[_quick]``."""
    return runs_dir(out_dir, exp.group or name, f"{exp.key}_{scenario}_d{n}_s{seed}{'_quick' if quick else ''}")


def anchor_method(exp: Experiment) -> str | None:
    """The method whose feasible drops the means cover: the proposed one of the experiment."""
    return next((m for m in exp.methods if m in ("proposed", "assoc-proposed")), None)


def means_mask(cols: dict, exp: Experiment, means: str) -> np.ndarray:
    """[rows] bool: the rows the figure's means cover (``solvers.scenarios.MEANS``).

    ``proposed-feasible``: the rows of every method on the drops (at each x) where the
    experiment's proposed method met every QoS floor, so all curves average the same drops
    and none mixes in drops whose constraints the method could not meet; ``all``: every row.
    """
    keep = np.ones(len(cols["method"]), bool)
    anchor = anchor_method(exp)
    if means == "all" or anchor is None or "feasible" not in cols:
        return keep
    xs, drops = cols[exp.sweep_key], np.asarray(cols["drop"]).astype(int)
    ok = {(x, d) for x, d, m, f in zip(xs.tolist(), drops.tolist(), cols["method"], cols["feasible"])
          if m == anchor and bool(f)}
    return np.array([(x, d) in ok for x, d in zip(xs.tolist(), drops.tolist())], bool)


def _means() -> str:
    return current_settings().means


def _rate_rows(res: dict, spec: FigureSpec, values=("sum_rate", "tut_rate", "sut_rate", "min_scnr_db",
                                                     "mean_scnr_db", "p_sat_total")) -> list[dict]:
    """Means with CIs per (x, method) over the drops :func:`means_mask` keeps (``n``); the
    feasible share with its CI over all drops (``n_all``)."""
    out = []
    means = _means()
    for exp in spec.experiments:
        cols = res[exp.key]
        by = (exp.sweep_key, "method")
        share = {(r[exp.sweep_key], r["method"]): r for r in group_mean_ci(cols, by, (), proportions=("feasible",))}
        kept = {(r[exp.sweep_key], r["method"]): r
                for r in group_mean_ci(cols, by, values, mask=means_mask(cols, exp, means))}
        for key, sh in share.items():
            r = kept.get(key, {"n": 0, **{k: np.nan for v in values for k in (v, f"{v}_lo", f"{v}_hi")}})
            row = {"experiment": exp.key, "x_name": exp.sweep_key, "x": key[0], "method": key[1], "means": means,
                   **{k: v for k, v in r.items() if k not in by}, "n_all": sh["n"]}
            row.update({k: sh[k] for k in ("feasible", "feasible_lo", "feasible_hi")})
            out.append(row)
    return out


def _fail_rows(res: dict, spec: FigureSpec) -> list[dict]:
    out = []
    for exp in spec.experiments:
        for r in group_mean_ci(res[exp.key], (exp.sweep_key, "method"), (), proportions=("fail",)):
            out.append({"experiment": exp.key, "x_name": exp.sweep_key, "x": r.pop(exp.sweep_key), **r})
    return out


def _normalised_rows(res: dict, spec: FigureSpec) -> list[dict]:
    """Sum rate / interference-free sum rate (ratio of means; delta-method 95 % CI, paired) over
    the drops the means keep (``n``), with the drops run at each x (``n_all``)."""
    out = []
    means = _means()
    for exp in spec.experiments:
        c = res[exp.key]
        xs = c[exp.sweep_key]
        kept = means_mask(c, exp, means)
        for x in sorted(set(xs.tolist())):
            n_all = len(set(c["drop"][xs == x].tolist()))  # drops run at x (the caption's "of N run")
            sel = (xs == x) & kept
            ref = {int(d): v for d, v, m in zip(c["drop"][sel], c["sum_rate"][sel], c["method"][sel])
                   if m == "interference-free"}
            for m in exp.methods:
                pairs = [(v, ref[int(d)]) for d, v, mm in zip(c["drop"][sel], c["sum_rate"][sel], c["method"][sel])
                         if mm == m and int(d) in ref]
                if not pairs:
                    continue
                a, b = np.array(pairs, float).T
                ratio = a.mean() / b.mean()
                n = len(a)
                se = np.std(a - ratio * b, ddof=1) / (np.sqrt(n) * b.mean()) if n > 1 else np.nan
                out.append({"experiment": exp.key, "x_name": exp.sweep_key, "x": x, "method": m, "means": means, "n": n,
                            "n_all": n_all,
                            "normalised_sum_rate": ratio, "normalised_sum_rate_lo": ratio - 1.96 * se,
                            "normalised_sum_rate_hi": ratio + 1.96 * se,
                            "sum_rate": a.mean(), "interference_free_sum_rate": b.mean()})
    return out


# ----------------------------------------------------------------------------- plotting
# One style for both papers (solvers/plotting.py): mean +- 95 % CI whiskers at each x, one
# marker/colour per method, the share of feasible drops in a lower panel when the rows carry
# it, and a caption line (drops per point, scenario, what the means cover, QUICK stamp).
_TEX = (("P_BS,m", r"$P_{\mathrm{BS},m}$"), ("P_BS", r"$P_{\mathrm{BS}}$"), ("SCNR_min", r"$\mathrm{SCNR}_{\min}$"),
        ("R_min", r"$R_{\min}^{(S)}$"), ("N_RX", r"$N_{\mathrm{RX}}$"), ("N_rad", r"$N_{\mathrm{rad}}$"),
        ("M = ", r"$M$ = "), ("M=", r"$M$="))


def _tex(text: str) -> str:
    """Plain spec labels (``R_min=3``, ``P_BS,m``) as mathtext, so titles match the axes."""
    for plain, tex in _TEX:
        text = text.replace(plain, tex)
    return text


def _points(rows, exp_key, method, col):
    r = sorted((x for x in rows if x["experiment"] == exp_key and x["method"] == method), key=lambda x: x["x"])
    get = lambda k: np.array([q.get(k, np.nan) for q in r], float)  # noqa: E731
    return get("x"), get(col), get(f"{col}_lo"), get(f"{col}_hi"), get("n")


def _curve(ax, rows, exp_key, method, col, style="-", label=None, marker=None, dodge=0.0, feas=None):
    """One method's curve of ``col`` (mean, CI whiskers); its feasible share onto ``feas``."""
    x, y, lo, hi, _ = _points(rows, exp_key, method, col)
    if not x.size:
        return
    plotting.errorbar_curve(ax, x, y, lo, hi, label=label or LABEL.get(method, method), method=method, ls=style,
                            dodge=dodge)
    if feas is not None:
        xf, share, _, _, _ = _points(rows, exp_key, method, "feasible")
        if np.isfinite(share).any():
            plotting.feasibility_panel(feas, [(xf, share, method, style, dodge)])


def _axes(plt, ncols: int, rows, width: float | None = None):
    """Main axes (and a feasible-share panel under each when the rows carry 'feasible')."""
    feasible = any("feasible" in r for r in rows)
    w = width or plotting.COLUMN_IN * (1.0 if ncols == 1 else 0.95 * ncols)
    if not feasible:
        fig, axes = plt.subplots(1, ncols, figsize=(w, 2.6), squeeze=False)
        return fig, list(axes[0]), [None] * ncols
    fig, axes = plt.subplots(2, ncols, figsize=(w, 3.4), squeeze=False, sharex="col",
                             gridspec_kw={"height_ratios": (3, 1), "hspace": 0.08, "wspace": 0.35})
    return fig, list(axes[0]), list(axes[1])


MEANS_TEXT = {"proposed-feasible": "the drops where Proposed meets every QoS floor (same drops for every method)",
              "all": "all drops"}


def _finish(fig, axes, feas, rows, xlabel, ylabel, caption, ncol=2, means=None, suffix=""):
    """Axis labels, legend, caption (``means``: what the means cover; default from the rows)."""
    if means is None:
        means = MEANS_TEXT.get(next((r["means"] for r in rows if "means" in r), "all"), "all drops") + suffix
    for ax, fa in zip(axes, feas):
        ax.set_ylabel(ylabel)
        (fa if fa is not None else ax).set_xlabel(xlabel)
        if fa is not None:
            ax.tick_params(labelbottom=False)
    plotting.legend_outside(fig if len(axes) > 1 else axes[0], *axes[0].get_legend_handles_labels(), ncol=ncol)
    c = dict(caption or {})
    line = plotting.caption([r.get("n", np.nan) for r in rows], c.get("scenario"), c.get("quick"),
                            c.get("paper_n", DEFAULT_DROPS), means=means,
                            n_run=[r.get("n_all", r.get("n", np.nan)) for r in rows])
    plotting.add_caption(fig, (_tex(c["title"]) + "\n" if c.get("title") else "") + line)


def _plot_vs_pbs(col: str, ylabel: str, hline: float | None = None):
    def plot(rows, spec, path, caption=None):
        with plotting.style() as plt:
            fig, (ax,), (fa,) = _axes(plt, 1, rows)
            curves = [(exp, m) for exp in spec.experiments for m in exp.methods]
            for (exp, m), d in zip(curves, plotting.dodges(len(curves))):
                ls = ["-", "--", ":"][spec.experiments.index(exp) % 3]
                lab = LABEL.get(m, m) + (f" ({_tex(exp.label)})" if len(spec.experiments) > 1 else "")
                _curve(ax, rows, exp.key, m, col, ls, lab, dodge=d, feas=fa)
            if hline is not None:
                ax.axhline(hline, color="k", lw=0.8, ls="-.", label=r"$\mathrm{SCNR}_{\min}$")
            _finish(fig, [ax], [fa], rows, r"$P_{\mathrm{BS},m}$ (dBm)", ylabel, caption)
            plotting.save_figure(fig, path, pdf=True)
    return plot


def _plot_fig6(rows, spec, path, caption=None):
    with plotting.style() as plt:
        fig, axes, feas = _axes(plt, 2, rows)
        methods = ("proposed", "interference-free", "zf-eps")
        for ax, fa, exp, tag in zip(axes, feas, spec.experiments, "ab"):
            for (m, c, ls), d in zip([(m, c, ls) for m in methods for c, ls in (("tut", "-"), ("sut", "--"))],
                                     plotting.dodges(6)):
                who = "terrestrial" if c == "tut" else "satellite"
                _curve(ax, rows, exp.key, m, f"{c}_rate", ls, f"{LABEL.get(m, m)}: {who}", dodge=d,
                       feas=fa if c == "tut" else None)
            ax.axhline(exp.overrides["r_min_sut"], color="k", lw=0.8, ls="-.", label=r"$R_{\min}^{(S)}$")
            ax.set_title(f"({tag}) {_tex(exp.label)}", fontsize=8)
        _finish(fig, axes, feas, rows, r"$P_{\mathrm{BS},m}$ (dBm)", "Sum rate (bps/Hz)", caption, ncol=4)
        plotting.save_figure(fig, path, pdf=True)


def _plot_panels(col: str, xlabel: str, ylabel: str, ylog: bool = False, hline: float | None = None):
    def plot(rows, spec, path, caption=None):
        with plotting.style() as plt:
            n = len(spec.experiments)
            fig, axes, feas = _axes(plt, n, rows)
            for ax, fa, exp, tag in zip(axes, feas, spec.experiments, "abcd"):
                for m, d in zip(exp.methods, plotting.dodges(len(exp.methods))):
                    _curve(ax, rows, exp.key, m, col, "-", dodge=d, feas=fa)
                if hline is not None:
                    ax.axhline(hline, color="k", lw=0.8, ls="-.")
                if ylog:
                    ax.set_yscale("log")
                ax.set_title(f"({tag}) {_tex(exp.label)}", fontsize=8)
            # the legend takes the union of the panels' methods (panel (b) of Fig. 8 has one fewer)
            biggest = max(axes, key=lambda a: len(a.get_legend_handles_labels()[1]))
            axes.insert(0, axes.pop(axes.index(biggest)))
            _finish(fig, axes, feas, rows, xlabel, ylabel, caption, ncol=4,
                    means=None if col != "fail" else "all drops (share failing)")
            plotting.save_figure(fig, path, pdf=True)
    return plot


def _plot_fig10(rows, spec, path, caption=None):
    with plotting.style() as plt:
        fig, (ax,), (fa,) = _axes(plt, 1, rows)
        exp = spec.experiments[0]
        methods = [m for m in exp.methods if m != "interference-free"]
        for m, d in zip(methods, plotting.dodges(len(methods))):
            _curve(ax, rows, exp.key, m, "normalised_sum_rate", dodge=d, feas=fa)
        ax.axhline(0.9, color="k", lw=0.8, ls="-.", label="90 % of ideal")
        _finish(fig, [ax], [fa], rows, "Number of spot beams / cells $M$", "Sum rate / interference-free", caption,
                ncol=3, suffix=" (ratio of means)")
        plotting.save_figure(fig, path, pdf=True)


# ----------------------------------------------------------------------------- figure specs
PBS = (20.0, 25.0, 30.0, 35.0, 40.0)  # P_BS axis, dBm [assumption: spec §5 "sweep 20-40 dBm"]
PBS_QUICK = (20.0, 30.0, 40.0)
# Figs. 4, 5 and 6 are three views of the same experiment: they share one runs directory
# (out_dir/istn-fig4_runs), so reproducing all three solves the drops once.
_RMIN = (Experiment("rmin3", "R_min=3", {"r_min_sut": 3.0, "n_cells": 1}, "p_bs_dbm", PBS, PBS_QUICK, RATE_METHODS,
                    group="istn-fig4"),
         Experiment("rmin7", "R_min=7", {"r_min_sut": 7.0, "n_cells": 1}, "p_bs_dbm", PBS, PBS_QUICK, RATE_METHODS,
                    group="istn-fig4"))
# Fig. 7: satellite transmit power axis (W) [assumption: the paper gives no values; up to P_LEO = 200 W];
# (a)/(b) receive antennas N_RX = 4 / 16 [assumption: "values not stated", gap larger at small N_RX]
PSAT = (25.0, 50.0, 100.0, 200.0)
PSAT_QUICK = (50.0, 200.0)
_ASSOC = tuple(f"assoc-{a}" for a in ("proposed", "nearest", "greedy", "random"))
# Fig. 8: sensing radius axis (m) [assumption], cases (N_RX, N_rad) = (4,4), (32,32) [paper]
RSENS = (10.0, 25.0, 50.0, 75.0, 100.0, 150.0, 200.0)
RSENS_QUICK = (25.0, 50.0, 100.0, 200.0)
_FAIL = tuple(f"fail-{c}" for c in ("satellite-free", "proposed", "random", "monostatic"))
_MULTI = RATE_METHODS + ("coop-uniform",)

SPECS = {
    "istn-fig4": FigureSpec(
        "istn-fig4", "ISTN sum rate vs P_BS,m (SCNR_min = -10 dB, M = 1)", _RMIN, _rate_rows,
        _plot_vs_pbs("sum_rate", "ISTN sum rate (bps/Hz)"), ("sum_rate", "feasible")),
    "istn-fig5": FigureSpec(
        "istn-fig5", "SCNR vs P_BS,m (SCNR_min = -10 dB, M = 1)", _RMIN, _rate_rows,
        _plot_vs_pbs("mean_scnr_db", "SCNR of targets (dB)", hline=-10.0), ("mean_scnr_db", "min_scnr_db")),
    "istn-fig6": FigureSpec(
        "istn-fig6", "Terrestrial and satellite sum rates (SCNR_min = -10 dB, M = 1)", _RMIN,
        _rate_rows, _plot_fig6, ("tut_rate", "sut_rate")),
    "istn-fig7": FigureSpec(
        "istn-fig7", "ISTN sum rate with different association methods (SCNR_min = -10 dB)",
        (Experiment("nrx4", "N_RX=4", {"n_rx": 4, "n_cells": 1, "r_min_sut": 3.0}, "p_leo_w", PSAT, PSAT_QUICK, _ASSOC),
         Experiment("nrx16", "N_RX=16", {"n_rx": 16, "n_cells": 1, "r_min_sut": 3.0}, "p_leo_w", PSAT, PSAT_QUICK,
                    _ASSOC)),
        _rate_rows, _plot_panels("sum_rate", "Satellite transmit power (W)", "ISTN sum rate (bps/Hz)"),
        ("sum_rate", "feasible")),
    "istn-fig8": FigureSpec(
        "istn-fig8", "Sensing failure probability vs sensing radius",
        (Experiment("nrx4_nrad4", "(N_RX, N_rad) = (4, 4)", {"n_rx": 4, "n_radar": 4, "n_cells": 1}, "r_sens_m",
                    RSENS, RSENS_QUICK, _FAIL, chunk=50),
         # no monostatic curve here: one 1024-element receiver makes the dense Nr x Nr MMSE of
         # the certificates (zf.sensing_cov) cost ~1e4 x the multistatic case [limitation]
         Experiment("nrx32_nrad32", "(N_RX, N_rad) = (32, 32)", {"n_rx": 32, "n_radar": 32, "n_cells": 1}, "r_sens_m",
                    RSENS, RSENS_QUICK, _FAIL[:3], chunk=50)),
        _fail_rows, _plot_panels("fail", r"Sensing radius $r_{\mathrm{sens}}$ (m)", "Sensing failure probability"),
        ("fail",)),
    "istn-fig9": FigureSpec(
        "istn-fig9", "ISTN sum rate, multicell: M = 4, SCNR_min = -10 dB, R_min = 5 bps/Hz",
        (Experiment("m4", "M=4", {"n_cells": 4, "r_min_sut": 5.0}, "p_bs_dbm", PBS, PBS_QUICK, _MULTI, chunk=10),),
        _rate_rows, _plot_vs_pbs("sum_rate", "ISTN sum rate (bps/Hz)"), ("sum_rate", "feasible")),
    "istn-fig10": FigureSpec(
        "istn-fig10", "Normalised ISTN sum rate vs M: SCNR_min = -10 dB, P_BS = 35 dBm, R_min = 5 bps/Hz",
        (Experiment("m1to5", "P_BS=35 dBm", {"p_bs_dbm": 35.0, "r_min_sut": 5.0}, "n_cells", (1, 2, 3, 4, 5),
                    (1, 3, 5), _MULTI, chunk=10),),
        _normalised_rows, _plot_fig10, ("normalised_sum_rate",)),
}


def radius_at(rows: list[dict], exp_key: str, method: str, level: float = 0.3) -> float:
    """Sensing radius where the failure probability first reaches ``level`` (linear interpolation; NaN if never).

    ``rows``: the figure's in-memory rows (column ``fail``) or the tidy rows of
    ``istn-fig8.csv`` (:func:`solvers.tidy.read`; metric ``fail``).
    """
    r = sorted((x for x in rows if x["experiment"] == exp_key and x["method"] == method
                and x.get("metric", "fail") == "fail"), key=lambda x: x["x"])
    xs = np.array([q["x"] for q in r], float)
    ps = np.array([q["fail"] if "fail" in q else q["mean"] for q in r], float)
    for i in range(len(xs)):
        if ps[i] >= level:
            if i == 0:
                return float(xs[0])
            return float(xs[i - 1] + (level - ps[i - 1]) * (xs[i] - xs[i - 1]) / (ps[i] - ps[i - 1]))
    return float("nan")


# the unit of every metric the reductions produce (tidy CSV column ``unit``)
UNITS = {"sum_rate": "bit/s/Hz", "tut_rate": "bit/s/Hz", "sut_rate": "bit/s/Hz", "min_scnr_db": "dB",
         "mean_scnr_db": "dB", "p_sat_total": "W", "feasible": "1", "fail": "1", "normalised_sum_rate": "1",
         "interference_free_sum_rate": "bit/s/Hz"}


def tidy_rows(rows: list[dict], name: str) -> list[dict]:
    """The in-memory rows of a reduction (one dict per experiment, x, method with ``<metric>``,
    ``<metric>_lo``, ``<metric>_hi``) as tidy rows (:mod:`solvers.tidy`): one per metric.

    ``n`` is the drops the mean covers; the feasible share covers all drops (``n_all``, its
    ``means`` = ``all``).  Metrics without ``_lo``/``_hi`` (the two sum rates behind Fig. 10's
    ratio) get empty CI cells.  Extra columns: ``means`` and ``n_all`` where the rows carry them.
    """
    out = []
    for r in rows:
        for metric, unit in UNITS.items():
            if metric not in r:
                continue
            feas = metric == "feasible"
            extra = {}
            if "means" in r:
                extra["means"] = "all" if feas else r["means"]
            if "n_all" in r:
                extra["n_all"] = r["n_all"]
            out.append(tidy.row(name, r["experiment"], r["x_name"], r["x"], r["method"], metric, unit,
                                r["n_all"] if feas else r["n"], r[metric], r.get(f"{metric}_lo"),
                                r.get(f"{metric}_hi"), **extra))
    return out


def _table(rows: list[dict], cols: tuple) -> str:
    head = ["experiment", "x", "method", "n"] + [c for c in cols]
    lines = [" | ".join(head), " | ".join("---" for _ in head)]
    for r in rows:
        cells = [str(r["experiment"]), f"{r['x']:g}", str(r["method"]), str(r.get("n", ""))]
        for c in cols:
            v = r.get(c, float("nan"))
            lo, hi = r.get(f"{c}_lo"), r.get(f"{c}_hi")
            cells.append(f"{v:.3f}" + (f" [{lo:.3f}, {hi:.3f}]" if lo is not None and np.isfinite(lo) else ""))
        lines.append(" | ".join(cells))
    return "\n".join(lines)


def run_figure(name: str, out_dir, quick: bool = False, seed: int = 0, drops: int | None = None,
               progress: bool = True) -> str:
    """Run one figure's experiments (resumable), write ``<name>.csv`` / ``<name>.png``, return the table."""
    if drops is not None and drops < 2:
        raise ConfigError(f"--drops: expected an integer >= 2 (confidence intervals), got {drops}")
    spec = SPECS[name]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    res = {e.key: run_experiment(e, out, name, quick, seed, drops, progress) for e in spec.experiments}
    rows = spec.reduce(res, spec)
    tidy.write(out / f"{name}.csv", tidy_rows(rows, name))
    spec.plot(rows, spec, out / f"{name}.png", caption={**_caption_info(quick, drops), "title": spec.title})
    text = f"{spec.title}\n" + _table(rows, spec.table_cols)
    if name == "istn-fig8":
        lines = ["", "radius at failure probability 0.3 (m), reduction vs satellite-free (radius / area):"]
        for e in spec.experiments:
            r0 = radius_at(rows, e.key, "fail-satellite-free")
            for m in e.methods:
                r = radius_at(rows, e.key, m)
                red = (1 - r / r0) if np.isfinite(r) and np.isfinite(r0) and r0 > 0 else float("nan")
                lines.append(f"{e.key} {m}: r = {r:.1f} m, radius -{100 * red:.0f} %, area -{100 * (1 - (1 - red) ** 2):.0f} %")
        text += "\n".join(lines)
    return text


def _caption_info(quick: bool, drops: int | None) -> dict:
    """What the figure's caption line states besides n: scenario, quick, the paper's drops."""
    return {"scenario": current_settings().scenario_name(IstnConfig), "quick": quick, "paper_n": DEFAULT_DROPS}


def _make(name: str) -> Figure:
    def run(out_dir, quick=False, seed=0, drops=None):
        return run_figure(name, out_dir, quick, seed, drops)
    return Figure(name, SPECS[name].title, run)


FIGURES: dict[str, Figure] = {name: _make(name) for name in SPECS}
