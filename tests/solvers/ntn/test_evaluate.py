"""``satisac ntn evaluate``: (24), (25) and every constraint of (26) from the two files alone."""
import json
import math

import numpy as np
import pytest

from solvers.npzio import save_npz_atomic
from solvers.ntn.cmd_evaluate import evaluate_allocation
from solvers.ntn.instance import save_instance
from ntn_random import random_instances


def _greedy_x(inst: dict, frames: int = 10) -> np.ndarray:
    """Each cell on its best-rate usable satellite with ``frames`` OFDMA frames (feasible here)."""
    rate = inst["rate"]
    best = np.argmax(rate, axis=2)  # # [B, C]
    x = np.zeros(rate.shape, np.int64)
    b, c = np.meshgrid(np.arange(rate.shape[0]), np.arange(rate.shape[1]), indexing="ij")
    x[b, c, best] = frames
    return np.where(rate > 0, x, 0)


def _by_hand(inst: dict, x: np.ndarray, b: int) -> tuple[np.ndarray, float]:
    """(24) per cell and (25) of frame b with explicit loops over cells and satellites."""
    C, S = x.shape[1:]
    thr = np.zeros(C)
    obj = 0.0
    for c in range(C):
        na = inst["n_active"][b, c]
        if na == 0:
            continue
        tot = 0.0
        for s in range(S):
            if x[b, c, s] > 0:
                t_ho = inst["t_ho"][b] * (0.0 if inst["prev_served"][b, c, s] else 1.0)  # (23)
                tot += inst["rate"][b, c, s] * (x[b, c, s] * inst["t_ofdma"][b] - t_ho) / (inst["t_frame"][b] * na)
        thr[c] = tot
        obj += na * math.log(inst["eps"][b] + tot)
    return thr, obj


@pytest.fixture
def files(tmp_path):
    inst = random_instances(3, C=12, S=5, seed=3)
    ip = save_instance(tmp_path / "inst.npz", inst)
    return inst, ip


def test_third_party_x_matches_hand_computation(cli, files, tmp_path):
    inst, ip = files
    x = _greedy_x(inst)
    sp = save_npz_atomic(tmp_path / "mine.npz", {"x": x})
    rep = tmp_path / "rep.json"
    code, out, err = cli("ntn", "evaluate", ip, sp, "--json", "-o", rep)
    assert code == 0, err
    doc = json.loads(out)
    assert doc == json.loads(rep.read_text())
    assert doc["feasible_frames"] == 3 and all(v == 0 for v in doc["violations"].values())
    for b in range(3):
        thr, obj = _by_hand(inst, x, b)
        assert doc["per_frame"][b]["objective"] == pytest.approx(obj, rel=1e-12)
        assert doc["per_frame"][b]["mean_throughput_bps"] == pytest.approx(thr.mean(), rel=1e-12)
    code, out, err = cli("ntn", "evaluate", ip, sp, "-o", tmp_path / "rep.csv")
    assert code == 0 and "feasible frames: 3/3" in out
    lines = (tmp_path / "rep.csv").read_text().splitlines()
    assert lines[0].startswith("frame,objective") and len(lines) == 4


@pytest.mark.parametrize("breach, name", [
    ("range", "(26a)"), ("unusable", "rate[c,s] = 0"), ("two_sats", "(26e)"),
    ("budget", "(26c)"), ("floor", "handover floor")])
def test_infeasible_x_is_rejected_naming_constraint_and_frame(cli, files, tmp_path, breach, name):
    inst, ip = files
    x = _greedy_x(inst)
    b = 2
    usable_n = (inst["rate"][b] > 0).sum(axis=1)
    c = int(np.nonzero((usable_n >= 2) & (usable_n < inst["rate"].shape[2]))[0][0])  # a cell with a choice
    s_best = int(np.argmax(x[b, c]))
    usable = np.nonzero(inst["rate"][b, c])[0]
    other = [s for s in usable if s != s_best]
    if breach == "range":
        x[b, c, s_best] = int(inst["n_com"][b]) + 1
    elif breach == "unusable":
        x[b, c, int(np.nonzero(inst["rate"][b, c] == 0)[0][0])] = 10
    elif breach == "two_sats":
        x[b, c, other[0]] = 10
    elif breach == "budget":  # every cell on one satellite with N_com frames: > N_b N_com
        x[b] = 0
        x[b, :, 0] = np.where(inst["rate"][b, :, 0] > 0, inst["n_com"][b], 0)
        assert x[b, :, 0].sum() > inst["n_beams"][b, 0] * inst["n_com"][b]
    else:  # 3 frames x 10 ms <= T_HO = 50 ms on a pair that pays a handover
        s_new = next(s for s in usable if not inst["prev_served"][b, c, s])
        x[b, c] = 0
        x[b, c, s_new] = 3
    sp = save_npz_atomic(tmp_path / "bad.npz", {"x": x})
    rep = tmp_path / "rep.json"
    code, out, err = cli("ntn", "evaluate", ip, sp, "-o", rep)
    assert code == 2
    line = err.strip()
    assert "\n" not in line and name in line and f"frame {b}" in line and "'x'" in line, line
    assert not rep.exists()
    res = evaluate_allocation(inst, {"x": x})
    assert not res["feasible"][b] and res["feasible"][:b].all()


def test_wrong_shape_and_other_instance(cli, files, tmp_path):
    inst, ip = files
    x = _greedy_x(inst)
    sp = save_npz_atomic(tmp_path / "short.npz", {"x": x[:, :-1]})
    code, _, err = cli("ntn", "evaluate", ip, sp)
    assert code == 2 and "'x'" in err and "(B,C,S)" in err and "short.npz" in err
    # a full solution of this instance evaluated against another one with the same usable pairs
    res = evaluate_allocation(inst, {"x": x})
    sol = dict(x=x, objective=res["objective"], throughput_per_user=np.maximum(res["throughput_per_user"], 0))
    sp = save_npz_atomic(tmp_path / "sol.npz", sol)
    assert cli("ntn", "evaluate", ip, sp)[0] == 0
    other = dict(inst, rate=inst["rate"] * 1.1)
    op = save_instance(tmp_path / "other.npz", other)
    code, _, err = cli("ntn", "evaluate", op, sp)
    assert code == 2 and "'objective'" in err and "another instance" in err and "frame 0" in err


def test_agrees_with_ntn_solve(cli, files, tmp_path):
    inst, ip = files
    sp = tmp_path / "jmra.npz"
    code, _, err = cli("ntn", "solve", ip, "-o", sp, "--set", "max_outer=4")
    assert code == 0, err
    sol = dict(np.load(sp))
    assert "solve_time_s" in sol and float(sol["solve_time_s"]) > 0
    code, out, err = cli("ntn", "evaluate", ip, sp, "--json")
    assert code == 0, err
    doc = json.loads(out)
    got = np.array([r["objective"] for r in doc["per_frame"]])
    np.testing.assert_allclose(got, sol["objective"], rtol=1e-12)
    assert doc["feasible_frames"] == 3
    for b in range(3):
        assert got[b] == pytest.approx(_by_hand(inst, sol["x"], b)[1], rel=1e-12)
