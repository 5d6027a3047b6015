"""``satisac istn solve inst.npz -o sol.npz`` (interfaces.md §2 and §5).

* ``--method proposed`` (default): the batched P1 -> P2 -> P3 pipeline
  (:func:`solvers.istn.pipeline.solve_istn`);
* any other ``--method``: the baselines of ``solvers.istn.baselines`` (imported lazily).
  Their default association is their own (nearest neighbour, paper Sec. IV-B);
  ``--assoc nearest|greedy|random`` overrides it;
* ``--reference``: the cvxpy per-drop loop of ``reference/istn_wmmse.py`` behind the same
  file contract (slow; one drop at a time with a progress bar; proposed method only).

``--config FILE`` / ``--set key=value`` set :class:`solvers.istn.pipeline.SolverConfig`
and :class:`solvers.istn.baselines.BaselineConfig` fields (one namespace).  The output path
is checked first (not an input file, writable), the instance is validated before any work
and the solution before it is written (nothing is written on failure).  With the global
``--precision float64`` a float32/complex64 instance is solved in float64 and the solution
is written float64/complex128.
"""
from __future__ import annotations

import time

import jax
import numpy as np

from jaxcore.precision import promote_arrays
from jaxcore.status import Status
from solvers.configio import ConfigError, load_configs
from solvers.devices import apply_devices, initialize_distributed, is_writer, make_mesh, solve_distributed
from solvers.istn import baselines  # baselines.solve_baseline: read at call time (tests replace it)
from solvers.istn.association import associate
from solvers.istn.baselines import BaselineConfig
from solvers.istn.instance import load_instance, save_solution
from solvers.istn.pipeline import SolverConfig, solve_istn, solve_istn_reference
from solvers.npzio import check_output_path


def _summary(sol) -> str:
    """One line: mean sum rate and the cells per status (``jaxcore.status.Status`` code: count)."""
    n = sol.status_counts()
    counts = ", ".join(f"{int(Status[k])}: {v}" for k, v in n.items() if v)
    return (f"mean sum rate {float(np.mean(sol.sum_rate)):.4f} bit/s/Hz over {sol.batch} drops; "
            f"cell status counts {{{counts}}}")


def _whole_batch_assoc(arrays: dict, assoc: str, seed: int) -> dict:
    """The random association drawn on the whole batch (it folds the drop index into the
    key), so a ``--distributed`` process solving a share of the drops draws the same one."""
    if assoc != "random" or "assoc" in arrays or jax.process_count() == 1:
        return arrays
    return {**arrays, "assoc": associate(arrays, "random", seed)}


def run(args) -> int:
    check_output_path(args.output, [args.instance, args.config])
    arrays, dims = load_instance(args.instance)
    arrays = promote_arrays(arrays, args.precision)
    # one --config/--set namespace: SolverConfig keys, then the baselines' (e.g. zf_null_sut)
    cfg, bcfg = load_configs([SolverConfig, BaselineConfig], args.config, args.overrides, scenario=args.scenario)
    t0 = time.perf_counter()
    if args.reference:
        if args.method != "proposed":
            raise ConfigError(f"--reference: only --method proposed has a cvxpy reference, got {args.method!r}")
        sol = solve_istn_reference(arrays, cfg, args.assoc, args.seed)
    elif args.method == "proposed":
        devices = apply_devices(args)
        mesh = make_mesh(devices) if len(devices) > 1 else None
        arrays = _whole_batch_assoc(arrays, args.assoc, args.seed)
        sol = solve_distributed(arrays, lambda a: solve_istn(a, cfg, args.assoc, args.seed, mesh=mesh), dims["B"])
    else:
        assoc = None if args.assoc == "proposed" else args.assoc
        if getattr(args, "distributed", False):
            initialize_distributed()
        arrays = _whole_batch_assoc(arrays, args.assoc, args.seed)
        sol = solve_distributed(arrays, lambda a: baselines.solve_baseline(
            args.method, a, bcfg, args.seed, assoc_method=assoc, solver_cfg=cfg), dims["B"])  # coop-uniform: cfg
    solve_s = time.perf_counter() - t0
    if not is_writer():  # a --distributed run: process 0 writes
        print(f"{_summary(sol)}; solved in {solve_s:.1f} s; process 0 writes {args.output}")
        return 0
    path = save_solution(args.output, {**sol.to_arrays(), "solve_time_s": np.float64(solve_s)}, dims)
    print(f"{_summary(sol)}; solved in {solve_s:.1f} s (compilation included)")
    print(f"wrote {path}")
    return 0
