"""A sweep over Algorithm 1's rho and I_max (NTN Figs. 6, 7) runs one compiled program
(``solvers.ntn.allocate.SWEPT``: traced per-frame values, not static settings) and gives the
results of the static settings, bit for bit."""
from __future__ import annotations

import dataclasses

import jax
import numpy as np

from benchmarks.ntn_bench import random_frames
from jaxcore.ntn import jmra as J
from solvers.ntn import allocate


def _static(frames: dict, s: J.JmraSettings):
    """Algorithm 1 with every setting static (the path before the sweep values were traced)."""
    inst = allocate.solver_arrays(frames, np.float64)
    run = jax.jit(jax.vmap(lambda *f: J.jmra_relaxed(J.prepare(*f), s)))
    return run(*[inst[k] for k in J.INSTANCE_KEYS])


def test_rho_and_i_max_sweep_compiles_once_and_equals_static_settings():
    frames = random_frames(3, 8, 4, seed=5)
    base = allocate.JmraConfig()
    points = [(2.0, 60), (5.0, 3), (1.5, 1), (5.0, 200)]
    n0 = allocate._jmra_batch._cache_size()
    sols = []
    for i, (rho, cap) in enumerate(points):
        cfg = dataclasses.replace(base, rho=rho, max_outer=cap)
        sols.append(allocate.solve_allocation(frames, "jmra", cfg))
        # the first point may compile (or find the program from an earlier test); no other point does
        assert allocate._jmra_batch._cache_size() - n0 <= 1, (i, rho, cap)
        ref = _static(frames, cfg.settings())
        np.testing.assert_array_equal(sols[-1]["iterations"], np.asarray(ref.iterations))
        np.testing.assert_array_equal(sols[-1]["x_relaxed"],  # y * N_com, as solve_allocation forms it
                                      np.asarray(ref.y, np.float64) * np.asarray(frames["n_com"], np.float64)[:, None, None])
    assert np.all(sols[1]["iterations"] <= 3) and np.all(sols[2]["iterations"] == 1)  # the cap is the traced one
    assert not np.array_equal(sols[0]["x_relaxed"], sols[2]["x_relaxed"])  # and the values matter
