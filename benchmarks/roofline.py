"""Roofline of the device, and the floor of one WMMSE / one JMRA iteration (issue 7 item 2).

Two measured ceilings (``.library/device/METHOD.md``), in the same run as the benchmarks:

* **peak FLOP/s**: a large square matmul ``a @ b`` (2 n^3 flops), jitted, median of repeats;
  one in float32 and one in complex64 (the WMMSE works on complex channels, and a complex
  multiply-add is 8 real flops, done by XLA as real GEMMs or a native complex GEMM).
* **peak bytes/s**: a large elementwise ``x + 1`` on an array far bigger than the caches,
  counting the bytes read plus the bytes written (2 x size).

Two counts per iteration, written as functions of the problem sizes below:

* flops: real floating-point operations the algorithm must do (complex multiply-add =
  8 real flops, complex multiply = 6, real multiply-add = 2; divisions, square roots and
  comparisons count 1).  Hermitian symmetry is not exploited (batched GEMMs do not).
* bytes: the fewest bytes one iteration must move through memory: every input it reads once
  and every output it writes once (the channels of the cell and the iterate), nothing else.

The floor of an iteration is ``max(flops / peak_flops, bytes / peak_bw)``; the measured time
over the floor is the gap.  The ratio flops/bytes (arithmetic intensity) against the
device's ridge point peak_flops/peak_bw says which term binds.
"""
from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from benchmarks.timing import time_fn

CMAC = 8  # real flops of one complex multiply-add
RMAC = 2  # real flops of one real multiply-add


# ----------------------------------------------------------------------------------------
# WMMSE iteration (ISTN paper Sec. III-B, eqs. (35)-(43); spec istn.md §3.3-3.4)
# ----------------------------------------------------------------------------------------
def transmit_dual_iteration_cmacs(Nt: int, K: int, T: int, L: int, n_newton: int = 6,
                                  n_mse: int = 7, essential: bool = False) -> float:
    """Complex multiply-adds of ONE dual iteration of the transmit step (43)
    (``jaxcore/istn/transmit_lagrangian.py``, spec istn.md §3.3).  J = K + T columns.

    Lagrangian minimiser for fixed multipliers:
      A(lambda) = A_0 + sum_i lambda_i P_i (+ lambda_i D_i for sensing block i):
                                              T Nt^2 real x complex  (~T Nt^2 / 2 cMAC)
      ``n_newton`` safeguarded Newton steps on nu, each: Cholesky of the 1 + T distinct
      Nt x Nt matrices ((1+T) Nt^3 / 6 cMAC) and three triangular solves (W, Z = F(nu) and
      V for dP/dnu) over the right-hand sides, then one final factorisation + 2 solves.
      The implementation stacks the 1 + T blocks with Kp = max(K, 1) right-hand sides each
      (the sensing blocks use one): a triangular solve costs (1+T) Kp Nt^2 / 2 cMAC; the
      essential count uses the J real columns: J Nt^2 / 2.
    MSE evaluations (32)-(34) at a point (``wmmse.mses``):
      a_tut F (K Nt J), a_sut F (Nt J), x_sum F (T Nt J), c_cl F (T L Nt J), own-beam
      x_tar (T^2 Nt):                         (K + 1 + T + T L) Nt J + T^2 Nt  cMAC
      done ``n_mse`` times per iteration as written (dual gradient at F(nu), objective,
      the three points of the feasibility pull-back, the candidate's objective and
      violation; XLA may merge duplicates); essential: 1 (the dual gradient).
    """
    J = K + T
    Kp = max(K, 1)
    chol = (1 + T) * Nt ** 3 / 6
    tri = (J if essential else (1 + T) * Kp) * Nt ** 2 / 2
    newton = n_newton * (chol + 3 * tri) + (chol + 2 * tri)
    mse = (K + 1 + T + T * L) * Nt * J + T * T * Nt
    return newton + (1 if essential else n_mse) * mse + T * Nt * Nt / 2


def transmit_newton_iteration_cmacs(Nt: int, K: int, T: int, L: int, n_mse: int = 5,
                                    essential: bool = False) -> float:
    """Complex multiply-adds of ONE projected-Newton iteration of the transmit step (43)
    (``jaxcore/istn/transmit_newton.py``, the pipeline default).  J = K + T columns,
    Kp = max(K, 1) right-hand sides per block as executed (essential: the J real columns).

    One evaluation of the dual at the trial (y, nu):
      A(lambda) + nu I (T Nt^2 / 2), Cholesky of the 1 + T blocks ((1+T) Nt^3 / 6),
      two triangular solves for the minimiser Z ((1+T) Kp Nt^2 each as executed, J Nt^2
      essential; a solve is Nt^2 / 2 cMAC per column);
      Hessian: the (2+T) right-hand-side derivative columns per block (r_S: Nt, r_R: the
      T P_i times each column, T Nt^2 per column), one triangular solve over them
      ((2+T) Nt^2 / 2 per column) and their Gram (2+T)^2 Nt per column;
    MSE evaluations (``wmmse.mses``, as in :func:`transmit_dual_iteration_cmacs`):
      ``n_mse`` per iteration as written (dual gradient, the safeguard's pull-back points
      and candidate), 1 essential.  The (2+T) x (2+T) Newton solve is negligible.
    """
    J = K + T
    cols = J if essential else (1 + T) * max(K, 1)
    chol = (1 + T) * Nt ** 3 / 6
    solve_z = 2 * cols * Nt ** 2 / 2
    hess = cols * (Nt + T * Nt ** 2 + (2 + T) * Nt ** 2 / 2 + (2 + T) ** 2 * Nt)
    mse = (K + 1 + T + T * L) * Nt * J + T * T * Nt
    return T * Nt * Nt / 2 + chol + solve_z + hess + (1 if essential else n_mse) * mse


def wmmse_setup_cmacs(Nt: int, K: int, T: int, R: int, Nr: int, L: int) -> float:
    """Complex multiply-adds of the receiver/weight part of ONE outer WMMSE iteration.

    Receivers (35)-(37) and weights (40)-(41) from the received amplitudes:
      TUTs h_tut F (K Nt J), SUT h_sut F (Nt J), radar G^tar_{t,A(i)} F and
      G^cl_{l,A(i)} F for every target i (T (T+L) Nr Nt J), virtual covariances R_v
      (T (T+L) J Nr^2) and their Cholesky solves (T (Nr^3/6 + Nr^2));
    receiver-projected coefficients (``wmmse.mse_coeffs``): x_tar, c_cl = w_i G
      (T (T+L) Nr Nt);
    fixed Gram blocks of the Lagrangian (``transmit_lagrangian._blocks``): sum_k mu_k a_k^H a_k,
      a_S^H a_S, x_S^H x_S + sum_l c^H c, sum_t x_t^H x_t  ((K + 1 + T + T L + T^2) Nt^2).
    """
    J = K + T
    rx = (K + 1) * Nt * J + T * (T + L) * Nr * Nt * J + T * (T + L) * J * Nr * Nr + T * (Nr ** 3 / 6 + Nr ** 2)
    coeffs = T * (T + L) * Nr * Nt
    grams = (K + 1 + T + T * L + T * T) * Nt * Nt
    return rx + coeffs + grams


def wmmse_iteration_flops(Nt: int, K: int, T: int, R: int, Nr: int, L: int,
                          n_dual: int = 100, n_newton: int = 6, n_mse: int = 7,
                          essential: bool = False, strategy: str = "dual") -> float:
    """Real flops of ONE outer QoS-WMMSE iteration of ONE cell (ISTN paper (35)-(43)).

    = receivers/weights/blocks (:func:`wmmse_setup_cmacs`) + ``n_dual`` dual iterations of
    the transmit step (:func:`transmit_dual_iteration_cmacs`), times 8 real flops per
    complex multiply-add.  As executed, the fixed-length masked scan runs all ``n_dual``
    iterations (converged instances are masked, not skipped); the *essential* count takes
    the dual iterations actually needed, the J real right-hand sides and one MSE
    evaluation per dual step: that is the floor an ideal implementation of the same method
    could reach.  ``strategy="newton"``: ``n_dual`` projected-Newton iterations
    (:func:`transmit_newton_iteration_cmacs`; ``n_newton`` and ``n_mse`` unused).
    """
    if strategy == "newton":
        per = transmit_newton_iteration_cmacs(Nt, K, T, L, essential=essential)
    elif strategy == "dual":
        per = transmit_dual_iteration_cmacs(Nt, K, T, L, n_newton, n_mse, essential)
    else:
        raise ValueError(f"strategy: expected 'newton' or 'dual', got {strategy!r}")
    return float(CMAC * (wmmse_setup_cmacs(Nt, K, T, R, Nr, L) + n_dual * per))


def wmmse_iteration_bytes(Nt: int, K: int, T: int, R: int, Nr: int, L: int,
                          real_bytes: int = 4) -> float:
    """Fewest bytes ONE outer WMMSE iteration of ONE cell must move (complex = 2 reals).

    Reads every channel of the cell once: h_tut (K Nt), h_sut (Nt), g_rad (R Nr),
    G_tar (T R Nr Nt), G_cl (L R Nr Nt) complex, plus a few reals (gains, budgets); reads
    the iterate F (Nt (K+T) complex), q and the 1+T multipliers, and writes them back.
    Everything else (Gram matrices, Cholesky factors) can live in cache/registers for a
    cell of the paper's size (Nt = 30: a 30 x 30 complex64 matrix is 7.2 kB).
    """
    c = 2 * real_bytes
    channels = c * (K * Nt + Nt + R * Nr + (T + L) * R * Nr * Nt) + real_bytes * (K + 6)
    state = c * Nt * (K + T) + real_bytes * (2 + T)
    return float(channels + 2 * state)


# ----------------------------------------------------------------------------------------
# JMRA iteration (NTN paper Algorithm 1, eqs. (27)-(34); spec ntn.md §3)
# ----------------------------------------------------------------------------------------
def jmra_iteration_flops(C: int, S: int, n_inner: int = 20, n_bisect: int = 40, inner: str = "newton",
                         n_linesearch: float = 2.0) -> float:
    """Real flops of ONE outer JMRA (SCA + method-of-multipliers) iteration of ONE frame.

    Outer part (``jaxcore/ntn/jmra.py``): surrogate coefficients (29)
    g = r (N_com T_O - w T_HO)/(T_f N_a) (5 C S), bounds (C S), q = sum_s w y - 1 (2 C S),
    convergence test (3 C S), SCA weights (28) w = 1/(y + delta) (2 C S), multiplier growth
    (O(C)): about 13 C S + 10 C.

    ``inner="newton"`` (the default solver, ``jaxcore/ntn/subproblem_newton.py``): ``n_inner``
    damped Newton steps on the barrier function, each:
      gradient: t_c, h_c (4 C S), log/penalty/box-barrier terms and gradient     ~12 C S
      per-cell diagonal D_c and the two Woodbury columns U_c                       ~8 C S
      per-cell 2x2 capacitance solves applied to the gradient                      ~10 C S
      S x S system I + B^1/2 (sum_c [H_c^-1]_yy) B^1/2: one einsum over cells     2 C S^2
      its Cholesky and two triangular solves                                       S^3/3 + 2 S^2
      back-substitution for the direction (per cell, O(S))                        ~10 C S
      step to the boundary (ratio test)                                            ~4 C S
      ``n_linesearch`` barrier-function evaluations (backtracking)                ~14 C S each
    i.e. per Newton step about (44 + 14 n_linesearch) C S + 2 C S^2 + S^3/3 flops.

    ``inner="fista"`` (kept as an option): per FISTA step about (27 + 4 (n_bisect + 4)) C S
    (value/gradient 8 C S, step 2 C S, the per-satellite projection by ``n_bisect``
    bisection passes 4 C S (n_bisect + 4), objective 4 C S, decrease test 5 C S, momentum and
    selects 8 C S).
    """
    cs = C * S
    outer = 13 * cs + 10 * C
    if inner == "newton":
        per = (44 + 14 * n_linesearch) * cs + 2 * C * S * S + S ** 3 / 3 + 2 * S * S + 20 * C
    elif inner == "fista":
        per = (27 + 4 * (n_bisect + 4)) * cs + 10 * C
    else:
        raise ValueError(f"inner: expected 'newton' or 'fista', got {inner!r}")
    return float(outer + n_inner * per)


def jmra_iteration_bytes(C: int, S: int, real_bytes: int = 4) -> float:
    """Fewest bytes ONE outer JMRA iteration must move: read the rates r, the handover
    times and the previous y (3 C S), the active-user counts and multipliers (3 C), the
    beam budgets (S); write y, w (2 C S) and lambda, mu, xi (3 C).  The inner iterates
    (Newton: y, xi, the S x S system; FISTA: y, z) stay in cache for one frame (C = 600,
    S = 40: 96 kB per C x S array in float32)."""
    return float(real_bytes * (5 * C * S + 6 * C + S))


# ----------------------------------------------------------------------------------------
# Measured ceilings
# ----------------------------------------------------------------------------------------
@dataclass
class Peaks:
    """Measured device ceilings."""

    device: str
    matmul_flops_f32: float  # FLOP/s, float32 GEMM
    matmul_flops_c64: float  # real FLOP/s, complex64 GEMM (8 n^3 real flops)
    copy_bytes_s: float  # bytes/s, read + write
    matmul_n: int
    copy_mb: float

    def floor_s(self, flops: float, nbytes: float, complex_work: bool = True) -> float:
        pf = self.matmul_flops_c64 if complex_work else self.matmul_flops_f32
        return max(flops / pf, nbytes / self.copy_bytes_s)

    @property
    def ridge(self) -> float:
        """FLOP per byte where the float32 roofline turns from bandwidth- to compute-bound."""
        return self.matmul_flops_f32 / self.copy_bytes_s


def device_name() -> str:
    d = jax.devices()[0]
    kind = getattr(d, "device_kind", d.platform)
    return f"{d.platform}:{kind} x{len(jax.devices())}"


def measure_peaks(quick: bool = False, seed: int = 0) -> Peaks:
    """Measure the matmul FLOP/s and copy bytes/s of device 0 (random data, never zeros)."""
    n = 768 if quick else 2048
    copy_elems = (16 if quick else 64) * 2 ** 20  # float32: 64 MiB or 256 MiB per array
    key = jax.random.PRNGKey(seed)
    k1, k2, k3, k4, k5 = jax.random.split(key, 5)
    a = jax.random.normal(k1, (n, n), jnp.float32)
    b = jax.random.normal(k2, (n, n), jnp.float32)
    mm = jax.jit(lambda x, y: x @ y)
    t = time_fn(mm, a, b, repeats=5, budget_s=5.0)
    f32 = 2.0 * n ** 3 / t.median_s

    nc = n // 2
    ac = (jax.random.normal(k3, (nc, nc), jnp.float32) + 1j * jax.random.normal(k4, (nc, nc), jnp.float32)).astype(jnp.complex64)
    tc = time_fn(mm, ac, ac.T, repeats=5, budget_s=5.0)
    c64 = 8.0 * nc ** 3 / tc.median_s

    x = jax.random.uniform(k5, (copy_elems,), jnp.float32)
    cp = jax.jit(lambda v: v + 1.0)
    tcp = time_fn(cp, x, repeats=7, budget_s=5.0)
    bw = 2.0 * x.nbytes / tcp.median_s
    return Peaks(device_name(), f32, c64, bw, n, x.nbytes / 2 ** 20)


def achieved(flops: float, nbytes: float, seconds: float, peaks: Peaks, complex_work: bool = True,
             floor_flops: float | None = None) -> dict:
    """Achieved rates and fractions of the measured ceilings for work done in ``seconds``.

    ``flops`` is the work executed (for the achieved rate); ``floor_flops`` (default
    ``flops``) the essential work used for the floor time.
    """
    pf = peaks.matmul_flops_c64 if complex_work else peaks.matmul_flops_f32
    floor = peaks.floor_s(flops if floor_flops is None else floor_flops, nbytes, complex_work)
    return {
        "flops": flops, "bytes": nbytes, "intensity": flops / nbytes if nbytes else np.inf,
        "gflops_s": flops / seconds / 1e9, "gbytes_s": nbytes / seconds / 1e9,
        "frac_peak_flops": flops / seconds / pf, "frac_peak_bw": nbytes / seconds / peaks.copy_bytes_s,
        "floor_s": floor, "time_over_floor": seconds / floor if floor > 0 else np.inf,
        "bound": "compute" if (flops if floor_flops is None else floor_flops) / pf >= nbytes / peaks.copy_bytes_s
        else "memory",
        "floor_flops": flops if floor_flops is None else floor_flops,
    }
