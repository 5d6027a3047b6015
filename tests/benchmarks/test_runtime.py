"""``solvers.runtime``: thread-pool sizing from the affinity mask / ``SATISAC_THREADS``, and
the persistent compilation cache (location, switch, and that a second process loads the
program instead of compiling it)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from solvers import runtime

REPO = Path(__file__).resolve().parents[2]


def test_threads_follow_affinity_and_keep_user_settings():
    env = {"OMP_NUM_THREADS": "3"}
    n = runtime.configure_threads(env, busy=False)
    assert n == len(os.sched_getaffinity(0))
    assert env["NPROC"] == env["OPENBLAS_NUM_THREADS"] == env["MKL_NUM_THREADS"] == str(n)
    assert env["OMP_NUM_THREADS"] == "3"  # exported by the user: left alone


def test_satisac_threads_overrides_everything_and_one_thread_disables_eigen_pool():
    env = {"SATISAC_THREADS": "1", "OMP_NUM_THREADS": "3", "XLA_FLAGS": "--xla_force_host_platform_device_count=2"}
    assert runtime.configure_threads(env) == 1
    assert all(env[v] == "1" for v in runtime.THREAD_VARS)
    assert env["XLA_FLAGS"].split() == ["--xla_force_host_platform_device_count=2",
                                        "--xla_cpu_multi_thread_eigen=false"]
    runtime.configure_threads(env)  # idempotent: the flag is not appended twice
    assert env["XLA_FLAGS"].count("multi_thread_eigen") == 1
    env = {"SATISAC_THREADS": "5"}
    assert runtime.configure_threads(env) == 5 and "XLA_FLAGS" not in env


def test_busy_machine_gets_one_thread_unless_the_user_says():
    assert runtime.machine_busy(load=2.0, cpus=2) and runtime.machine_busy(load=7.5, cpus=4)
    assert not runtime.machine_busy(load=1.9, cpus=2)
    env = {}
    assert runtime.configure_threads(env, busy=True) == 1
    assert all(env[v] == "1" for v in runtime.THREAD_VARS) and "multi_thread_eigen=false" in env["XLA_FLAGS"]
    env = {"SATISAC_THREADS": "2"}
    assert runtime.configure_threads(env, busy=True) == 2  # an explicit count wins
    assert runtime.thread_count({}, busy=False) == len(os.sched_getaffinity(0))


@pytest.mark.parametrize("bad", ["0", "-2", "two"])
def test_bad_thread_count_rejected(bad):
    with pytest.raises(ValueError, match="SATISAC_THREADS: expected a positive integer"):
        runtime.thread_count({"SATISAC_THREADS": bad})


def test_cli_bad_thread_count_is_one_error_line(cli, monkeypatch):
    monkeypatch.setenv("SATISAC_THREADS", "many")
    code, out, err = cli("istn", "generate", "--drops", "1", "--seed", "0", "-o", "x.npz")
    assert code == 2 and err.strip().splitlines() == [
        "satisac: error: SATISAC_THREADS: expected a positive integer, got 'many'"]


def test_cache_dir_location_and_switch(tmp_path):
    assert runtime.cache_dir({"XDG_CACHE_HOME": str(tmp_path)}) == tmp_path / "satisac" / "jax"
    assert runtime.cache_dir({"SATISAC_COMPILATION_CACHE_DIR": str(tmp_path / "c"),
                              "XDG_CACHE_HOME": "/nowhere"}) == tmp_path / "c"
    assert runtime.cache_dir({}) == Path("~/.cache/satisac/jax").expanduser()
    for off in ("0", "false", "OFF", "no"):
        assert runtime.cache_dir({"SATISAC_COMPILATION_CACHE": off}) is None
    assert runtime.configure_compilation_cache(enabled=False, env={}) is None


def test_min_compile_time_from_the_environment(cli, monkeypatch, tmp_path):
    assert runtime.min_compile_s({}) == runtime.MIN_COMPILE_S
    assert runtime.min_compile_s({"SATISAC_COMPILATION_CACHE_MIN_S": " 0 "}) == 0.0
    assert runtime.min_compile_s({"SATISAC_COMPILATION_CACHE_MIN_S": "2.5"}) == 2.5
    for bad in ("-1", "nan", "soon"):
        with pytest.raises(ValueError, match="SATISAC_COMPILATION_CACHE_MIN_S: expected a number of seconds >= 0"):
            runtime.min_compile_s({"SATISAC_COMPILATION_CACHE_MIN_S": bad})
    monkeypatch.setenv("SATISAC_COMPILATION_CACHE_MIN_S", "soon")
    code, out, err = cli("istn", "generate", "--drops", "1", "--seed", "0", "-o", tmp_path / "x.npz")
    assert code == 2 and err.strip().splitlines() == [
        "satisac: error: SATISAC_COMPILATION_CACHE_MIN_S: expected a number of seconds >= 0, got 'soon'"]
    assert not (tmp_path / "x.npz").exists()


_PROBE = """
import jax, jax.numpy as jnp
from solvers import runtime
hits = []
jax.monitoring.register_event_listener(lambda e, **k: hits.append(e) if e.endswith("cache_hits") else None)
path = runtime.configure_compilation_cache()
f = jax.jit(lambda x: jnp.linalg.cholesky(x @ x.T + 3.0 * jnp.eye(5)).sum())
print(path, float(f(jnp.arange(25.0).reshape(5, 5) / 25)), len(hits))
"""


def test_second_process_loads_the_program_from_the_cache(tmp_path):
    env = {**os.environ, "SATISAC_COMPILATION_CACHE_DIR": str(tmp_path / "cache"),
           "SATISAC_COMPILATION_CACHE": "1", "JAX_PLATFORMS": "cpu",
           "SATISAC_COMPILATION_CACHE_MIN_S": "0"}  # the probe compiles in well under MIN_COMPILE_S
    runs = [subprocess.run([sys.executable, "-c", _PROBE], env=env, cwd=REPO, capture_output=True, text=True,
                           timeout=120) for _ in range(2)]
    assert all(r.returncode == 0 for r in runs), runs[0].stderr[-2000:]
    (p1, v1, h1), (p2, v2, h2) = (r.stdout.split() for r in runs)
    assert p1 == p2 == str(tmp_path / "cache")
    assert any((tmp_path / "cache").iterdir())  # the first process wrote the program
    assert int(h1) == 0 and int(h2) >= 1  # ... and the second one loaded it instead of compiling
    assert v1 == v2
