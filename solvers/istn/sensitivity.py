"""``satisac reproduce istn-sensitivity``: which open ISTN parameter drives which claim.

The ISTN paper (Jee & Andrews) leaves several parameters unstated (spec istn.md §5; the
``assumption`` rows of CONFIG.md).  This study sweeps each of them *one at a time* around
the base point of the chosen scenario (``--scenario``, ``paper`` by default, plus
``--config``/``--set``) and reports, per value, the metrics behind the claims of
``../shared/spec/claims.md`` that the parameter can move:

``sut_rate``         I7: mean SUT rate of the proposed method at R_min^(S) = 7 (Fig. 6b), bps/Hz;
``sum_rate_ratio``   I6/I7/I12: mean SR(Proposed) / mean SR(interference-free), paired drops
                     (ratio of means, delta-method CI);
``feasible_share``   I4: share of drops the proposed method solves with every QoS floor met;
``terrestrial_loss`` I6/I7: 1 - TUT sum rate(Proposed) / TUT sum rate(IF);
``fail_gap``         I10/I11: P_fail(Proposed association, satellite on) - P_fail(satellite-free)
                     at r_sens = ``SENS_RADIUS_M`` (Fig. 8's sensing-failure indicator), paired;
``radius_reduction`` I10: 1 - r(method)/r(satellite-free) at P_fail = 0.3 on Fig. 8's r_sens
                     grid, methods ``proposed`` and ``random`` association (bootstrap CI).

Rate metrics come from one runner store per parameter (methods ``proposed`` and
``interference-free``, R_min^(S) = 7, P_BS = 35 dBm, M = 1), the sensing metrics from a
second store (``fail-satellite-free``, ``fail-proposed``, ``fail-random`` on the r_sens grid,
parameters that change the sensing channels only); both under
``out_dir/istn-sensitivity_runs/<param>_<kind>_<scenario>_d<drops>_s<seed>/`` (resumable,
``solvers.runner``).  Output: ``istn-sensitivity.csv`` (the tidy schema of :mod:`solvers.tidy`:
``experiment`` = ``x_name`` = the parameter, ``x`` its value, one row per value, metric and
method with ``n, mean, ci_low, ci_high``) and ``istn-sensitivity.png`` (one panel per parameter,
metrics vs value with 95 % CIs).  ``--quick``: one alternative value per parameter plus the
base point's, the failure store at r_sens = ``SENS_RADIUS_M`` only (no radius reduction),
4 drops per point, and the base point solved once for all parameters (its own stores
``base_rates_*``/``base_fail_*``: the same configuration and drops for every parameter; the
parameters' stores, without it, end in ``_alt``).  ``python -m solvers.istn.sensitivity
--params a,b ...`` runs a subset of the parameters (the calibration of the ``paper`` scenario, CONFIG.md).
"""
from __future__ import annotations

import contextvars
import importlib
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from jaxcore.precision import current_precision
from solvers import tidy
from solvers.configio import ConfigError, load_configs, to_dict
from solvers.istn import experiments as istn_experiments  # .istn_work read at call time (tests replace it)
from solvers.istn.baselines import BaselineConfig
from solvers.istn.config import IstnConfig
from solvers.istn.pipeline import SolverConfig
from solvers.plotting import pyplot, save_figure
from solvers.figure import Figure, runs_dir
from solvers.runner.montecarlo import run_sweep
from solvers.runner.stats import mean_ci, proportion_ci
from solvers.runner.store import load_results, to_numpy
from solvers.scenarios import current_settings

NAME = "istn-sensitivity"
DEFAULT_DROPS = 32
QUICK_DROPS = 4
RATE_FIXED = {"r_min_sut": 7.0, "p_bs_dbm": 35.0, "n_cells": 1}  # Fig. 6(b) point of claim I7
SENS_RADIUS_M = 100.0  # r_sens of the sensing-failure gap (Fig. 8 axis: 10-200 m)
RADII = (10.0, 25.0, 50.0, 75.0, 100.0, 150.0, 200.0)  # Fig. 8's r_sens grid (istn-fig8)
RADII_CALIBRATION = (25.0, 50.0, 100.0, 200.0)  # the grid of the I10 calibration sweep (CPU-limited)
P_FAIL = 0.3  # claim I10: radius at sensing-failure probability 0.3
N_BOOT = 200  # bootstrap resamples (over drops) of the radius-reduction CI
RATE_METHODS = ("proposed", "interference-free")
FAIL_METHODS = ("fail-satellite-free", "fail-proposed", "fail-random")
METRICS = ("sut_rate", "sum_rate_ratio", "feasible_share", "terrestrial_loss", "fail_gap", "radius_reduction")
UNITS = {"sut_rate": "bit/s/Hz", "sum_rate_ratio": "1", "feasible_share": "1", "terrestrial_loss": "1",
         "fail_gap": "1", "radius_reduction": "1"}


@dataclass(frozen=True)
class OpenParam:
    """One unstated parameter: the config key, the values of the full and the quick sweep."""
    key: str
    values: tuple
    quick_values: tuple
    sensing: bool = True  # does the parameter change the sensing channels (run the failure store)?
    rates: bool = True  # run the rate store (False: sensing metrics only, e.g. a calibration of I10)
    tied: tuple = ()  # keys set to the same value as ``key`` at every point (zip sweep; rate store only)
    radii: tuple | None = None  # r_sens grid of the failure store (None: RADII, or SENS_RADIUS_M only in --quick)

    @property
    def label(self) -> str:
        """``key``, or ``key=tied1=...`` for a tied sweep (the CSV's ``experiment`` and ``x_name``)."""
        return "=".join((self.key,) + tuple(self.tied))


# Plausible ranges (CONFIG.md, "Open ISTN parameters"); the paper point is added to each sweep.
PARAMS: tuple[OpenParam, ...] = (
    OpenParam("g_tut_dbi", (0.0, 5.0, 10.0, 15.0, 20.0), (0.0,), sensing=False),
    OpenParam("g_rad_dbi", (0.0, 5.0, 10.0, 15.0, 20.0), (0.0,)),
    OpenParam("delta_sat", (0.05, 0.1, 0.2, 0.5), (0.5,)),
    OpenParam("delta_tar", (0.05, 0.1, 0.2, 0.5), (0.1,)),
    OpenParam("rcs_cl_m2", (0.01, 0.1, 1.0), (0.1,)),
    OpenParam("clutter_radius_m", (2.0, 5.0, 10.0, 20.0), (20.0,)),
    OpenParam("clutter_per_target", (1, 3, 5), (1,)),
    OpenParam("sat_path_gain", ("friis", "paper_literal"), ("paper_literal",)),
    OpenParam("sut_placement", ("uniform", "fixed"), ("fixed",), sensing=False),
    OpenParam("elevation_draw", ("30-90", "0-60"), ("0-60",)),
)


# The calibration of the ``paper`` scenario (CONFIG.md, "Scenarios"), around ``spec`` and around
# ``spec`` with the lower elevation reading: ``python -m solvers.istn.sensitivity --calibration
# --scenario spec --drops 32 -o DIR`` and the same with ``--set elevation_draw=0-60``.
CALIBRATION: tuple[OpenParam, ...] = (
    OpenParam("g_tut_dbi", (0.0, 5.0, 10.0, 15.0, 20.0), (0.0, 5.0, 10.0, 15.0, 20.0), sensing=False),
    OpenParam("g_tut_dbi", (10.0, 15.0, 20.0), (10.0, 15.0, 20.0), sensing=False, tied=("g_rad_dbi",)),
    OpenParam("elevation_draw", ("30-90", "0-60"), ("30-90", "0-60"), sensing=False),
    OpenParam("delta_sat", (0.05, 0.1, 0.2, 0.5), (0.05, 0.1, 0.2, 0.5), rates=False, radii=RADII_CALIBRATION),
)


def _base_value(p: OpenParam, base):
    """The base point's value of ``p.key`` ('auto' thresholds as the number they stand for)."""
    b = getattr(base, p.key)
    return 2.0 / base.n_rx if b == "auto" else b


def _values(p: OpenParam, base, quick: bool) -> list:
    """The sweep values of ``p`` with the base point's own value included (sorted when numeric)."""
    vals = list(p.quick_values if quick else p.values)
    if p.tied:  # a zip sweep: the listed values only
        return vals
    b = _base_value(p, base)
    if quick and all(v == b for v in vals):  # the quick value is the base point: take another one
        vals = [next(v for v in p.values if v != b)]
    if b not in vals:
        vals.append(b)
    if all(isinstance(v, (int, float)) for v in vals):
        vals = sorted(vals)
    return vals


def _radii(p: OpenParam, quick: bool) -> list:
    """The r_sens grid of ``p``'s failure store."""
    return list(p.radii if p.radii is not None else ((SENS_RADIUS_M,) if quick else RADII))


def _with_base(cols: dict, base_cols: dict, key: str, b, vals: list, keep=None) -> dict:
    """``cols`` (a parameter's store, every value but the base point's) joined with the rows of
    the shared base-point store as ``key == b``, rows ordered as ``vals``; ``keep``: a mask
    of the base rows to use (a radius grid narrower than the base store's)."""
    bc = {k: (v if keep is None else v[keep]) for k, v in base_cols.items()}
    n = len(bc["drop"])
    names = [k for k in cols if k in bc or k == key]
    out = {k: np.asarray(list(cols[k]) + (list(bc[k]) if k != key else [b] * n)) for k in names}
    order = np.argsort([vals.index(v) for v in out[key].tolist()], kind="stable")
    return {k: v[order] for k, v in out.items()}


def run_stores(out_dir: Path, quick: bool, seed: int, drops: int | None, params=None,
               progress: bool = True) -> tuple[dict, dict, str]:
    """Run (or resume) the rate and failure stores of every parameter; returns (rates, fails, scenario).

    ``rates[key]``/``fails[key]``: numpy columns of the runner store (``fails`` only for
    parameters with ``sensing``).  ``--quick``: the base point -- the same configuration and
    drops for every parameter -- is solved once, in its own stores (``base_rates_*``,
    ``base_fail_*``), and its rows are shared by every parameter (tied sweeps excepted); the
    full run keeps it in each parameter's store.
    """
    settings = current_settings()
    scenario = settings.scenario_name(IstnConfig)
    n = drops if drops is not None else (QUICK_DROPS if quick else DEFAULT_DROPS)
    base, solver_cfg, baseline_cfg = load_configs((IstnConfig, SolverConfig, BaselineConfig), settings.config,
                                                  settings.overrides, scenario,
                                                  fixed={**RATE_FIXED, "progress": False})
    precision = current_precision()
    plist = tuple(params if params is not None else PARAMS)
    tag = f"{scenario}_d{n}_s{seed}{'_quick' if quick else ''}"
    common = {"figure": NAME, "precision": precision, "scenario": scenario}
    solver = {"solver": to_dict(solver_cfg)}
    if baseline_cfg != BaselineConfig():  # only when set: stores made at the defaults still resume
        solver["baselines"] = to_dict(baseline_cfg)

    def store(name, methods, sweep, extra, desc, mode="grid"):
        """Run (or resume) one store; its numpy columns.  Rate stores record the solver settings."""
        d = runs_dir(out_dir, NAME, name)
        work = istn_experiments.istn_work(methods, solver_cfg, precision, baseline_cfg)
        if methods == RATE_METHODS:
            extra = {**extra, **solver}
        run_sweep(d, base, work, n_drops=n, seed=seed, sweep=sweep, mode=mode, methods=methods,
                  chunk_size=n, extra=extra, progress=progress, desc=desc)
        return to_numpy(load_results(d))

    shared = [p for p in plist if quick and not p.tied]
    base_rates = base_fails = None
    if any(p.rates for p in shared):
        base_rates = store(f"base_rates_{tag}", RATE_METHODS, None, {**common, "param": "base point"},
                           f"{NAME} base point rates")
    base_radii = sorted({r for p in shared if p.sensing for r in _radii(p, quick)})
    if base_radii:
        base_fails = store(f"base_fail_{tag}", FAIL_METHODS, {"r_sens_m": base_radii},
                           {**common, "param": "base point"}, f"{NAME} base point sensing")
    rates, fails = {}, {}
    for p in plist:
        vals = _values(p, base, quick)
        b = _base_value(p, base)
        share = p in shared
        run_vals = [v for v in vals if v != b] if share else vals
        ptag = f"{tag}_alt" if share else tag  # _alt: the store lacks the base point (not an older quick store)
        extra = {**common, "param": p.key}
        if p.rates:
            c = store(f"{p.label}_rates_{ptag}", RATE_METHODS, {k: run_vals for k in (p.key,) + p.tied}, extra,
                      f"{NAME} {p.key} rates", mode="zip" if p.tied else "grid")
            rates[p.label] = _with_base(c, base_rates, p.key, b, vals) if share else c
        if p.sensing and not p.tied:
            radii = _radii(p, quick)
            f = store(f"{p.key}_fail_{ptag}", FAIL_METHODS, {p.key: run_vals, "r_sens_m": radii}, extra,
                      f"{NAME} {p.key} sensing")
            if share:
                keep = np.isin(np.asarray(base_fails["r_sens_m"], float), radii)
                f = _with_base(f, base_fails, p.key, b, vals, keep)
            fails[p.key] = f
    return rates, fails, scenario


def _paired(cols: dict, key: str, value, col: str, a: str, b: str) -> tuple[np.ndarray, np.ndarray]:
    """Per-drop ``col`` of methods ``a`` and ``b`` on the drops both solved, at ``key == value``."""
    sel = np.array([v == value for v in cols[key]], bool)
    va = {int(d): x for d, x, m in zip(cols["drop"][sel], cols[col][sel], cols["method"][sel]) if m == a}
    vb = {int(d): x for d, x, m in zip(cols["drop"][sel], cols[col][sel], cols["method"][sel]) if m == b}
    common = sorted(set(va) & set(vb))
    return np.array([va[d] for d in common], float), np.array([vb[d] for d in common], float)


def _ratio_ci(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float, int]:
    """mean(a)/mean(b) with a delta-method 95 % CI on paired samples (same as istn-fig10)."""
    n = len(a)
    if n == 0 or b.mean() == 0:
        return float("nan"), float("nan"), float("nan"), n
    r = a.mean() / b.mean()
    se = np.std(a - r * b, ddof=1) / (np.sqrt(n) * abs(b.mean())) if n > 1 else float("nan")
    return float(r), float(r - 1.96 * se), float(r + 1.96 * se), n


def _rate_metrics(c: dict, key: str, v) -> list[tuple]:
    """(metric, method, n, mean, ci_low, ci_high) of sut_rate, feasible_share, sum_rate_ratio and
    terrestrial_loss of the proposed method at ``key == v``."""
    out = []
    sel = np.array([x == v for x in c[key]], bool) & (c["method"] == "proposed")
    m, lo, hi, n = mean_ci(c["sut_rate"][sel])
    out.append(("sut_rate", "proposed", n, m, lo, hi))
    k = int(np.sum(c["feasible"][sel]))
    pr, lo, hi = proportion_ci(k, int(sel.sum()))
    out.append(("feasible_share", "proposed", int(sel.sum()), pr, lo, hi))
    r, lo, hi, n = _ratio_ci(*_paired(c, key, v, "sum_rate", "proposed", "interference-free"))
    out.append(("sum_rate_ratio", "proposed/interference-free", n, r, lo, hi))
    r, lo, hi, n = _ratio_ci(*_paired(c, key, v, "tut_rate", "proposed", "interference-free"))
    out.append(("terrestrial_loss", "proposed/interference-free", n, 1 - r, 1 - hi, 1 - lo))
    return out


def metric_rows(rates: dict, fails: dict, params=None) -> list[dict]:
    """The tidy rows (:mod:`solvers.tidy`) of every parameter, value and metric: ``experiment``
    and ``x_name`` = the parameter's label, ``x`` = its value."""
    out: list[dict] = []
    for p in (params if params is not None else PARAMS):
        c = rates.get(p.label)
        src = c if c is not None else fails[p.key]
        for v in dict.fromkeys(src[p.key].tolist()):
            stats = _rate_metrics(c, p.key, v) if c is not None else []
            if p.key in fails:
                f = fails[p.key]
                at = np.asarray(f["r_sens_m"], float) == SENS_RADIUS_M
                if at.any():
                    a, b = _paired({k: x[at] for k, x in f.items()}, p.key, v, "fail", "fail-proposed",
                                   "fail-satellite-free")
                    m, lo, hi, n = mean_ci(a - b)  # paired difference of 0/1 indicators
                    stats.append(("fail_gap", "proposed-satellite-free", n, m, lo, hi))
                for meth in ("fail-proposed", "fail-random"):
                    if len(set(np.asarray(f["r_sens_m"]).tolist())) < 2:  # --quick: one radius, no reduction
                        break
                    m, lo, hi, n = radius_reduction(f, p.key, v, meth)
                    stats.append(("radius_reduction", meth[len("fail-"):], n, m, lo, hi))
            out += [tidy.row(NAME, p.label, p.label, v, meth, metric, UNITS[metric], n, m, lo, hi)
                    for metric, meth, n, m, lo, hi in stats]
    return out


def _radius_at(radii: np.ndarray, p_fail: np.ndarray, level: float = P_FAIL) -> float:
    """First radius where the failure probability reaches ``level`` (linear interpolation; NaN if never)."""
    for i in range(len(radii)):
        if p_fail[i] >= level:
            if i == 0:
                return float(radii[0])
            frac = (level - p_fail[i - 1]) / (p_fail[i] - p_fail[i - 1])
            return float(radii[i - 1] + frac * (radii[i] - radii[i - 1]))
    return float("nan")


def radius_reduction(f: dict, key: str, value, method: str, seed: int = 0) -> tuple[float, float, float, int]:
    """Claim I10's metric: 1 - r(method)/r(satellite-free) at P_fail = 0.3 on the r_sens grid.

    Returns (estimate, ci_low, ci_high, n drops); the CI is a percentile bootstrap over drops
    (``N_BOOT`` resamples, the same drops for both curves: the pairing of Fig. 8).
    """
    sel = np.array([x == value for x in f[key]], bool)
    radii = np.array(sorted(set(np.asarray(f["r_sens_m"], float)[sel].tolist())))
    drops = np.array(sorted(set(np.asarray(f["drop"])[sel].tolist())))
    if len(radii) < 2 or len(drops) == 0:
        return float("nan"), float("nan"), float("nan"), int(len(drops))
    ri = {r: i for i, r in enumerate(radii)}
    di = {d: i for i, d in enumerate(drops)}
    mats = {m: np.full((len(drops), len(radii)), np.nan) for m in (method, "fail-satellite-free")}
    for d, r, m, x in zip(f["drop"][sel], f["r_sens_m"][sel], f["method"][sel], f["fail"][sel]):
        if m in mats:
            mats[m][di[int(d)], ri[float(r)]] = float(x)

    def est(idx):
        r0 = _radius_at(radii, np.nanmean(mats["fail-satellite-free"][idx], axis=0))
        r1 = _radius_at(radii, np.nanmean(mats[method][idx], axis=0))
        return 1 - r1 / r0 if np.isfinite(r0) and np.isfinite(r1) and r0 > 0 else float("nan")

    point = est(np.arange(len(drops)))
    rng = np.random.default_rng(seed)
    boots = np.array([est(rng.integers(0, len(drops), len(drops))) for _ in range(N_BOOT)])
    boots = boots[np.isfinite(boots)]
    lo, hi = (np.percentile(boots, [2.5, 97.5]) if boots.size >= N_BOOT // 2 else (float("nan"), float("nan")))
    return float(point), float(lo), float(hi), int(len(drops))


def plot(rows: list[dict], path: Path, scenario: str) -> None:
    """One panel per parameter; each metric a line with 95 % CI error bars (twin axis for bps/Hz)."""
    plt = pyplot()
    keys = list(dict.fromkeys(r["experiment"] for r in rows))
    ncol = min(3, len(keys))
    nrow = -(-len(keys) // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(5.2 * ncol, 3.9 * nrow), squeeze=False)
    style = {"sum_rate_ratio": ("C0", "o"), "feasible_share": ("C1", "s"), "terrestrial_loss": ("C2", "^"),
             "fail_gap": ("C3", "v"), "radius_reduction": ("C4", "P"), "sut_rate": ("k", "D")}
    handles: dict = {}
    for ax, key in zip(axes.flat, keys):
        rs = [r for r in rows if r["experiment"] == key]
        vals = list(dict.fromkeys(r["x"] for r in rs))
        numeric = all(isinstance(v, (int, float, np.integer, np.floating)) for v in vals)
        pos = {v: (float(v) if numeric else i) for i, v in enumerate(vals)}
        ax2 = ax.twinx()
        for metric in METRICS:
            q = [r for r in rs if r["metric"] == metric and r["method"] != "random"]
            if not q:
                continue
            x = np.array([pos[r["x"]] for r in q])
            y = np.array([r["mean"] for r in q], float)
            lo = np.array([r["ci_low"] for r in q], float)
            hi = np.array([r["ci_high"] for r in q], float)
            err = np.vstack([np.nan_to_num(y - lo), np.nan_to_num(hi - y)])
            col, mk = style[metric]
            target = ax2 if metric == "sut_rate" else ax
            label = metric + (" (right axis, bps/Hz; band = I7's [7, 7.7])" if metric == "sut_rate" else "")
            handles[label] = target.errorbar(x, y, yerr=err, color=col, marker=mk, capsize=3, lw=1.2, label=label)
        if any(r["metric"] == "sut_rate" for r in rs):
            ax2.axhspan(7.0, 7.7, color="k", alpha=0.07, lw=0)
            ax2.set_ylabel("SUT rate at R_min 7 (bps/Hz)", fontsize=8)
        else:  # sensing-only parameter: no rate axis
            ax2.set_visible(False)
        if not numeric:
            ax.set_xticks(list(pos.values()), [str(v) for v in vals])
        ax.set_xlabel(key)
        ax.set_ylabel("ratio / share / gap", fontsize=8)
        ax.grid(True, alpha=0.3)
        ax.set_title(key, fontsize=9)
    fig.legend(list(handles.values()), list(handles), loc="lower center", ncol=3, fontsize=8,
               bbox_to_anchor=(0.5, -0.02))
    for ax in list(axes.flat)[len(keys):]:
        ax.set_visible(False)
    fig.suptitle(f"ISTN sensitivity to the open parameters, one at a time around scenario '{scenario}' "
                 f"(R_min 7, P_BS 35 dBm, M 1; fail_gap at r_sens {SENS_RADIUS_M:g} m)", fontsize=9)
    fig.tight_layout(rect=(0, 0.05, 1, 0.97))
    save_figure(fig, path, pdf=True)


def _table(rows: list[dict]) -> str:
    lines = ["param | value | metric | n | mean [95 % CI]", "---|---|---|---|---"]
    for r in rows:
        lines.append(f"{r['experiment']} | {r['x']} | {r['metric']} | {r['n']} | {r['mean']:.3f} "
                     f"[{r['ci_low']:.3f}, {r['ci_high']:.3f}]")
    return "\n".join(lines)


def merged_rows(kept: list[dict], new: list[dict]) -> list[dict]:
    """The rows of a run over some parameters (``--params``) merged into the rows already in the
    output directory's CSV: the run's parameters replace their own rows, every other
    parameter's rows stay; parameters in :data:`PARAMS` order, others after them."""
    ran = {r["experiment"] for r in new}
    rows = [r for r in kept if r["experiment"] not in ran] + list(new)
    order = {p.label: i for i, p in enumerate(PARAMS)}
    return sorted(rows, key=lambda r: order.get(r["experiment"], len(order)))  # stable: groups stay whole


def run_sensitivity(out_dir, quick: bool = False, seed: int = 0, drops: int | None = None, params=None,
                    progress: bool = True) -> str:
    """Run the study (resumable), write ``istn-sensitivity.csv``/``.png``, return the table.

    With ``params`` (a subset, ``--params``), the rows of other parameters already in the
    directory's CSV are kept (:func:`merged_rows`): parameters run one session at a time add up
    to one CSV and one figure.
    """
    if drops is not None and drops < 2:
        raise ConfigError(f"--drops: expected an integer >= 2 (confidence intervals), got {drops}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rates, fails, scenario = run_stores(out, quick, seed, drops, params, progress)
    rows = metric_rows(rates, fails, params)
    csv_path = out / f"{NAME}.csv"
    if params is not None and csv_path.exists() and tidy.is_tidy(csv_path):
        rows = merged_rows(tidy.read(csv_path), rows)
    tidy.write(csv_path, rows)
    plot(rows, out / f"{NAME}.png", scenario)
    return _table(rows)


_SELECTED: contextvars.ContextVar = contextvars.ContextVar("istn_sensitivity_params", default=None)


def _run(out_dir, quick=False, seed=0, drops=None):
    return run_sensitivity(out_dir, quick, seed, drops, params=_SELECTED.get())


FIGURES: dict[str, Figure] = {NAME: Figure(NAME, "ISTN sensitivity to the open parameters", _run)}


def main(argv=None) -> int:
    """``python -m solvers.istn.sensitivity [satisac reproduce options]`` = ``satisac reproduce istn-sensitivity``."""
    from solvers.cli import main as cli_main  # local: a command-line entry point (the parser loads lazily)
    args = list(sys.argv[1:] if argv is None else argv)
    selected = None
    if "--calibration" in args:  # the sweeps behind the paper scenario's values (CALIBRATION)
        selected = CALIBRATION
        args.remove("--calibration")
    if "--params" in args:  # a subset of PARAMS (comma-separated keys)
        i = args.index("--params")
        keys = args[i + 1].split(",") if i + 1 < len(args) else []
        known = {p.key: p for p in PARAMS}
        bad = [k for k in keys if k not in known]
        if bad or not keys:
            print(f"satisac: error: --params: expected keys from {list(known)}, got {keys!r}", file=sys.stderr)
            return 2
        selected = tuple(known[k] for k in keys)
        args = args[:i] + args[i + 2:]
    pre = []
    if "--precision" in args:  # a global option of satisac: goes before the command
        i = args.index("--precision")
        pre, args = args[i:i + 2], args[:i] + args[i + 2:]
    # under ``python -m`` this file runs as ``__main__``; the figure runner reads the selection
    # from the imported module ``solvers.istn.sensitivity``, a second copy with its own variable
    selection = importlib.import_module(__spec__.name if __spec__ else __name__)._SELECTED
    token = selection.set(selected)
    try:
        return cli_main([*pre, "reproduce", NAME, *args])
    finally:
        selection.reset(token)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
