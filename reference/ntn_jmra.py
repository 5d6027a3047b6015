"""Algorithm 1 of the NTN paper driven by cvxpy, as the paper does (one conic solve per outer
iteration; spec §3 Algorithm 1, §7).  Same units, initialisation, convergence test and
multiplier growth as :func:`jaxcore.ntn.jmra.jmra_relaxed`, with the subproblem (31)-(33)
solved by :class:`reference.ntn_subproblem.SubproblemRef` (DPP, built once per instance).
Then Algorithm 2 (:func:`jaxcore.ntn.rounding.round_allocation`) gives the integer x.
Used by ``satisac ntn solve --reference`` and by the benchmark; slow by design.
"""
from __future__ import annotations

import numpy as np
import jax.numpy as jnp

from jaxcore.ntn import jmra as J
from reference.ntn_subproblem import SubproblemRef


def jmra_reference(d: J.JmraData, s: J.JmraSettings):
    """Run Algorithm 1 with cvxpy for ONE instance -> (y [C, S], iterations, converged, n_viol)."""
    usable = np.asarray(d.usable)
    C, S = usable.shape
    ref = SubproblemRef(usable, np.asarray(d.a), np.asarray(d.nb), float(d.eps_k))
    y_t = float(J.equal_share(d))
    y_prev = np.where(usable, y_t, 0.0)
    w = np.where(usable, 1.0 / (y_prev + s.delta), 0.0)
    lam = np.full(C, s.lam0)
    mu = np.full(C, s.mu0)
    conv, n_viol, it = False, 0, 0
    for it in range(1, s.max_outer + 1):
        g = np.asarray(J.surrogate_coeffs(d, jnp.asarray(w)))
        y, _ = ref.solve(g, w, lam, mu)
        q = (w * y).sum(axis=1) - 1.0
        viol = q > s.tol
        n_viol = int(viol.sum())
        conv = bool(J.line4_converged(jnp.asarray(q), jnp.asarray(y), jnp.asarray(y_prev), s))
        if conv:
            y_prev = y
            break
        w = np.where(usable, 1.0 / (y + s.delta), 0.0)
        lam = np.where(viol, lam * s.rho, lam)
        mu = np.where(viol, mu * s.rho, mu)
        y_prev = y
    return y_prev, it, conv, n_viol
