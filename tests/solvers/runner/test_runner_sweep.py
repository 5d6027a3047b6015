"""Sweep specifications: expansion and rejection of bad specs before any work."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from solvers.configio import ConfigError
from solvers.runner.montecarlo import run_sweep
from solvers.runner.sweep import expand_sweep, parse_sweep

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _synthetic  # noqa: E402

BASE = _synthetic.ToyConfig()


@pytest.mark.parametrize("sweep, msg", [
    ({"p_dbmm": [1, 2]}, r"unknown key.*'p_dbmm' \(did you mean 'p_dbm'\?\)"),
    ({"p_dbm": []}, "p_dbm.*empty range"),
    ({"p_dbm": 20}, "p_dbm.*expected a list"),
    ({"p_dbm": "20"}, "p_dbm.*expected a list"),
    ({"p_dbm": [10, "loud"]}, "p_dbm: expected a number, got 'loud'"),
    ({"n_users": [2, 2.5]}, "n_users: expected an integer, got 2.5"),
    ({"p_dbm": [10, 99]}, r"p_dbm: expected a value <= 60"),
    ({"mode": ["a", "c"]}, "mode: expected one of"),
    ({"p_dbm": [1, 1]}, "repeated values"),
    ([("p_dbm", [1])], "expected a mapping"),
])
def test_bad_sweep_rejected_before_any_work(tmp_path, sweep, msg):
    called = []

    def work(cfg, drops):
        called.append(1)
        return [{"drop": int(d)} for d in drops]

    with pytest.raises(ConfigError, match=msg):
        run_sweep(tmp_path / "run", BASE, work, n_drops=4, seed=0, sweep=sweep, progress=False)
    assert called == [] and not (tmp_path / "run").exists()  # nothing run, nothing written


def test_grid_and_zip_expansion():
    pts = expand_sweep(BASE, {"p_dbm": [0, 10], "n_users": [1, 2, 3]})
    assert len(pts) == 6 and [p.index for p in pts] == list(range(6))
    assert pts[1].values == {"p_dbm": 0.0, "n_users": 2} and pts[1].cfg.n_users == 2
    assert isinstance(pts[0].values["p_dbm"], float)  # coerced to the field type
    assert len({p.cfg_hash for p in pts}) == 6
    z = expand_sweep(BASE, {"p_dbm": [0, 10], "n_users": [1, 2]}, mode="zip")
    assert [(p.cfg.p_dbm, p.cfg.n_users) for p in z] == [(0.0, 1), (10.0, 2)]
    with pytest.raises(ConfigError, match="same number of values"):
        expand_sweep(BASE, {"p_dbm": [0, 10], "n_users": [1]}, mode="zip")
    assert len(expand_sweep(BASE, None)) == 1


def test_parse_sweep():
    assert parse_sweep(["p_dbm=20:30:5", "mode=a,b"]) == {"p_dbm": [20, 25, 30], "mode": ["a", "b"]}
    assert parse_sweep(["n_users=[1, 2]"]) == {"n_users": [1, 2]}
    with pytest.raises(ConfigError, match="empty range"):
        parse_sweep(["p_dbm="])
    with pytest.raises(ConfigError, match="expected key=v1"):
        parse_sweep(["p_dbm"])


def test_bad_sizes_rejected(tmp_path):
    with pytest.raises(ConfigError, match="n_drops"):
        run_sweep(tmp_path / "r", BASE, _synthetic.work, n_drops=0, seed=0, progress=False)
    with pytest.raises(ConfigError, match="chunk_size"):
        run_sweep(tmp_path / "r", BASE, _synthetic.work, n_drops=3, seed=0, chunk_size=0, progress=False)
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("sweep, msg", [
    ({"p_bs": [30]}, r"unknown key.*'p_bs' \(did you mean 'p_bs_dbm'\?\)"),
    ({"p_bs_dbm": [30, 80]}, r"p_bs_dbm: expected a value <= 70"),
    ({"n_cells": [1, 2.5]}, "n_cells: expected an integer, got 2.5"),
    ({"elevation_draw": ["30-90", "10-20"]}, "elevation_draw: expected one of"),
    ({"r_min_sut": []}, "r_min_sut.*empty range"),
])
def test_bad_istn_sweep_rejected(tmp_path, sweep, msg):
    from solvers.istn.config import IstnConfig
    with pytest.raises(ConfigError, match=msg):
        run_sweep(tmp_path / "run", IstnConfig(), _synthetic.work, n_drops=4, seed=0, sweep=sweep, progress=False)
    assert not (tmp_path / "run").exists()


def test_progress_bar_counts_in_the_runs_unit(tmp_path, capsys):
    """The bar names what a run's 'drop' is: drops for ISTN, episodes (frame loops) for NTN."""
    run_sweep(tmp_path / "a", BASE, _synthetic.work, n_drops=3, seed=0, chunk_size=1, desc="istn")
    assert "drop" in capsys.readouterr().err
    run_sweep(tmp_path / "b", BASE, _synthetic.work, n_drops=3, seed=0, chunk_size=1, desc="ntn", unit="episode")
    err = capsys.readouterr().err
    assert "episode" in err and "drop" not in err


def test_bar_moves_inside_a_chunk(tmp_path, monkeypatch):
    """``chunk_progress`` from a work function moves the bar within a chunk; the chunk still
    counts its drops exactly once at the end, and outside run_sweep the call is a no-op."""
    from solvers.runner import montecarlo

    seen = []

    class Bar:
        def __init__(self, total, initial, **kw):
            self.n, self.total = initial, total

        def update(self, k):
            self.n += k
            seen.append(self.n)

        def set_postfix_str(self, *a, **kw):
            pass

        def close(self):
            pass

    monkeypatch.setattr(montecarlo, "tqdm", Bar)

    def work(cfg, drops, seed):
        for f in (0.25, 0.5, 0.5, 0.75):  # a repeated fraction does not move the bar twice
            montecarlo.chunk_progress(f)
        return _synthetic.work(cfg, drops, seed)

    montecarlo.chunk_progress(0.5)  # no run: nothing happens
    run_sweep(tmp_path / "a", BASE, work, n_drops=8, seed=0, chunk_size=4)
    assert seen == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]
