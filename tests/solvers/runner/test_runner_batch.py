"""Runner: ``run_sweep(batch=N)`` with a ``work.many`` computes several chunks per call and
writes the same store as one chunk per call (resume, shards and results unchanged)."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from solvers.configio import ConfigError
from solvers.runner.claims import Shard
from solvers.runner.montecarlo import run_sweep
from solvers.runner.store import chunk_files, load_results, to_numpy

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _synthetic  # noqa: E402

SWEEP = {"p_dbm": [0.0, 10.0]}


def _batched_work(calls: list):
    """The synthetic job's work with a ``many`` that records the chunks of each call."""
    def work(cfg, drops, seed):
        return _synthetic.work(cfg, drops, seed)

    def many(items, seed):
        calls.append([(cfg.p_dbm, int(d[0])) for cfg, d in items])
        return [_synthetic.work(cfg, d, seed) for cfg, d in items]
    work.many = many
    return work


def _run(run_dir, work, batch, **kw):
    return run_sweep(run_dir, _synthetic.ToyConfig(), work, n_drops=20, seed=7, sweep=SWEEP,
                     methods=_synthetic.METHODS, chunk_size=5, progress=False, batch=batch, **kw)


def _cols(run_dir):
    c = to_numpy(load_results(run_dir))
    order = np.lexsort((c["method"], c["drop"], c["point"]))
    return {k: v[order] for k, v in c.items()}


def test_batched_calls_write_the_same_store(tmp_path):
    calls: list = []
    _run(tmp_path / "one", _synthetic.work, 1)
    s = _run(tmp_path / "many", _batched_work(calls), 3)
    # 2 points x 4 chunks = 8 chunks in calls of 3, 3, 2, across the points in order
    assert [len(c) for c in calls] == [3, 3, 2]
    assert calls[1] == [(0.0, 15), (10.0, 0), (10.0, 5)]
    assert s.chunks_run == 8
    assert len(chunk_files(tmp_path / "many")) == len(chunk_files(tmp_path / "one")) == 8
    a, b = _cols(tmp_path / "one"), _cols(tmp_path / "many")
    assert list(a) == list(b)
    for k in a:
        assert np.array_equal(a[k], b[k]), k


def test_batched_resume_computes_only_missing_chunks(tmp_path):
    run = tmp_path / "run"
    _run(run, _synthetic.work, 1)
    victims = sorted(chunk_files(run))[2:5]
    for p in victims:
        p.unlink()
    calls: list = []
    s = _run(run, _batched_work(calls), 8)  # a batch larger than what is missing
    assert s.chunks_run == 3 and s.chunks_skipped == 5
    assert [len(c) for c in calls] == [3]
    assert len(chunk_files(run)) == 8


def test_batched_shards_split_the_chunks(tmp_path):
    run = tmp_path / "run"
    calls: list = []
    got = [_run(run, _batched_work(calls), 4, shard=Shard(i, 2)).chunks_run for i in range(2)]
    assert got == [4, 4] and [len(c) for c in calls] == [4, 4]
    _run(tmp_path / "ref", _synthetic.work, 1)
    a, b = _cols(run), _cols(tmp_path / "ref")
    for k in ("drop", "sum_rate", "point"):
        assert np.array_equal(a[k], b[k]), k


def test_many_returning_the_wrong_number_of_row_sets_is_an_error(tmp_path):
    def work(cfg, drops, seed):
        return _synthetic.work(cfg, drops, seed)
    work.many = lambda items, seed: [_synthetic.work(items[0][0], items[0][1], seed)]
    with pytest.raises(ValueError, match="expected 2 row sets"):
        _run(tmp_path / "run", work, 2)
    assert chunk_files(tmp_path / "run") == []  # nothing half-written


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_batch_must_be_a_positive_integer(tmp_path, bad):
    with pytest.raises(ConfigError, match="batch: expected an integer >= 1"):
        _run(tmp_path / "run", _synthetic.work, bad)
