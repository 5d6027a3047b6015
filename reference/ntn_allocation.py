"""The NTN allocation by the cvxpy references, one frame at a time (the paper's way; slow by
design): ``satisac ntn solve --reference`` and the benchmarks' ratio.

* ``jmra`` / ``jmra-nohop``: Algorithm 1 with every subproblem (31)-(33) solved by cvxpy
  (:func:`reference.ntn_jmra.jmra_reference`), then Algorithm 2
  (:func:`jaxcore.ntn.rounding.round_allocation`), as the batched solver;
* ``dmrab``: DMRAB's matching (35) (:func:`jaxcore.ntn.dmrab.dmrab_match`), its per-satellite
  problems (36)-(37) by cvxpy (:func:`reference.ntn_dmrab.solve_satellite`), and DMRAB's
  rounding on that continuous solution.

Inputs are interfaces.md §3 arrays [B, ...]; the result is the integer/relaxed allocation and
the per-frame bookkeeping; the caller (``solvers.ntn.allocate.solve_allocation_reference``)
evaluates (24)-(25) and builds the typed solution.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jaxcore.ntn import jmra as J
from jaxcore.ntn.dmrab import dmrab, dmrab_match
from jaxcore.ntn.rounding import round_allocation
from jaxcore.status import Status
from reference.ntn_dmrab import solve_satellite
from reference.ntn_jmra import jmra_reference


def _frame(arrays, b: int) -> list:
    """Frame ``b``'s fields as float64 / int32 / bool JAX arrays (``INSTANCE_KEYS`` order)."""
    return [jnp.asarray(np.asarray(arrays[k][b]).astype(np.int32 if k in ("n_com", "n_beams") else
                                                        (bool if k == "prev_served" else np.float64)))
            for k in J.INSTANCE_KEYS]


def _dmrab_frame(arrays, b: int, f: list, metric: np.ndarray):
    """DMRAB on frame ``b`` with the per-satellite problems (36)-(37) solved by cvxpy."""
    C, S = np.shape(arrays["rate"])[1:]
    m = jnp.asarray(np.asarray(metric, np.float64))
    res = dmrab(*f, m)
    if not bool(res.feasible):
        return res
    n_com = float(arrays["n_com"][b])
    na = np.asarray(arrays["n_active"][b], float)
    usable = (np.asarray(arrays["rate"][b]) > 0) & (na[:, None] > 0)
    member = np.asarray(dmrab_match(m, jnp.asarray(usable)))
    t_ho = float(arrays["t_ho"][b]) * (1 - np.asarray(arrays["prev_served"][b], float))
    t_o, t_f = float(arrays["t_ofdma"][b]), float(arrays["t_frame"][b])
    a = na / (na.sum() / max((na > 0).sum(), 1))
    y = np.zeros((C, S))
    for sat in range(S):
        cs = np.nonzero(member[:, sat])[0]
        if cs.size == 0:
            continue
        k = arrays["rate"][b][cs, sat] / J.KBIT * n_com * t_o / (t_f * na[cs])
        out = solve_satellite(a[cs], k, t_ho[cs, sat] / (n_com * t_o), float(arrays["n_beams"][b][sat]),
                              float(arrays["eps"][b]) / J.KBIT)
        y[cs, sat] = out[0]
    return dmrab(*f, m, y_given=jnp.asarray(y))


def allocate_frames_reference(arrays, method: str, settings: J.JmraSettings, metric: np.ndarray | None = None,
                              progress: bool = True) -> dict[str, np.ndarray]:
    """Allocate every frame with the cvxpy references (a Python loop over frames).

    Args:
      arrays: interfaces.md §3 instance arrays with leading axis B.
      method: ``jmra``, ``jmra-nohop`` (T_HO = 0 inside Algorithm 1 only) or ``dmrab``.
      settings: Algorithm 1's ``JmraSettings`` (``jmra*``).
      metric: [B, C, S] DMRAB matching metric (``dmrab``; larger is better).
      progress: a tqdm bar over the frames (when B > 1).

    Returns:
      ``x`` [B, C, S] int64, ``x_relaxed`` [B, C, S], ``status`` [B] int8
      (``jaxcore.status.Status``), ``iterations`` [B], ``multi_served_before_rounding`` [B].
    """
    from tqdm import tqdm

    if method == "dmrab" and metric is None:
        raise ValueError("metric: DMRAB needs its [B, C, S] matching metric")
    B, C, S = np.shape(arrays["rate"])
    x = np.zeros((B, C, S), np.int64)
    x_rel = np.zeros((B, C, S))
    status = np.zeros(B, np.int8)
    iters = np.zeros(B, np.int64)
    multi = np.zeros(B, np.int64)
    # float64 whatever the process precision: the loop prepares its data and surrogate
    # coefficients with jaxcore functions, which would round them to float32 with x64 off
    with jax.enable_x64(True):
        for b in tqdm(range(B), desc=f"reference {method}", disable=B < 2 or not progress):
            f = _frame(arrays, b)
            n_com = float(arrays["n_com"][b])
            if method == "dmrab":
                res = _dmrab_frame(arrays, b, f, np.asarray(metric)[b])
                x[b] = np.asarray(res.x)
                x_rel[b] = np.asarray(res.y) * n_com
                status[b] = Status.CONVERGED if bool(res.feasible) else Status.INFEASIBLE
            else:
                d = J.prepare(*f, charge_handover=(method == "jmra"))
                y, it, conv, nv = jmra_reference(d, settings)
                t_ho_true = f[3] * (1.0 - f[2].astype(jnp.float64))
                x[b] = np.asarray(round_allocation(jnp.asarray(y), f[0], f[2], t_ho_true, f[4], f[5], f[6], d.usable))
                x_rel[b] = y * n_com
                status[b], iters[b], multi[b] = (Status.CONVERGED if conv else Status.ITERATION_CAP), it, nv
    return dict(x=x, x_relaxed=x_rel, status=status, iterations=iters, multi_served_before_rounding=multi)
