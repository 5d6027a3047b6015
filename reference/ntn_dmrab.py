"""cvxpy reference for DMRAB's per-satellite problem (36)-(37) of the NTN paper (spec §3 Alg. 3).

For one satellite ``s`` and its matched cells E_s (u(x) = 1 there, so (24) is affine)::

    max  sum_{c in E_s} a_c log(eps + k_c (y_c - l_c))
    s.t. sum_c y_c <= N_b (37a),   l_c <= y_c <= 1 (37c)

in the units of :mod:`jaxcore.ntn.dmrab` (share y = x/N_com, kbit/s, a_c = N^a_c/mean N^a,
k_c = r N_com T_O/(T_f N^a_c), l_c = T^HO_{c,s}/(N_com T_O)).  Clarabel, SCS fallback.
Returns ``None`` when the problem is infeasible.
"""
from __future__ import annotations

import numpy as np

import cvxpy as cp


def solve_satellite(a: np.ndarray, k: np.ndarray, l: np.ndarray, nb: float, eps_k: float):
    """Continuous optimum of (36)-(37) for one satellite; returns (y [n], value) or None."""
    a, k, l = (np.asarray(v, float) for v in (a, k, l))
    if l.sum() > nb + 1e-12 or (l > 1).any():
        return None
    y = cp.Variable(a.size)
    obj = cp.sum(cp.multiply(a, cp.log(eps_k + cp.multiply(k, y - l))))
    prob = cp.Problem(cp.Maximize(obj), [cp.sum(y) <= nb, y >= l, y <= 1])
    for name in ("CLARABEL", "SCS"):
        try:
            prob.solve(solver=name)
            if prob.status in ("optimal", "optimal_inaccurate"):
                return np.asarray(y.value), float(prob.value)
        except cp.error.SolverError:
            continue
    if prob.status in ("infeasible", "infeasible_inaccurate"):
        return None
    raise RuntimeError(f"reference DMRAB failed: status {prob.status}")
