"""Fig. 8's sensing-failure indicator: Phase I runs only where the cheap certificates fail,
and that gives the flags of running it on every cell."""
from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest

from jaxcore.istn.problem import batch_cells
from solvers.istn import sensing_failure as SF
from solvers.istn.association import associate
from solvers.istn.config import IstnConfig
from solvers.istn.generate import generate_instance
from solvers.istn.instance import to_normalised
from solvers.istn.problems import cell_problems

SMALL = dict(n_tut=2, n_tx=8, n_targets=2, n_radar=2, n_rx=2, clutter_per_target=1, r_sens_m=80.0,
             g_rad_dbi=5.0)  # 5, 9 and 11 of 12 drops fail (satellite-free, proposed, random)


@pytest.fixture(scope="module")
def cells():
    inst = generate_instance(IstnConfig(**SMALL), 12, 4, n_cells=2, precision="float32", quick_compile=True,
                             progress=False)
    prob, _ = batch_cells(cell_problems(to_normalised(inst), associate(inst, "proposed", 4)))
    p_sat = jnp.asarray(np.repeat(np.asarray(inst["p_leo"]) / 2, 2), prob.p_bs.dtype)
    return inst, prob, p_sat


def test_phase1_on_a_subset_equals_phase1_on_every_cell(cells):
    _, prob, p_sat = cells
    full = SF._phase1_feasible(prob, p_sat)
    assert full.any() and not full.all()  # both outcomes occur
    pick = np.array([1, 4, 5, 9, 17])  # 5 cells: padded to a batch of 8
    sub = SF._phase1_feasible(prob, p_sat, pick)
    np.testing.assert_array_equal(sub[pick], full[pick])
    assert not sub[np.setdiff1d(np.arange(len(full)), pick)].any()
    assert not SF._phase1_feasible(prob, p_sat, np.array([], np.int64)).any()


def test_failure_flags_equal_the_three_certificates_on_every_cell(cells):
    inst, prob, p_sat = cells
    every = np.asarray(SF.sensing_feasible_cells(prob, p_sat)) | SF._phase1_feasible(prob, p_sat)
    want = ~every.reshape(12, 2).all(axis=1)
    got = SF.failure_flags(inst, "proposed", np.arange(12), 4)
    np.testing.assert_array_equal(got, want)
    assert 0 < got.sum() < 12  # the instance exercises both outcomes
    # the satellite only adds interference: no drop fails without it that passes with it
    free = SF.failure_flags(inst, "satellite-free", np.arange(12), 4)
    assert not (free & ~got).any()


def test_noise_bound_never_rules_out_a_cell_a_certificate_meets(cells):
    """The bound is an upper bound: every cell a certificate makes feasible is 'possible', and
    it rules out some of the rest (so Phase I is skipped there)."""
    inst, prob, p_sat = cells
    every = np.asarray(SF.sensing_feasible_cells(prob, p_sat)) | SF._phase1_feasible(prob, p_sat)
    possible = np.asarray(SF.noise_bound_possible(prob, p_sat))
    assert possible[every].all()
    assert (~possible).any()
    # with a tenth of the power budget more cells are ruled out, never fewer
    weak = np.asarray(SF.noise_bound_possible(prob._replace(p_bs=prob.p_bs / 10), p_sat))
    assert (possible | ~weak).all() and (~weak).sum() > (~possible).sum()
