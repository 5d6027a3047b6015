"""Typed solutions (solvers/solution.py) and the one status enum (jaxcore/status.py)."""
from __future__ import annotations

import re

import jax
import numpy as np
import pytest

from jaxcore.status import Status, counts, meets_constraints
from solvers.solution import IstnSolution, NtnSolution


def _table_fields(text: str, heading: str) -> list[str]:
    """Field names of the markdown table under ``heading`` in interfaces.md."""
    sec = text.split(heading, 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `(\w+)`", sec, flags=re.M)


@pytest.mark.parametrize("cls, heading", [(IstnSolution, "## 2. ISTN solution"),
                                          (NtnSolution, "## 4. NTN allocation solution")])
def test_fields_are_the_interfaces_table(shared_dir, cls, heading):
    fields = _table_fields((shared_dir / "spec" / "interfaces.md").read_text(), heading)
    assert fields, heading
    assert list(cls.field_names()) == fields


def test_status_codes_are_the_interfaces_codes(shared_dir):
    text = (shared_dir / "spec" / "interfaces.md").read_text()
    istn = text.split("## 2. ISTN solution", 1)[1].split("\n## ", 1)[0]
    line = next(x for x in istn.splitlines() if x.startswith("| `status`"))
    assert "0 converged" in line and "1 iteration cap" in line and "2 QoS infeasible" in line
    assert "3 numerical failure" in line and "4 the P2 merge" in line
    assert [int(s) for s in Status] == [0, 1, 2, 3, 4]
    assert Status.INFEASIBLE == 2 and Status.MERGE_BELOW_RMIN == 4
    st = np.array([[0, 1], [2, 4]], np.int8)
    np.testing.assert_array_equal(meets_constraints(st), [[True, True], [False, False]])
    assert counts(st) == {"CONVERGED": 1, "ITERATION_CAP": 1, "INFEASIBLE": 1, "NUMERICAL_FAILURE": 0,
                          "MERGE_BELOW_RMIN": 1}
    assert np.asarray(meets_constraints(jax.numpy.asarray(st))).tolist() == [[True, True], [False, False]]


def _ntn(B=3, C=4, S=2):
    rng = np.random.default_rng(0)
    return NtnSolution(x=rng.integers(0, 3, (B, C, S)), x_relaxed=rng.random((B, C, S)), objective=rng.random(B),
                       throughput_per_user=rng.random((B, C)), multi_served_before_rounding=np.zeros(B, int),
                       iterations=np.arange(B), status=np.array([0, 1, 2], np.int8)[:B])


def test_round_trip_rows_and_mapping_view():
    sol = _ntn()
    arrays = sol.to_arrays()
    assert set(arrays) == set(NtnSolution.field_names())
    back = NtnSolution.from_arrays({**arrays, "solve_time_s": np.float64(1.0)})  # optional extras ignored
    for k in NtnSolution.field_names():
        np.testing.assert_array_equal(back[k], arrays[k])
    assert sol.batch == 3 and sol.rows(1, 3).batch == 2
    np.testing.assert_array_equal(sol.rows(1, 3).iterations, [1, 2])
    np.testing.assert_array_equal(sol.infeasible, [False, False, True])
    assert sol.status_counts()["INFEASIBLE"] == 1
    assert "x" in sol and "solve_time_s" not in sol and sol.get("nope") is None
    with pytest.raises(KeyError):
        sol["nope"]
    with pytest.raises(KeyError, match="missing field"):
        NtnSolution.from_arrays({k: v for k, v in arrays.items() if k != "x"})
    with pytest.raises(dataclasses_frozen_error()):
        sol.x = None  # frozen
    leaves = jax.tree_util.tree_leaves(sol)  # a pytree over the fields
    assert len(leaves) == len(NtnSolution.field_names())
    half = jax.tree_util.tree_map(lambda v: v[:1], sol)
    assert isinstance(half, NtnSolution) and half.batch == 1


def test_istn_feasibility_views():
    B, M, K, T, Nt = 2, 3, 2, 1, 4
    z = np.zeros
    sol = IstnSolution(F=z((B, M, Nt, K + T), complex), p_sat=z((B, M)), p_bar=z((B, M)), assoc=z((B, M, T), int),
                       rate_tut=z((B, M, K)), rate_sut=z((B, M)), scnr=z((B, M, T)), sum_rate=z(B),
                       status=np.array([[0, 1, 0], [0, 4, 2]], np.int8), iterations=z((B, M), int))
    np.testing.assert_array_equal(sol.cell_ok, [[True, True, True], [True, False, False]])
    np.testing.assert_array_equal(sol.drop_ok, [True, False])
    assert dict(sol).keys() == set(IstnSolution.field_names())


def dataclasses_frozen_error():
    import dataclasses
    return dataclasses.FrozenInstanceError
