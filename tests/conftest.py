"""Shared fixtures: float64 on for reference comparisons, a PRNG key, the shared/ folder.

x64 is enabled for the whole test session; float32 behaviour is tested by casting
inputs explicitly (the library keeps the precision it is given).
"""
from __future__ import annotations

import os
from pathlib import Path


def _quick_xla_compiles() -> None:
    """Compile at XLA backend optimisation level 1 for the whole session (child processes
    inherit it).  The suite is dominated by compiling hundreds of small programs on a 2-core
    CPU; level 1 compiles about 10 % faster than the default and runs no slower here
    (tests/solvers/istn/test_baselines.py + test_power.py 140 -> 124 s; test_jmra_convergence.py +
    test_streaming.py 135 -> 127 s).  Level 0 compiles faster still but runs the 600-cell JMRA
    test 3x slower and moves round-off enough to flip a cell's status between the streaming and
    the fixed-batch solver.  Benchmarks and user runs keep XLA's default level.
    ``SATISAC_TEST_XLA_OPT=default`` (or an ``XLA_FLAGS`` that sets a level) keeps the default."""
    flags = os.environ.get("XLA_FLAGS", "")
    if os.environ.get("SATISAC_TEST_XLA_OPT", "1") == "default" or "xla_backend_optimization_level" in flags:
        return
    os.environ["XLA_FLAGS"] = (flags + " --xla_backend_optimization_level=1").strip()


_quick_xla_compiles()


def _quick_drop_generator() -> None:
    """Build the ISTN drop generator at XLA optimisation level 0 for the whole session
    (``SATISAC_QUICK_COMPILE=1``, solvers/istn/generate.py; child processes inherit it): the
    suite compiles it for about 20 scenario shapes, each ~9 s at level 1 and a fraction of
    that at level 0, and the drops it makes differ from the default build by float round-off
    only (jaxcore/istn/drops.py: one traced function, two compiler options).  The suite thus
    runs the level-0 build; ``SATISAC_QUICK_COMPILE=0`` exported runs it on the default build."""
    os.environ.setdefault("SATISAC_QUICK_COMPILE", "1")


_quick_drop_generator()


def _load_independent_threads() -> None:
    """Pin the thread count of every ``satisac`` the tests run (in process and as child
    processes) to the CPUs available, so that no test depends on the load average
    (``solvers.runtime.machine_busy``: the suite's own two workers keep a 2-core machine
    "busy").  An exported ``SATISAC_THREADS`` is kept."""
    from solvers.runtime import available_cpus
    os.environ.setdefault("SATISAC_THREADS", str(available_cpus()))


_load_independent_threads()

import jax  # noqa: E402  (after XLA_FLAGS: read when the backend starts)
import pytest  # noqa: E402

jax.config.update("jax_enable_x64", True)


def _library_matmul_precision() -> None:
    """Full-precision matrix products for the whole session, as every ``satisac`` command and
    benchmark sets them (``jaxcore.precision.set_precision``).  On a CPU the numbers do not
    change; the compiled programs do (the precision is written into each dot of the program,
    hence into its compilation-cache key): without it a solve in the test process misses the
    programs of the same solve in a ``satisac`` child process, and an in-process CLI call half
    way through the session switches the rest of that worker over."""
    from jaxcore.precision import MATMUL_PRECISION
    jax.config.update("jax_default_matmul_precision", MATMUL_PRECISION)


_library_matmul_precision()


def _session_compilation_cache() -> None:
    """One persistent compilation cache for this test session, in a fresh temporary directory
    (removed at exit; never the user's cache, solvers/runtime.py).  The suite compiles the
    same programs many times: after ``_release_compiled_programs`` below, in every ``satisac``
    child process and in every in-process CLI call; each later build of a program loads
    it instead of compiling.  ``SATISAC_COMPILATION_CACHE=0`` in the environment keeps it off."""
    if os.environ.get("SATISAC_COMPILATION_CACHE", "1").strip().lower() in ("0", "false", "no", "off"):
        os.environ["SATISAC_COMPILATION_CACHE"] = "0"
        return
    import atexit
    import shutil
    import tempfile

    from solvers import runtime
    inherited = os.environ.get("SATISAC_TEST_CACHE_DIR")
    if os.environ.get("PYTEST_XDIST_WORKER") and inherited and os.path.isdir(inherited):
        d = inherited  # a pytest-xdist worker: share the controller's cache (removed by the controller)
    else:
        d = tempfile.mkdtemp(prefix="satisac-test-jax-cache-")
        atexit.register(shutil.rmtree, d, ignore_errors=True)
        os.environ["SATISAC_TEST_CACHE_DIR"] = d
    os.environ["SATISAC_COMPILATION_CACHE"] = "1"
    os.environ["SATISAC_COMPILATION_CACHE_DIR"] = d  # inherited by child processes
    # every program, however quick to compile: the suite rebuilds many sub-second programs
    # (child processes, after each module's release); 172 CLI/runner/NTN tests, -n 2:
    # 365 -> 355 CPU-s user (2026-12-06, 2-core CPU)
    os.environ.setdefault("SATISAC_COMPILATION_CACHE_MIN_S", "0")
    runtime.configure_compilation_cache()


_session_compilation_cache()

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


#: Slow modules whose programs another slow module compiles first (same cells, precisions and
#: solver settings): ``gpu_check --tiny`` and ``istn_perdrop`` solve ``bench --quick``'s ISTN
#: cell (and gpu_check its JMRA frames).  Run beside ``bench --quick`` they compiled the same
#: programs at the same time (2026-12-07, 2-core VM: gpu_check 103 s beside it, 45 s after it).
_REUSES_EARLIER_PROGRAMS = frozenset({"test_gpu_check.py", "test_istn_perdrop.py"})


def pytest_collection_modifyitems(config, items):
    """Order whole modules (a stable sort on a per-module key, so module-scoped fixtures are
    still built once).  One process: quick modules first so ``pytest -q`` shows progress from
    the start, ``tests/benchmarks`` (child processes, benchmarks) next, modules with a
    ``slow``-marked test last.  Under pytest-xdist (``-n``, files kept whole by
    ``--dist loadfile --no-loadscope-reorder``, which keeps this order) the reverse: the long
    modules start first and the quick ones fill in around them, which shortens the run on two
    workers (a long module handed out last keeps one worker busy while the other idles)."""
    slow_modules = {str(it.fspath) for it in items if it.get_closest_marker("slow") is not None}
    parallel = bool(os.environ.get("PYTEST_XDIST_WORKER"))

    def rank(it):
        r = (str(it.fspath) in slow_modules, Path(str(it.fspath)).parent.name == "benchmarks")
        if parallel:
            # a slow module that loads its programs from an earlier one's compilation cache
            # last among the slow ones, not beside it (both compiling the same programs)
            return (not r[0], Path(str(it.fspath)).name in _REUSES_EARLIER_PROGRAMS, not r[1])
        return r

    items.sort(key=rank)


@pytest.fixture
def key():
    return jax.random.PRNGKey(1234)


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    return SHARED


@pytest.fixture
def cli(tmp_path):
    """Run ``satisac`` in-process; returns (exit_code, stdout, stderr)."""
    import contextlib
    import io

    from solvers.cli import main

    def _run(*argv):
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main([str(a) for a in argv])
            except SystemExit as e:  # argparse errors
                code = e.code if isinstance(e.code, int) else 2
        return code, out.getvalue(), err.getvalue()

    return _run


@pytest.fixture(autouse=True, scope="module")
def _release_compiled_programs():
    """Free every compiled program after each test module.

    The whole suite runs in one process; XLA:CPU keeps ~17 memory mappings per cached
    program and Linux caps a process at vm.max_map_count (65,530): the suite crossed it and
    crashed in a compilation (see ``solvers.runner.programs``).  Costs only recompiles of
    programs shared between modules."""
    yield
    from solvers.runner.programs import release_programs
    release_programs(force=True)
