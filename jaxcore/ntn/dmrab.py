"""Algorithm 3 of the NTN paper: DMRAB, the disjoint matching + per-satellite allocation.

Spec ``../shared/spec/ntn.md`` §3 Algorithm 3, eqs. (35)-(37).  ONE instance in JAX,
``vmap``-ed over frames.

1. Matching (35): every populated cell picks the usable satellite with the largest metric
   (estimated SNR, or the rate — spec keeps both behind a flag; the caller passes the metric).
2. Handover floors from (23): ``n_c = ceil(T^HO_{c,s}/T_O)`` frames.  The instance is
   **infeasible exactly when** some satellite has ``sum_{c in E_s} n_c > N_b N_com``, or a
   cell's floor exceeds ``N_com`` (empty box in (37c)).  Then status 2 and x = 0.
3. Per-satellite problem (36)-(37).  With ``u(x) = 1`` on matched cells, (24) is affine,
   ``R_c = k_c (y_c - l_c)`` with ``l_c = T^HO/(N_com T_O)`` (the continuous floor of (37c))
   and ``k_c = r N_com T_O / (T_f N^a_c)``.  With ``z = y - l`` the problem is
   ``max sum_c a_c log(eps + k_c z_c)`` s.t. ``0 <= z_c <= 1 - l_c``,
   ``sum_c z_c <= N_b - sum_c l_c``: separable water-filling.  KKT:
   ``z_c(nu) = clip(a_c/nu - eps/k_c, 0, 1 - l_c)`` with the multiplier ``nu > 0`` found by
   bisection in ``log nu`` (sum z_c(nu) is decreasing); the upper bracket end keeps the
   budget.  This is the exact optimum of the convex problem (checked against cvxpy in
   ``reference/ntn_dmrab.py``).
4. Integers: ``x = max(n_c, round(N_com y))``, frames above the floors scaled down per
   satellite to the budget (as Algorithm 2 step 3), then the handover-floor repair.
"""
from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from jaxcore.ntn.jmra import KBIT
from jaxcore.ntn.rounding import handover_floor, scale_columns_to_budget


class DmrabResult(NamedTuple):
    x: jax.Array  # [C, S] int32
    y: jax.Array  # [C, S] continuous share (per-satellite optimum)
    feasible: jax.Array  # bool


def dmrab_match(metric: jax.Array, usable: jax.Array) -> jax.Array:
    """(35): one-hot [C, S] of the best usable satellite per cell (none if no usable pair)."""
    m = jnp.where(usable, metric, -jnp.inf)
    best = jax.nn.one_hot(jnp.argmax(m, axis=1), metric.shape[1], dtype=bool)
    return best & jnp.any(usable, axis=1, keepdims=True)


def waterfill(a, k, upper, budget, eps_k, member, n_iter: int = 100):
    """Per-satellite (36)-(37) in ``z``: all arrays [C, S], ``budget`` [S]; returns z [C, S]."""
    dt = k.dtype
    k_s = jnp.where(member, k, 1.0)
    a_s = jnp.where(member, a, 0.0)
    up = jnp.where(member, upper, 0.0)
    z_of = lambda nu: jnp.clip(a_s / nu[None, :] - eps_k / k_s, 0.0, up)
    tiny = jnp.finfo(dt).tiny
    hi = jnp.log(jnp.maximum(jnp.max(jnp.where(member, a_s * k_s / eps_k, 0.0), axis=0), tiny)) + 1.0
    lo = jnp.log(jnp.maximum(jnp.min(jnp.where(member & (a_s > 0), a_s / (up + eps_k / k_s), jnp.inf), axis=0),
                             tiny)) - 1.0
    lo = jnp.minimum(lo, hi - 1.0)

    def body(_, c):
        lo, hi = c
        mid = 0.5 * (lo + hi)
        over = jnp.sum(z_of(jnp.exp(mid)), axis=0) > budget
        return jnp.where(over, mid, lo), jnp.where(over, hi, mid)

    lo, hi = jax.lax.fori_loop(0, n_iter, body, (lo, hi))
    z_full = up
    fits = jnp.sum(z_full, axis=0) <= budget
    return jnp.where(fits[None, :], z_full, z_of(jnp.exp(hi)))


def dmrab(rate, n_active, prev, t_ho, n_com, n_beams, t_ofdma, t_frame, eps, metric, y_given=None) -> DmrabResult:
    """Algorithm 3 for one instance (interfaces.md §3 fields; ``metric`` [C, S] for (35)).

    ``y_given`` [C, S]: continuous per-satellite solution computed elsewhere (the cvxpy
    reference); when given it replaces the water-filling of step 3.
    """
    rate = jnp.asarray(rate)
    dt = rate.dtype
    na = jnp.asarray(n_active, dt)
    usable = (rate > 0) & (na[:, None] > 0)
    member = dmrab_match(jnp.asarray(metric, dt), usable)  # # [C, S]
    t_ho_cs = jnp.asarray(t_ho, dt) * (1.0 - jnp.asarray(prev, dt))  # (23)
    n_com_i = jnp.asarray(n_com, jnp.int32)
    n_com_f = n_com_i.astype(dt)
    floor_int = jnp.ceil(t_ho_cs / t_ofdma - 1e-9).astype(jnp.int32)  # # [C, S]
    floor_int = jnp.where(member, floor_int, 0)
    budget_int = jnp.asarray(n_beams, jnp.int32) * n_com_i  # # [S]
    feasible = jnp.all(jnp.sum(floor_int, axis=0) <= budget_int) & jnp.all(floor_int <= n_com_i)
    l = jnp.where(member, t_ho_cs / (n_com_f * t_ofdma), 0.0)
    na_s = jnp.where(na > 0, na, 1.0)
    k = rate / KBIT * n_com_f * t_ofdma / (t_frame * na_s[:, None])
    mean_na = jnp.sum(na) / jnp.maximum(jnp.sum(na > 0), 1)
    a = jnp.broadcast_to((na / jnp.where(mean_na > 0, mean_na, 1.0))[:, None], rate.shape)
    budget = jnp.asarray(n_beams, dt) - jnp.sum(l, axis=0)
    z = waterfill(a, k, jnp.maximum(1.0 - l, 0.0), jnp.maximum(budget, 0.0), jnp.asarray(eps, dt) / KBIT, member)
    y = jnp.where(member, l + z, 0.0)
    if y_given is not None:
        y = jnp.where(member, jnp.asarray(y_given, dt), 0.0)
    x = jnp.maximum(floor_int, jnp.clip(jnp.round(y * n_com_f), 0, n_com_f).astype(jnp.int32))
    x = jnp.where(member, jnp.minimum(x, n_com_i), 0)
    extra = scale_columns_to_budget(x - floor_int, budget_int - jnp.sum(floor_int, axis=0))
    x = handover_floor(floor_int + extra, t_ho_cs, t_ofdma)
    x = jnp.where(feasible, x, 0)
    return DmrabResult(x, jnp.where(feasible, y, 0.0), feasible)
