"""Target-receiver association: ISTN paper Algorithm 1 and the baselines of spec istn.md §1.5.

Every method is written for ONE cell (pure ``jnp``, a fixed-length ``lax.fori_loop`` over
the T assignment steps) and ``vmap``-ed over drops and cells; :func:`associate` is the
batched entry point on interfaces.md §1 arrays ``[B, M, ...]``.

Algorithm 1 (spec §1.6-6, global-greedy reading).  Angles are in u-space
(u = sin(AoA) from the receiving ULA's broadside, see ``solvers.istn.instance``) and the
thresholds compare ``|u_a - u_b|``:

1. candidate pairs (i, n) with ``|u_tar[i,n] - u_sat[n]| >= delta_sat`` (pairs closer to
   the satellite's direction are discarded);
2. repeat T times: among the candidates of unassigned targets take the pair with the
   largest path gain alpha[i, n], assign A(i) = n, drop the other pairs of i and every pair
   (i', n) with ``|u_tar[i,n] - u_tar[i',n]| < delta_tar``;
3. fallback: if no candidate is left for the unassigned targets, the first unassigned
   target goes to its best-alpha receiver, ignoring the thresholds (spec §1.6-6).

Baselines (spec §1.5): ``nearest`` (argmax_n alpha per target, receivers may repeat),
``greedy`` (largest remaining alpha over unassigned targets and unused receivers,
one-to-one; with T > R the receivers are reused once all are taken - a decision, the
paper has T = R), ``random`` (a uniformly random one-to-one map; T > R wraps around; one
key schedule per (seed, global drop, cell), :func:`random_assoc`).

When the instance carries no angles/gains (``theta_tar_rx``, ``theta_sat_rx``,
``alpha_tar``), :func:`association_inputs` derives them from the channels: alpha =
||G_tar[t,n]||_F / sqrt(Nr Nt) (the amplitude of the rank-one LOS echo (8)) and u from the
phase progression along the receive ULA (angle of sum_r G[r+1] G[r]^* over pi).  For the
paper's line-of-sight sensing channels this recovers u exactly.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from solvers.methods import ISTN_ASSOC as METHODS

_NEG = -jnp.inf


def algorithm1_cell(u_tar, u_sat, alpha, delta_sat, delta_tar):
    """ISTN paper Algorithm 1 for ONE cell (global greedy, spec §1.6-6).

    Args:
      u_tar: [T, R] real, u of target i at receiver n.
      u_sat: [R] real, u of the satellite at receiver n.
      alpha: [T, R] real >= 0, target path gains.
      delta_sat, delta_tar: [] real thresholds on |du|.

    Returns:
      [T] int32 receiver index per target.
    """
    u_tar, u_sat, alpha = jnp.asarray(u_tar), jnp.asarray(u_sat), jnp.asarray(alpha)
    T, R = alpha.shape
    cand0 = jnp.abs(u_tar - u_sat[None, :]) >= delta_sat  # [T, R]

    def body(_, carry):
        cand, assigned, assoc = carry
        avail = cand & ~assigned[:, None]
        score = jnp.where(avail, alpha, _NEG)
        flat = jnp.argmax(score)
        i_g, n_g = flat // R, flat % R
        has = jnp.any(avail)
        # fallback: first unassigned target to its best-alpha receiver
        i_f = jnp.argmax(~assigned)
        n_f = jnp.argmax(alpha[i_f])
        i = jnp.where(has, i_g, i_f)
        n = jnp.where(has, n_g, n_f)
        any_left = ~jnp.all(assigned)
        assoc = jnp.where(any_left, assoc.at[i].set(n.astype(jnp.int32)), assoc)
        assigned = jnp.where(any_left, assigned.at[i].set(True), assigned)
        # delete pairs (i', n) with |u_tar[i,n] - u_tar[i',n]| < delta_tar
        close = jnp.abs(u_tar[:, n] - u_tar[i, n]) < delta_tar  # [T]
        kill = (close[:, None] & (jnp.arange(R) == n)[None, :])
        cand = jnp.where(any_left, cand & ~kill, cand)
        return cand, assigned, assoc

    init = (cand0, jnp.zeros(T, bool), jnp.zeros(T, jnp.int32))
    _, _, assoc = jax.lax.fori_loop(0, T, body, init)
    return assoc


def nearest_cell(alpha):
    """Nearest-neighbour association: argmax_n alpha[i, n] per target.  [T] int32."""
    return jnp.argmax(alpha, axis=1).astype(jnp.int32)


def greedy_cell(alpha):
    """Greedy one-to-one association (spec §1.5): largest alpha over unassigned targets and
    unused receivers; when all receivers are used (T > R) they become free again.  [T] int32."""
    alpha = jnp.asarray(alpha)
    T, R = alpha.shape

    def body(_, carry):
        assigned, used, assoc = carry
        used = jnp.where(jnp.all(used), jnp.zeros_like(used), used)
        score = jnp.where(~assigned[:, None] & ~used[None, :], alpha, _NEG)
        flat = jnp.argmax(score)
        i, n = flat // R, flat % R
        return assigned.at[i].set(True), used.at[n].set(True), assoc.at[i].set(n.astype(jnp.int32))

    init = (jnp.zeros(T, bool), jnp.zeros(R, bool), jnp.zeros(T, jnp.int32))
    return jax.lax.fori_loop(0, T, body, init)[2]


def random_cell(key, T: int, R: int):
    """Uniformly random one-to-one association (T > R wraps around).  [T] int32."""
    perm = jax.random.permutation(key, R)
    return perm[jnp.arange(T) % R].astype(jnp.int32)


def random_assoc(seed: int, drop_ids, n_cells: int, T: int, R: int) -> np.ndarray:
    """Random one-to-one association of global drops ``drop_ids`` [B], [B, M, T] int32.

    The one key schedule of the random association: cell m of drop d draws from
    ``fold_in(drop_key(seed, d), m)`` with ``solvers.runner.montecarlo.drop_key(seed, d) =
    fold_in(PRNGKey(seed), d)``, so ``satisac istn solve --assoc random --seed S`` (drops
    0..B-1 of the file), the experiments and the figures (global drop ids of their chunks)
    draw the same association for the same seed and drop, whatever the chunking.
    """
    base = jax.random.PRNGKey(int(seed))
    ids = jnp.asarray(np.asarray(drop_ids, np.int64).astype(np.uint32))
    keys = jax.vmap(lambda d: jax.vmap(lambda m: jax.random.fold_in(jax.random.fold_in(base, d), m))(
        jnp.arange(n_cells)))(ids)
    return np.asarray(jax.vmap(jax.vmap(lambda k: random_cell(k, T, R)))(keys), np.int32)


def association_inputs(arrays: dict) -> dict:
    """Angles (u-space), gains and thresholds for Algorithm 1 from an instance dict.

    Uses ``theta_tar_rx`` [B,M,T,R], ``theta_sat_rx`` [B,M,R], ``alpha_tar`` [B,M,T,R],
    ``delta_sat``/``delta_tar`` [B] when present; otherwise derives them from the channels
    (module docstring) and uses the default threshold 2/Nr (spec §1.4).
    """
    G = np.asarray(arrays["G_tar"])  # [B, M, T, R, Nr, Nt]
    B, M, T, R, Nr, Nt = G.shape
    if "alpha_tar" in arrays:
        alpha = np.asarray(arrays["alpha_tar"], np.float64)
    else:
        alpha = np.sqrt(np.sum(np.abs(G) ** 2, axis=(-1, -2)) / (Nr * Nt))
    if "theta_tar_rx" in arrays:
        u_tar = np.asarray(arrays["theta_tar_rx"], np.float64)
    else:
        # phase step along Nr, summed over the transmit axis: [B, M, T, R]
        s = np.sum(G[..., 1:, :] * np.conj(G[..., :-1, :]), axis=(-1, -2))
        u_tar = np.angle(s) / np.pi
    if "theta_sat_rx" in arrays:
        u_sat = np.asarray(arrays["theta_sat_rx"], np.float64)
    else:
        g = np.asarray(arrays["g_rad"])  # [B, M, R, Nr]
        u_sat = np.angle(np.sum(g[..., 1:] * np.conj(g[..., :-1]), axis=-1)) / np.pi
    d_default = np.full(B, 2.0 / Nr)
    return dict(u_tar=u_tar, u_sat=u_sat, alpha=alpha,
                delta_sat=np.asarray(arrays.get("delta_sat", d_default), np.float64),
                delta_tar=np.asarray(arrays.get("delta_tar", d_default), np.float64))


@jax.jit
def _algorithm1_batched(u_tar, u_sat, alpha, delta_sat, delta_tar):
    per_cell = jax.vmap(algorithm1_cell, in_axes=(0, 0, 0, None, None))  # over M
    return jax.vmap(per_cell)(u_tar, u_sat, alpha, delta_sat, delta_tar)  # over B


_nearest_batched = jax.jit(jax.vmap(jax.vmap(nearest_cell)))
_greedy_batched = jax.jit(jax.vmap(jax.vmap(greedy_cell)))


def associate(arrays: dict, method: str = "proposed", seed: int = 0, drop_ids=None) -> np.ndarray:
    """Target -> receiver association for every drop and cell.

    Args:
      arrays: interfaces.md §1 instance dict (numpy).
      method: ``proposed`` (Algorithm 1), ``nearest``, ``greedy`` or ``random``.
      seed: PRNG seed for ``random`` (key schedule of :func:`random_assoc`).
      drop_ids: [B] global drop indices of the instance's drops for ``random`` (default
        0..B-1, the drops of ``satisac istn generate``).

    Returns:
      [B, M, T] int32.
    """
    if method not in METHODS:
        raise ValueError(f"assoc method: expected one of {METHODS}, got {method!r}")
    B, M, T, R = np.asarray(arrays["G_tar"]).shape[:4]
    if T == 0:
        return np.zeros((B, M, 0), np.int32)
    inp = association_inputs(arrays)
    if method == "proposed":
        out = _algorithm1_batched(*(jnp.asarray(inp[k]) for k in ("u_tar", "u_sat", "alpha", "delta_sat", "delta_tar")))
    elif method == "nearest":
        out = _nearest_batched(jnp.asarray(inp["alpha"]))
    elif method == "greedy":
        out = _greedy_batched(jnp.asarray(inp["alpha"]))
    else:
        out = random_assoc(seed, np.arange(B) if drop_ids is None else drop_ids, M, T, R)
    return np.asarray(out, np.int32)
