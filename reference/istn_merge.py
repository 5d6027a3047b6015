"""cvxpy reference of the P2 merge, ISTN paper eq. (44) (one drop).

    maximise sum_m log2(1 + g_m p_m / I_m)  s.t.  sum_m p_m <= P_LEO,  0 <= p_m <= p_bar_m

Solved as an exponential-cone program (Clarabel, SCS fallback).  Validation only.
"""
from __future__ import annotations

import cvxpy as cp
import numpy as np


def solve_merge_cvxpy(g_sut, interference, p_bar, p_leo, solver: str | None = None):
    """P2 (44) for one drop.

    Args:
      g_sut, interference, p_bar: [M] float (same units as in ``jaxcore.istn.merge``).
      p_leo: float, total satellite power.

    Returns:
      ``(p [M] float, objective float (bit/s/Hz), status str)``.
    """
    g = np.asarray(g_sut, float)
    inter = np.asarray(interference, float)
    pb = np.asarray(p_bar, float)
    M = g.size
    # scale powers to O(1) so the conic solver's tolerances are relative
    s = max(float(pb.max(initial=0.0)), float(p_leo), 1e-300)
    x = cp.Variable(M)  # p / s
    c = g * s / inter
    obj = cp.sum(cp.log(1 + cp.multiply(c, x))) / np.log(2.0)
    prob = cp.Problem(cp.Maximize(obj), [cp.sum(x) <= p_leo / s, x >= 0, x <= pb / s])
    status = "solver_error"
    for name in ([solver] if solver else ["CLARABEL", "SCS"]):
        try:
            kw = (dict(eps=1e-9, max_iters=100000) if name == "SCS" else
                  dict(tol_gap_abs=1e-10, tol_gap_rel=1e-10, tol_feas=1e-10))
            prob.solve(solver=name, **kw)
            status = prob.status
            if x.value is not None and status in ("optimal", "optimal_inaccurate"):
                break
        except cp.SolverError:
            status = "solver_error"
    if x.value is None:
        return np.full(M, np.nan), np.nan, status
    p = np.clip(np.asarray(x.value) * s, 0.0, pb)
    return p, float(np.sum(np.log2(1 + g * p / inter))), status
