"""cvxpy reference for the JMRA convex subproblem P2, NTN paper eqs. (31)-(33) (spec §7).

Same normalised units as :mod:`jaxcore.ntn.jmra` (share y = x/N_com, kbit/s, weights
a_c = N^a_c / mean N^a), but the slack xi of (30) is kept as an explicit variable, so the
closed-form elimination in the JAX solver is checked too.  Variables live on usable pairs
only (sparse, spec §3).  The problem is built once with DPP ``cp.Parameter``s and re-solved
for new (w, lambda, mu) without re-canonicalisation.  DPP forbids parameter x parameter x
variable, so the products are pre-multiplied on the host::

    gy  = A (g o y)                             surrogate throughput (29) per cell
    lam h = A (lam_cs w o y) + lam o xi - lam   with lam_cs = lambda_c w_cs
    sqrt(mu) h = A (sqrt(mu)_cs w o y) + sqrt(mu) o xi - sqrt(mu)

and (33) is ``-(lam h + 0.5 (sqrt(mu) h)^2)``.  Pairs with g <= 0 get the upper bound 0
(exactly as the JAX solver; see its docstring).  Clarabel first, SCS as fallback.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

import cvxpy as cp


class SubproblemRef:
    """P2 for one instance's sparsity pattern, re-solvable for new (w, lambda, mu).

    Args:
      usable: [C, S] bool; a: [C] weights; nb: [S] budgets (units of y); eps_k: eps, kbit/s.
    """

    def __init__(self, usable: np.ndarray, a: np.ndarray, nb: np.ndarray, eps_k: float):
        usable = np.asarray(usable, bool)
        self.C, self.S = usable.shape
        self.cells, self.sats = np.nonzero(usable)  # pair list (row-major)
        P = self.cells.size
        A = sp.csr_matrix((np.ones(P), (self.cells, np.arange(P))), shape=(self.C, P))  # cell x pair
        Bs = sp.csr_matrix((np.ones(P), (self.sats, np.arange(P))), shape=(self.S, P))  # sat x pair
        self.y = cp.Variable(P, nonneg=True)
        self.xi = cp.Variable(self.C, nonneg=True)
        self.g = cp.Parameter(P)
        self.lw = cp.Parameter(P)
        self.smw = cp.Parameter(P)
        self.lam = cp.Parameter(self.C, nonneg=True)
        self.smu = cp.Parameter(self.C, nonneg=True)
        self.ub = cp.Parameter(P, nonneg=True)
        a = np.asarray(a, float)
        live = a > 0
        gy = A @ cp.multiply(self.g, self.y)
        util = cp.sum(cp.multiply(a[live], cp.log(eps_k + gy[np.nonzero(live)[0]])))
        lam_h = cp.sum(A @ cp.multiply(self.lw, self.y)) + self.lam @ self.xi - cp.sum(self.lam)
        smu_h = A @ cp.multiply(self.smw, self.y) + cp.multiply(self.smu, self.xi) - self.smu
        obj = util - lam_h - 0.5 * cp.sum_squares(smu_h)
        cons = [self.y <= self.ub, Bs @ self.y <= np.asarray(nb, float)]
        self.prob = cp.Problem(cp.Maximize(obj), cons)
        assert self.prob.is_dcp(dpp=True)

    def solve(self, g: np.ndarray, w: np.ndarray, lam: np.ndarray, mu: np.ndarray,
              solver: str | None = None) -> tuple[np.ndarray, float]:
        """Solve for coefficient matrices ``g``, ``w`` [C, S] and ``lam``, ``mu`` [C].

        Returns ``(y [C, S], optimum of (31) in normalised units)``.
        """
        i, j = self.cells, self.sats
        gp = np.asarray(g, float)[i, j]
        wp = np.asarray(w, float)[i, j]
        lam = np.asarray(lam, float)
        smu = np.sqrt(np.asarray(mu, float))
        self.g.value = np.maximum(gp, 0.0)
        self.ub.value = (gp > 0).astype(float)
        self.lw.value = lam[i] * wp
        self.smw.value = smu[i] * wp
        self.lam.value = lam
        self.smu.value = smu
        last = None
        for name in ([solver] if solver else ["CLARABEL", "SCS"]):
            try:
                kw = dict(eps=1e-9, max_iters=200000) if name == "SCS" else {}
                self.prob.solve(solver=name, **kw)
                if self.prob.status in ("optimal", "optimal_inaccurate"):
                    break
            except cp.error.SolverError as e:  # fall back to the next solver
                last = e
        if self.prob.status not in ("optimal", "optimal_inaccurate"):
            raise RuntimeError(f"reference P2 failed: status {self.prob.status} ({last})")
        y = np.zeros((self.C, self.S))
        y[i, j] = np.clip(self.y.value, 0.0, None) * (gp > 0)
        return y, float(self.prob.value)
