"""Runner: kill a real run part-way (subprocess + SIGKILL), resume, compare with an uninterrupted run."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from solvers.configio import ConfigError
from solvers.runner.montecarlo import run_sweep
from solvers.runner.store import chunk_files, load_results, read_manifest, to_numpy

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
sys.path.insert(0, str(HERE))
import _synthetic  # noqa: E402


def _script(run_dir: Path, delay: float) -> list[str]:
    return [sys.executable, str(HERE / "_synthetic.py"), str(run_dir), "--delay", str(delay)]


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _equal_tables(a, b):
    ca, cb = to_numpy(a), to_numpy(b)
    assert list(ca) == list(cb)
    for k in ca:
        assert np.array_equal(ca[k], cb[k]), k


def test_killed_run_resumes_to_identical_results(tmp_path):
    killed, clean = tmp_path / "killed", tmp_path / "clean"
    proc = subprocess.Popen(_script(killed, 0.25), env=_env(), cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    t0 = time.time()
    while not chunk_files(killed):
        assert proc.poll() is None, proc.communicate()
        assert time.time() - t0 < 60, "no chunk appeared"
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    n_before = len(chunk_files(killed))
    assert 1 <= n_before < 16  # really part-way: 2 points x 8 chunks
    # resume with the same command
    out = subprocess.run(_script(killed, 0.0), env=_env(), cwd=REPO, capture_output=True, text=True, check=True)
    s = json.loads(out.stdout.strip().splitlines()[-1])
    assert s["chunks_skipped"] == n_before and s["chunks_run"] == 16 - n_before
    assert not list(killed.glob("point-*/.*.tmp"))  # no temporaries left behind
    # uninterrupted run with the same seed, in process
    _synthetic.DELAY[0] = 0.0
    _synthetic.main([str(clean)])
    a, b = load_results(killed), load_results(clean)
    assert a.num_rows == 2 * 40 * 2
    _equal_tables(a, b)
    c = to_numpy(a)
    keys = set(zip(c["point"].tolist(), c["drop"].tolist(), c["method"].tolist()))
    assert len(keys) == a.num_rows  # no duplicates
    # a finished run re-run does no work
    out = subprocess.run(_script(killed, 0.0), env=_env(), cwd=REPO, capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == {"chunks_run": 0, "chunks_skipped": 16}


def test_results_do_not_depend_on_chunk_size(tmp_path):
    calls = []

    def work(cfg, drops, seed):
        calls.append(len(drops))
        return _synthetic.work(cfg, drops, seed)

    kw = dict(n_drops=13, seed=3, sweep={"p_dbm": [5.0]}, progress=False)
    run_sweep(tmp_path / "a", _synthetic.ToyConfig(), work, chunk_size=4, **kw)
    assert calls == [4, 4, 4, 1]
    run_sweep(tmp_path / "b", _synthetic.ToyConfig(), work, chunk_size=13, **kw)
    _equal_tables(load_results(tmp_path / "a"), load_results(tmp_path / "b"))
    calls.clear()
    s = run_sweep(tmp_path / "a", _synthetic.ToyConfig(), work, chunk_size=4, **kw)
    assert calls == [] and s.chunks_run == 0 and s.chunks_skipped == 4
    cols = to_numpy(load_results(tmp_path / "a"))
    assert set(cols) >= {"point", "p_dbm", "config_hash", "seed", "drop", "method", "sum_rate"}
    assert np.all(cols["p_dbm"] == 5.0) and np.all(cols["seed"] == 3)
    # swept value changes the config hash; base run records the manifest
    m = read_manifest(tmp_path / "a")
    assert m["n_drops"] == 13 and m["chunk_size"] == 4 and m["sweep"] == {"p_dbm": [5.0]}


def test_different_run_in_same_dir_is_refused(tmp_path):
    kw = dict(n_drops=4, seed=1, chunk_size=2, progress=False)
    run_sweep(tmp_path, _synthetic.ToyConfig(), _synthetic.work, sweep={"p_dbm": [1.0, 2.0]}, **kw)
    with pytest.raises(ConfigError, match=r"different run.*seed: stored 1, now 2"):
        run_sweep(tmp_path, _synthetic.ToyConfig(), _synthetic.work, sweep={"p_dbm": [1.0, 2.0]},
                  **{**kw, "seed": 2})
    with pytest.raises(ConfigError, match="sweep.p_dbm"):
        run_sweep(tmp_path, _synthetic.ToyConfig(), _synthetic.work, sweep={"p_dbm": [1.0, 3.0]}, **kw)
    hashes = set(to_numpy(load_results(tmp_path))["config_hash"].tolist())
    assert len(hashes) == 2
