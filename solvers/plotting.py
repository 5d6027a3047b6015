"""One plotting style for the figures of both papers (matplotlib, headless).

What every reproduced figure shares, so a reviewer reads them the same way:

* :func:`style` -- rcParams sized for a two-column paper (``COLUMN_IN`` = 3.5 in wide, 8 pt
  text), Computer-Modern mathtext so labels such as ``$P_{\\mathrm{BS},m}$`` match the axes;
* :func:`marker` / :func:`color` -- one marker and colour per method across all figures;
* :func:`errorbar_curve` -- the mean at each x with its 95 % CI as whiskers (``ax.errorbar``),
  x-dodged per curve so overlapping whiskers stay readable;
* :func:`feasibility_panel` -- the share of drops meeting the constraints, per method and x;
* :func:`caption` / :func:`add_caption` -- one line under the axes: drops (frames) per point,
  scenario, what the means cover, and a ``QUICK`` stamp when below the paper's statistics;
* :func:`save_figure` -- PNG (and, with ``pdf=True``, a vector PDF beside it), written atomically.
"""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import numpy as np

from solvers.npzio import atomic_writer

COLUMN_IN = 3.5  # single-column width of an IEEE two-column paper [in]
PAGE_IN = 7.16  # double-column width [in]
RC = {
    "font.size": 8, "axes.labelsize": 8, "axes.titlesize": 8, "legend.fontsize": 6.5,
    "xtick.labelsize": 7, "ytick.labelsize": 7, "mathtext.fontset": "cm", "font.family": "DejaVu Sans",
    "lines.linewidth": 1.1, "lines.markersize": 4, "errorbar.capsize": 2, "axes.grid": True,
    "grid.alpha": 0.3, "grid.linewidth": 0.5, "legend.frameon": False, "savefig.dpi": 200,
}
# one marker (and colour) per method, shared by the ISTN and NTN figures
MARKERS = {"proposed": "o", "interference-free": "s", "zf-eps": "^", "greedy": "v", "uniform": "D",
           "coop-uniform": "X", "jmra": "o", "jmra-nohop": "s", "dmrab": "^",
           "assoc-proposed": "o", "assoc-nearest": "s", "assoc-greedy": "v", "assoc-random": "D",
           "fail-satellite-free": "s", "fail-proposed": "o", "fail-random": "D", "fail-monostatic": "^"}
_ORDER = ("proposed", "interference-free", "zf-eps", "greedy", "uniform", "coop-uniform")
_CYCLE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")


def pyplot():
    """``matplotlib.pyplot`` on the non-interactive Agg backend (no display needed)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


@contextmanager
def style():
    """``with style(): ...`` -- the shared rcParams (column-width sizes, CM mathtext)."""
    plt = pyplot()
    with plt.rc_context(RC):
        yield plt


def _base(method: str) -> str:
    for prefix in ("assoc-", "fail-"):
        if method.startswith(prefix):
            return method[len(prefix):]
    return method


def marker(method: str) -> str:
    return MARKERS.get(method, "o")


def color(method: str) -> str:
    """A colour-blind-safe colour per method (Okabe-Ito), stable across figures."""
    names = list(_ORDER) + ["jmra", "jmra-nohop", "dmrab", "nearest", "random", "satellite-free", "monostatic"]
    b = _base(method)
    i = names.index(b) if b in names else sum(map(ord, b))  # deterministic (str hash is salted)
    return _CYCLE[i % len(_CYCLE)]


def errorbar_curve(ax, x, y, lo=None, hi=None, *, label=None, method: str = "", ls="-", dodge: float = 0.0,
                   **kw):
    """Mean ``y`` at each ``x`` with 95 % CI whiskers ``[lo, hi]`` (NaN bounds: no whisker).

    ``dodge`` shifts the points by that fraction of the x spacing (log-aware for a log axis),
    so the whiskers of curves sharing an x do not overlap.
    """
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    xd = x
    u = np.unique(x[np.isfinite(x)])
    if dodge and u.size:  # step: the smaller of the x spacing and a quarter of the x span (one x: 5 % of it)
        log = ax.get_xscale() == "log" and np.all(u > 0)
        t = np.log(u) if log else u
        width = min(np.min(np.diff(t)), (t[-1] - t[0]) / 4) if u.size > 1 else (0.05 if log else 0.05 * abs(t[0]) or 1.0)
        xd = x * np.exp(dodge * width) if log else x + dodge * width
    yerr = None
    if lo is not None and hi is not None:
        lo = np.asarray(lo, float)
        hi = np.asarray(hi, float)
        yerr = np.vstack([np.where(np.isfinite(lo), y - lo, 0.0), np.where(np.isfinite(hi), hi - y, 0.0)])
        yerr = np.clip(np.nan_to_num(yerr), 0.0, None)
    kw.setdefault("color", color(method) if method else None)
    return ax.errorbar(xd, y, yerr=yerr, ls=ls, marker=marker(method), label=label, elinewidth=0.8,
                       markerfacecolor="white" if ls != "-" else None, **kw)


def dodges(k: int, width: float = 0.18) -> list[float]:
    """``k`` symmetric x offsets (fractions of the x spacing) for :func:`errorbar_curve`."""
    if k <= 1:
        return [0.0] * k
    return list(np.linspace(-width, width, k))


def feasibility_panel(ax, curves, ylabel="feasible\nshare"):
    """Share of drops meeting the constraints: ``curves`` = [(x, share, method, ls, dodge), ...]."""
    for x, share, method, ls, dodge in curves:
        errorbar_curve(ax, x, share, method=method, ls=ls, dodge=dodge, ms=3, lw=0.8)
    ax.set_ylim(-0.05, 1.05)
    ax.set_yticks([0, 0.5, 1])
    ax.set_ylabel(ylabel)


def caption(n, scenario: str | None = None, quick: bool | None = None, paper_n: int | None = None,
            unit: str = "drops", means: str | None = "all drops", extra: str = "",
            ci: str = "bars: 95 % CI", n_run=None) -> str:
    """The line under a figure: ``n = 6 drops/point | scenario 'paper' | means over all drops | QUICK``.

    ``n`` is one count or the counts of every point that the means cover (shown as a range
    when they differ); ``n_run`` the counts run per point when the means cover a subset of
    them (e.g. the drops where Proposed is feasible; default ``n``).  ``quick`` (or ``n_run``
    below ``paper_n``) stamps ``QUICK (paper: N unit)``.
    """
    def _range(values):
        v = np.atleast_1d(np.asarray(values, float))
        v = v[np.isfinite(v)]
        return (int(v.min()), int(v.max())) if v.size else None

    lo, hi = _range(n) or (0, 0)
    run = _range(n if n_run is None else n_run)
    run_lo, run_hi = run or (0, 0)
    parts = [f"n = {lo} {unit}/point" if lo == hi else f"n = {lo}-{hi} {unit}/point"]
    if (run_lo, run_hi) != (lo, hi):
        parts[0] += f" of {run_lo}" + ("" if run_lo == run_hi else f"-{run_hi}") + " run"
    if scenario:
        parts.append(f"scenario '{scenario}'")
    if means:
        parts.append(f"means over {means}" + (f", {ci}" if ci else ""))
    if extra:
        parts.append(extra)
    below = paper_n is not None and run is not None and run_hi < paper_n
    if quick or below:
        parts.append("QUICK" + (f" (paper: {paper_n} {unit})" if paper_n else ""))
    else:
        parts.append("full statistics")
    return " | ".join(parts)


def add_caption(fig, text: str) -> None:
    """Write ``text`` as one small line under the axes (kept by ``bbox_inches='tight'``)."""
    renderer = fig.canvas.get_renderer()
    bottom = fig.get_tightbbox(renderer).y0 / fig.get_figheight()  # below tick labels and x labels
    fig.text(0.5, bottom - 0.01, text, ha="center", va="top", fontsize=6.5, color="0.25", wrap=True)


def legend_outside(ax_or_fig, handles=None, labels=None, ncol: int = 3, **kw):
    """A legend above the axes (off the data), ``ncol`` columns."""
    if handles is None:
        handles, labels = ax_or_fig.get_legend_handles_labels()
    return ax_or_fig.legend(handles, labels, loc="lower center", bbox_to_anchor=(0.5, 1.02), ncol=ncol,
                            borderaxespad=0.0, **kw)


def save_figure(fig, path, dpi: int = 200, pdf: bool = False) -> None:
    """Write ``path`` as PNG atomically (``solvers.npzio.atomic_writer``), with ``pdf`` also
    ``path`` with suffix ``.pdf`` (vector), and free the figure."""
    with atomic_writer(path) as tmp:
        fig.savefig(tmp, dpi=dpi, bbox_inches="tight", format="png")
    if pdf:
        with atomic_writer(Path(path).with_suffix(".pdf")) as tmp:
            fig.savefig(tmp, bbox_inches="tight", format="pdf")
    pyplot().close(fig)
