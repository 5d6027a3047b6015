"""``satisac istn evaluate inst.npz sol.npz``: recompute rates, SCNR and constraint violations.

Works for any solution file, including one made elsewhere: only ``F`` and ``p_sat`` are
required (``assoc`` comes from the solution, else from the instance).  Everything is
recomputed in float64 from the two files with the single metric implementation of
``jaxcore.istn.metrics``: TUT/SUT rates (23)-(24) from SINRs (16)-(17), and the SCNR (18)
at the SCNR-maximising MMSE filter with the virtual covariance of spec istn.md §1.6-3
(as interfaces.md §2 defines the reported SCNR).

Constraints checked per cell (P1-P3 of the paper), as non-negative violation amounts:
  * SUT rate floor      R_sut >= r_min_sut                    (bit/s/Hz short)
  * SCNR floor          SCNR_i >= scnr_min                    (dB short)
  * TBS power           ||F_m||_F^2 <= p_bs                   (relative excess)
  * satellite per beam  p_sat <= p_bar (if given) and <= p_leo (relative excess)
  * satellite total     sum_m p_sat <= p_leo                  (relative excess, per drop)
A cell is feasible when every violation is within the tolerances of :data:`TOLERANCES`.
"""
from __future__ import annotations

import json
import math

import jax
import jax.numpy as jnp
import numpy as np

from jaxcore.istn.metrics import all_metrics
from jaxcore.istn.problem import make_cell_problem
from solvers.istn.instance import (EVALUATE_SOLUTION_FIELDS, load_instance, load_solution, to_normalised,
                                   validate_instance, validate_solution)
from solvers.npzio import InstanceError

#: absolute rate tolerance (bit/s/Hz), SCNR tolerance (dB), relative power tolerance
TOLERANCES = dict(rate=1e-4, scnr_db=1e-3, power_rel=1e-5)
#: cells per jit call: one fixed shape for every file of the same dimensions (the tail is
#: padded), so small and large files share one compile
CELLS_PER_CALL = 256


def _metrics_fn():
    """Rates and SCNR of one cell at (F, p) in float64, from noise-normalised channels
    (``to_normalised``: every SINR/SCNR is invariant)."""
    def one(h_tut, h_sut, g_tut, g_sut, g_rad, G_tar, G_cl, assoc, F, p):
        prob = make_cell_problem(h_tut, h_sut, g_tut, g_sut, g_rad, G_tar, G_cl, assoc, 1.0, 1.0, 0.0, 0.0,
                                 dtype=jnp.float64)
        r_t, r_s, _, sc = all_metrics(prob, F.astype(jnp.complex128), p.astype(jnp.float64))
        return r_t, r_s, sc

    return jax.jit(jax.vmap(one))


def evaluate_solution(inst: dict, sol: dict, *, tolerances: dict | None = None) -> dict:
    """Recompute metrics and constraint violations of a solution for an instance.

    Args:
      inst: instance arrays (interfaces.md §1), validated by the caller or here.
      sol: solution arrays with at least ``F`` (B,M,Nt,K+T) and ``p_sat`` (B,M).
      tolerances: overrides of :data:`TOLERANCES`.
    Returns:
      dict of numpy arrays: ``rate_tut`` (B,M,K), ``rate_sut`` (B,M), ``scnr`` (B,M,T) linear,
      ``sum_rate`` (B,), ``tbs_power`` (B,M) = ||F||^2, ``tbs_power_ratio`` = ||F||^2 / p_bs; violations ``v_sut_rate`` (B,M) bit/s/Hz,
      ``v_scnr_db`` (B,M,T), ``v_tbs_power`` (B,M), ``v_sat_beam`` (B,M), ``v_sat_total`` (B,)
      (relative); ``feasible_cell`` (B,M), ``feasible`` (B,); and, for each of ``rate_tut``,
      ``rate_sut``, ``scnr``, ``sum_rate`` present in ``sol``, ``mismatch_<name>`` = max
      |reported - recomputed| (SCNR in dB).
    """
    tol = {**TOLERANCES, **(tolerances or {})}
    dims = validate_instance(inst)
    validate_solution(sol, dims, specs=EVALUATE_SOLUTION_FIELDS)
    if "assoc" in sol:
        assoc = np.asarray(sol["assoc"])
    elif "assoc" in inst:
        assoc = np.asarray(inst["assoc"])
    else:
        raise InstanceError("solution: field 'assoc' is missing and the instance carries none "
                            "(int array of shape (B,M,T) = target -> radar receiver)")
    B, M = dims["B"], dims["M"]
    n = B * M
    flat = lambda a: np.asarray(a).reshape((n,) + np.asarray(a).shape[2:])  # noqa: E731
    norm = to_normalised(inst)
    args = [flat(norm[k]) for k in ("h_tut", "h_sut", "g_tut", "g_sut", "g_rad", "G_tar", "G_cl")]
    args += [flat(assoc).astype(np.int32), flat(sol["F"]), flat(sol["p_sat"])]
    outs = []
    with jax.enable_x64(True):
        fn = _metrics_fn()
        c = CELLS_PER_CALL
        for lo in range(0, n, c):
            chunk = [a[lo:lo + c] for a in args]
            k = chunk[0].shape[0]
            if k < c:  # pad to the fixed call shape by repeating the last cell
                chunk = [np.concatenate([a, np.repeat(a[-1:], c - k, 0)]) for a in chunk]
            outs.append([np.asarray(o)[:k] for o in fn(*chunk)])
    r_t, r_s, sc = (np.concatenate([o[i] for o in outs]) for i in range(3))
    rate_tut, rate_sut, scnr = r_t.reshape(B, M, -1), r_s.reshape(B, M), sc.reshape(B, M, -1)
    res = dict(rate_tut=rate_tut, rate_sut=rate_sut, scnr=scnr,
               sum_rate=rate_tut.sum(axis=(1, 2)) + rate_sut.sum(axis=1))

    F = np.asarray(sol["F"])
    p_sat = np.asarray(sol["p_sat"], np.float64)
    p_bs = np.asarray(inst["p_bs"], np.float64)
    p_leo = np.asarray(inst["p_leo"], np.float64)
    res["tbs_power"] = np.sum(np.abs(F.astype(np.complex128)) ** 2, axis=(2, 3))
    res["tbs_power_ratio"] = res["tbs_power"] / np.maximum(p_bs, 1e-300)
    res["v_sut_rate"] = np.maximum(0.0, np.asarray(inst["r_min_sut"])[:, None] - rate_sut)
    with np.errstate(divide="ignore"):
        scnr_db = 10 * np.log10(np.maximum(scnr, 1e-300))
        floor_db = 10 * np.log10(np.maximum(np.asarray(inst["scnr_min"], np.float64), 1e-300))
    res["v_scnr_db"] = np.where(np.asarray(inst["scnr_min"])[:, None, None] > 0,
                                np.maximum(0.0, floor_db[:, None, None] - scnr_db), 0.0)
    rel = lambda x, cap: np.maximum(0.0, x - cap) / np.maximum(cap, 1e-300)  # noqa: E731
    res["v_tbs_power"] = rel(res["tbs_power"], p_bs)
    cap_beam = np.broadcast_to(p_leo[:, None], p_sat.shape)
    if "p_bar" in sol:
        cap_beam = np.minimum(cap_beam, np.asarray(sol["p_bar"], np.float64))
    res["v_sat_beam"] = rel(p_sat, cap_beam)
    res["v_sat_total"] = rel(p_sat.sum(axis=1), p_leo)
    res["feasible_cell"] = ((res["v_sut_rate"] <= tol["rate"]) & np.all(res["v_scnr_db"] <= tol["scnr_db"], axis=2)
                            & (res["v_tbs_power"] <= tol["power_rel"]) & (res["v_sat_beam"] <= tol["power_rel"]))
    res["feasible"] = np.all(res["feasible_cell"], axis=1) & (res["v_sat_total"] <= tol["power_rel"])
    for name in ("rate_tut", "rate_sut", "sum_rate", "scnr"):
        if name in sol:
            a, b = np.asarray(sol[name], np.float64), res[name]
            if name == "scnr":
                a, b = 10 * np.log10(np.maximum(a, 1e-300)), 10 * np.log10(np.maximum(b, 1e-300))
            res[f"mismatch_{name}"] = float(np.max(np.abs(a - b))) if a.size else 0.0
    return res


def summarize(res: dict) -> dict:
    """Aggregate numbers of :func:`evaluate_solution` (JSON-serialisable)."""
    B = res["sum_rate"].shape[0]
    scnr_db = 10 * np.log10(np.maximum(res["scnr"], 1e-300))
    out = dict(
        drops=B, cells=int(res["rate_sut"].shape[1]),
        mean_sum_rate=float(res["sum_rate"].mean()), mean_tut_rate=float(res["rate_tut"].mean()),
        mean_sut_rate=float(res["rate_sut"].mean()),
        min_scnr_db=float(scnr_db.min()) if scnr_db.size else math.nan,
        feasible_drops=int(res["feasible"].sum()),
        violations=dict(
            sut_rate_cells=int((res["v_sut_rate"] > TOLERANCES["rate"]).sum()),
            scnr_targets=int((res["v_scnr_db"] > TOLERANCES["scnr_db"]).sum()),
            tbs_power_cells=int((res["v_tbs_power"] > TOLERANCES["power_rel"]).sum()),
            sat_beam_cells=int((res["v_sat_beam"] > TOLERANCES["power_rel"]).sum()),
            sat_total_drops=int((res["v_sat_total"] > TOLERANCES["power_rel"]).sum()),
            max_sut_rate_short=float(res["v_sut_rate"].max()), max_scnr_short_db=float(res["v_scnr_db"].max()),
            max_tbs_power_excess_rel=float(res["v_tbs_power"].max()),
            max_sat_beam_excess_rel=float(res["v_sat_beam"].max()),
            max_sat_total_excess_rel=float(res["v_sat_total"].max())),
        tolerances=dict(TOLERANCES))
    mism = {k[len("mismatch_"):]: v for k, v in res.items() if k.startswith("mismatch_")}
    if mism:
        out["max_abs_diff_vs_reported"] = mism
    return out


def _table(res: dict, rows: int = 10) -> str:
    B = res["sum_rate"].shape[0]
    scnr_db = 10 * np.log10(np.maximum(res["scnr"], 1e-300))
    head = (f"{'drop':>5} {'sum rate':>9} {'min TUT':>8} {'SUT':>7} {'min SCNR':>9} "
            f"{'|F|^2/P_BS':>10} {'feasible':>8}")
    lines = [head, "-" * len(head)]
    for b in range(min(rows, B)):
        lines.append(f"{b:5d} {res['sum_rate'][b]:9.3f} {res['rate_tut'][b].min():8.3f} "
                     f"{res['rate_sut'][b].min():7.3f} {scnr_db[b].min() if scnr_db[b].size else math.nan:8.2f}dB "
                     f"{np.max(res['tbs_power_ratio'][b]):10.4f} {'yes' if res['feasible'][b] else 'NO':>8}")
    if B > rows:
        lines.append(f"  ... {B - rows} more drops")
    return "\n".join(lines)


def run(args) -> int:
    inst, dims = load_instance(args.instance)
    sol, _ = load_solution(args.solution, dims, specs=EVALUATE_SOLUTION_FIELDS)
    res = evaluate_solution(inst, sol)
    summary = summarize(res)
    if args.json:
        summary["per_drop"] = dict(sum_rate=res["sum_rate"].tolist(), feasible=res["feasible"].tolist())
        print(json.dumps(summary, indent=2))
        return 0
    print(f"instance {args.instance}, solution {args.solution}: {dims['B']} drops x {dims['M']} cell(s)")
    print("rates in bit/s/Hz (23)-(24); SCNR (18) at the MMSE filter with the virtual covariance (spec §1.6-3)")
    print(_table(res))
    v = summary["violations"]
    print(f"mean sum rate {summary['mean_sum_rate']:.4f}, mean TUT rate {summary['mean_tut_rate']:.4f}, "
          f"mean SUT rate {summary['mean_sut_rate']:.4f}, min SCNR {summary['min_scnr_db']:.2f} dB")
    print(f"feasible drops: {summary['feasible_drops']}/{dims['B']}; violations: SUT rate floor {v['sut_rate_cells']} "
          f"cells (max {v['max_sut_rate_short']:.3g} bit/s/Hz short), SCNR floor {v['scnr_targets']} targets "
          f"(max {v['max_scnr_short_db']:.3g} dB), TBS power {v['tbs_power_cells']} cells "
          f"(max {v['max_tbs_power_excess_rel']:.3g} rel.), per-beam p_sat {v['sat_beam_cells']} cells, "
          f"sum p_sat > P_LEO {v['sat_total_drops']} drops")
    if "max_abs_diff_vs_reported" in summary:
        d = summary["max_abs_diff_vs_reported"]
        print("max |reported - recomputed|: " + ", ".join(f"{k} {val:.3g}" + (" dB" if k == "scnr" else "")
                                                         for k, val in d.items()))
    return 0
