"""Sensing-failure probability, ISTN paper Fig. 8 (spec istn.md §1.5).

"The probability that the SCNR constraint cannot be satisfied even if the full TBS transmit
power is dedicated for sensing."  Per drop (and cell) we ask whether *some* sensing-only
beamformer F = [f_1..f_T] with ||F||_F^2 <= P_BS gives SCNR_i >= SCNR_min for every target
at its MMSE radar receiver (eq. (18), spec §1.6-3).  That question is non-convex; a drop
counts as *sensed* when a constructive certificate is found, else as a failure:

1. zero-forcing directions toward the targets (each beam nulls the other targets'
   transmit directions) with the least powers from the Yates fixed point
   (:func:`jaxcore.istn.zf.min_sensing_power`), feasible if sum(s) <= P_BS;
2. the same with matched (conjugate) beams;
3. the QoS-WMMSE core's Phase-I feasibility routine with the TUT beams switched off
   (``jaxcore.istn.qos_wmmse.sensing_feasible``).

Each certificate is a concrete F checked with :func:`jaxcore.istn.metrics.scnr_mmse`, so
the estimate is an upper bound on the true failure probability that gets tighter with
better certificates; every case uses the same certificates, so the comparison is fair.

Phase I (3) is the expensive certificate: on a cell where it fails it runs its whole
iteration budget.  It runs only on the cells where 1-2 fail and that the noise bound does not
already rule out (:func:`noise_bound_possible`: no beamformer within P_BS reaches SCNR_min
even without clutter and other targets, so no certificate can exist).  The flags are those of
running every certificate on every cell (tested); only the time changes.

Cases (curves of Fig. 8):
``satellite-free``  multistatic, Algorithm-1 association, no satellite signal (p = 0);
``proposed``        multistatic, Algorithm-1 association, satellite at P_LEO / M;
``random``          multistatic, random one-to-one association, satellite at P_LEO / M;
``monostatic``      one receiver at the TBS with R*Nr elements (jaxcore.istn.monostatic),
                    satellite at P_LEO / M.
The satellite transmits its full per-beam share P_LEO / M while the TBS senses [assumption:
the paper does not give the satellite power of Fig. 8; the interference-unaware default of
spec §1.5].  Random association draws from (seed, global drop, cell), independent of chunking.
"""
from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from jaxcore.istn import zf
from jaxcore.istn.metrics import scnr_mmse
from jaxcore.istn.monostatic import monostatic_drops
from jaxcore.istn.problem import CellProblem, batch_cells
from jaxcore.istn.qos_wmmse import sensing_feasible
from solvers.istn.association import associate
from solvers.istn.association import random_assoc  # the one key schedule (re-exported)
from solvers.istn.instance import to_normalised
from solvers.istn.problems import cell_problems

FAILURE_CASES = ("satellite-free", "proposed", "random", "monostatic")


def _sensing_only(prob: CellProblem) -> CellProblem:
    """The same cell with no TUT streams (all of P_BS on sensing)."""
    Nt = prob.h_tut.shape[-1]
    return prob._replace(h_tut=jnp.zeros((0, Nt), prob.h_tut.dtype), g_tut=jnp.zeros((0,), prob.g_tut.dtype))


def _certificate(prob: CellProblem, F_dir, p_sat, n_iter):
    """(feasible, F) for fixed unit beam directions F_dir [Nt, T] and least powers."""
    gam = 1.0 / prob.e_rad - 1.0
    C, a_hat, gg = zf.sensing_cov(prob, F_dir)
    s, _ = zf.min_sensing_power(C, a_hat, gg, jnp.zeros((0,), prob.p_bs.dtype), p_sat, prob.noise_rad, gam,
                                10.0 * prob.p_bs, n_iter)
    s = s * (1.0 + 1e-3)
    F = F_dir * jnp.sqrt(s).astype(F_dir.dtype)[None, :]
    ok = (s.sum() <= prob.p_bs) & jnp.all(scnr_mmse(prob, F, p_sat) >= gam * (1.0 - 1e-3))
    return ok


@partial(jax.jit, static_argnames=("n_iter",))
def sensing_feasible_cells(prob: CellProblem, p_sat, n_iter: int = 100):
    """Per-cell sensing feasibility with all of P_BS on sensing.  prob [C, ...], p_sat [C] -> bool [C]."""
    def one(pr, p):
        pr = _sensing_only(pr)
        zf_dir, _ = zf.zf_beams(pr)
        ok_zf = _certificate(pr, zf_dir, p, n_iter)
        ok_mrt = _certificate(pr, zf.mrt_sensing_beams(pr), p, n_iter)
        return ok_zf | ok_mrt
    return jax.vmap(one)(prob, p_sat)


#: relative margin of :func:`noise_bound_possible`: a cell is ruled out only when its bound is
#: this far below SCNR_min (far above float32 round-off and Phase I's feasibility tolerance)
BOUND_MARGIN = 0.05


@jax.jit
def noise_bound_possible(prob: CellProblem, p_sat):
    """False where no sensing beamformer can meet SCNR_min: per cell [C] bool.

    For target i at receiver A(i), the interference-plus-noise covariance of (18) is at least
    N = p_sat g g^H + sigma_R^2 I (clutter, other targets and other beams only add PSD terms,
    ``metrics.radar_virtual_covariance``), so SCNR_i <= f^H G^H N^{-1} G f <= P_BS lambda_max
    with lambda_max the largest eigenvalue of L^{-1} G G^H L^{-H} (N = L L^H; Nr x Nr).  A cell
    is ruled out when P_BS lambda_max (1 + ``BOUND_MARGIN``) < SCNR_min for some target.
    """
    def one(pr, p):
        T = pr.G_tar.shape[0]
        G = pr.G_tar[jnp.arange(T), pr.assoc]  # [T, Nr, Nt]
        g = pr.g_rad[pr.assoc]  # [T, Nr]
        Nr = g.shape[-1]
        N = pr.noise_rad * jnp.eye(Nr, dtype=G.dtype) + p * g[:, :, None] * jnp.conj(g[:, None, :])
        L = jnp.linalg.cholesky(N)
        W = jax.lax.linalg.triangular_solve(L, G, left_side=True, lower=True)  # L^{-1} G [T, Nr, Nt]
        lam = jnp.linalg.eigvalsh(jnp.einsum("trn,tsn->trs", W, jnp.conj(W)))[:, -1]
        gam = 1.0 / pr.e_rad - 1.0
        return jnp.all(pr.p_bs * lam * (1.0 + BOUND_MARGIN) >= gam)
    return jax.vmap(one)(prob, p_sat)


def _phase1_feasible(prob_flat: CellProblem, p_sat, cells=None):
    """The QoS-WMMSE core's Phase-I certificate on the sensing-only cells; [N] bool.

    With ``cells`` (int indices), only those cells run Phase I (the others are False): they
    are gathered into a batch padded to the next power of two (repeating the first; a few
    programs in all, not one per count), since Phase I of a cell that fails runs its whole
    iteration budget and a batch pays for its slowest member.  A cell's answer does not depend
    on the batch it is solved in (per-instance masks, ``qos_wmmse.solve_cells``).
    """
    if cells is None:
        return np.asarray(sensing_feasible(jax.vmap(_sensing_only)(prob_flat), p_sat), bool)
    n = int(p_sat.shape[0])
    out = np.zeros(n, bool)
    cells = np.asarray(cells, np.int64)
    if cells.size == 0:
        return out
    size = min(n, 1 << int(np.ceil(np.log2(cells.size))))
    idx = np.concatenate([cells, np.full(size - cells.size, cells[0])])
    sub = jax.tree_util.tree_map(lambda a: a[idx], prob_flat)
    out[cells] = _phase1_feasible(sub, p_sat[idx])[:cells.size]
    return out


def failure_flags(arrays: dict, case: str, drop_ids, seed: int) -> np.ndarray:
    """Sensing failure (True) per drop for one case of Fig. 8; [B] bool (any cell failing).

    ``arrays`` is the multistatic instance of the drops ``drop_ids`` (and, for
    ``monostatic``, already carries the monostatic sensing fields, see
    :func:`monostatic_arrays`).
    """
    if case not in FAILURE_CASES:
        raise ValueError(f"case: expected one of {FAILURE_CASES}, got {case!r}")
    B, M, T, R = np.asarray(arrays["G_tar"]).shape[:4]
    if case == "monostatic":
        assoc = np.zeros((B, M, T), np.int32)
    elif case == "random":
        assoc = random_assoc(seed, drop_ids, M, T, R)
    else:
        assoc = associate(arrays, "proposed", seed)
    prob, _ = batch_cells(cell_problems(to_normalised(arrays), assoc))
    p_leo = np.broadcast_to(np.asarray(arrays["p_leo"], np.float64)[:, None] / M, (B, M)).reshape(-1)
    p_sat = np.zeros_like(p_leo) if case == "satellite-free" else p_leo
    p_sat = jnp.asarray(p_sat, prob.p_bs.dtype)
    ok = np.array(sensing_feasible_cells(prob, p_sat))  # certificates 1-2 (cheap)
    # certificate 3 where they fail and the noise bound leaves it possible (module docstring)
    ok |= _phase1_feasible(prob, p_sat, np.flatnonzero(~ok & np.asarray(noise_bound_possible(prob, p_sat))))
    return ~ok.reshape(B, M).all(axis=1)


def monostatic_arrays(arrays: dict, cfg, seed: int, drop_ids, precision: str) -> dict:
    """``arrays`` with the sensing fields replaced by the monostatic receiver's."""
    B, M = np.asarray(arrays["p_bs"]).shape
    with jax.enable_x64(True):
        mono = jax.device_get(monostatic_drops(jax.random.PRNGKey(seed), cfg.channel_params(precision),
                                               np.asarray(drop_ids, np.int64), M))
    out = dict(arrays)
    out.update({k: np.asarray(v) for k, v in mono.items()})
    return out
