"""``--devices N|all``: choose the devices the drop/frame axis is sharded over.

The solvers are batched over a leading drop/frame axis; ``jaxcore.sharding`` splits that
axis over a 1-D ``"drops"`` mesh.  This module is the command-line plumbing:

* :func:`add_devices_arg` adds ``--devices N|all`` (and ``--distributed``) to a parser;
* :func:`apply_devices` turns the parsed value into a list of devices (and, with
  ``--distributed``, first calls ``jax.distributed.initialize()``);
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

``--distributed`` calls ``jax.distributed.initialize()`` before any JAX computation; with
no arguments it reads the variables above, or detects SLURM / Open MPI / TPU pods itself.
``jax.devices()`` then lists the devices of *all* processes, the mesh spans them, and each
process holds and computes only its addressable rows (``jaxcore.sharding.shard_batch``
builds the global arrays with ``jax.make_array_from_callback``).  Every process must
load the same instance file (same seed -> same drops); only process 0 should write
outputs (``is_writer()``).  Gathering a result on host uses
``jax.experimental.multihost_utils.process_allgather``.
"""
from __future__ import annotations

import argparse
import os

from solvers.configio import ConfigError


def add_devices_arg(parser: argparse.ArgumentParser) -> None:
    """Add ``--devices N|all`` and ``--distributed`` to ``parser``."""
    parser.add_argument(
        "--devices", default="1", metavar="N|all",
        help="shard the drop/frame axis over N devices, or 'all' visible devices "
             "(default 1: no sharding); results agree with one device to the solver tolerance")
    parser.add_argument(
        "--distributed", action="store_true",
        help="multi-host run: call jax.distributed.initialize() first (reads "
             "JAX_COORDINATOR_ADDRESS / JAX_NUM_PROCESSES / JAX_PROCESS_ID, or SLURM/MPI)")


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


def initialize_distributed() -> None:
    """``jax.distributed.initialize()`` once per process (idempotent)."""
    global _initialized
    if _initialized:
        return
    import jax
    jax.distributed.initialize()
    _initialized = True


def select_devices(n: int | None = None):
    """The first ``n`` of ``jax.devices()`` (all if None).  ConfigError if too few."""
    import jax
    devs = jax.devices()
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


def force_host_devices_env(n: int, env: dict | None = None) -> dict:
    """A copy of ``env`` (default ``os.environ``) whose XLA_FLAGS give ``n`` CPU devices.

    For starting a subprocess (tests, benchmarks); has no effect on a running JAX.
    """
    env = dict(os.environ if env is None else env)
    flags = [f for f in env.get("XLA_FLAGS", "").split() if "xla_force_host_platform_device_count" not in f]
    flags.append(f"--xla_force_host_platform_device_count={int(n)}")
    env["XLA_FLAGS"] = " ".join(flags)
    return env
