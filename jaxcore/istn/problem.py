"""One ISTN cell as a pytree: the data the single-cell optimizer (P1/P3) works on.

``CellProblem`` holds ONE cell of ONE drop (ISTN paper Sec. II, eqs. (1)-(10)); every
function in ``jaxcore.istn`` takes it as the first argument and is ``vmap``-ed outside over
drops and cells (``batch_cells`` flattens interfaces.md §1 arrays to that layout).

Units.  Every formula carries the three noise powers explicitly (``noise_tut``,
``noise_sut``, ``noise_rad``), so any consistent unit works (watts, or noise-normalised
with noise = 1).  The optimizer is tuned for noise-normalised units (prox weight rho,
tolerances, float32 safety), so solvers build their problems from the noise-normalised
instance (``solvers.istn.instance.to_normalised``, through ``solvers.istn.problems``): every
channel amplitude divided by the square root of its receiver's noise power, power gains by
the noise power, noise fields 1.  Powers (``p_bs``, ``p_leo``) are unchanged, so
beamformers F and the satellite power p keep their meaning and every SINR/SCNR/MSE is
identical before and after.

QoS bounds are stored as MSE bounds (ISTN paper eq. (43)):
``e_sut = 2**(-R_min)`` (SUT rate >= R_min  <=>  SUT MMSE <= e_sut) and
``e_rad = 1/(1+SCNR_min)`` (SCNR >= SCNR_min  <=>  radar MMSE <= e_rad, with the virtual
covariance of spec istn.md §1.6-3).
"""
from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp


class CellProblem(NamedTuple):
    """One cell of one drop (ISTN paper Sec. II).  Channels are row vectors: ``y = h @ f``.

    Shapes (K TUTs, Nt TBS antennas, T targets, R radar receivers, Nr antennas each,
    L clutter scatterers); ``c`` = complex, ``r`` = real, same precision throughout.
    """

    h_tut: jax.Array  # [K, Nt] c   TBS -> TUT channels h_k, eq. (4)
    h_sut: jax.Array  # [Nt] c      TBS -> SUT channel h^(S), eq. (7)
    g_tut: jax.Array  # [K] r       satellite -> TUT power gain g^TUT_k, eq. (1)
    g_sut: jax.Array  # [] r        satellite -> SUT power gain g^SUT, eq. (1)
    g_rad: jax.Array  # [R, Nr] c   satellite -> radar receiver n channel g^rad_n, eq. (3)
    G_tar: jax.Array  # [T, R, Nr, Nt] c  target t seen at receiver n, G^tar_{t,n}, eq. (8)
    G_cl: jax.Array  # [L, R, Nr, Nt] c   clutter l seen at receiver n, G^cl_{l,n}, eq. (10)
    assoc: jax.Array  # [T] int     receiver A(i) of target i, eq. (14)
    p_bs: jax.Array  # [] r         TBS power budget P_BS (25d)
    p_leo: jax.Array  # [] r        per-beam satellite power cap P_LEO (26)
    e_sut: jax.Array  # [] r        SUT MSE bound 2^-R_min (43)
    e_rad: jax.Array  # [] r        radar MSE bound 1/(1+SCNR_min) (43)
    noise_tut: jax.Array  # [] r    sigma_T^2
    noise_sut: jax.Array  # [] r    sigma_S^2
    noise_rad: jax.Array  # [] r    sigma_R^2

    @property
    def n_tut(self) -> int:
        return self.h_tut.shape[-2]

    @property
    def n_tar(self) -> int:
        return self.G_tar.shape[-4]

    @property
    def n_tx(self) -> int:
        return self.h_tut.shape[-1]


def make_cell_problem(h_tut, h_sut, g_tut, g_sut, g_rad, G_tar, G_cl, assoc, p_bs, p_leo,
                      r_min_sut, scnr_min, noise_tut=1.0, noise_sut=1.0, noise_rad=1.0,
                      dtype=None) -> CellProblem:
    """Build a ``CellProblem`` from paper quantities (R_min in bit/s/Hz, SCNR_min linear).

    Works for one cell or with any leading batch axes (all fields broadcast elementwise).
    ``dtype`` (real, e.g. ``jnp.float64``) casts everything; default: the dtype of ``h_tut``.
    """
    h_tut = jnp.asarray(h_tut)
    cdt = h_tut.dtype if dtype is None else (jnp.complex128 if jnp.dtype(dtype) == jnp.float64
                                             else jnp.complex64)
    rdt = jnp.finfo(cdt).dtype
    c = lambda x: jnp.asarray(x, cdt)
    r = lambda x: jnp.asarray(x, rdt)
    return CellProblem(
        h_tut=c(h_tut), h_sut=c(h_sut), g_tut=r(g_tut), g_sut=r(g_sut), g_rad=c(g_rad),
        G_tar=c(G_tar), G_cl=c(G_cl), assoc=jnp.asarray(assoc, jnp.int32),
        p_bs=r(p_bs), p_leo=r(p_leo),
        e_sut=r(2.0 ** (-jnp.asarray(r_min_sut, rdt))),
        e_rad=r(1.0 / (1.0 + jnp.asarray(scnr_min, rdt))),
        noise_tut=r(noise_tut), noise_sut=r(noise_sut), noise_rad=r(noise_rad))


class TargetView(NamedTuple):
    """Sensing channels regrouped per target i at its own receiver n = A(i) (spec §3.3)."""

    G_t: jax.Array  # [T(i), T(t), Nr, Nt] c   G^tar_{t, A(i)}
    G_sum: jax.Array  # [T(i), Nr, Nt] c       G_Sigma = sum_t G^tar_{t, A(i)} (the G of (21))
    G_c: jax.Array  # [T(i), L, Nr, Nt] c      G^cl_{l, A(i)}
    g_r: jax.Array  # [T(i), Nr] c             g^rad_{A(i)}


def target_view(prob: CellProblem) -> TargetView:
    """Gather every target's sensing channels at its associated receiver (single cell)."""
    a = prob.assoc
    # [T(i), T(t), Nr, Nt]
    G_t = jnp.swapaxes(prob.G_tar[:, a], 0, 1)
    # [T(i), L, Nr, Nt]
    G_c = jnp.swapaxes(prob.G_cl[:, a], 0, 1)
    return TargetView(G_t=G_t, G_sum=G_t.sum(axis=1), G_c=G_c, g_r=prob.g_rad[a])


def batch_cells(prob: CellProblem) -> tuple[CellProblem, tuple[int, ...]]:
    """Flatten leading batch axes (e.g. [B, M]) of a batched ``CellProblem`` to one axis.

    Returns the flat problem and the leading shape, to restore outputs with
    ``x.reshape(lead + x.shape[1:])``.  The leading shape is read from ``p_bs``.
    """
    lead = tuple(prob.p_bs.shape)
    n = 1
    for s in lead:
        n *= s
    flat = jax.tree_util.tree_map(lambda x: x.reshape((n,) + x.shape[len(lead):]), prob)
    return flat, lead


def _ula(u, n):
    """Unit-modulus half-wavelength ULA response [..., n] for direction cosines u [...]."""
    return jnp.exp(1j * jnp.pi * u[..., None] * jnp.arange(n))


def random_cell_problem(key, K=5, Nt=30, T=4, R=4, Nr=4, L=12, *, p_bs=3.16, p_leo=200.0,
                        r_min_sut=3.0, scnr_min_db=-10.0, tut_snr_db=(10.0, 30.0),
                        sut_inr_db=20.0, sut_snr_db=40.0, sat_inr_db=6.0,
                        echo_snr_db=13.0, clutter_db=0.0, dtype=jnp.float64) -> CellProblem:
    """A synthetic single-cell instance in noise-normalised units, for tests and benchmarks.

    NOT the paper's channel model (that is ``solvers.istn`` generator): i.i.d. Rayleigh
    TBS->TUT/SUT channels with per-antenna SNR at full TBS power drawn uniformly in dB from
    ``tut_snr_db`` (SUT: ``sut_inr_db``), satellite gains giving SNR ``sut_snr_db`` at the SUT
    and INR ``sat_inr_db`` at TUTs and radar elements at p = P_LEO, and line-of-sight
    sensing channels alpha a_r(u_r) a_t(u_t)^H (unit-modulus ULAs, eq. (8)/(10)) with echo SNR
    ``echo_snr_db`` (array gain Nt*Nr included) at full TBS power; each target has L/T
    clutter scatterers near it in angle (``clutter_db`` relative to the target echo).
    ``R_min`` in bit/s/Hz, SCNR_min in dB.  Noise powers are 1.
    """
    cdt = jnp.complex128 if jnp.dtype(dtype) == jnp.float64 else jnp.complex64
    ks = jax.random.split(key, 14)
    db = lambda x: 10.0 ** (jnp.asarray(x) / 10.0)
    cn = lambda k, shape: (jax.random.normal(k, shape + (2,)) @ jnp.array([1.0, 1j])) / jnp.sqrt(2.0)
    snr_t = db(jax.random.uniform(ks[0], (K,), minval=tut_snr_db[0], maxval=tut_snr_db[1]))
    h_tut = cn(ks[1], (K, Nt)) * jnp.sqrt(snr_t / p_bs)[:, None]
    h_sut = cn(ks[2], (Nt,)) * jnp.sqrt(db(sut_inr_db) / p_bs)
    g_tut = jnp.full((K,), db(sat_inr_db) / p_leo) * db(jax.random.uniform(ks[3], (K,), minval=-3, maxval=3))
    g_sut = db(sut_snr_db) / p_leo
    u_sat = jax.random.uniform(ks[4], (R,), minval=-1.0, maxval=1.0)
    g_rad = jnp.sqrt(db(sat_inr_db) / p_leo) * _ula(u_sat, Nr) * jnp.exp(
        2j * jnp.pi * jax.random.uniform(ks[5], (R, 1)))
    # targets: transmit direction per target, receive direction per (target, receiver)
    ut = jax.random.uniform(ks[6], (T,), minval=-0.9, maxval=0.9)
    ur = jax.random.uniform(ks[7], (T, R), minval=-0.9, maxval=0.9)
    amp = jnp.sqrt(db(echo_snr_db) / (p_bs * Nt * Nr)) * db(
        jax.random.uniform(ks[8], (T, R), minval=-3, maxval=3)) ** 0.5
    ph = jnp.exp(2j * jnp.pi * jax.random.uniform(ks[9], (T, R)))
    G_tar = (amp * ph)[..., None, None] * _ula(ur, Nr)[..., :, None] * jnp.conj(_ula(ut, Nt))[:, None, None, :]
    # clutter: L scatterers, scatterer l belongs to target l % T, angles within ~0.1 of it
    owner = jnp.arange(L) % T
    uct = jnp.clip(ut[owner] + 0.1 * jax.random.uniform(ks[10], (L,), minval=-1, maxval=1), -1, 1)
    ucr = jnp.clip(ur[owner] + 0.1 * jax.random.uniform(ks[11], (L, R), minval=-1, maxval=1), -1, 1)
    camp = amp[owner] * jnp.sqrt(db(clutter_db)) * jnp.exp(2j * jnp.pi * jax.random.uniform(ks[12], (L, R)))
    G_cl = camp[..., None, None] * _ula(ucr, Nr)[..., :, None] * jnp.conj(_ula(uct, Nt))[:, None, None, :]
    # association: each target to its strongest receiver (nearest-neighbour baseline)
    assoc = jnp.argmax(amp, axis=1)
    return make_cell_problem(h_tut.astype(cdt), h_sut.astype(cdt), g_tut, g_sut, g_rad.astype(cdt),
                             G_tar.astype(cdt), G_cl.astype(cdt), assoc, p_bs, p_leo, r_min_sut,
                             db(scnr_min_db), dtype=dtype)
