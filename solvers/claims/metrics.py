"""Estimates with 95 % confidence intervals for the claims ledger.

Every function returns a :class:`Part`-ready tuple ``(estimate, ci_low, ci_high, n)``:

* :func:`mean` -- Student-t interval of a mean (``solvers.runner.stats.mean_ci``); used for
  paired per-drop differences (the same drop solved by two methods or at two settings);
* :func:`proportion` -- Wilson interval (``solvers.runner.stats.proportion_ci``);
* :func:`ratio_of_means` -- mean(a) / mean(b) over paired samples, delta-method interval
  (the same estimator as the Fig. 10 reduction in ``solvers.istn.figures``);
* :func:`diff_independent` -- difference of two independent estimates, normal interval;
* :func:`exact` -- a pattern computed from the runs, no sampling interval (CI = estimate);
* :func:`bootstrap` -- percentile bootstrap over resampled units (medians, interpolated radii).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from solvers.claims.verdict import Band, judge
from solvers.runner.stats import mean_ci, proportion_ci

Z95 = 1.959963984540054
NAN = float("nan")


@dataclass(frozen=True)
class Part:
    """One judged part of a claim: ``label`` says which point/method/setting."""

    label: str
    estimate: float
    ci_low: float
    ci_high: float
    n: int
    band: Band
    exact: bool = False  # no sampling interval: CI = estimate

    @property
    def verdict(self) -> str:
        return judge(self.estimate, self.ci_low, self.ci_high, self.band)

    def text(self) -> str:
        if not math.isfinite(self.estimate):
            return f"{self.label}: not measured"
        ci = "" if self.exact else f" [{self.ci_low:.3g}, {self.ci_high:.3g}]"
        return f"{self.label}: {self.estimate:.3g}{ci} (n={self.n}, band {self.band.text()}) {self.verdict}"


def part(label: str, est: tuple, band: Band, exact: bool = False) -> Part:
    e, lo, hi, n = est
    return Part(label, float(e), float(lo), float(hi), int(n), band, exact)


def mean(x) -> tuple:
    x = np.asarray(x, float)
    m, lo, hi, n = mean_ci(x)
    if n >= 2 and lo == hi == m:  # all samples equal: the interval is the point
        return m, m, m, n
    return m, lo, hi, n


def proportion(flags) -> tuple:
    f = np.asarray(flags, bool)
    if f.size == 0:
        return NAN, NAN, NAN, 0
    p, lo, hi = proportion_ci(int(f.sum()), int(f.size))
    return p, lo, hi, int(f.size)


def ratio_of_means(a, b) -> tuple:
    """mean(a)/mean(b) for paired samples; SE by the delta method, sd(a - r b) / (sqrt(n) mean(b))."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    ok = np.isfinite(a) & np.isfinite(b)
    a, b = a[ok], b[ok]
    n = a.size
    if n == 0 or b.mean() == 0:
        return NAN, NAN, NAN, n
    r = a.mean() / b.mean()
    if n < 2:
        return r, NAN, NAN, n
    se = np.std(a - r * b, ddof=1) / (math.sqrt(n) * abs(b.mean()))
    return r, r - Z95 * se, r + Z95 * se, n


def se_of(est: tuple) -> float:
    e, lo, hi, _ = est
    return (hi - lo) / (2 * Z95) if math.isfinite(lo) and math.isfinite(hi) else NAN


def diff_independent(x: tuple, y: tuple) -> tuple:
    """x - y for two independent estimates (normal interval from their CIs)."""
    d = x[0] - y[0]
    se = math.hypot(se_of(x), se_of(y))
    return d, d - Z95 * se, d + Z95 * se, min(x[3], y[3])


def exact(value: float, n: int) -> tuple:
    return float(value), float(value), float(value), int(n)


def bootstrap(stat, n_units: int, reps: int = 400, seed: int = 0) -> tuple:
    """Percentile bootstrap of ``stat(idx)`` (idx: resampled unit indices); estimate = stat(all units)."""
    if n_units == 0:
        return NAN, NAN, NAN, 0
    est = float(stat(np.arange(n_units)))
    if n_units < 2:
        return est, NAN, NAN, n_units
    rng = np.random.default_rng(seed)
    vals = np.array([stat(rng.integers(0, n_units, n_units)) for _ in range(reps)], float)
    vals = vals[np.isfinite(vals)]
    if vals.size < reps // 2:
        return est, NAN, NAN, n_units
    return est, float(np.quantile(vals, 0.025)), float(np.quantile(vals, 0.975)), n_units


def paired(cols: dict, sel_a, sel_b, value: str, keys=("drop",)) -> tuple[np.ndarray, np.ndarray]:
    """Values of ``value`` for the rows of ``sel_a`` and ``sel_b`` matched on ``keys`` (same drop/frame)."""
    def table(sel):
        idx = np.flatnonzero(sel)
        return {tuple(np.asarray(cols[k])[i].item() for k in keys): float(cols[value][i]) for i in idx}
    ta, tb = table(sel_a), table(sel_b)
    common = sorted(set(ta) & set(tb))
    return np.array([ta[k] for k in common], float), np.array([tb[k] for k in common], float)
