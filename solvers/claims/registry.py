"""One entry per claim of ``../shared/spec/claims.md`` (I1-I14 ISTN, N1-N13 NTN).

Each :class:`Claim` names its paper, figure, metric and band (claims.md's "holds when"), the
figures whose runs it reads (:mod:`solvers.claims.sources`) and a ``compute(src)`` that
returns the judged :class:`~solvers.claims.metrics.Part` s (one per P_BS, method,
setting ... -- "at every P_BS" claims are judged point by point) and a note.  The claim's
verdict is the worst part's (:func:`solvers.claims.verdict.combine`); "somewhere" parts are
reduced first with :func:`any_of`.  Paired comparisons match the same drop (ISTN: drop
index; NTN: world seed, episode and frame).  ``compute`` raises
:class:`~solvers.claims.sources.NotMeasured` with the reason when a metric cannot be formed.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from solvers.claims import metrics as M
from solvers.claims.metrics import Part, part
from solvers.claims.sources import NotMeasured, Sources
from solvers.claims.verdict import ORDER, Band, above, below
from solvers.tidy import wide

NTN_KEYS = ("world", "drop", "frame")


@dataclass(frozen=True)
class Claim:
    id: str
    paper: str  # "istn" | "ntn"
    figure: str  # paper's figure/table
    metric: str
    band: str  # claims.md "holds when"
    figures: tuple  # satisac reproduce targets whose runs it reads
    compute: Callable[[Sources], tuple]  # -> (list[Part], note)


def any_of(label: str, parts: list[Part]) -> Part:
    """The best part ("somewhere" claims), relabelled."""
    ok = [p for p in parts if math.isfinite(p.estimate)]
    if not ok:
        return Part(label, M.NAN, M.NAN, M.NAN, 0, parts[0].band if parts else Band())
    best = max(ok, key=lambda p: (ORDER.index(p.verdict), p.estimate))
    return Part(f"{label} (best: {best.label})", best.estimate, best.ci_low, best.ci_high, best.n, best.band, best.exact)


def _neg(e: tuple) -> tuple:
    return -e[0], -e[2], -e[1], e[3]


def _one_minus(e: tuple) -> tuple:
    return 1 - e[0], 1 - e[2], 1 - e[1], e[3]


def _minus1(e: tuple) -> tuple:
    return e[0] - 1, e[1] - 1, e[2] - 1, e[3]


# ============================================================================ ISTN helpers
def _sel(c: dict, **kw) -> np.ndarray:
    m = np.ones(len(c["drop"]), bool)
    for k, v in kw.items():
        m &= np.asarray(c[k]) == v
    return m


def _xs(c: dict, key: str) -> list:
    return sorted(set(np.asarray(c[key]).tolist()))


def _pair(c, key, x, ma, mb, value):
    return M.paired(c, _sel(c, **{key: x, "method": ma}), _sel(c, **{key: x, "method": mb}), value)


def _feas(c, key, x, m) -> float:
    s = _sel(c, **{key: x, "method": m})
    return float(np.mean(c["feasible"][s])) if s.any() else M.NAN


RMIN = (("rmin3", "R_min 3"), ("rmin7", "R_min 7"))


def i1(src):
    parts = []
    for k, lab in RMIN:
        c = src.istn("istn-fig4", k)
        for x in _xs(c, "p_bs_dbm"):
            g, f = _pair(c, "p_bs_dbm", x, "greedy", "interference-free", "sum_rate")
            parts.append(part(f"{lab}, P_BS {x:g} dBm", _one_minus(M.ratio_of_means(g, f)), Band(0.40, 0.60)))
    return parts, "loss = 1 - mean SR(Greedy)/mean SR(IF), paired drops, delta-method CI"


def i2(src):
    c3, c7 = src.istn("istn-fig4", "rmin3"), src.istn("istn-fig4", "rmin7")
    parts, skipped = [], []
    for m in ("proposed", "zf-eps"):
        for x in _xs(c3, "p_bs_dbm"):
            s3, s7 = _sel(c3, p_bs_dbm=x, method=m), _sel(c7, p_bs_dbm=x, method=m)
            r3 = {int(d): (v, f) for d, v, f in zip(c3["drop"][s3], c3["sum_rate"][s3], c3["feasible"][s3])}
            r7 = {int(d): (v, f) for d, v, f in zip(c7["drop"][s7], c7["sum_rate"][s7], c7["feasible"][s7])}
            both = [d for d in sorted(set(r3) & set(r7)) if r3[d][1] and r7[d][1]]
            if not both:
                skipped.append(f"{m} {x:g} dBm")
                continue
            diff = np.array([r7[d][0] - r3[d][0] for d in both])
            parts.append(part(f"{m}, P_BS {x:g} dBm", M.mean(diff), below(0.0)))
    note = "SR(R_min 7) - SR(R_min 3) on drops feasible at both"
    if skipped:
        note += "; no drop feasible at both R_min (not judged): " + ", ".join(skipped)
    if not parts:
        raise NotMeasured(note)
    return parts, note


def i3(src):
    parts, feas = [], []
    for k, lab in RMIN:
        c = src.istn("istn-fig4", k)
        for x in _xs(c, "p_bs_dbm"):
            for b in ("zf-eps", "greedy", "uniform"):
                a, bb = _pair(c, "p_bs_dbm", x, "proposed", b, "sum_rate")
                parts.append(part(f"{lab}, {x:g} dBm, vs {b}", M.mean(a - bb), above(0.0)))
            feas.append(f"{lab} {x:g} dBm: " + "/".join(f"{_feas(c, 'p_bs_dbm', x, m):.2f}"
                                                         for m in ("proposed", "zf-eps", "greedy", "uniform")))
    return parts, ("SR(Proposed) - SR(X) paired, rates as achieved; feasible share Proposed/ZF-EPS/Greedy/Uniform: "
                   + "; ".join(feas))


def i4(src):
    scnr, feas = [], []
    for k, _ in RMIN:
        c = src.istn("istn-fig4", k)
        s = _sel(c, method="proposed") & c["feasible"].astype(bool)
        scnr += list(c["min_scnr_db"][s])
        for x in _xs(c, "p_bs_dbm"):
            f, fi = _pair(c, "p_bs_dbm", x, "proposed", "interference-free", "feasible")
            feas += list(f[fi > 0.5] > 0.5)
    parts = []
    if scnr:
        parts.append(part("worst-target SCNR on Proposed-feasible drops (dB)", M.exact(min(scnr), len(scnr)),
                          Band(-10.05), exact=True))
    else:
        parts.append(Part("worst-target SCNR (no Proposed-feasible drop)", M.NAN, M.NAN, M.NAN, 0, Band(-10.05)))
    parts.append(part("share of IF-feasible drops Proposed solves feasibly", M.proportion(feas), Band(0.90, 1.0)))
    return parts, "0.05 dB numerical tolerance on -10 dB; pooled over P_BS and both R_min"


def i5(src):
    parts = []
    for m in ("greedy", "uniform"):
        flags = []
        for k, _ in RMIN:
            c = src.istn("istn-fig4", k)
            flags += list(c["min_scnr_db"][_sel(c, method=m)] < -10.0)
        parts.append(part(f"{m}: share of drops with worst target < -10 dB", M.proportion(flags), above(0.5)))
    return parts, "pooled over P_BS and both R_min; Wilson CI"


def _loss_split(c, x):
    tp, ti = _pair(c, "p_bs_dbm", x, "proposed", "interference-free", "tut_rate")
    sp, si = _pair(c, "p_bs_dbm", x, "proposed", "interference-free", "sut_rate")
    return tp, ti, sp, si


def i6(src):
    c = src.istn("istn-fig4", "rmin3")
    parts = []
    for x in _xs(c, "p_bs_dbm"):
        tp, ti, sp, si = _loss_split(c, x)
        parts.append(part(f"{x:g} dBm: satellite loss - terrestrial loss", M.mean((si - sp) - (ti - tp)), above(0.0)))
        parts.append(part(f"{x:g} dBm: terrestrial loss / IF terrestrial", _one_minus(M.ratio_of_means(tp, ti)),
                          below(0.10)))
        parts.append(part(f"{x:g} dBm: SUT rate (Proposed)", M.mean(sp), above(3.0)))
    return parts, "losses vs interference-free on the same drops (R_min 3)"


def i7(src):
    c = src.istn("istn-fig4", "rmin7")
    parts = []
    for x in _xs(c, "p_bs_dbm"):
        tp, ti, sp, si = _loss_split(c, x)
        parts.append(part(f"{x:g} dBm: terrestrial loss - satellite loss", M.mean((ti - tp) - (si - sp)), above(0.0)))
        parts.append(part(f"{x:g} dBm: SUT rate (Proposed)", M.mean(sp), Band(7.0, 7.7)))
    return parts, "losses vs interference-free on the same drops (R_min 7)"


FIG7 = (("nrx4", "N_RX 4"), ("nrx16", "N_RX 16"))
ASSOC_BASE = ("assoc-nearest", "assoc-greedy", "assoc-random")


def _slopes(c, m) -> np.ndarray:
    """Per-drop least-squares slope of sum rate vs P_sat (W); drops are the same at every P_sat."""
    s = _sel(c, method=m)
    per: dict = {}
    for d, p, v in zip(c["drop"][s], c["p_leo_w"][s], c["sum_rate"][s]):
        per.setdefault(int(d), []).append((float(p), float(v)))
    out = [np.polyfit(*np.array(sorted(v)).T, 1)[0] for v in per.values() if len(v) >= 2]
    return np.array(out, float)


def i8(src):
    parts = []
    for k, lab in FIG7:
        c = src.istn("istn-fig7", k)
        for m in ("assoc-proposed",) + ASSOC_BASE:
            parts.append(part(f"{lab}: slope of SR vs P_sat, {m} (bps/Hz per W)", M.mean(_slopes(c, m)), below(0.0)))
        for x in _xs(c, "p_leo_w"):
            for b in ASSOC_BASE:
                a, bb = _pair(c, "p_leo_w", x, "assoc-proposed", b, "sum_rate")
                parts.append(part(f"{lab}, {x:g} W: Proposed - {b}", M.mean(a - bb), above(0.0)))
    return parts, "slopes are per-drop least-squares fits over the P_sat grid; differences paired"


def _gap(c, b) -> tuple:
    per: dict = {}
    for x in _xs(c, "p_leo_w"):
        s_a, s_b = _sel(c, p_leo_w=x, method="assoc-proposed"), _sel(c, p_leo_w=x, method=b)
        a = dict(zip(c["drop"][s_a].tolist(), c["sum_rate"][s_a]))
        for d, v in zip(c["drop"][s_b].tolist(), c["sum_rate"][s_b]):
            if d in a:
                per.setdefault(d, []).append(a[d] - v)
    return M.mean([np.mean(v) for v in per.values()])


def i9(src):
    c4, c16 = src.istn("istn-fig7", "nrx4"), src.istn("istn-fig7", "nrx16")
    parts = [part(f"gap vs {b}: N_RX 4 - N_RX 16", M.diff_independent(_gap(c4, b), _gap(c16, b)), above(0.0))
             for b in ASSOC_BASE]
    return parts, "gap = Proposed - baseline averaged over P_sat per drop; the two N_RX runs are independent"


def _fail_matrix(c, m, xs):
    """fail[drop, radius] of method m (drops present at every radius)."""
    s = _sel(c, method=m)
    tab = {(int(d), float(x)): bool(f) for d, x, f in zip(c["drop"][s], c["r_sens_m"][s], c["fail"][s])}
    drops = sorted({d for d, _ in tab})
    return np.array([[tab.get((d, float(x)), np.nan) for x in xs] for d in drops], float)


def radius_at(xs, p, level=0.3) -> float:
    """Radius where the failure probability first reaches ``level`` (linear interpolation; NaN if never)."""
    for i in range(len(xs)):
        if p[i] >= level:
            if i == 0:
                return float(xs[0])
            return float(xs[i - 1] + (level - p[i - 1]) * (xs[i] - xs[i - 1]) / (p[i] - p[i - 1]))
    return M.NAN


def i10(src):
    c = src.istn("istn-fig8", "nrx4_nrad4")
    xs = _xs(c, "r_sens_m")
    F = {m: _fail_matrix(c, f"fail-{m}", xs) for m in ("satellite-free", "proposed", "random")}
    n = min(v.shape[0] for v in F.values())

    def red(m):
        def stat(idx):
            r0 = radius_at(xs, np.nanmean(F["satellite-free"][idx], axis=0))
            return 1 - radius_at(xs, np.nanmean(F[m][idx], axis=0)) / r0 if r0 > 0 else M.NAN
        return stat

    rp, rr = red("proposed"), red("random")
    parts = [part("Proposed radius reduction at P_fail 0.3", M.bootstrap(rp, n), Band(0.34, 0.54)),
             part("Random radius reduction at P_fail 0.3", M.bootstrap(rr, n), Band(0.57, 0.77)),
             part("Random - Proposed reduction", M.bootstrap(lambda i: rr(i) - rp(i), n), above(0.0))]
    note = f"(N_RX, N_rad) = (4, 4); radius grid {', '.join(f'{x:g}' for x in xs)} m; bootstrap CI over drops"
    if len(xs) < 7:
        note += f"; only {len(xs)} radii (claims.md asks for >= 7)"
    return parts, note


def i11(src):
    c = src.istn("istn-fig8", "nrx32_nrad32")
    xs = _xs(c, "r_sens_m")
    parts, rand = [], []
    for x in xs:
        a, b = _pair(c, "r_sens_m", x, "fail-proposed", "fail-satellite-free", "fail")
        parts.append(part(f"(32,32) {x:g} m: P_fail Proposed - satellite-free", M.mean(a - b), Band(-0.05, 0.05)))
        a, b = _pair(c, "r_sens_m", x, "fail-random", "fail-proposed", "fail")
        rand.append(part(f"{x:g} m", M.mean(a - b), Band(0.1)))
    parts.append(any_of("(32,32) Random - Proposed >= 0.1 somewhere", rand))
    c4 = src.istn("istn-fig8", "nrx4_nrad4")
    for x in _xs(c4, "r_sens_m"):
        a, b = _pair(c4, "r_sens_m", x, "fail-monostatic", "fail-proposed", "fail")
        parts.append(part(f"(4,4) {x:g} m: P_fail monostatic - Proposed", M.mean(a - b), Band(0.0)))
    return parts, ("monostatic is judged on (4,4): the (32,32) monostatic case is not computed "
                   "(1024-element receiver); paired drops")


def _ratio_at(c, key, x, m="proposed"):
    a, b = _pair(c, key, x, m, "interference-free", "sum_rate")
    return M.ratio_of_means(a, b)


def i12(src):
    c9 = src.istn("istn-fig9", "m4")
    parts = []
    for k, lab in RMIN:
        c1 = src.istn("istn-fig4", k)
        for x in _xs(c9, "p_bs_dbm"):
            if x not in _xs(c1, "p_bs_dbm"):
                continue
            parts.append(part(f"{x:g} dBm: ratio(M 4) - ratio(M 1, {lab})",
                              M.diff_independent(_ratio_at(c9, "p_bs_dbm", x), _ratio_at(c1, "p_bs_dbm", x)), above(0.0)))
    for x in _xs(c9, "p_bs_dbm"):
        co, pr = _pair(c9, "p_bs_dbm", x, "coop-uniform", "proposed", "sum_rate")
        _, f = _pair(c9, "p_bs_dbm", x, "coop-uniform", "interference-free", "sum_rate")
        if len(f) == len(co):
            parts.append(part(f"{x:g} dBm: ratio(Coop-uniform) - ratio(Proposed)", M.ratio_of_means(co - pr, f),
                              below(0.0)))
        parts.append(part(f"{x:g} dBm: ratio(Coop-uniform)", _ratio_at(c9, "p_bs_dbm", x, "coop-uniform"), below(1.0)))
    return parts, "ratio = mean SR / mean SR(IF) on the same drops; Fig. 9 (M 4, R_min 5) vs Fig. 4 (M 1, R_min 3 and 7)"


def i13(src):
    c = src.istn("istn-fig10", "m1to5")
    ms = _xs(c, "n_cells")
    r = {m: _ratio_at(c, "n_cells", m) for m in ms}
    parts = []
    if 5 in r:
        parts.append(part("ratio at M = 5", r[5], above(0.90)))
    for a, b in zip(ms[:-1], ms[1:]):
        parts.append(part(f"ratio(M {b}) - ratio(M {a})", M.diff_independent(r[b], r[a]), above(0.0)))
    return parts, f"P_BS 35 dBm, R_min 5; M in {ms}"


def i14(src):
    c = src.istn("istn-fig10", "m1to5")
    parts = []
    for m in _xs(c, "n_cells"):
        v = c["p_sat_frac"][_sel(c, n_cells=m, method="proposed")]
        parts.append(part(f"M = {m}: sum p_sat / P_LEO", M.mean(v), below(0.9) if m == 1 else above(0.95)))
    return parts, "Proposed, Fig. 10 runs (P_BS 35 dBm, R_min 5)"


# ============================================================================ NTN helpers
def _nsel(c, **kw):
    return _sel(c, **kw)


def _npair(c, sa: dict, sb: dict, value):
    return M.paired(c, _nsel(c, **sa), _nsel(c, **sb), value, NTN_KEYS)


def _settings(c):
    return sorted({(float(a), float(b)) for a, b in zip(c["t_ho_s"], c["t_frame_s"])})


def _lab(s):
    return f"T_HO {s[0] * 1e3:g} ms, T_f {s[1]:g} s"


def _dmrab_infeasible(c, s) -> float:
    sel = _nsel(c, t_ho_s=s[0], t_frame_s=s[1], method="dmrab")
    return float(np.mean(c["infeasible"][sel])) if sel.any() else M.NAN


def _table3_ratio(src, kpi, band):
    c = src.ntn_store("ntn-table3")
    parts, skipped = [], []
    for s in _settings(c):
        if _dmrab_infeasible(c, s) > 0:
            skipped.append(_lab(s))
            continue
        a, b = _npair(c, dict(t_ho_s=s[0], t_frame_s=s[1], method="jmra"),
                      dict(t_ho_s=s[0], t_frame_s=s[1], method="dmrab"), kpi)
        parts.append(part(_lab(s), _minus1(M.ratio_of_means(a, b)), band))
    if not parts:
        raise NotMeasured("DMRAB infeasible in every Table III setting")
    best = any_of("max over settings", parts)
    note = "; ".join(p.text() for p in parts) + (f"; DMRAB infeasible (excluded): {', '.join(skipped)}" if skipped else "")
    return [best], note


def n1(src):
    return _table3_ratio(src, "throughput_kbps", Band(0.30, 0.90))


def n2(src):
    return _table3_ratio(src, "jain", Band(3.0))


def n3(src):
    c = src.ntn_store("ntn-table3")
    ss = _settings(c)
    tho_max, tf_min = max(s[0] for s in ss), min(s[1] for s in ss)
    inf = {s: _dmrab_infeasible(c, s) for s in ss}
    match = [(inf[s] > 0) == (s == (tho_max, tf_min)) for s in ss]
    parts = [part("share of settings matching 'infeasible only at the longer T_HO, shorter T_f'",
                  M.exact(np.mean(match), len(ss)), Band(1.0, 1.0), exact=True)]
    return parts, "DMRAB infeasible share of frames: " + "; ".join(f"{_lab(s)}: {inf[s]:.2f}" for s in ss)


def n4(src):
    c = src.ntn_store("ntn-table3")
    parts = []
    for s in _settings(c):
        for kpi in ("throughput_kbps", "jain"):
            a, b = _npair(c, dict(t_ho_s=s[0], t_frame_s=s[1], method="jmra"),
                          dict(t_ho_s=s[0], t_frame_s=s[1], method="jmra-nohop"), kpi)
            parts.append(part(f"{_lab(s)}: {kpi} JMRA - w/o HOP", M.mean(a - b), above(0.0)))
    return parts, "paired frames"


def n5(src):
    c = src.ntn_store("ntn-table3")
    ss = _settings(c)
    thos, tfs = sorted({s[0] for s in ss}), sorted({s[1] for s in ss})
    if len(thos) < 2:
        raise NotMeasured("Table III run has a single T_HO")
    parts = []
    for tf in tfs:
        for m in ("jmra", "dmrab", "jmra-nohop"):
            a, b = _npair(c, dict(t_ho_s=thos[0], t_frame_s=tf, method=m),
                          dict(t_ho_s=thos[-1], t_frame_s=tf, method=m), "handovers_per_s")
            ok = np.isfinite(a) & np.isfinite(b)
            band = above(0.0) if m == "jmra" else Band(-1e-9, 1e-9)
            parts.append(part(f"T_f {tf:g} s, {m}: HO/s(T_HO {thos[0] * 1e3:g} ms) - HO/s({thos[-1] * 1e3:g} ms)",
                              M.mean(a[ok] - b[ok]), band))
    return parts, ("'adapts' judged as fewer handovers when they cost more (shorter T_HO -> more HO/s); "
                   "DMRAB and w/o HOP must be identical (|difference| <= 1e-9); paired frames")


def n6(src):
    runs = src.ntn_csv("ntn-fig6")
    rows = [r for rs in runs for r in wide(rs, ("x", "frame"), ("iterations", "converged"))]  # x = rho
    rhos = sorted({float(r["x"]) for r in rows})
    conv = [bool(r["converged"]) for r in rows]
    parts = [part("share of runs converged within the cap", M.exact(np.mean(conv), len(conv)), Band(1.0, 1.0),
                  exact=True)]
    it = {rho: np.array([r["iterations"] for r in rows if float(r["x"]) == rho], float) for rho in rhos}
    for a, b in zip(rhos[:-1], rhos[1:]):
        n = min(it[a].size, it[b].size)
        stat = (lambda ia, ib: lambda i: np.median(ib[i]) - np.median(ia[i]))(it[a][:n], it[b][:n])
        parts.append(part(f"median iterations rho {b:g} - rho {a:g}", M.bootstrap(stat, n), below(0.0)))
    return parts, "frames paired across rho; bootstrap CI of the median difference"


def _avg_rows(runs, keys, values):
    """{keys tuple: mean over the world seeds of ``values``} from the tidy rows of each seed's CSV."""
    acc: dict = {}
    for rs in runs:
        for r in wide(rs, keys, values):
            acc.setdefault(tuple(float(r[k]) for k in keys), []).append([float(r[v]) for v in values])
    return {k: np.mean(v, axis=0) for k, v in acc.items()}


def n7(src):
    tab = _avg_rows(src.ntn_csv("ntn-fig7"), ("rho", "x"), ("time_per_frame_s", "violating_cells"))  # x = I_max
    rhos = sorted({k[0] for k in tab})
    parts = []
    for rho in rhos:
        caps = sorted(k[1] for k in tab if k[0] == rho)
        t = np.array([tab[(rho, i)][0] for i in caps])
        v = np.array([tab[(rho, i)][1] for i in caps])
        r2 = float(np.corrcoef(caps, t)[0, 1] ** 2) if len(caps) > 2 else M.NAN
        parts.append(part(f"rho {rho:g}: R^2 of time vs I_max", M.exact(r2, len(caps)), Band(0.95, 1.0), exact=True))
        parts.append(part(f"rho {rho:g}: largest rise of violating cells with I_max",
                          M.exact(float(np.max(np.diff(v))) if v.size > 1 else M.NAN, len(caps)), Band(hi=0.0),
                          exact=True))
    if len(rhos) >= 2:
        lo, hi = rhos[0], rhos[-1]
        caps = sorted(k[1] for k in tab if k[0] == lo and (hi, k[1]) in tab)
        for j, name in ((0, "time"), (1, "violating cells")):
            d = np.mean([tab[(hi, i)][j] - tab[(lo, i)][j] for i in caps])
            parts.append(part(f"{name}: rho {hi:g} - rho {lo:g} (mean over I_max)", M.exact(d, len(caps)), below(0.0),
                              exact=True))
    return parts, "wall times on this machine (a shared CPU makes them noisy); no sampling interval"


def n8(src):
    rows = [r for rs in src.ntn_csv("ntn-realtime") for r in rs if r["metric"] == "solve_s"]
    if not rows:
        raise NotMeasured("ntn-realtime.csv has no solve times")
    parts, what = [], []
    for tf in sorted({float(r["x"]) for r in rows}):
        rs = [r for r in rows if float(r["x"]) == tf]
        t = np.array([float(r["mean"]) for r in rs])
        budget = np.array([float(r["budget_s"]) for r in rs])
        parts.append(part(f"T_f {tf:g} s: share of frames with solve time > T_f - T_sens - T_HO ({budget[0]:.4g} s)",
                          M.proportion(t > budget), below(0.01)))
        what.append(f"T_f {tf:g} s: median {np.median(t):.3g} s, max {t.max():.3g} s")
    return parts, ("warm JMRA solve of one default frame per call on this machine (ntn-realtime), frames of all "
                   "world seeds pooled; Wilson CI; " + "; ".join(what))


def n9(src):
    tab = _avg_rows(src.ntn_csv("ntn-fig8"), ("x",),  # x = pilot length
                    ("nmse_snr_rain", "nmse_snr_norain", "nmse_att_rain"))
    Ls = sorted(k[0] for k in tab)
    a = np.array([tab[(L,)] for L in Ls])
    spread = float(np.max(np.maximum(a[:, 0] / a[:, 1], a[:, 1] / a[:, 0])))
    parts = [part("max ratio of NMSE(gamma) rain vs no rain", M.exact(spread, len(Ls)), Band(1.0, 2.0), exact=True),
             part("NMSE(gamma) rain at largest / smallest L", M.exact(a[-1, 0] / a[0, 0], len(Ls)), below(1.0),
                  exact=True)]
    if len(Ls) > 2:
        parts.append(part("min NMSE(A~) rain for L below the largest two", M.exact(float(np.min(a[:-2, 2])), len(Ls) - 2),
                          Band(0.5), exact=True))
    return parts, f"L in {[int(x) for x in Ls]}"


def n10(src):
    runs = src.ntn_csv("ntn-fig9")
    tab = _avg_rows(runs, ("x",), ("nmse_mle", "crb_normalised"))  # x = SNR (dB)
    snr = sorted((k[0] for k in tab), reverse=True)  # SNR falling
    nm = np.array([tab[(s,)][0] for s in snr])
    ratio = nm / np.array([tab[(s,)][1] for s in snr])
    # NMSE at one SNR is a mean of n squared relative errors, sd ~ sqrt(2) x mean (near-Gaussian
    # estimator): SE = NMSE sqrt(2 / n), n = Fig. 9's samples per SNR (4,000 quick, 20,000) per seed
    n = (4000 if src.quick else 20000) * len(runs)
    se = nm * math.sqrt(2.0 / n)
    parts = [part(f"NMSE(MLE) at {b:g} dB - at {a:g} dB", M.diff_independent((nm[j + 1], nm[j + 1] - M.Z95 * se[j + 1],
                                                                              nm[j + 1] + M.Z95 * se[j + 1], n),
                                                                             (nm[j], nm[j] - M.Z95 * se[j],
                                                                              nm[j] + M.Z95 * se[j], n)), above(0.0))
             for j, (a, b) in enumerate(zip(snr[:-1], snr[1:]))]
    parts.append(part("NMSE/CRB at lowest SNR - at highest SNR", M.exact(ratio[-1] - ratio[0], len(snr)), above(0.0),
                      exact=True))
    return parts, (f"SNR {min(snr):g}..{max(snr):g} dB in steps; each step judged with SE = NMSE sqrt(2/n), "
                   f"n = {n} samples per SNR")


def n11(src):
    c = src.ntn_store("ntn-fig10")
    Ls = _xs(c, "pilot_len")
    ns = {L: int(np.max(c["n_sens"][_nsel(c, pilot_len=L)])) for L in Ls}
    fit = [L for L in Ls if ns[L] <= max(1, min(ns.values()))]
    parts = []

    def step(m, a, b, band, what="throughput_kbps"):
        x, y = _npair(c, dict(pilot_len=b, method=m), dict(pilot_len=a, method=m), what)
        return part(f"{m}: thr(L {b}) - thr(L {a})", M.mean(x - y), band)

    for m in ("dmrab", "jmra"):
        for a, b in zip(fit[:-1], fit[1:]):
            parts.append(step(m, a, b, above(0.0)))
    if len(fit) < len(Ls):
        parts.append(step("dmrab", fit[-1], Ls[-1], below(0.0)))
    rest = [L for L in Ls if L >= fit[-1]]
    for a, b in zip(rest[:-2], rest[1:-1]):
        parts.append(step("jmra", a, b, above(0.0)))
    if len(Ls) >= 2:
        parts.append(step("jmra", Ls[-2], Ls[-1], below(0.0)))
    J = {m: np.array([[v for v in M.paired(c, _nsel(c, pilot_len=L, method=m), _nsel(c, pilot_len=L, method=m),
                                           "jain", NTN_KEYS)[0]] for L in Ls], float) for m in ("dmrab", "jmra")}
    nfr = min(J["dmrab"].shape[1], J["jmra"].shape[1])

    def spread(idx):
        return float(np.nanmean(np.nanstd(J["dmrab"][:, idx], axis=1)) - np.nanmean(np.nanstd(J["jmra"][:, idx], axis=1)))
    parts.append(part("spread of Jain over frames: DMRAB - JMRA", M.bootstrap(spread, nfr), above(0.0)))
    return parts, (f"L in {Ls}; sensing fits one OFDMA frame for L <= {fit[-1]} (N_sens {ns}); "
                   f"T_f {src.manifest('ntn-fig10')['config'].get('t_frame_s', '?')} s; paired frames")


def _rel(a: np.ndarray, b: np.ndarray) -> tuple:
    """mean(a)/mean(b) - 1 for independent samples (delta method)."""
    ea, eb = M.mean(a), M.mean(b)
    r = ea[0] / eb[0]
    se = abs(r) * math.hypot(M.se_of(ea) / ea[0], M.se_of(eb) / eb[0])
    return r - 1, r - 1 - M.Z95 * se, r - 1 + M.Z95 * se, min(ea[3], eb[3])


def n12(src):
    c = src.ntn_store("ntn-fig11")
    tfs = _xs(c, "t_frame_s")
    parts = []
    for m in ("dmrab", "jmra"):
        for kpi in ("throughput_kbps", "jain"):
            v = {tf: c[kpi][_nsel(c, t_frame_s=tf, method=m)] for tf in tfs}
            for tf in [t for t in tfs if tf_le(t, 30.0) and t != tfs[0]]:
                parts.append(part(f"{m} {kpi}: T_f {tf:g} vs {tfs[0]:g} s (relative change)", _rel(v[tf], v[tfs[0]]),
                                  Band(-0.10)))
            if 30.0 in v and tfs[-1] > 30.0:
                parts.append(part(f"{m} {kpi}: 1 - value(T_f {tfs[-1]:g} s)/value(30 s)",
                                  _neg(_rel(v[tfs[-1]], v[30.0])), Band(0.40)))
    return parts, f"T_f in {tfs} s; different T_f are independent runs"


def tf_le(a: float, b: float) -> bool:
    return a <= b + 1e-9


def n13(src):
    c10 = src.ntn_store("ntn-fig10")
    perf = src.ntn_store("ntn-fig10", "perfect")  # same T_f, T_HO, worlds and frames
    Ls = _xs(c10, "pilot_len")
    best = max(Ls, key=lambda L: np.nanmean(c10["throughput_kbps"][_nsel(c10, pilot_len=L, method="jmra")]))
    a = {tuple(int(k[i]) for k in (c10["world"], c10["drop"], c10["frame"])): v for i, v in
         [(i, c10["throughput_kbps"][i]) for i in np.flatnonzero(_nsel(c10, pilot_len=best, method="jmra"))]}
    sp = np.flatnonzero(perf["method"] == "jmra")
    b = {(int(perf["world"][i]), int(perf["drop"][i]), int(perf["frame"][i])): perf["throughput_kbps"][i] for i in sp}
    keys = sorted(set(a) & set(b))
    if not keys:
        raise NotMeasured("no frame of Fig. 10's pilot run has a perfect-CSI counterpart")
    est = M.ratio_of_means([a[k] for k in keys], [b[k] for k in keys])
    tf = float(src.manifest("ntn-fig10")["config"]["t_frame_s"])
    return [part(f"thr(JMRA, L {best}) / thr(JMRA, perfect CSI)", est, Band(0.90))], (
        f"perfect CSI = Fig. 10's perfect-CSI run (T_f {tf:g} s, same T_HO, worlds and frames); paired frames")


CLAIMS: tuple[Claim, ...] = (
    Claim("I1", "istn", "Fig 4", "1 - mean SR(Greedy)/mean SR(IF), each P_BS, both R_min", "in [0.40, 0.60] at every P_BS",
          ("istn-fig4",), i1),
    Claim("I2", "istn", "Fig 4", "SR(R_min 7) - SR(R_min 3), paired drops, Proposed and ZF-EPS",
          "< 0 for both methods at every P_BS where both are feasible", ("istn-fig4",), i2),
    Claim("I3", "istn", "Fig 4", "SR(Proposed) - SR(X), X in {ZF-EPS, Greedy, Uniform}, paired",
          "> 0 at every P_BS", ("istn-fig4",), i3),
    Claim("I4", "istn", "Fig 5", "worst-target SCNR on Proposed-feasible drops; share feasible where IF is",
          ">= -10 dB on every feasible drop; feasible on >= 90 %", ("istn-fig4", "istn-fig5"), i4),
    Claim("I5", "istn", "Fig 5", "share of drops with worst-target SCNR < -10 dB (Greedy, Uniform)", "> 0.5 for both",
          ("istn-fig4", "istn-fig5"), i5),
    Claim("I6", "istn", "Fig 6a", "loss split vs IF; SUT rate (R_min 3)",
          "satellite loss > terrestrial loss; terrestrial loss < 10 % of IF; SUT rate > 3", ("istn-fig4", "istn-fig6"), i6),
    Claim("I7", "istn", "Fig 6b", "loss split vs IF; SUT rate (R_min 7)",
          "terrestrial loss > satellite loss; SUT rate in [7, 7.7]", ("istn-fig4", "istn-fig6"), i7),
    Claim("I8", "istn", "Fig 7", "slope of SR vs P_sat per association; SR(Proposed) - SR(Nearest/Greedy/Random)",
          "slope < 0 for every method; differences > 0 at every P_sat", ("istn-fig7",), i8),
    Claim("I9", "istn", "Fig 7", "gap(N_RX 4) - gap(N_RX 16), gap = Proposed - baseline", "> 0 for every baseline",
          ("istn-fig7",), i9),
    Claim("I10", "istn", "Fig 8 (4,4)", "radius reduction vs satellite-free at P_fail 0.3",
          "Proposed in [0.34, 0.54]; Random in [0.57, 0.77]; Random > Proposed", ("istn-fig8",), i10),
    Claim("I11", "istn", "Fig 8 (32,32)", "P_fail differences per radius",
          "|Proposed - sat-free| <= 0.05 everywhere; Random - Proposed >= 0.1 somewhere; monostatic >= Proposed",
          ("istn-fig8",), i11),
    Claim("I12", "istn", "Fig 9", "SR(Prop)/SR(IF) at M 4 vs M 1; SR(Coop-uniform)/SR(IF)",
          "ratio(M 4) > ratio(M 1) at every P_BS; Coop-uniform ratio < Proposed ratio and < 1",
          ("istn-fig4", "istn-fig9"), i12),
    Claim("I13", "istn", "Fig 10", "SR(Prop)/SR(IF) vs M (P_BS 35 dBm, R_min 5)", "> 0.90 at M = 5; increasing in M",
          ("istn-fig10",), i13),
    Claim("I14", "istn", "Fig 9 text", "sum p_sat / P_LEO (Proposed)", "< 0.9 at M = 1; > 0.95 at M >= 2",
          ("istn-fig10",), i14),
    Claim("N1", "ntn", "Table III", "max over settings of thr(JMRA)/thr(DMRAB) - 1", "in [0.30, 0.90]",
          ("ntn-table3",), n1),
    Claim("N2", "ntn", "Table III", "max over settings of J(JMRA)/J(DMRAB) - 1", ">= 3.0", ("ntn-table3",), n2),
    Claim("N3", "ntn", "Table III", "DMRAB status per setting", "infeasible at the longer T_HO with the shorter T_f only",
          ("ntn-table3",), n3),
    Claim("N4", "ntn", "Table III", "JMRA - JMRA w/o HOP, throughput and Jain, paired", "> 0 for both KPIs in every setting",
          ("ntn-table3",), n4),
    Claim("N5", "ntn", "Table III", "HO/s per method and T_HO", "JMRA differs between T_HO; the other two equal",
          ("ntn-table3",), n5),
    Claim("N6", "ntn", "Fig 6", "convergence and median iterations of Algorithm 1 per rho",
          "all runs converge within the cap; median iterations decreasing in rho", ("ntn-fig6",), n6),
    Claim("N7", "ntn", "Fig 7", "time and violating cells vs I_max",
          "linear fit R^2 > 0.95; violations non-increasing in I_max; larger rho lower", ("ntn-fig7",), n7),
    Claim("N8", "ntn", "Sec VII-A", "warm solve time of a default frame vs T_f - T_sens - T_HO",
          "P(time > budget) < 1 %", ("ntn-realtime",), n8),
    Claim("N9", "ntn", "Fig 8", "NMSE vs L, rain / no rain",
          "gamma curves within 2x; A~(rain) >= 0.5 for L below the largest two", ("ntn-fig8",), n9),
    Claim("N10", "ntn", "Fig 9", "NMSE(MLE) and NMSE/CRB vs SNR", "both increasing as SNR falls", ("ntn-fig9",), n10),
    Claim("N11", "ntn", "Fig 10", "thr and Jain vs L; spread of Jain across frames", "as stated, each part judged",
          ("ntn-fig10",), n11),
    Claim("N12", "ntn", "Fig 11", "thr, Jain vs T_f", "drop <= 10 % up to 30 s; >= 40 % lower at the longest T_f than at 30 s",
          ("ntn-fig11",), n12),
    Claim("N13", "ntn", "concl.", "thr(best L)/thr(perfect CSI), JMRA", ">= 0.90", ("ntn-fig10",), n13),
)
BY_ID = {c.id: c for c in CLAIMS}
