"""Continuous batching (solvers/istn/streaming.py): a queue of cells solved through a few
refilled slots gives exactly the per-cell results of ``solve_cells`` (one fixed batch),
whatever the slot count, the order of the queue or the rounds between refills; the
refill and shrink paths are exercised (7 cells through 3 slots, shrinking to 1)."""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxcore.istn.problem import random_cell_problem
from jaxcore.istn.qos_wmmse import QosWmmseConfig, solve_cells
from solvers.istn.streaming import solve_cells_streaming

pytestmark = pytest.mark.slow  # P1/P3 solves through several slot programs

CFG = QosWmmseConfig(max_iter=15, inner_iter=60, inner_iter_warm=10)
N = 7


@pytest.fixture(scope="module")
def cells():
    keys = jax.random.split(jax.random.PRNGKey(11), N)
    mk = jax.vmap(lambda k, r: random_cell_problem(k, 3, 8, 2, 2, 2, 2, r_min_sut=r, echo_snr_db=13.0))
    # one cell with an unreachable SUT rate: status 2 after Phase I (the slowest cell)
    r_min = jnp.asarray([2.0, 2.0, 2.0, 30.0, 2.0, 2.0, 2.0])
    prob = mk(keys, r_min)
    return jax.tree_util.tree_map(np.asarray, prob)


FIXED_BATCH_PROGRAMS_ADDED: list[int] = []  # ``fixed_batch``: programs its P3 solve compiled after P1


@pytest.fixture(scope="module")
def fixed_batch(cells):
    from jaxcore.istn import qos_wmmse
    jc = jax.tree_util.tree_map(jnp.asarray, cells)
    s1 = jax.device_get(solve_cells(jc, CFG))
    n = qos_wmmse._solve_cells._cache_size()
    s3 = jax.device_get(solve_cells(jc, CFG, jnp.asarray(s1.F), jnp.asarray(0.9 * s1.q), "p3"))
    FIXED_BATCH_PROGRAMS_ADDED.append(qos_wmmse._solve_cells._cache_size() - n)
    return s1, s3


def _same(a, b, rows=slice(None)):
    for name in a._fields:
        x, y = np.asarray(getattr(a, name))[rows], np.asarray(getattr(b, name))
        if np.issubdtype(x.dtype, np.inexact):
            np.testing.assert_allclose(y, x, rtol=1e-9, atol=1e-11, err_msg=name)
        else:
            np.testing.assert_array_equal(y, x, err_msg=name)


def test_streaming_equals_fixed_batch(cells, fixed_batch):
    """P1 through 3 slots refilled every round (shrinking to 1 at the end of the queue), P3
    through 1 slot with 3 rounds between refills: both equal the fixed batch."""
    s1, s3 = fixed_batch
    st = set(np.asarray(s1.status).tolist())
    assert {0, 2} <= st  # converged and infeasible cells both present
    r1 = solve_cells_streaming(cells, CFG, slots=3, sync_rounds=1)
    _same(s1, r1)
    r3 = solve_cells_streaming(cells, CFG, F0=s1.F, q0=0.9 * s1.q, mode="p3", slots=1, sync_rounds=3)
    _same(s3, r3)


def test_p1_and_p3_share_compiled_programs(cells, fixed_batch):
    """P1 and P3, with and without warm starts, are data to the same compiled programs
    (``fix_q`` and the start choice are traced), in ``solve_cells`` and in the streaming
    solver: after a P1 solve at a slot count, P3 solves at
    that slot count compile nothing more (the slot count and rounds of the P3 solve above,
    so in this module nothing compiles here at all), and P1 still equals the fixed batch;
    a cold P3 start keeps q at q0."""
    from solvers.istn import streaming
    s1, s3 = fixed_batch
    assert FIXED_BATCH_PROGRAMS_ADDED == [0]  # ``solve_cells`` too: one program for P1 and P3
    _same(s1, solve_cells_streaming(cells, CFG, slots=1, sync_rounds=3))
    programs = [f._cache_size() for f in (streaming._fresh, streaming._advance, streaming._solutions)]
    _same(s3, solve_cells_streaming(cells, CFG, F0=s1.F, q0=0.9 * s1.q, mode="p3", slots=1, sync_rounds=3))
    cold = solve_cells_streaming(cells, CFG, q0=0.9 * s1.q, mode="p3", slots=1, sync_rounds=3)
    assert [f._cache_size() for f in (streaming._fresh, streaming._advance, streaming._solutions)] == programs
    np.testing.assert_array_equal(cold.q, 0.9 * s1.q)


def test_streaming_order_does_not_matter(cells, fixed_batch):
    from solvers.istn.streaming import _state_shapes
    perm = np.array([6, 3, 0, 5, 1, 4, 2])
    before = _state_shapes.cache_info()
    r = solve_cells_streaming(jax.tree_util.tree_map(lambda x: x[perm], cells), CFG, slots=3, sync_rounds=1)
    _same(fixed_batch[0], r, rows=perm)
    # a second call on inputs of the same shapes does not trace the slot initialisation again
    solve_cells_streaming(jax.tree_util.tree_map(lambda x: x[perm], cells), CFG, slots=3, sync_rounds=1)
    after = _state_shapes.cache_info()
    assert after.hits >= before.hits + 1 and after.misses <= before.misses + 1


def test_streaming_progress_and_errors(cells):
    class Bar:
        n = 0

        def update(self, k):
            self.n += k

    bar = Bar()
    one = jax.tree_util.tree_map(lambda x: x[:3], cells)
    solve_cells_streaming(one, CFG, slots=3, sync_rounds=1, bar=bar)
    assert bar.n == 3  # one tick per finished cell, none twice
    with pytest.raises(ValueError, match="sync_rounds"):
        solve_cells_streaming(one, CFG, sync_rounds=0)
    with pytest.raises(ValueError, match="q0"):
        solve_cells_streaming(one, CFG, mode="p3")
