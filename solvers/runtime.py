"""Process set-up for the ``satisac`` command line: thread pools and the compilation cache.

Three things are decided once per process, before any computation:

**Thread pools** (:func:`configure_threads`, must run before ``numpy``/``jax`` are imported
to have full effect).  XLA:CPU sizes its intra-op thread pool from ``NPROC`` when set, else
from the CPUs in the process's affinity mask; OpenBLAS/MKL/OpenMP (numpy, scipy, the cvxpy
solvers) read ``OPENBLAS_NUM_THREADS``/``MKL_NUM_THREADS``/``OMP_NUM_THREADS`` when their
library loads.  All of them are set to ``n`` = ``SATISAC_THREADS`` if given, else the number
of CPUs this process may run on (``os.sched_getaffinity``: a ``taskset``/cgroup-cpuset
restricted job gets pools of its own size, not of the whole node), except on a machine that is
already full when the process starts (1-minute load average >= the machine's CPU count): then
``n = 1`` (:func:`machine_busy`; measured in BENCHMARKS.md, "Under load": beside two CPU-bound
processes on 2 cores a 2-thread solve slowed 2.9x and burnt 1.6x the CPU seconds, a 1-thread
solve slowed 1.7x; alone, 2 threads are 20 % faster).  Variables the user
already exported are left alone unless ``SATISAC_THREADS`` is set, which overrides them all.
With ``n = 1`` Eigen's multi-threaded kernels are switched off too
(``--xla_cpu_multi_thread_eigen=false`` in ``XLA_FLAGS``).  A machine that becomes busy only
after the process started keeps its pools: there ``SATISAC_THREADS=1`` avoids threads waiting
on each other's time slices.

**Persistent compilation cache** (:func:`configure_compilation_cache`).  JAX writes every
compiled program that took at least ``MIN_COMPILE_S`` seconds to compile
(``SATISAC_COMPILATION_CACHE_MIN_S`` overrides: :func:`min_compile_s`) under
``$SATISAC_COMPILATION_CACHE_DIR``, else ``$XDG_CACHE_HOME/satisac/jax``, else
``~/.cache/satisac/jax``, and a later process with the same program, JAX version and device
loads it instead of compiling (the key covers the program, the compile options, the
jax/jaxlib version and the device).  Off with ``SATISAC_COMPILATION_CACHE=0`` or the global
``satisac --no-compile-cache``.  The cache is a plain directory; deleting it is always safe.

**Scenario batch** (:func:`scenario_batch`).  How many independent NTN simulations (sweep
points, episodes) the runner computes side by side, frame k of all of them in one batched
JMRA/DMRAB call (:func:`solvers.ntn.simulate.run_episodes`): ``SATISAC_SCENARIO_BATCH`` or
the global ``satisac --scenario-batch N``; ``auto`` (default) is 1 on a CPU, where a batch
costs more per scenario than one after the other (it runs until its slowest member stops
and XLA:CPU runs the batched kernels serially: BENCHMARKS.md, "Batched NTN scenarios"), and
``ACCELERATOR_SCENARIO_BATCH`` on a GPU/TPU.  The rows agree with one scenario at a time to
the solver's tolerance: identical on small frames, but JMRA's path (outer iterations,
rounding) can move with the last bits of a batched kernel (on default 600-cell frames,
batch 4 on the 2-core CPU: objective (25) within 1e-4 relative, like ``--devices``).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import MutableMapping

THREAD_VARS = ("NPROC", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
MIN_COMPILE_S = 0.5  # programs compiling faster than this are not written to the cache
_OFF = {"0", "false", "no", "off"}


def available_cpus() -> int:
    """CPUs this process may run on (affinity mask; ``os.cpu_count()`` where unsupported)."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except (AttributeError, OSError):  # pragma: no cover - macOS / Windows
        return max(os.cpu_count() or 1, 1)


def machine_busy(load: float | None = None, cpus: int | None = None) -> bool:
    """The machine is already full: 1-minute load average (``os.getloadavg``) >= its CPU count
    (``os.cpu_count``; the whole machine, since other jobs' runnable threads are what our
    threads would wait behind).  False where the load average is unavailable."""
    if load is None:
        try:
            load = os.getloadavg()[0]
        except (AttributeError, OSError):  # pragma: no cover - Windows
            return False
    cpus = cpus if cpus is not None else (os.cpu_count() or 1)
    return load >= cpus


def thread_count(env: MutableMapping[str, str] | None = None, busy: bool | None = None) -> int:
    """``SATISAC_THREADS`` (a positive integer) if set, else 1 on a busy machine
    (:func:`machine_busy`, or ``busy`` when given), else :func:`available_cpus`."""
    env = os.environ if env is None else env
    text = env.get("SATISAC_THREADS", "").strip()
    if not text:
        return 1 if (machine_busy() if busy is None else busy) else available_cpus()
    return _positive_int("SATISAC_THREADS", text, "a positive integer")


def _positive_int(name: str, text: str, expected: str) -> int:
    """``int(text)`` if it is >= 1, else ``ValueError("NAME: expected ..., got 'text'")``."""
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise ValueError(f"{name}: expected {expected}, got {text!r}")
    return n


def configure_threads(env: MutableMapping[str, str] | None = None, busy: bool | None = None) -> int:
    """Size XLA's and BLAS's thread pools (module docstring); returns the thread count.

    Sets ``NPROC``, ``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS``, ``MKL_NUM_THREADS`` in
    ``env`` (default ``os.environ``; child processes inherit them).  Takes effect for the
    libraries not yet loaded in this process, so call it before importing numpy or jax.
    """
    env = os.environ if env is None else env
    forced = bool(env.get("SATISAC_THREADS", "").strip())
    n = thread_count(env, busy)
    for var in THREAD_VARS:
        if forced or not env.get(var, "").strip():
            env[var] = str(n)
    if n == 1:
        flags = env.get("XLA_FLAGS", "").split()
        if not any("xla_cpu_multi_thread_eigen" in f for f in flags):
            env["XLA_FLAGS"] = " ".join(flags + ["--xla_cpu_multi_thread_eigen=false"])
    return n


ACCELERATOR_SCENARIO_BATCH = 64


def scenario_batch(env: MutableMapping[str, str] | None = None, backend: str | None = None) -> int:
    """NTN scenarios per batched call (module docstring): ``SATISAC_SCENARIO_BATCH`` (a
    positive integer or ``auto``), ``auto`` = 1 on the CPU backend, else
    :data:`ACCELERATOR_SCENARIO_BATCH` (``backend``: JAX's default backend unless given)."""
    env = os.environ if env is None else env
    text = env.get("SATISAC_SCENARIO_BATCH", "").strip().lower() or "auto"
    if text == "auto":
        if backend is None:
            import jax

            backend = jax.default_backend()
        return 1 if backend == "cpu" else ACCELERATOR_SCENARIO_BATCH
    return _positive_int("SATISAC_SCENARIO_BATCH", text, "a positive integer or 'auto'")


def cache_dir(env: MutableMapping[str, str] | None = None) -> Path | None:
    """The persistent compilation cache directory, or None when switched off."""
    env = os.environ if env is None else env
    if env.get("SATISAC_COMPILATION_CACHE", "1").strip().lower() in _OFF:
        return None
    if env.get("SATISAC_COMPILATION_CACHE_DIR", "").strip():
        return Path(env["SATISAC_COMPILATION_CACHE_DIR"]).expanduser()
    base = env.get("XDG_CACHE_HOME", "").strip() or str(Path("~/.cache").expanduser())
    return Path(base) / "satisac" / "jax"


def min_compile_s(env: MutableMapping[str, str] | None = None) -> float:
    """Programs compiling faster than this many seconds are not written to the cache:
    ``SATISAC_COMPILATION_CACHE_MIN_S`` (a number >= 0), else ``MIN_COMPILE_S``."""
    env = os.environ if env is None else env
    text = env.get("SATISAC_COMPILATION_CACHE_MIN_S", "").strip()
    if not text:
        return MIN_COMPILE_S
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0.0:  # also NaN
        raise ValueError(f"SATISAC_COMPILATION_CACHE_MIN_S: expected a number of seconds >= 0, got {text!r}")
    return value


def configure_compilation_cache(enabled: bool = True, env: MutableMapping[str, str] | None = None) -> Path | None:
    """Turn JAX's persistent compilation cache on at :func:`cache_dir` (or leave it off).

    Returns the directory used, or None (disabled by argument or environment, or the
    directory cannot be created: then the run just compiles as usual)."""
    path = cache_dir(env) if enabled else None
    if path is None:
        return None
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    import jax

    jax.config.update("jax_compilation_cache_dir", str(path))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", min_compile_s(env))
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    return path
