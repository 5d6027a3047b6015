"""Solve NTN allocation instances: JMRA (Algorithms 1+2), JMRA w/o HOP, DMRAB (Algorithm 3).

``solve_allocation(arrays, method, cfg) -> solution dict`` maps an instance of
``interfaces.md`` §3 (leading batch axis B) to a solution of §4.  Every method is one
``jax.jit(jax.vmap(...))`` over the B frames; no Python loop over frames.  Objective (25)
and per-user throughput (24) of the integer ``x`` are evaluated on the host in float64
from the instance alone, so a third party can check them.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from jaxcore.ntn import jmra as J
from jaxcore.ntn.dmrab import dmrab
from jaxcore.ntn.rounding import round_allocation
from jaxcore.precision import current_precision
from jaxcore.sharding import sharded
from jaxcore.status import Status
from solvers.configio import ConfigError, param, validate
from solvers.methods import NTN_ALLOCATE as METHODS
from solvers.solution import NtnSolution


@dataclass(frozen=True)
class JmraConfig:
    """Solver settings of Algorithm 1 (spec §3, §6 defaults) and DMRAB's matching metric."""

    rho: float = param(2.0, "multiplicative growth of lambda and mu on cells violating (30)",
                       source="REC-L", lo=1.0, lo_open=True)
    tol: float = param(1e-3, "tolerance on the violation of (30), max(sum_s w y - 1, 0) per cell (line 4 "
                       "of Algorithm 1; also the threshold that grows lambda, mu)", source="REC-L", lo=0.0, lo_open=True)
    tol_change: float = param(1e-2, "epsilon_tol of line 4 of Algorithm 1 on the change of the allocation: "
                              "max over cells and satellites of |x^(i) - x^(i-1)| / N_com. Must exceed the "
                              "step the reweighting (28) keeps taking (measured 3.6e-3 to 5.9e-3 per "
                              "iteration on default 600-cell frames, rho 1.5-5): 1e-3 never fired, 1e-2 "
                              "converges in a median 11.5/8/6 iterations at rho 1.5/2/5 (paper: value lost)",
                              source="REC-L (calibrated on N6)", lo=0.0, lo_open=True)
    delta: float = param(1e-3, "delta of (27)-(28) in units of y = x/N_com", source="REC-L",
                         lo=0.0, lo_open=True)
    lam0: float = param(1e-2, "initial Lagrange multiplier lambda^(0) (normalised objective units)",
                        source="REC-L", lo=0.0, lo_open=True)
    mu0: float = param(1.0, "initial penalty mu^(0) (normalised objective units)", source="REC-L",
                       lo=0.0, lo_open=True)
    max_outer: int = param(60, "I_max: cap on outer iterations of Algorithm 1", source="REC-L", lo=1)
    inner_solver: str = param("newton", "solver of the subproblem (31)-(33): barrier Newton "
                              "(jaxcore.ntn.subproblem_newton; reaches the cvxpy optimum) or FISTA "
                              "(first order; stalls on the continental instances)",
                              source="assumption", choices=("newton", "fista"))
    newton_scaling: str = param("primal-dual", "Newton solver variant (jaxcore.ntn.subproblem_newton): "
                                "'primal-dual' (bound curvature from carried multipliers, slope line search, "
                                "warm start at tau_final/1e8, tau x newton_tau_growth per stage) or 'primal' (the "
                                "pure barrier Hessian, Armijo line search, tau_final/1e6, x 20: the algorithm of the "
                                "solver before 2026-12-05 when newton_refine = 0, 1.2-1.7x the Newton steps on the tuning frames; its "
                                "S x S assembly now rounds differently)",
                                source="assumption (measured, BENCHMARKS.md)", choices=("primal-dual", "primal"))
    newton_tau_growth: float = param(50.0, "barrier weight growth per stage of the Newton path (float64, "
                                     "'primal-dual' scaling; float32 keeps x 50, 'primal' x 20). x 200 saved nothing: "
                                     "1,797 Newton steps against 1,761 at x 50 on 8 synthetic 100 x 12 frames (seed 59, "
                                     "the stage rules before 2026-12-07; benchmarks/jmra_newton_steps.py, "
                                     "BENCHMARKS.md); under today's stage rules x 100 and x 200 took 202 and 186 "
                                     "steps per synthetic frame against 192 (seed 5) and x 100 307 against 277 per "
                                     "default 600-cell frame (world seed 5); and x 200's relaxed allocation depends on the batch composition "
                                     "at ~1e-4 (the optimal face of (31) is not a point)",
                                     source="assumption (measured, BENCHMARKS.md)", lo=1.0, lo_open=True)
    newton_refine: int = param(1, "rounds of iterative refinement of each Newton solve in float64 (float32: 0). "
                               "Near an active satellite budget (32c) the barrier weight reaches 1e16 and the "
                               "two-level Woodbury solve loses the budget rows, so steps stall at the budget "
                               "boundary: on 8 fresh synthetic 100 x 12 frames 40 % of 2,223 Newton steps without, "
                               "18 % of 1,761 with one round (the stage rules before 2026-12-07; "
                               "benchmarks/jmra_newton_steps.py, BENCHMARKS.md); with today's stage rules it also "
                               "keeps the stalls genuine (without it Algorithm 1 took up to 5 more outer "
                               "iterations than the cvxpy-driven loop on 2 of 30 small instances). A second round "
                               "diverged on some systems; 0 restores the solver before 2026-12-06",
                               source="assumption (measured, BENCHMARKS.md)", lo=0, hi=4)
    newton_refine_weight: float = param(1e8, "float64 Newton path: a Newton solve is refined (newton_refine) "
                                        "only where some satellite budget's barrier weight is at least this; 0 "
                                        "refines every solve. About half the Newton steps have every weight below "
                                        "1e8 (the early barrier stages) and a round costs about a quarter of a step. "
                                        "Against refining every solve: on the tuning frames (8 synthetic 100 x 12, "
                                        "seed 5) 1e8 and 1e10 gave the same outer iterations, Newton steps within "
                                        "0.1 % and objective (25) within 3e-6 relative, while 1e14 and no refinement "
                                        "took more outer iterations; on 12 unseen 600-cell frames (world seeds "
                                        "101/103/107) 116 outer iterations against 110 (Algorithm 1's stop there "
                                        "follows the last digits), objective (25) within 5e-6 (BENCHMARKS.md)",
                                        source="assumption (measured, BENCHMARKS.md)", lo=0.0)
    newton_centre_dec: float = param(1000.0, "float64 Newton path: a full Newton step (step length 1) whose "
                                     "decrement^2 is at most this ends the barrier stage (Newton is in its quadratic "
                                     "phase), besides decrement^2 <= 0.5; not in the last two stages, which are centred so "
                                     "that the relaxed allocation does not depend on the path. 0.5 restores the rule "
                                     "before 2026-12-07. With newton_stall_step: 292 -> 192 Newton steps per synthetic "
                                     "100 x 12 frame (seed 5), objective (25) within 0.0003 % "
                                     "(jaxcore.ntn.subproblem_newton)",
                                     source="assumption (measured, BENCHMARKS.md)", lo=0.5)
    newton_stall_step: float = param(0.01, "float64 Newton path: a step no longer than this (a fraction of the "
                                     "Newton direction) counts as a stall: it ends the barrier stage, and the solve "
                                     "at the last stage. 0 restores the rule before 2026-12-07 (only a zero step), "
                                     "under which 21 % of the Newton steps came after such a stall in the same stage "
                                     "(synthetic 100 x 12 frames, seed 5)",
                                     source="assumption (measured, BENCHMARKS.md)", lo=0.0, hi=0.5)
    max_inner: int = param(200, "cap on inner iterations (Newton steps or FISTA steps) per subproblem (31)",
                           source="assumption", lo=1)
    inner_tol: float = param(1e-8, "inner stop: Newton: duality-gap bound per cell (objective units, "
                             "raised to 100 ulps in float32); FISTA: max change of y between steps",
                             source="assumption", lo=0.0)
    n_bisect: int = param(40, "bisection steps of the box-with-budget projection", source="assumption",
                          lo=4, hi=200)
    loop: str = param("while", "loop mode of jaxcore.loops.masked_scan: while (early exit, masked "
                      "under vmap) or scan (fixed length)", choices=("while", "scan"))
    precision: str = param("float64", "float dtype of JMRA (Algorithms 1 + 2) and DMRAB: float64, "
                           "float32, or 'global' (follow --precision). float64 by default: float32 "
                           "lost 0.01-0.03 % of objective (25) on the paper's 150-cell frames but up "
                           "to 19 % on synthetic high-dynamic-range frames (measured, BENCHMARKS.md); "
                           "the problem is small, so float64 costs ~1.6-1.9x on a CPU",
                           source="assumption", choices=("float64", "float32", "global"))
    dmrab_metric: str = param("snr", "DMRAB matching (35): best estimated SNR (field snr_est, else "
                              "snr_clear) or best rate", source="REC-M", choices=("rate", "snr"))

    def __post_init__(self):
        validate(self)

    def settings(self) -> J.JmraSettings:
        """The static ``jaxcore.ntn.jmra.JmraSettings``, derived field by field (names through
        :data:`CORE_RENAMES`); core fields that are not solver keys keep their defaults."""
        core = J.JmraSettings._fields
        s = J.JmraSettings(**{CORE_RENAMES.get(k, k): getattr(self, k) for k in self.__dataclass_fields__
                              if CORE_RENAMES.get(k, k) in core})
        return s._replace(**PRIMAL_NEWTON) if self.newton_scaling == "primal" else s


CORE_RENAMES = {"inner_solver": "inner", "newton_scaling": "scaling", "newton_tau_growth": "tau_growth",
                "newton_refine": "refine", "newton_refine_weight": "refine_weight", "newton_centre_dec": "centre_dec",
                "newton_stall_step": "stall_step"}  # key -> field
PRIMAL_NEWTON = dict(warm_tau_div=1e6, tau_growth=20.0, tau_growth_f32=20.0)  # path settings of newton_scaling = "primal"


#: JmraSettings fields that travel as traced per-frame values (``_sweep_values``), not in
#: the static settings: a sweep over them (NTN Figs. 6, 7: rho x I_max) compiles once
SWEPT = ("rho", "max_outer")


def _sweep_values(settings: J.JmraSettings, B: int, dtype):
    """(static settings with the swept fields at their defaults, {field: [B] numpy array});
    ``max_outer`` stays static under ``loop="scan"`` (a scan's length is static).  numpy, not
    ``jnp.full``: two eager device ops cost ~0.4 ms per call, measured."""
    keys = [k for k in SWEPT if k != "max_outer" or settings.loop == "while"]
    vals = {"rho": np.full((B,), settings.rho, np.dtype(dtype)),
            "max_outer": np.full((B,), settings.max_outer, np.int32)}
    return (settings._replace(**{k: J.JmraSettings._field_defaults[k] for k in keys}),
            {k: vals[k] for k in keys})


@partial(jax.jit, static_argnames=("settings", "charge_ho"))
def _jmra_batch(inst: dict, settings: J.JmraSettings, charge_ho: bool):
    """JMRA (Algorithm 1 + rounding) over the frames of ``inst`` (interfaces.md §3 fields
    [B, ...], plus the optional [B] ``rho`` / ``max_outer`` of :func:`_sweep_values`)."""
    def one(swept, *fields):
        d = J.prepare(*fields, charge_handover=charge_ho)
        res = J.jmra_relaxed(d, settings, **swept)
        f = dict(zip(J.INSTANCE_KEYS, fields))
        t_ho_true = jnp.asarray(f["t_ho"], d.rk.dtype) * (1.0 - jnp.asarray(f["prev_served"], d.rk.dtype))
        x = round_allocation(res.y, f["rate"], f["prev_served"], t_ho_true, f["n_com"], f["n_beams"],
                             f["t_ofdma"], d.usable)
        return x, res
    return jax.vmap(one)({k: inst[k] for k in SWEPT if k in inst}, *[inst[k] for k in J.INSTANCE_KEYS])


@jax.jit
def _dmrab_batch(inst: dict, metric):
    return jax.vmap(dmrab)(*[inst[k] for k in J.INSTANCE_KEYS], metric)


def solver_arrays(arrays: dict, dtype) -> dict:
    """Instance arrays in the solver's dtypes, as numpy: floats in ``dtype``, ints int32,
    prev_served bool.  Numpy, not ``jnp.asarray``: the jitted solvers move numpy arguments to
    the device in their own call path, and nine eager conversions cost 0.18 ms per call
    (a 2 x 2 frame, 2-core x86_64 CPU, 2026-12-07)."""
    out = {}
    for k in J.INSTANCE_KEYS:
        a = np.asarray(arrays[k])
        if k in ("n_com", "n_beams"):
            out[k] = a.astype(np.int32)
        elif k == "prev_served":
            out[k] = a != 0
        else:
            out[k] = a.astype(dtype)
    return out


def per_user_throughput(arrays: dict, x: np.ndarray, rate: np.ndarray | None = None) -> np.ndarray:
    """(24) summed over satellites, bit/s per user; [B, C] (0 for cells with N^a = 0).

    ``rate`` overrides the instance rate (e.g. the delivered rate of the simulation).
    """
    r = np.asarray(arrays["rate"] if rate is None else rate, np.float64)
    x = np.asarray(x, np.float64)
    na = np.asarray(arrays["n_active"], np.float64)
    t_o = np.asarray(arrays["t_ofdma"], np.float64)[:, None, None]
    t_f = np.asarray(arrays["t_frame"], np.float64)[:, None]
    t_ho = np.asarray(arrays["t_ho"], np.float64)[:, None, None] * (1.0 - np.asarray(arrays["prev_served"], np.float64))
    served = (x > 0).astype(np.float64)
    tot = np.sum(r * (x * t_o - served * t_ho), axis=2)  # # [B, C] bits per frame
    return np.where(na > 0, tot / (t_f * np.where(na > 0, na, 1.0)), 0.0)


def objective(arrays: dict, thr: np.ndarray) -> np.ndarray:
    """(25): sum_c N^a_c log(eps + R_c) over populated cells, natural log, bit/s; [B]."""
    na = np.asarray(arrays["n_active"], np.float64)
    eps = np.asarray(arrays["eps"], np.float64)[:, None]
    return np.sum(np.where(na > 0, na * np.log(eps + np.maximum(thr, 0.0)), 0.0), axis=1)


_RATE_FALLBACK_NOTED = False


def _metric(arrays: dict, cfg: JmraConfig) -> np.ndarray:
    """DMRAB matching metric (35): the instance's SNR (``snr_est``, else ``snr_clear``) for
    ``dmrab_metric = snr``; the rate when neither optional field is present (an instance with
    only the interfaces.md §3 fields), said once per process on stderr."""
    global _RATE_FALLBACK_NOTED
    if cfg.dmrab_metric == "snr":
        for k in ("snr_est", "snr_clear"):
            if k in arrays:
                return np.asarray(arrays[k])
        if not _RATE_FALLBACK_NOTED:
            print("note: dmrab_metric = snr but the instance has no snr_est/snr_clear field; "
                  "DMRAB ranks satellites by rate", file=sys.stderr)
            _RATE_FALLBACK_NOTED = True
    return np.asarray(arrays["rate"])


def solve_allocation(arrays: dict, method: str = "jmra", cfg: JmraConfig | None = None,
                     dtype=None, metric: np.ndarray | None = None, mesh=None) -> NtnSolution:
    """Solve a batch of allocation instances (interfaces.md §3) -> :class:`~solvers.solution.NtnSolution` (§4).

    Args:
      arrays: instance fields with leading axis B (validated by the caller).
      method: ``jmra``, ``jmra-nohop`` (T_HO = 0 inside Algorithm 1 only) or ``dmrab``.
      cfg: :class:`JmraConfig`.  dtype: float dtype of the solver; default
        ``cfg.precision`` (float64 unless set; 'global' = float64 if x64 is on, else
        float32).  float64 runs inside ``jax.enable_x64`` even when the process runs float32.
        metric: optional [B, C, S] DMRAB metric.
      mesh: optional ``jaxcore.sharding.drops_mesh``: the frame axis is split over its
        devices (``satisac ntn solve --devices``); results do not depend on it.
    """
    if method not in METHODS:
        raise ConfigError(f"method: expected one of {list(METHODS)}, got {method!r}")
    cfg = cfg or JmraConfig()
    x64_on = current_precision() == "float64"
    if dtype is None:
        dtype = {"float64": np.float64, "float32": np.float32,
                 "global": np.float64 if x64_on else np.float32}[cfg.precision]
    if np.dtype(dtype) == np.float64 and not x64_on:
        with jax.enable_x64(True):
            return _solve(arrays, method, cfg, np.float64, metric, mesh)
    return _solve(arrays, method, cfg, dtype, metric, mesh)


def _solve(arrays, method, cfg, dtype, metric, mesh) -> NtnSolution:
    """:func:`solve_allocation` with the dtype resolved (and x64 on where it is float64)."""
    inst = solver_arrays(arrays, dtype)
    B, C, S = np.shape(arrays["rate"])
    if method == "dmrab":
        m = _metric(arrays, cfg) if metric is None else metric
        if mesh is not None and mesh.size > 1:
            res = sharded(lambda b: _dmrab_batch(b[0], b[1]), mesh)((inst, np.asarray(m, dtype)))
        else:
            res = _dmrab_batch(inst, np.asarray(m, dtype))
        res = jax.device_get(res)  # one transfer of every output
        x = np.asarray(res.x, np.int64)
        feas = np.asarray(res.feasible)
        x_rel = np.asarray(res.y, np.float64) * np.asarray(arrays["n_com"], np.float64)[:, None, None]
        status = np.where(feas, Status.CONVERGED, Status.INFEASIBLE).astype(np.int8)
        iters = np.zeros(B, np.int64)
        multi = np.zeros(B, np.int64)
    else:
        settings, swept = _sweep_values(cfg.settings(), B, dtype)
        inst, charge = {**inst, **swept}, method == "jmra"
        if mesh is not None and mesh.size > 1:
            x, res = sharded(lambda b: _jmra_batch(b, settings, charge), mesh)(inst)
        else:
            x, res = _jmra_batch(inst, settings, charge)
        x, res = jax.device_get((x, res))  # one transfer of every output
        x = np.asarray(x, np.int64)
        x_rel = np.asarray(res.y, np.float64) * np.asarray(arrays["n_com"], np.float64)[:, None, None]
        status = np.where(np.asarray(res.converged), Status.CONVERGED, Status.ITERATION_CAP).astype(np.int8)
        iters = np.asarray(res.iterations, np.int64)
        multi = np.asarray(res.n_viol, np.int64)
    thr = per_user_throughput(arrays, x)
    obj = objective(arrays, thr)
    obj = np.where(status == Status.INFEASIBLE, np.nan, obj)
    return NtnSolution(x=x, x_relaxed=x_rel, objective=obj, throughput_per_user=np.maximum(thr, 0.0),
                       multi_served_before_rounding=multi, iterations=iters, status=status)


def solve_allocation_reference(arrays: dict, method: str, cfg: JmraConfig | None = None) -> NtnSolution:
    """:func:`solve_allocation` by the cvxpy references, one frame at a time
    (``reference.ntn_allocation``: Algorithm 1 with cvxpy subproblems, or DMRAB's per-satellite
    problems by cvxpy; slow by design; ``satisac ntn solve --reference``).  Same contract."""
    from reference.ntn_allocation import allocate_frames_reference  # cvxpy: loaded on --reference only

    if method not in METHODS:
        raise ConfigError(f"method: expected one of {list(METHODS)}, got {method!r}")
    cfg = cfg or JmraConfig()
    metric = _metric(arrays, cfg) if method == "dmrab" else None
    r = allocate_frames_reference(arrays, method, cfg.settings(), metric)
    thr = per_user_throughput(arrays, r["x"])
    obj = np.where(r["status"] == Status.INFEASIBLE, np.nan, objective(arrays, thr))
    return NtnSolution(x=r["x"], x_relaxed=r["x_relaxed"], objective=obj, throughput_per_user=np.maximum(thr, 0.0),
                       multi_served_before_rounding=r["multi_served_before_rounding"], iterations=r["iterations"],
                       status=r["status"])
