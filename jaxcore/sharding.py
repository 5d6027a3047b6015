"""Shard the leading drop/frame axis over several devices (STYLE.md, "Batched numerics").

Every solver in satisac is written for one instance and ``vmap``-ed over a leading batch
axis (drops for ISTN, frames/scenarios for NTN).  Instances are independent, so the batch
axis is embarrassingly parallel: this module lays it out over a 1-D
:class:`jax.sharding.Mesh` with a single axis named ``"drops"`` and lets ``jit`` run each
device's slice locally (no collective is ever needed; XLA's SPMD partitioner propagates
the ``P("drops")`` sharding through the ``vmap``-ed body).

* :func:`drops_mesh` builds the mesh over the chosen devices (all visible ones by default;
  after ``jax.distributed.initialize()`` that is every device of every host, see
  ``solvers/devices.py``).
* :func:`shard_batch` pads every leaf of a pytree along axis 0 to a multiple of the device
  count (repeating the last instance, so the padding is a valid problem that cannot produce
  NaN/Inf in the real rows), places it with ``NamedSharding(mesh, P("drops"))`` and returns
  the original batch size for :func:`unpad`.
* :func:`sharded` wraps a batched function ``fn(batch_tree, *static) -> out_tree`` so that it
  runs jitted with batch-sharded inputs and outputs, and strips the padding again.

Pure JAX, no I/O (``jaxcore`` rule).  A batch smaller than the device count is still padded
and split (some devices then compute copies of the last instance); that costs nothing
measurable and keeps one code path.
"""
from __future__ import annotations

import functools
import itertools
from typing import Any, Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax._src import distributed  # process_barrier: the public API has no barrier without a device collective
from jax.experimental import multihost_utils
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

AXIS = "drops"


def drops_mesh(devices: Sequence[jax.Device] | None = None) -> Mesh:
    """A 1-D mesh with axis ``"drops"`` over ``devices`` (default: ``jax.devices()``, i.e.
    every device of every process after ``jax.distributed.initialize()``)."""
    devs = list(jax.devices() if devices is None else devices)
    if not devs:
        raise ValueError("devices: expected at least one device, got none")
    return Mesh(np.asarray(devs, dtype=object), (AXIS,))


def batch_sharding(mesh: Mesh) -> NamedSharding:
    """Leading axis split over ``"drops"``; all other axes replicated within a device."""
    return NamedSharding(mesh, P(AXIS))


def replicated(mesh: Mesh) -> NamedSharding:
    """Every device holds the whole array (scalars, configs, shared tables)."""
    return NamedSharding(mesh, P())


def padded_size(n: int, n_devices: int) -> int:
    """Smallest multiple of ``n_devices`` that is >= ``max(n, 1)``."""
    n = max(int(n), 1)
    return -(-n // n_devices) * n_devices


def _batch_len(tree: Any) -> int:
    leaves = jax.tree_util.tree_leaves(tree)
    if not leaves:
        raise ValueError("batch: expected a pytree with at least one array leaf")
    sizes = {int(np.shape(x)[0]) if np.ndim(x) else -1 for x in leaves}
    if -1 in sizes or len(sizes) != 1:
        raise ValueError(f"batch: every leaf must share one leading batch axis, got sizes {sorted(sizes)}")
    return sizes.pop()


def pad_batch(tree: Any, multiple: int) -> tuple[Any, int]:
    """Pad axis 0 of every leaf to a multiple of ``multiple`` by repeating the last row.

    Returns ``(padded_tree, n)`` with ``n`` the original batch size.  Works on numpy or
    JAX arrays; numpy stays numpy (host-side padding, no device copy before placement).
    """
    n = _batch_len(tree)
    target = padded_size(n, multiple)
    if target == n:
        return tree, n

    def pad(x):
        xp = np if isinstance(x, np.ndarray) else jnp
        reps = xp.repeat(x[-1:], target - n, axis=0)
        return xp.concatenate([x, reps], axis=0)

    return jax.tree_util.tree_map(pad, tree), n


def unpad(tree: Any, n: int) -> Any:
    """Keep the first ``n`` rows of every leaf (inverse of :func:`pad_batch`).

    Leaves already of length ``n`` are returned untouched (so an unpadded output keeps its
    sharding exactly); a slice of a sharded array is a new array XLA may lay out anew.
    """
    return jax.tree_util.tree_map(lambda x: x if x.shape[0] == n else x[:n], tree)


def shard_batch(tree: Any, mesh: Mesh | None = None) -> tuple[Any, int]:
    """Pad and place a batch pytree so axis 0 is split over the mesh's ``"drops"`` axis.

    Returns ``(sharded_tree, n)``; each leaf is a global ``jax.Array`` with
    ``NamedSharding(mesh, P("drops"))``.  In a multi-process run every process must pass
    the *same* global batch (e.g. generated from the same seed); each keeps only its
    addressable slice (``jax.make_array_from_callback``).
    """
    mesh = drops_mesh() if mesh is None else mesh
    padded, n = pad_batch(tree, mesh.size)
    sh = batch_sharding(mesh)

    def place(x):
        if jax.process_count() == 1:
            return jax.device_put(x, sh)
        host = np.asarray(x)
        return jax.make_array_from_callback(host.shape, sh, lambda idx: host[idx])

    return jax.tree_util.tree_map(place, padded), n


def sharded(fn: Callable[..., Any], mesh: Mesh | None = None, static_argnums: Sequence[int] = ()) -> Callable[..., Any]:
    """Run a batched ``fn(batch, *rest)`` jitted with its batch axis split over devices.

    ``batch`` (first argument) is any pytree whose leaves share leading axis B; the other
    arguments are passed through (mark hashables as ``static_argnums`` counted from 1, as in
    ``jax.jit``).  Every output leaf must also carry the batch axis first.  The wrapper pads
    B to a multiple of the device count, places the batch with
    ``NamedSharding(mesh, P("drops"))``, constrains the outputs to the same sharding and
    returns them unpadded (still sharded ``jax.Array`` s; ``np.asarray`` gathers them).

    Example::

        solve = sharded(jax.vmap(solve_one))      # solve_one: one drop -> result
        out = solve(instance_arrays)               # instance_arrays: dict of [B, ...]
    """
    mesh_ = drops_mesh() if mesh is None else mesh
    sh = batch_sharding(mesh_)

    def constrained(batch, *rest):
        out = fn(batch, *rest)
        return jax.tree_util.tree_map(lambda y: jax.lax.with_sharding_constraint(y, sh), out)

    jitted = jax.jit(constrained, static_argnums=tuple(static_argnums))

    @functools.wraps(fn)
    def wrapper(batch, *rest):
        placed, n = shard_batch(batch, mesh_)
        out = jitted(placed, *rest)
        return unpad(out, n)

    wrapper.mesh = mesh_  # type: ignore[attr-defined]
    return wrapper


def shard_counts(x: jax.Array) -> list[int]:
    """Rows of the leading axis held by each addressable shard (for tests and logs)."""
    return [int(s.data.shape[0]) for s in x.addressable_shards]


def process_rows(n: int, process_index: int, process_count: int) -> tuple[int, int, int]:
    """Contiguous share of a batch of ``n`` rows for one of ``process_count`` processes.

    Every process gets ``share = ceil(n / process_count)`` rows of the batch padded to
    ``share * process_count`` (:func:`pad_batch`): returns ``(lo, hi, share)`` with rows
    ``[lo, hi)`` of the padded batch.  Equal shares keep the gather a plain all-gather.
    """
    if process_count < 1 or not 0 <= process_index < process_count:
        raise ValueError(f"process_index: expected 0 <= index < {process_count}, got {process_index}")
    share = -(-max(int(n), 1) // process_count)
    return process_index * share, (process_index + 1) * share, share


_BARRIERS = itertools.count()


def process_barrier(name: str, timeout_s: float = 86400.0) -> None:
    """Wait until every process of a multi-process run reaches this point (no-op alone).

    Uses the coordination service's barrier (``jax.distributed``'s client), not a device
    collective: processes that arrive minutes apart (one finished its share early) are fine,
    where the first CPU collective of a run waits only 30 s for the others (gloo's context
    set-up).  A process that died makes the others fail here (its heartbeat stops).
    """
    if jax.process_count() == 1:
        return
    distributed.global_state.client.wait_at_barrier(f"satisac-{name}-{next(_BARRIERS)}", int(timeout_s * 1000))


def allgather_rows(tree: Any, n: int) -> Any:
    """All-gather each process's equal share of rows (axis 0) and keep the first ``n`` rows.

    Every process passes a pytree of host arrays with the same structure, dtypes and shapes
    (``[share, ...]``); every process gets numpy arrays ``[n, ...]`` ordered by process
    index (the inverse of :func:`process_rows`).  The rows travel as raw bytes through
    ``multihost_utils.process_allgather``, so complex, bool and int8 leaves need no
    collective support of their own (on CPU the processes use JAX's gloo collectives).
    """
    leaves, treedef = jax.tree_util.tree_flatten(tree)
    process_barrier("allgather-rows")  # all processes are here: the collectives start together
    out = []
    for x in leaves:
        a = np.ascontiguousarray(np.asarray(x))
        if a.ndim == 0:
            raise ValueError("allgather_rows: every leaf needs a leading row axis, got a scalar")
        raw = a.view(np.uint8).reshape(a.shape[0], -1)  # [share, bytes per row]
        got = np.asarray(multihost_utils.process_allgather(raw, tiled=True))  # [P * share, bytes]
        out.append(np.ascontiguousarray(got).view(a.dtype).reshape((-1,) + a.shape[1:])[:n])
    return jax.tree_util.tree_unflatten(treedef, out)
