"""Run a figure/claims job as one of several writers of its run stores.

``satisac reproduce FIGURE -o OUT`` normally runs every chunk of its runs and then reduces
them to the figure.  Two other ways split the chunks (:mod:`solvers.runner.claims`):

* ``--shard i/n`` (or a SLURM array task, ``SLURM_ARRAY_TASK_ID``/``_COUNT``): an
  independent job computes its share of every run store under ``OUT`` and stops; it writes
  no figure (its view of the store is partial).  When all ``n`` jobs have finished, the same
  command without ``--shard`` finds every chunk on disk and only reduces.  A job killed part
  way leaves at most its chunk in flight; re-running it (or the final run) does the rest.
* ``--distributed`` (multi-process JAX, ``solvers.devices``): process ``p`` of ``P`` is shard
  ``p/P``; after each store all processes wait for each other, and process 0 reduces and
  writes the figure.  The other processes reduce into a scratch directory that is removed.

The figure code needs no change: it calls ``run_sweep``/``load_results`` with paths under the
output directory it was given; a job that must not write figure files is given a scratch
directory, and the surrounding :class:`~solvers.runner.claims.ShardScope` maps run
directories under it back to ``OUT``.
"""
from __future__ import annotations

import argparse
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from solvers.configio import ConfigError
from solvers.devices import initialize_distributed
from solvers.runner.claims import HOST, Shard, ShardScope, parse_shard, shard_from_env, shard_scope


@dataclass(frozen=True)
class Job:
    """This process's part: ``shard`` of the chunks; ``distributed`` for a multi-process run."""

    shard: Shard
    distributed: bool = False

    @property
    def writes_outputs(self) -> bool:
        return self.distributed and self.shard.index == 0


def add_job_args(p: argparse.ArgumentParser) -> None:
    """``--shard i/n`` and ``--distributed`` for a command that fills run stores."""
    p.add_argument("--shard", metavar="i/n", default=None,
                   help="compute only share i (0-based) of n of the chunks, to run n jobs on one output "
                        "directory (e.g. a SLURM array: read from SLURM_ARRAY_TASK_ID/COUNT when not given; "
                        "'none' turns that off); no figure is written: when all n are done, run the same "
                        "command without --shard")
    p.add_argument("--distributed", action="store_true",
                   help="multi-process JAX (JAX_COORDINATOR_ADDRESS / JAX_NUM_PROCESSES / JAX_PROCESS_ID, or "
                        "srun/mpirun): the processes share the chunks, process 0 writes the figure")


def job_from_args(args: argparse.Namespace, env=None) -> Job | None:
    """The :class:`Job` the arguments ask for, or None for a whole (single-writer) run.

    Raises ConfigError for a malformed ``--shard``/SLURM value or a failed ``--distributed``
    start-up (one line, before anything is written)."""
    text = getattr(args, "shard", None)
    if getattr(args, "distributed", False):
        if text not in (None, "none"):
            raise ConfigError("--shard: not with --distributed (the processes of a distributed run are its shards)")
        initialize_distributed(env)
        import jax  # local: the CLI imports this module to build its parser (no JAX at --help)
        return Job(Shard(jax.process_index(), jax.process_count()), distributed=True)
    if text is None:
        shard = shard_from_env(env)
    elif str(text).strip().lower() == "none":
        shard = None
    else:
        shard = parse_shard(text)
    return None if shard is None else Job(shard)


def _barrier() -> Callable[[], None]:
    from jaxcore.sharding import process_barrier  # local: JAX, as above
    return lambda: process_barrier("run-store")


def run_job(job: Job, run: Callable[[Path], str], out: Path) -> tuple[str | None, ShardScope]:
    """Run ``run(out_dir) -> table`` as ``job``; returns ``(table or None, scope)``.

    The table is None for a job that writes no figure.  Errors inside the runner (a work
    function failing, a locked store) propagate; a shard job's reduction of its partial view
    is not needed and its failure is ignored.
    """
    scope = ShardScope(shard=job.shard, barrier=_barrier() if job.distributed else None)
    if job.writes_outputs:
        with shard_scope(scope):
            return run(out), scope
    scratch = out / f".job-{HOST}-{os.getpid()}"
    scope.alias = (scratch, out)
    try:
        scratch.mkdir(parents=True, exist_ok=True)
        with shard_scope(scope):
            try:
                run(scratch)
            except Exception:
                if job.distributed or scope.failed:
                    raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return None, scope


def describe(job: Job, scope: ShardScope, command: str) -> str:
    """One line on what a job that wrote no figure did."""
    did = (f"{'process' if job.distributed else 'shard'} {job.shard}: computed {scope.computed} chunk(s), "
           f"{scope.skipped} already done, {scope.busy} held by other jobs")
    if job.distributed:
        return did + "; process 0 writes the figure"
    if scope.computed + scope.skipped + scope.busy == 0:
        return did + f" (this item uses no run store; run `{command}` without --shard)"
    return did + f"; when all {job.shard.count} jobs are done, `{command}` without --shard writes the figure"
