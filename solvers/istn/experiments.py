"""ISTN Monte-Carlo experiments: the ``work`` callables the runner executes.

:func:`istn_work` returns ``work(cfg, drops, seed) -> rows``: it draws the drops with the
global indices ``drops`` (``solvers.istn.generate.generate_instance(..., start=drops[0])``,
drop i depends on (seed, i) only), solves them with every requested method and returns
one row per (drop, method) with the per-drop summary of :func:`solution_rows`.

Method names (``methods=``):

* ``proposed`` -- the P1/P2/P3 pipeline (``solvers.istn.pipeline.solve_istn``), Algorithm 1;
* ``interference-free``, ``zf-eps``, ``greedy``, ``uniform``, ``coop-uniform`` -- the
  baselines of :mod:`solvers.istn.baselines`;
* ``assoc-<a>`` with a in {proposed, nearest, greedy, random} -- the proposed QoS-WMMSE
  with association ``a`` and the satellite power fixed at P_LEO / M (Fig. 7: "sum rate
  versus satellite transmit power" -- the swept P_LEO is what the satellite transmits);
* ``fail-<case>`` with case in :data:`solvers.istn.sensing_failure.FAILURE_CASES` -- the
  sensing-failure indicator of Fig. 8 (row column ``fail``).

Random association always draws from (seed, global drop, cell), so results do not depend
on the chunk size.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from jaxcore.status import Status
from solvers.configio import ConfigError
from solvers.istn import baselines  # baselines.solve_baseline: read at call time (tests replace it)
from solvers.istn.association import random_assoc
from solvers.istn.baselines import BASELINE_METHODS
from solvers.istn.generate import generate_instance
from solvers.istn.pipeline import SolverConfig, solve_istn
from solvers.istn.sensing_failure import FAILURE_CASES, failure_flags, monostatic_arrays
from solvers.methods import ISTN_ASSOC as ASSOC_METHODS
from solvers.runner.montecarlo import chunk_progress
from solvers.solution import IstnSolution

ROW_COLUMNS = ("drop", "method", "sum_rate", "tut_rate", "sut_rate", "sut_rate_min", "min_scnr_db",
               "mean_scnr_db", "p_sat_total", "p_sat_frac", "status", "feasible", "sense_ok", "sut_ok",
               "iterations")


def known_methods() -> tuple[str, ...]:
    return (("proposed",) + BASELINE_METHODS + tuple(f"assoc-{a}" for a in ASSOC_METHODS)
            + tuple(f"fail-{c}" for c in FAILURE_CASES))


def check_methods(methods: Sequence[str]) -> None:
    known = known_methods()
    bad = [m for m in methods if m not in known]
    if bad or not methods:
        raise ConfigError(f"methods: expected a non-empty list from {list(known)}, got {list(methods)!r}")


def solution_rows(sol: IstnSolution, inst: dict, drops: np.ndarray, method: str, rtol: float = 1e-3) -> list[dict]:
    """One summary row per drop of a solution.

    ``tut_rate``/``sut_rate`` are summed over cells (and TUTs); ``sut_rate_min`` is the worst
    beam; ``min_scnr_db`` the worst target of the drop, ``mean_scnr_db`` the mean over
    targets and cells of SCNR in dB; ``status`` the worst cell code; ``feasible`` = every cell
    has status 0; ``sense_ok``/``sut_ok`` re-check the SCNR and R_min floors on the reported
    values (relative tolerance ``rtol``).
    """
    scnr = np.maximum(np.asarray(sol.scnr, np.float64), 1e-30)  # [B, M, T]
    scnr_db = 10 * np.log10(scnr)
    r_t = np.asarray(sol.rate_tut, np.float64)
    r_s = np.asarray(sol.rate_sut, np.float64)
    p_sat = np.asarray(sol.p_sat, np.float64)
    status = np.asarray(sol.status)
    it = np.asarray(sol.iterations)
    gam = np.asarray(inst["scnr_min"], np.float64)
    r_min = np.asarray(inst["r_min_sut"], np.float64)
    p_leo = np.asarray(inst["p_leo"], np.float64)
    sense_ok = (scnr >= gam[:, None, None] * (1 - rtol)).all(axis=(1, 2))
    sut_ok = (r_s >= r_min[:, None] * (1 - rtol)).all(axis=1)
    rows = []
    for b, d in enumerate(np.asarray(drops)):
        rows.append(dict(
            drop=int(d), method=method, sum_rate=float(r_t[b].sum() + r_s[b].sum()),
            tut_rate=float(r_t[b].sum()), sut_rate=float(r_s[b].sum()), sut_rate_min=float(r_s[b].min()),
            min_scnr_db=float(scnr_db[b].min()), mean_scnr_db=float(scnr_db[b].mean()),
            p_sat_total=float(p_sat[b].sum()), p_sat_frac=float(p_sat[b].sum() / p_leo[b]),
            status=int(status[b].max()), feasible=bool((status[b] == Status.CONVERGED).all()),
            sense_ok=bool(sense_ok[b]), sut_ok=bool(sut_ok[b]), iterations=int(it[b].max())))
    return rows


def failure_rows(flags: np.ndarray, drops: np.ndarray, method: str) -> list[dict]:
    return [dict(drop=int(d), method=method, fail=bool(f)) for d, f in zip(np.asarray(drops), flags)]


def solve_method(method: str, inst: dict, drops: np.ndarray, seed: int, solver_cfg=None,
                 baseline_cfg=None) -> IstnSolution:
    """Solve ``inst`` (drops with global indices ``drops``) with one rate method
    (``solver_cfg``: the pipeline's ``SolverConfig``; ``baseline_cfg``: ``BaselineConfig``)."""
    cfg = solver_cfg if solver_cfg is not None else SolverConfig(progress=False)
    if method in BASELINE_METHODS:
        return baselines.solve_baseline(method, inst, baseline_cfg, seed, solver_cfg=cfg)
    if method == "proposed":
        return solve_istn(inst, cfg, "proposed", seed)
    if method.startswith("assoc-"):
        a = method[len("assoc-"):]
        B, M, T, R = np.asarray(inst["G_tar"]).shape[:4]
        arr = dict(inst)
        arr["p_sat_fixed"] = np.broadcast_to(np.asarray(inst["p_leo"], np.float64)[:, None] / M, (B, M)).copy()
        if a == "random":
            arr["assoc"] = random_assoc(seed, drops, M, T, R)
        return solve_istn(arr, cfg, a, seed)
    raise ValueError(f"unknown method {method!r}")


def istn_work(methods: Sequence[str], solver_cfg=None, precision: str = "float32",
              baseline_cfg=None) -> Callable:
    """The runner's ``work(cfg, drops, seed)`` for ISTN sweeps (see module docstring)."""
    check_methods(methods)

    def work(cfg, drops, seed):
        drops = np.asarray(drops, np.int64)
        if not np.array_equal(drops, np.arange(drops[0], drops[0] + len(drops))):
            raise ValueError("istn_work: drops must be contiguous")
        inst = generate_instance(cfg, len(drops), seed, start=int(drops[0]), precision=precision, progress=False)
        rows: list[dict] = []
        mono = None
        for i, m in enumerate(methods):
            if m.startswith("fail-"):
                case = m[len("fail-"):]
                arr = inst
                if case == "monostatic":
                    mono = mono or monostatic_arrays(inst, cfg, seed, drops, precision)
                    arr = mono
                rows += failure_rows(failure_flags(arr, case, drops, seed), drops, m)
            else:
                rows += solution_rows(solve_method(m, inst, drops, seed, solver_cfg, baseline_cfg), inst, drops, m)
            chunk_progress((i + 1) / len(methods))  # the sweep's bar moves per method, not per chunk
        return rows

    return work
