"""NTN instance/solution files (interfaces.md §3/§4): round trip and rejection messages."""
import numpy as np
import pytest

from solvers.npzio import InstanceError
from solvers.ntn.instance import (load_instance, load_solution, save_instance, save_solution,
                                  validate_instance, validate_solution)


def _inst(B=2, C=3, S=4):
    rng = np.random.default_rng(0)
    rate = rng.uniform(0, 1e8, (B, C, S))
    rate[:, :, -1] = 0.0
    prev = np.zeros((B, C, S), bool)
    prev[:, 0, 1] = True
    return dict(rate=rate, n_active=np.full((B, C), 10.0), prev_served=prev,
                t_ho=np.full(B, 0.02), n_com=np.full(B, 999, np.int64), n_beams=np.full((B, S), 16),
                t_ofdma=np.full(B, 0.01), t_frame=np.full(B, 10.0), eps=np.ones(B))


def _sol(inst):
    B, C, S = inst["rate"].shape
    x = np.zeros((B, C, S), np.int64)
    x[:, 0, 0] = 5
    return dict(x=x, x_relaxed=x.astype(float), objective=np.ones(B), throughput_per_user=np.zeros((B, C)),
                multi_served_before_rounding=np.zeros(B, int), iterations=np.ones(B, int), status=np.zeros(B, int))


def test_round_trip(tmp_path):
    inst = _inst()
    p = save_instance(tmp_path / "i.npz", inst)
    arrays, dims = load_instance(p)
    assert dims == {"B": 2, "C": 3, "S": 4}
    assert arrays["prev_served"].dtype == bool
    np.testing.assert_array_equal(arrays["rate"], inst["rate"])
    sol = _sol(inst)
    q = save_solution(tmp_path / "s.npz", sol, instance=inst)
    sarr, sd = load_solution(q, instance=arrays)
    assert sarr["status"].dtype == np.int8 and sd["C"] == 3


@pytest.mark.parametrize("field,value,msg", [
    ("rate", lambda a: a * -1, "non-negative"),
    ("n_active", lambda a: -a, "non-negative"),
    ("n_com", lambda a: a * 0, ">= 1"),
    ("n_com", lambda a: a + 2, "t_frame / t_ofdma"),
    ("rate", lambda a: a[:, :2], "axis C"),
    ("t_ho", lambda a: a[:1], "axis B"),
    ("rate", lambda a: np.where(a > 5e7, np.nan, a), "finite"),
])
def test_rejects(field, value, msg, tmp_path):
    inst = _inst()
    inst[field] = value(inst[field])
    with pytest.raises(InstanceError, match=msg) as e:
        save_instance(tmp_path / "bad.npz", inst)
    assert field in str(e.value) or field in ("rate", "t_ho")
    assert not (tmp_path / "bad.npz").exists()


def test_prev_served_one_per_cell_and_missing():
    inst = _inst()
    inst["prev_served"][1, 2, :2] = True
    with pytest.raises(InstanceError, match="at most one satellite per cell.*frame 1, cell 2"):
        validate_instance(inst)
    inst = _inst()
    del inst["eps"]
    with pytest.raises(InstanceError, match="missing required field 'eps'"):
        validate_instance(inst)


def test_solution_checks():
    inst = _inst()
    sol = _sol(inst)
    sol["x"][0, 1, 3] = 2  # rate is 0 on the last column
    with pytest.raises(InstanceError, match="rate is 0"):
        validate_solution(sol, instance=inst)
    sol = _sol(inst)
    sol["status"][1] = 2
    with pytest.raises(InstanceError, match="infeasible"):
        validate_solution(sol)
    sol = _sol(inst)
    sol["status"][0] = 3
    with pytest.raises(InstanceError, match="0, 1 or 2"):
        validate_solution(sol)
    sol = _sol(inst)
    sol["throughput_per_user"] = np.zeros((2, 5))
    with pytest.raises(InstanceError, match="axis C"):
        validate_solution(sol, instance=inst)
