"""Algorithm 2 of the NTN paper: map the relaxed JMRA allocation to a feasible integer one.

Spec ``../shared/spec/ntn.md`` §3 Algorithm 2 ("round, then move to the closest feasible
point of P1").  Written for ONE instance in JAX and ``vmap``-ed over frames.  Steps:

1. ``x = clip(round(N_com y*), 0, N_com)``, 0 on unusable pairs                  -> (26a)
2. per cell keep only the largest entry (ties: larger rate, then the satellite that served
   the cell in frame k-1, then the lowest index); this is the minimum-distance repair  -> (26e)
3. per satellite over budget ``N_b N_com``: scale its column down in integers,
   ``x <- floor(x B / sum x)`` plus one extra frame to the largest remainders, which
   meets the budget exactly                                                       -> (26c)
4. handover-floor repair: a pair whose frames do not outlast its handover
   (``x T_O <= T^HO_{c,s}``, (23) with the true T_HO) is dropped (x = 0), so every served
   cell has a positive throughput (interfaces.md §4).  Freed frames are not re-distributed
   (the spec's optional greedy refill is not implemented).

All steps only lower entries or zero them, so (26a), (26c), (26e) hold exactly.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp


def scale_columns_to_budget(e: jax.Array, avail: jax.Array) -> jax.Array:
    """Integer columns ``e >= 0`` [C, S] scaled down to ``sum_c e <= avail`` [S] exactly.

    Columns already within budget are unchanged; others become ``floor(e avail / sum e)``
    and the leftover ``avail - sum`` frames go, one each, to the entries with the largest
    remainders (each such entry stays <= its original value).
    """
    tot = jnp.sum(e, axis=0)  # # [S]
    over = tot > avail
    tot_s = jnp.maximum(tot, 1)
    prod = e * avail[None, :]
    base = prod // tot_s[None, :]
    rem = prod - base * tot_s[None, :]  # # [C, S]
    left = avail - jnp.sum(base, axis=0)  # # [S] in [0, C)
    order = jnp.argsort(-rem, axis=0)
    rank = jnp.argsort(order, axis=0)  # # [C, S] rank of each entry's remainder (0 = largest)
    bump = (rank < left[None, :]) & (rem > 0)
    scaled = base + bump.astype(e.dtype)
    return jnp.where(over[None, :], scaled, e)


def keep_one_per_cell(x: jax.Array, rate: jax.Array, prev: jax.Array) -> jax.Array:
    """(26e) repair: keep the largest entry per cell (ties: rate, then prev, then index)."""
    m1 = x == jnp.max(x, axis=1, keepdims=True)
    r1 = jnp.where(m1, rate, -1.0)
    m2 = m1 & (r1 == jnp.max(r1, axis=1, keepdims=True))
    key = jnp.where(m2, 1 + prev.astype(jnp.int32), 0)
    keep = jax.nn.one_hot(jnp.argmax(key, axis=1), x.shape[1], dtype=bool)
    return jnp.where(keep, x, 0)


def round_allocation(y: jax.Array, rate: jax.Array, prev: jax.Array, t_ho_cs: jax.Array,
                     n_com, n_beams: jax.Array, t_ofdma, usable: jax.Array) -> jax.Array:
    """Algorithm 2 for one instance.

    Args:
      y: [C, S] relaxed share x*/N_com.  rate: [C, S] bit/s.  prev: [C, S] bool.
      t_ho_cs: [C, S] true pair handover time (23), s.  n_com: int scalar.
      n_beams: [S] int.  t_ofdma: scalar, s.  usable: [C, S] bool pairs allowed to be served.

    Returns:
      x: [C, S] int32, feasible for (26a), (26c), (26e) and the handover floor.
    """
    n_com = jnp.asarray(n_com, jnp.int32)
    x = jnp.clip(jnp.round(y * n_com), 0, n_com).astype(jnp.int32)
    x = jnp.where(usable, x, 0)
    x = keep_one_per_cell(x, rate, prev)
    x = scale_columns_to_budget(x, jnp.asarray(n_beams, jnp.int32) * n_com)
    return handover_floor(x, t_ho_cs, t_ofdma)


def handover_floor(x: jax.Array, t_ho_cs: jax.Array, t_ofdma) -> jax.Array:
    """Drop pairs with ``x T_O <= T^HO`` (no time left after the handover), interfaces.md §4."""
    served_ok = x.astype(t_ho_cs.dtype) * t_ofdma > t_ho_cs * (1 + 1e-9)
    return jnp.where(served_ok, x, 0)
