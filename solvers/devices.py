"""``--devices N|all``: choose the devices the drop/frame axis is sharded over.

The solvers are batched over a leading drop/frame axis; ``jaxcore.sharding`` splits that
axis over a 1-D ``"drops"`` mesh.  This module is the command-line plumbing:

* :func:`add_devices_arg` adds ``--devices N|all`` (and ``--distributed``) to a parser;
* :func:`apply_devices` turns the parsed value into a list of devices (and, with
  ``--distributed``, first starts multi-process JAX, :func:`initialize_distributed`);
* :func:`solve_distributed` splits a batch over the processes and gathers the rows;
* :func:`make_mesh` returns the ``jaxcore.sharding`` mesh over those devices.

Several devices on one host
---------------------------
``satisac istn solve inst.npz -o sol.npz --devices all`` uses every visible GPU (or TPU
core).  On a CPU-only machine JAX shows one device; for testing,
``XLA_FLAGS=--xla_force_host_platform_device_count=4`` (set before JAX is imported) makes
it show four, each a slice of the host's threads.

Several hosts (multi-process JAX)
---------------------------------
Start the *same* command once per host (or once per GPU under SLURM/MPI), with::

    export JAX_COORDINATOR_ADDRESS=host0:1234  # reachable from every host
    export JAX_NUM_PROCESSES=2                  # total processes
    export JAX_PROCESS_ID=0                     # 0 on host0, 1 on host1, ...
    satisac --precision float32 istn solve inst.npz -o sol.npz --devices all --distributed

``--distributed`` passes the three variables to ``jax.distributed.initialize`` (a missing
or ill-formed one is reported in one line, exit 2); without them it lets JAX detect SLURM
(``srun``) or Open MPI (``mpirun``).  On CPU it first selects JAX's gloo collectives.
Each process then solves its contiguous share of the drops/frames on its own devices
(``--devices`` counts the devices *of one process*), and the rows are all-gathered
(:func:`solve_distributed`; ``jaxcore.sharding.allgather_rows``).  Every process must load
the same instance file; only process 0 writes (:func:`is_writer`).  ``satisac reproduce
--distributed`` splits the runner's chunks over the processes instead (each process is one
shard of the run store, which must be on a filesystem every process sees; see
``solvers.runner.claims``).
"""
from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING, Callable

import numpy as np

from solvers.configio import ConfigError

if TYPE_CHECKING:
    from solvers.solution import Solution


def add_devices_arg(parser: argparse.ArgumentParser) -> None:
    """Add ``--devices N|all`` and ``--distributed`` to ``parser``."""
    parser.add_argument(
        "--devices", default="1", metavar="N|all",
        help="shard the drop/frame axis over N devices, or 'all' visible devices "
             "(default 1: no sharding); results agree with one device to the solver tolerance")
    parser.add_argument(
        "--distributed", action="store_true",
        help="multi-process JAX (several hosts or one process per GPU): reads JAX_COORDINATOR_ADDRESS "
             "(host:port), JAX_NUM_PROCESSES and JAX_PROCESS_ID, or detects srun (SLURM) / mpirun (Open MPI); "
             "each process solves its share of the batch and process 0 writes")


def parse_devices(value: str | int | None) -> int | None:
    """``"all"``/None -> None (all devices); ``"3"``/3 -> 3.  Raises ConfigError otherwise."""
    if value is None or (isinstance(value, str) and value.strip().lower() == "all"):
        return None
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"--devices: expected a positive integer or 'all', got {value!r}") from None
    if n < 1:
        raise ConfigError(f"--devices: expected a positive integer or 'all', got {n}")
    return n


_initialized = False
DIST_VARS = ("JAX_COORDINATOR_ADDRESS", "JAX_NUM_PROCESSES", "JAX_PROCESS_ID")


def distributed_args(env: dict | None = None) -> dict:
    """Keyword arguments for ``jax.distributed.initialize`` from the environment.

    ``JAX_COORDINATOR_ADDRESS`` (``host:port``), ``JAX_NUM_PROCESSES`` (>= 1) and
    ``JAX_PROCESS_ID`` (0 .. N-1) when any of them is set (all three are then required);
    ``{}`` under SLURM (``SLURM_JOB_ID`` with ``SLURM_NTASKS``/``SLURM_STEP_NUM_TASKS``) or
    Open MPI (``OMPI_COMM_WORLD_SIZE``), where JAX detects the cluster itself.
    Raises ConfigError (one line naming the variable) otherwise.
    """
    env = os.environ if env is None else env
    given = {k: env[k].strip() for k in DIST_VARS if env.get(k, "").strip()}
    if not given:
        if "OMPI_COMM_WORLD_SIZE" in env or ("SLURM_JOB_ID" in env and
                                             ("SLURM_NTASKS" in env or "SLURM_STEP_NUM_TASKS" in env)):
            return {}
        raise ConfigError("--distributed: set JAX_COORDINATOR_ADDRESS=host:port, JAX_NUM_PROCESSES=N and "
                          "JAX_PROCESS_ID=i (0..N-1) for every process, or start them with srun (SLURM) "
                          "or mpirun (Open MPI)")
    missing = [k for k in DIST_VARS if k not in given]
    if missing:
        raise ConfigError(f"--distributed: {', '.join(missing)} not set (all of {', '.join(DIST_VARS)} are needed)")
    addr = given["JAX_COORDINATOR_ADDRESS"]
    host, _, port = addr.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"JAX_COORDINATOR_ADDRESS: expected host:port (e.g. node0:12345), got {addr!r}")
    try:
        n, i = int(given["JAX_NUM_PROCESSES"]), int(given["JAX_PROCESS_ID"])
    except ValueError:
        raise ConfigError("JAX_NUM_PROCESSES / JAX_PROCESS_ID: expected integers, got "
                          f"{given['JAX_NUM_PROCESSES']!r} / {given['JAX_PROCESS_ID']!r}") from None
    if n < 1:
        raise ConfigError(f"JAX_NUM_PROCESSES: expected an integer >= 1, got {n}")
    if not 0 <= i < n:
        raise ConfigError(f"JAX_PROCESS_ID: expected an integer in 0..{n - 1} (JAX_NUM_PROCESSES={n}), got {i}")
    return {"coordinator_address": addr, "num_processes": n, "process_id": i}


def initialize_distributed(env: dict | None = None) -> None:
    """``jax.distributed.initialize`` once per process (idempotent), from
    :func:`distributed_args`.  On CPU the processes exchange results through JAX's gloo
    collectives (``jax_cpu_collectives_implementation``), set before initialising."""
    global _initialized
    if _initialized:
        return
    kwargs = distributed_args(env)
    import jax
    try:
        jax.config.update("jax_cpu_collectives_implementation", "gloo")
    except (AttributeError, KeyError, ValueError):  # pragma: no cover - a JAX without gloo
        pass
    try:
        jax.distributed.initialize(**kwargs)
    except (RuntimeError, ValueError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ConfigError(f"--distributed: jax.distributed.initialize failed: {first}") from None
    _initialized = True


def select_devices(n: int | None = None):
    """The first ``n`` of this process's devices (all if None).  ConfigError if too few.

    Single-process that is ``jax.devices()``; in a multi-process run each process solves
    its own share of the batch (:func:`solve_distributed`) on its local devices."""
    import jax
    devs = jax.local_devices() if jax.process_count() > 1 else jax.devices()
    if n is None:
        return list(devs)
    if n > len(devs):
        raise ConfigError(
            f"--devices: asked for {n} devices but JAX sees {len(devs)} "
            f"({devs[0].platform}); on CPU set XLA_FLAGS=--xla_force_host_platform_device_count={n} "
            f"before starting, or use --devices all")
    return list(devs[:n])


def apply_devices(args: argparse.Namespace):
    """Devices chosen by ``args.devices`` / ``args.distributed`` (missing -> 1 device).

    Call it at the start of a command's ``run(args)``; pass the result to
    :func:`make_mesh` or directly to ``jaxcore.sharding.drops_mesh``.
    """
    if getattr(args, "distributed", False):
        initialize_distributed()
    return select_devices(parse_devices(getattr(args, "devices", "1")))


def make_mesh(devices=None):
    """``jaxcore.sharding.drops_mesh`` over ``devices`` (default: all visible)."""
    from jaxcore.sharding import drops_mesh
    return drops_mesh(devices)


def is_writer() -> bool:
    """True on the process that should write files (process 0; always True single-host)."""
    import jax
    return jax.process_index() == 0


def solve_distributed(arrays: dict, solve: Callable[[dict], Solution], batch: int) -> Solution:
    """``solve(arrays)`` with the batch split over the processes of a multi-process run.

    Single-process: just ``solve(arrays)``.  Otherwise each process solves its contiguous
    share of the drops/frames (``jaxcore.sharding.process_rows``; leaves whose first axis is
    the batch are split, others passed whole) and every process receives all rows of the
    result (``jaxcore.sharding.allgather_rows``).  Instances are independent, so the rows
    equal a one-process solve up to floating-point reassociation.  ``solve`` returns a
    :class:`solvers.solution.Solution` (every field has the batch axis first); the gathered
    result is the same type.
    """
    import jax
    from jaxcore.sharding import allgather_rows, pad_batch, process_rows

    if jax.process_count() == 1:
        return solve(arrays)
    b = int(batch)
    lo, hi, share = process_rows(b, jax.process_index(), jax.process_count())
    rows = {k: v for k, v in arrays.items() if np.ndim(v) and np.shape(v)[0] == b}
    padded, _ = pad_batch({k: np.asarray(v) for k, v in rows.items()}, share * jax.process_count())
    local = {**arrays, **{k: v[lo:hi] for k, v in padded.items()}}
    return allgather_rows(solve(local), b)  # a Solution is a pytree of [share, ...] rows


def force_host_devices_env(n: int, env: dict | None = None) -> dict:
    """A copy of ``env`` (default ``os.environ``) whose XLA_FLAGS give ``n`` CPU devices.

    For starting a subprocess (tests, benchmarks); has no effect on a running JAX.
    """
    env = dict(os.environ if env is None else env)
    flags = [f for f in env.get("XLA_FLAGS", "").split() if "xla_force_host_platform_device_count" not in f]
    flags.append(f"--xla_force_host_platform_device_count={int(n)}")
    env["XLA_FLAGS"] = " ".join(flags)
    return env
