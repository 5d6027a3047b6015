"""Compiled-program housekeeping (solvers.runner.programs): the memory-map guard that keeps
long processes (the test suite, multi-point sweeps) under Linux's vm.max_map_count."""
from __future__ import annotations

import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import pytest

from solvers.runner import montecarlo, programs

sys.path.insert(0, str(Path(__file__).parent))
import _synthetic  # noqa: E402

linux_maps = pytest.mark.skipif(programs.map_count() is None or programs.map_limit() is None,
                                reason="needs /proc/self/maps and vm.max_map_count (Linux)")


@linux_maps
def test_release_frees_the_mappings_of_compiled_programs():
    fns = []
    for i in range(40):  # 40 distinct programs, kept alive by their jitted functions
        f = jax.jit(lambda x, i=i: jnp.cumsum(jnp.sin(x) * i) ** 2)
        f(jnp.ones(i + 3)).block_until_ready()
        fns.append(f)
    n_before = programs.map_count()
    assert programs.release_programs(force=True)
    n_after = programs.map_count()
    # measured ~17 mappings per program on jaxlib 0.10.2 / x86_64; require at least 3
    assert n_before - n_after >= 3 * len(fns), (n_before, n_after)
    assert float(fns[0](jnp.ones(3))[0]) == 0.0  # the functions still work (recompiled)


@linux_maps
def test_release_only_past_the_fraction(monkeypatch):
    n = programs.map_count()
    monkeypatch.setattr(programs, "map_limit", lambda: 10 * n)
    assert not programs.release_programs(fraction=0.5)  # at ~10 % of the cap: nothing done
    monkeypatch.setattr(programs, "map_limit", lambda: n // 2)
    assert programs.release_programs(fraction=0.5)


def test_release_without_proc_is_a_no_op_unless_forced(monkeypatch):
    monkeypatch.setattr(programs, "map_count", lambda: None)
    assert not programs.release_programs()
    assert programs.release_programs(force=True)


@pytest.mark.parametrize("fraction", [0.0, 1.5, -1.0])
def test_bad_fraction_rejected(fraction):
    with pytest.raises(ValueError, match="fraction"):
        programs.release_programs(fraction=fraction)


def test_runner_releases_between_sweep_points(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(montecarlo, "release_programs", lambda: calls.append(1))
    montecarlo.run_sweep(tmp_path / "run", _synthetic.ToyConfig(), _synthetic.work, n_drops=10, seed=0,
                         chunk_size=5, sweep={"p_dbm": [10.0, 20.0, 30.0]}, progress=False)
    assert len(calls) == 2  # 3 points x 2 chunks: once per change of point
