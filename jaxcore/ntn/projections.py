"""Euclidean projection onto a box with a budget, written the way ``optax.projections`` are.

Used by the JMRA subproblem (NTN paper eqs. (32a) and (32c)) and by DMRAB's per-satellite
problem (37a), (37c): each satellite column ``s`` of the allocation ``y[:, s]`` must lie in

.. math::

    \\mathcal Y_s = \\{\\, y \\in \\mathbb R^C :\\ 0 \\le y_c \\le u_c,\\ \\textstyle\\sum_c y_c \\le b \\,\\}.

The KKT conditions of :math:`\\min_y \\tfrac12\\|y-v\\|^2` over :math:`\\mathcal Y_s` give

.. math::

    y_c(\\tau) = \\operatorname{clip}(v_c - \\tau,\\ 0,\\ u_c),\\qquad
    \\tau = 0 \\ \\text{if}\\ \\textstyle\\sum_c y_c(0) \\le b,\\ \\text{else the root of}\\
    \\phi(\\tau) = \\textstyle\\sum_c y_c(\\tau) - b = 0,\\ \\tau > 0.

:math:`\\phi` is continuous, piecewise linear and non-increasing in :math:`\\tau`, with
:math:`\\phi(\\max_c v_c) = -b \\le 0`.  We bracket the root in :math:`[0, \\max_c v_c]`,
halve the bracket ``n_bisect`` times (no sort: sorts are slow on accelerators and under
``vmap``), then take one exact step on the linear piece that contains the midpoint,
:math:`\\tau^\\star = (\\sum_{F} v_c + \\sum_{U} u_c - b)/|F|` with :math:`F` the free set
:math:`0 < v_c - \\tau < u_c` and :math:`U` the set at the upper bound.  The exact step is
kept only if it stays in the bracket and keeps the budget (:math:`\\phi(\\tau^\\star) \\le`
a few ulps); otherwise the upper bracket end is used, whose budget always holds.  So the
output is always feasible and exact whenever the bracket isolates the linear piece.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp


def projection_box_budget(v: jax.Array, upper: jax.Array, budget: jax.Array,
                          n_bisect: int = 40) -> jax.Array:
    """Project every column of ``v`` onto ``{0 <= y <= upper, sum(y) <= budget}``.

    Args:
      v: points to project, shape ``[C, S]`` (columns are independent; any real dtype).
      upper: per-entry upper bounds ``u >= 0``, broadcastable to ``v``.
      budget: per-column budget ``b >= 0``, shape ``[S]`` (or scalar).
      n_bisect: bisection steps on the multiplier before the exact linear-piece step.

    Returns:
      ``y`` with the shape and dtype of ``v``; feasible to rounding, exact up to the
      bracket width ``max(v) 2^-n_bisect`` (and exact to rounding once the bracket isolates
      one linear piece of ``phi``, the usual case).
    """
    v = jnp.asarray(v)
    dtype = v.dtype
    u = jnp.broadcast_to(jnp.asarray(upper, dtype), v.shape)
    b = jnp.broadcast_to(jnp.asarray(budget, dtype), v.shape[1:])
    y0 = jnp.clip(v, 0.0, u)  # # [C, S] tau = 0
    need = jnp.sum(y0, axis=0) > b  # # [S] budget active
    csum = lambda tau: jnp.sum(jnp.clip(v - tau[None, :], 0.0, u), axis=0)  # noqa: E731
    lo = jnp.zeros_like(b)
    hi = jnp.maximum(jnp.max(v, axis=0), 0.0)  # phi(hi) = -b <= 0

    def body(_, carry):
        lo, hi = carry
        mid = 0.5 * (lo + hi)
        over = csum(mid) > b  # root lies right of mid
        return jnp.where(over, mid, lo), jnp.where(over, hi, mid)

    lo, hi = jax.lax.fori_loop(0, n_bisect, body, (lo, hi))
    mid = 0.5 * (lo + hi)
    z = v - mid[None, :]
    free = (z > 0) & (z < u)
    at_u = z >= u
    n_free = jnp.sum(free, axis=0).astype(dtype)
    tau_star = (jnp.sum(jnp.where(free, v, 0.0), axis=0) + jnp.sum(jnp.where(at_u, u, 0.0), axis=0) - b) \
        / jnp.where(n_free > 0, n_free, 1.0)
    ok = (n_free > 0) & (tau_star >= lo) & (tau_star <= hi)
    tol = 8 * jnp.finfo(dtype).eps * jnp.maximum(b, 1.0)
    ok = ok & (csum(tau_star) <= b + tol)
    tau = jnp.where(ok, tau_star, hi)
    tau = jnp.where(need, tau, 0.0)
    return jnp.clip(v - tau[None, :], 0.0, u)
