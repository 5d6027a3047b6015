"""P2 merge across spot beams, ISTN paper eq. (44): capped water-filling (spec istn.md §3.5).

    maximise   sum_m log2(1 + g_m p_m / I_m)
    subject to sum_m p_m <= P_LEO,  0 <= p_m <= p_bar_m

I_m = sum_j |h_m^(S) f_{m,j}|^2 + sigma_S^2 is SUT m's interference-plus-noise with the P1
beamformers frozen.  KKT: if sum_m p_bar_m <= P_LEO then p = p_bar; otherwise
p_m = clip(w - I_m/g_m, 0, p_bar_m) with the water level w found by bisection so that
sum_m p_m = P_LEO (the sum is non-decreasing in w).  A beam with g_m = 0 gains nothing and
gets p_m = 0 whenever the budget binds.

The bisection is a fixed-length ``lax.fori_loop`` (no data-dependent exit) so the function
``vmap``s over drops.  Spec §1.6-7: P2 maximises the satellite rate only, so when the caps
must bind a beam may fall below R_min; :func:`merge_p2` flags those beams (status code 4
of interfaces.md §2).
"""
from __future__ import annotations

import jax
import jax.numpy as jnp


def water_level_sum(w, floor, p_bar):
    """sum_m clip(w - floor_m, 0, p_bar_m), the power used at water level w.  [] real."""
    return jnp.clip(w - floor, 0.0, p_bar).sum(axis=-1)


def merge_powers(g_sut, interference, p_bar, p_leo, n_bisect: int = 100):
    """Capped water-filling solution of (44) for ONE drop.

    Args:
      g_sut: [M] real, satellite beam m -> SUT m power gain (any unit consistent with I).
      interference: [M] real > 0, I_m (interference plus noise at SUT m).
      p_bar: [M] real >= 0, P1 per-beam powers (caps).
      p_leo: [] real >= 0, total satellite power.
      n_bisect: bisection steps (static); 100 reaches float64 resolution of w.

    Returns:
      p [M] real: merged powers, sum(p) <= p_leo, 0 <= p <= p_bar.
    """
    dt = p_bar.dtype
    g_pos = g_sut > 0
    # floor_m = I_m / g_m (the inverse channel "depth"); +inf-like for useless beams
    big = jnp.asarray(jnp.finfo(dt).max / 4, dt)
    floor = jnp.where(g_pos, interference / jnp.where(g_pos, g_sut, 1.0), big)
    fits = p_bar.sum() <= p_leo
    # upper bracket: every useful beam at its cap
    hi0 = jnp.max(jnp.where(g_pos, floor + p_bar, 0.0))
    lo0 = jnp.zeros((), dt)

    def body(_, lohi):
        lo, hi = lohi
        mid = 0.5 * (lo + hi)
        over = water_level_sum(mid, floor, p_bar) > p_leo
        return jnp.where(over, lo, mid), jnp.where(over, mid, hi)

    lo, hi = jax.lax.fori_loop(0, n_bisect, body, (lo0, hi0))
    # lo is feasible (sum <= p_leo) by construction
    p_wf = jnp.clip(lo - floor, 0.0, p_bar)
    return jnp.where(fits, p_bar, p_wf)


def sut_rate(g_sut, interference, p):
    """SUT rate (24) log2(1 + g p / I) per beam.  [M] real."""
    return jnp.log2(1.0 + g_sut * p / interference)


def merge_p2(g_sut, interference, p_bar, p_leo, r_min, n_bisect: int = 100, rtol: float = 1e-5):
    """P2 merge (44) for ONE drop plus the per-beam "pushed below R_min" flag.

    Args:
      g_sut, interference, p_bar: [M] real (see :func:`merge_powers`).
      p_leo, r_min: [] real (total satellite power; SUT rate floor in bit/s/Hz).
      rtol: relative tolerance on R_min for the flag.

    Returns:
      ``(p [M], below [M] bool)``: ``below`` is True where the merge lowered the beam's
      power (p < p_bar) and its SUT rate at p is below R_min (status code 4).
    """
    p = merge_powers(g_sut, interference, p_bar, p_leo, n_bisect)
    r = sut_rate(g_sut, interference, p)
    lowered = p < p_bar * (1.0 - 1e-9)
    below = lowered & (r < r_min * (1.0 - rtol))
    return p, below


#: ``merge_p2`` over a leading drop axis: inputs [B, M] and [B].
merge_p2_batched = jax.vmap(merge_p2, in_axes=(0, 0, 0, 0, 0, None, None))
