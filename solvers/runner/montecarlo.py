"""Resumable Monte-Carlo runner: sweep points x drop chunks -> a Parquet store.

Generic: the runner knows nothing about ISTN or NTN.  It takes a ``work`` callable::

    work(point_cfg, drops: np.ndarray[int64], seed: int) -> rows

(``seed`` may be omitted from the signature) that generates and solves the drops with the
given *global* indices and returns the result rows -- a list of dicts, a dict of columns
or a pyarrow Table -- with at least a ``drop`` column (one row per drop and method, say).
All randomness of drop ``i`` must come from ``(seed, i)`` only (see :func:`drop_rng`,
:func:`drop_key`), so a result never depends on the chunk size or on which chunks ran in
which process.  The runner adds the identifying columns ``point``, the swept keys,
``config_hash`` and ``seed``, and writes one file per (point, chunk) atomically
(:mod:`solvers.runner.store`).

Batched calls: a ``work`` with a ``many`` attribute,
``work.many([(point_cfg, drops), ...], seed) -> [rows, ...]``, may compute several pending
(point, chunk) pairs in one call (``run_sweep(batch=N)``), e.g. independent NTN
simulations as one batched program.  Each pair is still written to its own chunk file, so
the store's layout and resuming do not depend on ``batch`` (the numbers agree to the
tolerance of the batched solver).

Resuming: chunks whose file exists are skipped, so a run killed at any moment and started
again with the same arguments does exactly the missing chunks -- nothing lost, nothing
duplicated -- and a finished run re-run does no work.  Starting a *different* run (config,
sweep, seed, methods, drops, chunk size or ``extra`` changed) in the same directory is
refused with the list of differences.

Several jobs on one store (:mod:`solvers.runner.claims`): ``shard=Shard(i, n)`` (or a
surrounding :func:`~solvers.runner.claims.shard_scope`) computes only chunk ``k`` with
``k mod n == i`` of the run's (point, chunk) list, each under an atomic claim, so ``n``
jobs started side by side (a SLURM array) fill the store without computing any chunk
twice; a re-run of a killed job does its missing chunks, and a final run without a shard
computes only what is still missing.  A whole run (no shard) holds the run directory's
lock exclusively: a second one on the same store stops at once with one line.
"""
from __future__ import annotations

import contextvars
import inspect
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import jax
import numpy as np
import pyarrow as pa
from tqdm.auto import tqdm

from solvers.configio import ConfigError, to_dict
from solvers.runner.claims import (Heartbeat, Shard, claim_path, current_scope, lease_seconds, release_claim,
                                   resolve, run_lock, try_claim)
from solvers.runner.programs import release_programs
from solvers.runner.store import RunStore, rows_to_table
from solvers.runner.sweep import SweepPoint, expand_sweep

ID_COLUMNS = ("point", "config_hash", "seed")


@dataclass(frozen=True)
class RunSummary:
    run_dir: Path
    points: tuple  # SweepPoint per point
    n_drops: int
    chunks_total: int
    chunks_run: int  # chunks computed by this call
    chunks_skipped: int  # chunks already on disk
    seconds: float
    chunks_busy: int = 0  # chunks of this shard held by another live job (not computed here)


def drop_rng(seed: int, drop: int) -> np.random.Generator:
    """NumPy generator of drop ``drop``: depends on ``(seed, drop)`` only."""
    return np.random.default_rng([int(seed), int(drop)])


def drop_key(seed: int, drop: int):
    """JAX PRNG key of drop ``drop``: ``fold_in(PRNGKey(seed), drop)``."""
    return jax.random.fold_in(jax.random.PRNGKey(int(seed)), int(drop))


_CHUNK_PROGRESS: contextvars.ContextVar[Callable[[float], None] | None] = contextvars.ContextVar(
    "satisac_chunk_progress", default=None)


def chunk_progress(fraction: float) -> None:
    """Tell :func:`run_sweep`'s progress bar that ``fraction`` (0..1) of the chunk the current
    ``work`` call computes is done, so the bar (drops/s, ETA) moves inside long chunks.  A
    ``work`` function calls it as it goes (ISTN: after each method; NTN: after each frame); a
    no-op outside ``run_sweep`` or without a bar."""
    tick = _CHUNK_PROGRESS.get()
    if tick is not None:
        tick(fraction)


def _call_work(work: Callable, cfg: Any, drops: np.ndarray, seed: int):
    try:
        params = inspect.signature(work).parameters
    except (TypeError, ValueError):  # builtins / C callables
        params = {}
    takes_seed = "seed" in params or len([p for p in params.values()
                                          if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]) >= 3 \
        or any(p.kind == p.VAR_POSITIONAL for p in params.values())
    return work(cfg, drops, seed) if takes_seed else work(cfg, drops)


def _with_ids(table: pa.Table, point: SweepPoint, seed: int, drops: np.ndarray) -> pa.Table:
    if "drop" not in table.column_names:
        raise ValueError("work(): the returned rows need a 'drop' column (global drop index)")
    got = np.asarray(table.column("drop").to_numpy(zero_copy_only=False))
    if table.num_rows == 0 or not np.isin(got, drops).all() or not np.isin(drops, got).all():
        raise ValueError(f"work(): rows must cover exactly drops {drops[0]}..{drops[-1]}; "
                         f"got drop values {sorted(set(got.tolist()))[:10]}")
    ids = {"point": pa.array(np.full(table.num_rows, point.index, np.int32))}
    for k, v in point.values.items():
        ids[k] = pa.array([v] * table.num_rows)
    ids["config_hash"] = pa.array([point.cfg_hash] * table.num_rows, pa.string())
    ids["seed"] = pa.array(np.full(table.num_rows, seed, np.int64))
    clash = [k for k in ids if k in table.column_names]
    if clash:
        raise ValueError(f"work(): returned columns {clash} clash with the runner's identifying columns")
    cols = dict(ids)
    for name in table.column_names:
        cols[name] = table.column(name)
    return pa.table(cols)


def manifest_for(base_cfg: Any, sweep: Mapping | None, mode: str, seed: int, methods: Sequence[str],
                 n_drops: int, chunk_size: int, extra: Mapping | None) -> dict:
    return {
        "config_type": f"{type(base_cfg).__module__}.{type(base_cfg).__name__}",
        "config": to_dict(base_cfg),
        "sweep": dict(sweep or {}),
        "sweep_mode": mode,
        "seed": int(seed),
        "methods": list(methods),
        "n_drops": int(n_drops),
        "chunk_size": int(chunk_size),
        "extra": dict(extra or {}),
    }


def run_sweep(
    run_dir: str | os.PathLike,
    base_cfg: Any,
    work: Callable[..., Any],
    *,
    n_drops: int,
    seed: int,
    sweep: Mapping[str, Sequence] | None = None,
    mode: str = "grid",
    methods: Sequence[str] = (),
    chunk_size: int = 50,
    extra: Mapping[str, Any] | None = None,
    progress: bool = True,
    desc: str | None = None,
    shard: Shard | None = None,
    lease_s: float | None = None,
    unit: str = "drop",
    batch: int = 1,
) -> RunSummary:
    """Run (or resume) a sweep; see the module docstring.

    Args:
      run_dir: directory of the store (created if missing).
      base_cfg: frozen config dataclass; swept keys are replaced per point.
      work: ``work(point_cfg, drops, seed) -> rows`` (``seed`` optional).
      n_drops: drops per sweep point (global indices ``0..n_drops-1``).
      seed: run seed; drop ``i`` is drawn from ``(seed, i)``.
      sweep: ``{key: [values]}``; validated before any work (:func:`expand_sweep`).
      mode: ``"grid"`` or ``"zip"``.
      methods: recorded in the manifest (the work callable decides what it runs).
      chunk_size: drops per chunk (one file per point and chunk).
      extra: more JSON-able facts that identify the run (solver settings, figure name...).
      progress: show a tqdm bar (drops/s and ETA).
      desc: the bar's label (default: the run directory's name).
      unit: what one "drop" of this run is, for the bar (NTN: ``"episode"``, a frame loop).
      batch: when ``work`` has a ``many`` attribute, up to ``batch`` pending (point, chunk)
        pairs are computed by one call ``work.many([(point_cfg, drops), ...], seed) -> [rows,
        ...]`` (one batched program over them; NTN: :func:`solvers.ntn.simulate.make_work`).
        Chunk files and resuming do not depend on it (not in the manifest).
      shard: compute only this job's share of the chunks, each under a claim (default: the
        surrounding ``shard_scope``'s, else the whole run under the exclusive lock).
      lease_s: a claim untouched this long is stale (default ``$SATISAC_CLAIM_LEASE_S`` or 900).

    Raises:
      ConfigError: bad sweep / sizes, ``run_dir`` holds a different run, or another writer
        holds the run directory (a whole run, or a whole run while shards run).
    """
    if isinstance(n_drops, bool) or not isinstance(n_drops, (int, np.integer)) or n_drops < 1:
        raise ConfigError(f"n_drops: expected an integer >= 1, got {n_drops!r}")
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, (int, np.integer)) or chunk_size < 1:
        raise ConfigError(f"chunk_size: expected an integer >= 1, got {chunk_size!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ConfigError(f"seed: expected an integer, got {seed!r}")
    if isinstance(batch, bool) or not isinstance(batch, (int, np.integer)) or batch < 1:
        raise ConfigError(f"batch: expected an integer >= 1, got {batch!r}")
    points = expand_sweep(base_cfg, sweep, mode)
    scope = current_scope()
    if shard is None and scope is not None:
        shard = scope.shard
    lease = lease_seconds(lease_s)
    run_dir = resolve(run_dir)
    try:
        with run_lock(run_dir, shared=shard is not None) as locked:
            summary = _run_locked(run_dir, base_cfg, work, points, n_drops, seed, sweep, mode, methods, chunk_size,
                                  extra, progress, desc, shard, lease, exclusive=locked and shard is None,
                                  unit=unit, batch=batch)
    except BaseException:
        if scope is not None:
            scope.failed = True
        raise
    if scope is not None:
        scope.computed += summary.chunks_run
        scope.skipped += summary.chunks_skipped
        scope.busy += summary.chunks_busy
        if scope.barrier is not None:
            scope.barrier()
    return summary


def _groups(todo: list, size: int) -> list[list]:
    """``todo`` in order, cut into consecutive groups of at most ``size`` (point, chunk) pairs."""
    size = max(int(size), 1)
    return [todo[i:i + size] for i in range(0, len(todo), size)]


def _run_locked(run_dir, base_cfg, work, points, n_drops, seed, sweep, mode, methods, chunk_size, extra,
                progress, desc, shard, lease, exclusive, unit, batch) -> RunSummary:
    store = RunStore(run_dir, manifest_for(base_cfg, sweep, mode, seed, methods, n_drops, chunk_size, extra),
                     exclusive=exclusive, lease_s=lease)
    n_chunks = -(-int(n_drops) // int(chunk_size))
    every = [(p, c) for p in points for c in range(n_chunks)]
    mine = every if shard is None else every[shard.index::shard.count]
    todo = [(p, c) for p, c in mine if not store.has_chunk(p.index, c)]
    total = sum(min(chunk_size, n_drops - c * chunk_size) for _, c in mine)

    def chunk_drops(c: int) -> np.ndarray:
        return np.arange(c * chunk_size, min((c + 1) * chunk_size, n_drops), dtype=np.int64)

    done = total - sum(len(chunk_drops(c)) for _, c in todo)
    t0 = time.perf_counter()
    bar = None
    if progress and todo:
        # whole drops in the count: chunk_progress moves the bar by fractions of a chunk
        bar = tqdm(total=total, initial=done, unit=unit, desc=desc or Path(run_dir).name,
                   dynamic_ncols=True, smoothing=0.1,
                   bar_format="{l_bar}{bar}| {n:.0f}/{total_fmt} [{elapsed}<{remaining}, {rate_fmt}{postfix}]")
    last_point = None
    ran = busy = 0
    beat = Heartbeat(lease / 8) if shard is not None and todo else None
    try:
        for group in _groups(todo, batch if callable(getattr(work, "many", None)) else 1):
            claimed = []  # (point, chunk, path) of this call: claimed under a shard, all without
            for point, c in group:
                path = store.chunk_path(point.index, c)
                if shard is not None:
                    if not try_claim(path, lease):
                        busy += 1
                        continue
                    if path.exists():  # finished by another job between our listing and the claim
                        release_claim(path)
                        continue
                claimed.append((point, c, path))
            if not claimed:
                continue
            if shard is not None:
                beat.current = tuple(claim_path(p) for _, _, p in claimed)
            try:
                if last_point is not None and claimed[0][0].index != last_point:
                    release_programs()  # a new point may compile new programs (vm.max_map_count)
                last_point = claimed[-1][0].index
                items = [(point.cfg, chunk_drops(c)) for point, c, _ in claimed]
                n_items = sum(len(d) for _, d in items)
                moved = [0.0]  # drops of this call the bar already shows (chunk_progress)

                def tick(fraction, n=n_items, moved=moved):
                    target = min(max(float(fraction), 0.0), 1.0) * n
                    if bar is not None and target > moved[0]:
                        # never past the total: float sums of fractions overshoot it by ulps
                        bar.update(min(target - moved[0], max(bar.total - bar.n, 0.0)))
                        moved[0] = target

                token = _CHUNK_PROGRESS.set(tick)
                try:
                    if len(items) == 1:
                        results = [_call_work(work, items[0][0], items[0][1], int(seed))]
                    else:
                        results = list(work.many(items, int(seed)))
                finally:
                    _CHUNK_PROGRESS.reset(token)
                if len(results) != len(items):
                    raise ValueError(f"work.many(): expected {len(items)} row sets (one per chunk), got {len(results)}")
                for (point, c, _), rows, (_, drops) in zip(claimed, results, items):
                    store.write_chunk(point.index, c, _with_ids(rows_to_table(rows), point, int(seed), drops))
                    ran += 1
            finally:
                if shard is not None:
                    beat.current = None
                    for _, _, path in claimed:
                        release_claim(path)
            if bar is not None:
                bar.update(n_items - moved[0])
                bar.n = round(bar.n, 6)  # whole drops again after fractional ticks (no 6.000000001 / 6)
                bar.set_postfix_str(f"point {claimed[-1][0].index + 1}/{len(points)}", refresh=False)
    finally:
        if beat is not None:
            beat.close()
        if bar is not None:
            bar.close()
    return RunSummary(Path(run_dir), tuple(points), int(n_drops), len(every), ran,
                      len(mine) - len(todo), time.perf_counter() - t0, busy)
