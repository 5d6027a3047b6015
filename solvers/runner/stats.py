"""Group-by means with 95 % confidence intervals for Monte-Carlo result tables.

The interval of a mean over n drops is mean +/- t_{0.975, n-1} * s / sqrt(n) (Student t,
s the sample standard deviation); for a proportion (0/1 column) the Wilson score interval
is used, which stays inside [0, 1] and is sensible at p = 0 or 1.
"""
from __future__ import annotations

from typing import Iterable, Mapping, Sequence

import numpy as np
from scipy import stats as _st


def mean_ci(x: np.ndarray, level: float = 0.95) -> tuple[float, float, float, int]:
    """(mean, lo, hi, n) of the finite entries of ``x`` (NaN bounds if n < 2)."""
    x = np.asarray(x, float)
    x = x[np.isfinite(x)]
    n = x.size
    if n == 0:
        return float("nan"), float("nan"), float("nan"), 0
    m = float(x.mean())
    if n < 2:
        return m, float("nan"), float("nan"), n
    h = float(_st.t.ppf(0.5 + level / 2, n - 1) * x.std(ddof=1) / np.sqrt(n))
    return m, m - h, m + h, n


def proportion_ci(k: int, n: int, level: float = 0.95) -> tuple[float, float, float]:
    """(p, lo, hi) with the Wilson score interval for k successes in n trials."""
    if n == 0:
        return float("nan"), float("nan"), float("nan")
    z = float(_st.norm.ppf(0.5 + level / 2))
    p = k / n
    den = 1 + z * z / n
    c = (p + z * z / (2 * n)) / den
    h = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return p, max(0.0, c - h), min(1.0, c + h)


def group_mean_ci(cols: Mapping[str, np.ndarray], by: Sequence[str], values: Iterable[str],
                  proportions: Iterable[str] = (), mask: np.ndarray | None = None) -> list[dict]:
    """Rows ``{by..., n, v, v_lo, v_hi, ...}`` for each distinct combination of ``by``.

    ``values`` get a Student-t interval, ``proportions`` (0/1 columns) a Wilson interval.
    Groups are ordered by first appearance after sorting on ``by``.
    """
    n_rows = len(next(iter(cols.values())))
    sel = np.ones(n_rows, bool) if mask is None else np.asarray(mask, bool)
    keys = [tuple(cols[b][i] for b in by) for i in range(n_rows)]
    uniq = sorted({k for k, s in zip(keys, sel) if s}, key=lambda k: tuple((str(type(v)), v) for v in k))
    index: dict[tuple, list[int]] = {k: [] for k in uniq}
    for i, (k, s) in enumerate(zip(keys, sel)):
        if s:
            index[k].append(i)
    out = []
    for k in uniq:
        idx = np.asarray(index[k])
        row = dict(zip(by, k))
        row["n"] = int(idx.size)
        for v in values:
            m, lo, hi, _ = mean_ci(np.asarray(cols[v], float)[idx])
            row[v], row[f"{v}_lo"], row[f"{v}_hi"] = m, lo, hi
        for v in proportions:
            x = np.asarray(cols[v], float)[idx]
            p, lo, hi = proportion_ci(int(np.sum(x > 0.5)), int(x.size))
            row[v], row[f"{v}_lo"], row[f"{v}_hi"] = p, lo, hi
        out.append(row)
    return out
