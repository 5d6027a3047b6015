"""Batched NTN scenarios: independent episodes simulated side by side (one batched solve per
frame and method over a leading scenario axis) give the rows of each episode run alone."""
from __future__ import annotations

from dataclasses import replace

import pytest

from solvers.configio import load_config
from solvers.ntn.allocate import JmraConfig
from solvers.ntn.config import NtnConfig
from solvers.ntn.simulate import run_episode, run_episodes
from solvers.ntn.world import world_frames
from solvers.runner.store import load_results, to_numpy

pytestmark = pytest.mark.slow  # frame-loop simulations side by side and one by one

SMALL = ["cell_deg=2.5"]
JCFG = JmraConfig(max_outer=10)
METHODS = ("jmra", "dmrab")


def _same_rows(a: list[dict], b: list[dict]) -> None:
    assert len(a) == len(b) > 0
    for ra, rb in zip(a, b):
        assert ra.keys() == rb.keys()
        for k in ra:
            if isinstance(ra[k], float):
                assert ra[k] == pytest.approx(rb[k], rel=1e-9, abs=1e-12, nan_ok=True), (ra["frame"], ra["method"], k)
            else:
                assert ra[k] == rb[k], (ra["frame"], ra["method"], k)


def test_side_by_side_episodes_equal_each_episode_alone():
    cfg = load_config(NtnConfig, None, SMALL + ["sensing_mode=pilots"])
    scen = [(cfg, 3), (replace(cfg, t_frame_s=20.0, sensing_mode="perfect"), 11)]
    widths = {world_frames(c, s, 2)["rate"].shape[2] for c, s in scen}
    assert len(widths) > 1  # the satellite axes differ: the padding is exercised
    together = run_episodes(scen, JCFG, 2, METHODS)
    for (c, s), rows in zip(scen, together):
        _same_rows(run_episode(c, JCFG, s, 2, METHODS), rows)
    # another sweep point and seed: another result (not one episode copied)
    assert [r["throughput_kbps"] for r in together[0]] != [r["throughput_kbps"] for r in together[1]]


def test_cli_episodes_side_by_side(tmp_path, monkeypatch):
    """``satisac --scenario-batch 2 ntn simulate --episodes 2``: one row per episode, frame and
    method, the two episodes different worlds (their equality with one at a time: the test above
    and tests/solvers/runner/test_runner_batch.py)."""
    from solvers.cli import main
    monkeypatch.delenv("SATISAC_SCENARIO_BATCH", raising=False)
    out = tmp_path / "run"
    assert main(["--scenario-batch", "2", "ntn", "simulate", "--frames", "1", "--episodes", "2",
                 "--set", "sensing_mode=none", "--set", "max_outer=10", "--set", "cell_deg=2.5", "-o", str(out)]) == 0
    c = to_numpy(load_results(out))
    assert sorted(zip(c["drop"].tolist(), c["method"].tolist())) == [(0, "dmrab"), (0, "jmra"), (1, "dmrab"), (1, "jmra")]
    thr = [c["throughput_kbps"][(c["drop"] == d) & (c["method"] == "jmra")][0] for d in range(2)]
    assert thr[0] != thr[1]


@pytest.mark.parametrize("bad", ["0", "-2", "many", "1.5"])
def test_bad_scenario_batch_is_one_line(bad, capsys, monkeypatch, tmp_path):
    from solvers.cli import main
    assert main(["--scenario-batch", bad, "ntn", "simulate", "--frames", "1", "-o", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--scenario-batch: expected a positive integer or 'auto'" in err[0]
    assert not (tmp_path / "r").exists()
    monkeypatch.setenv("SATISAC_SCENARIO_BATCH", bad)
    assert main(["ntn", "simulate", "--frames", "1", "-o", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "SATISAC_SCENARIO_BATCH: expected a positive integer or 'auto'" in err[0]
    assert not (tmp_path / "r").exists()


def test_scenario_batch_default_by_backend():
    from solvers.runtime import ACCELERATOR_SCENARIO_BATCH, scenario_batch
    assert scenario_batch({}, backend="cpu") == 1
    assert scenario_batch({"SATISAC_SCENARIO_BATCH": "auto"}, backend="gpu") == ACCELERATOR_SCENARIO_BATCH
    assert scenario_batch({"SATISAC_SCENARIO_BATCH": " 16 "}, backend="cpu") == 16
