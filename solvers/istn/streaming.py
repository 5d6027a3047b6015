"""Continuous batching of the per-cell QoS-WMMSE (P1/P3) over any number of cells.

A fixed number of *slots* (the vmapped batch) runs rounds of ``jaxcore.istn.qos_wmmse``
(``cell_round``: <= one warm transmit step each); every ``sync_rounds`` rounds the host reads
the slots' stop flags, harvests the finished cells and refills their slots with the next
cells of the queue.  No Python loop over drops or cells: the host loop is over rounds, the
work inside each call is one ``jit`` over all slots.

Why (measured 2026-11-22, paper size Nt=30 K=5 T=4 R=4 Nr=4 L=12, float64, 2-core CPU):
cells need very different numbers of rounds (32 cells of seed 0: mean 46, max 400 — a cell
whose Phase I fails runs 50 cold steps); a fixed batch runs until its slowest member stops,
so a batch of 32 used 12 % of its cell-rounds (per-drop cost 10x that of one drop at a
time).  With refilling the batch cost is the *sum* of the cells' rounds plus a tail; the
tail is cut by shrinking the slot count 4x whenever the queue is empty and at most a quarter
of the slots still run (one compilation per slot count: S, S/4, ..., 1).  P1 and P3, cold or
warm-started, are data to the same programs (``CellStart``; ``cell_start``): a solve compiles one
set, not one per problem (whole ``satisac istn solve`` of one paper-size drop with the
compilation cache off, 2-core CPU, 2026-12-07: 31-35 s -> 24-25 s, results bit for bit the same).

Per-cell results do not depend on the slot count, the slot a cell lands in or the order
(each lane computes exactly ``solve_cell``'s iterates).
"""
from __future__ import annotations

from functools import lru_cache, partial

import jax
import jax.numpy as jnp
import numpy as np

from jaxcore.istn.qos_wmmse import (CellSolution, CellStart, QosWmmseConfig, cell_round, cell_solution, cell_start,
                                    start_inputs)
from jaxcore.loops import masked_scan
from jaxcore.sharding import batch_sharding
from solvers.interrupts import raise_if_pending


def default_slots() -> int:
    """Cells in flight: 1 on CPU, 4096 on accelerators.

    On a CPU the lanes of a batch do not run in parallel, and a batch pays per round for its
    slowest lane and for every rare branch (``jaxcore.loops.when``) any lane takes, so one cell
    at a time costs least.  Measured (``benchmarks.istn_perdrop --batches 33 --seeds 11``,
    paper size, quiet 2-core x86_64 CPU, 2026-12-06): 1 slot 731 / 556 ms per drop (float32 /
    float64; CPU 881 / 690 ms), 16 slots 1,082 / 780 ms (CPU 2,006 / 1,412 ms); one thread, 30
    drops of a Fig. 4 point: 1 / 4 / 16 slots 759 / 854 / 1,857 ms per drop.  In float32 the
    iterates of a cell depend on the slot count through the rounding of the batched kernels
    (the same 30 drops: mean sum rate 20.34 / 20.69 / 20.38), so a run is reproduced bit for
    bit at the same slot count and device type; in float64 the 33 drops above agree to 3e-5
    (mean sum rate 31.111 / 31.112 at 1 / 16 slots).
    """
    return 1 if jax.default_backend() == "cpu" else 4096


def _take(tree, rows):
    """Host-side gather of rows of a numpy pytree (None leaves stay None)."""
    return jax.tree_util.tree_map(lambda x: np.asarray(x)[rows], tree)


def _init_lanes(inp, how: CellStart, cfg: QosWmmseConfig):
    """``cell_start`` of every lane (traced inside :func:`_fresh`; its shapes via ``eval_shape``)."""
    return jax.vmap(lambda i: cell_start(i[0], cfg, i[1], i[2], *how))(inp)


@lru_cache(maxsize=64)
def _state_shapes(sig: tuple, treedef, cfg: QosWmmseConfig):
    """Shapes of the lane states for inputs of signature ``sig`` (cached: tracing ``cell_init``
    costs ~0.7 s of Python, measured, and a figure sweep calls the solver hundreds of times)."""
    inp = jax.tree_util.tree_unflatten(treedef, [jax.ShapeDtypeStruct(sh, dt) for sh, dt in sig])
    return jax.eval_shape(partial(_init_lanes, cfg=cfg), inp, CellStart.of("p1", None, None))


def _zero_state(inp, cfg: QosWmmseConfig):
    """Zeros shaped like the lane states of ``inp`` (the first fill's ``st`` for :func:`_fresh`)."""
    leaves, treedef = jax.tree_util.tree_flatten(inp)
    sig = tuple((tuple(x.shape), np.dtype(x.dtype)) for x in leaves)
    return jax.tree_util.tree_map(lambda a: np.zeros(a.shape, a.dtype), _state_shapes(sig, treedef, cfg))


@partial(jax.jit, static_argnames=("cfg",))
def _fresh(inp, st, fresh, how: CellStart, cfg: QosWmmseConfig):
    """Lanes with ``fresh`` restart from ``cell_start`` on their (new) inputs.  Also the first
    fill (every lane fresh, ``st`` zeros): one initialisation program per slot count, for P1
    and P3, the start and the refills (each program is seconds of XLA compilation)."""
    return _select(fresh, _init_lanes(inp, how, cfg), st)


@partial(jax.jit, static_argnames=("cfg", "n_rounds"))
def _advance(prob, st, cfg: QosWmmseConfig, n_rounds: int):
    def one(p, s):
        return masked_scan(lambda z: cell_round(p, z, cfg), lambda z: z.outer.stop, s, n_rounds,
                           mode="while").state

    st = jax.vmap(one)(prob, st)
    return st, st.outer.stop


@partial(jax.jit, static_argnames=("cfg",))
def _solutions(prob, st, cfg: QosWmmseConfig):
    return jax.vmap(lambda p, s: cell_solution(p, s, cfg))(prob, st)


@jax.jit
def _scatter(tree, lanes, new):
    """Write ``new`` [R, ...] into lanes ``lanes`` [R] of ``tree`` [S, ...] (on device)."""
    return jax.tree_util.tree_map(lambda x, n: x.at[lanes].set(n), tree, new)


def _select(mask, new, old):
    return jax.tree_util.tree_map(
        lambda a, b: jnp.where(mask.reshape(mask.shape + (1,) * (a.ndim - 1)), a, b), new, old)


def solve_cells_streaming(prob, cfg: QosWmmseConfig = QosWmmseConfig(), F0=None, q0=None, mode: str = "p1",
                          slots: int | None = None, sync_rounds: int = 2, mesh=None, bar=None) -> CellSolution:
    """``solve_cells`` for N cells by continuous batching (module docstring).

    Args:
      prob: ``CellProblem`` with leading axis [N] (numpy arrays; they stay on the host and
        only the cells in flight are sent to the device, so compiled programs depend on the
        slot count, not on N).
      cfg, mode: as ``jaxcore.istn.qos_wmmse.solve_cell``; F0 [N, Nt, K+T] and q0 [N] optional
        (q0 required for ``mode="p3"``).
      slots: cells in flight (default :func:`default_slots`); sync_rounds: rounds per call
        between harvests.
      mesh: optional ``jaxcore.sharding.drops_mesh``: the slot axis is split over its devices
        (slot counts are kept multiples of the device count).
      bar: optional tqdm bar, advanced by one per finished cell.

    Returns:
      ``CellSolution`` of numpy arrays [N, ...], identical per cell to ``solve_cells``.
    """
    if sync_rounds < 1:
        raise ValueError(f"sync_rounds: expected a positive integer, got {sync_rounds!r}")
    prob = jax.tree_util.tree_map(np.asarray, prob)
    N = int(prob.p_bs.shape[0])
    if N == 0:
        raise ValueError("prob: expected at least one cell (leading axis of length >= 1)")
    # F0/q0 always arrays (zeros when absent, ``how`` says so): one program for every call
    F0, q0, how = start_inputs(prob, F0, q0, mode, xp=np)
    inputs = (prob, F0, q0)
    n_dev = 1 if mesh is None else mesh.size
    S = min(int(slots or default_slots()), N)
    S = -(-S // n_dev) * n_dev

    def place(x):
        if mesh is None or n_dev == 1:
            return jax.device_put(x)
        return jax.device_put(x, batch_sharding(mesh))

    out: dict[str, np.ndarray] = {}
    idx = np.arange(S) % N  # slot -> cell (lanes past N repeat cells and are never harvested)
    live = np.arange(S) < N  # slot holds a cell whose result is still to be harvested
    nxt = min(S, N)  # next cell of the queue
    inp = place(_take(inputs, idx))
    st = _fresh(inp, place(_zero_state(inp, cfg)), place(np.ones(S, bool)), how, cfg)
    while live.any():
        st, stop = _advance(inp[0], st, cfg, sync_rounds)
        done = np.asarray(stop) & live
        raise_if_pending()  # an interrupt swallowed inside a JAX callback stops here
        if done.any():
            sol = jax.device_get(_solutions(inp[0], st, cfg))
            for name, v in sol._asdict().items():
                if name not in out:
                    out[name] = np.zeros((N,) + v.shape[1:], v.dtype)
                out[name][idx[done]] = v[done]
            live &= ~done
            if bar is not None:
                bar.update(int(done.sum()))
        free = np.flatnonzero(~live)
        n_new = min(len(free), N - nxt)
        if n_new:
            # refill: send only the new cells, R lanes per transfer (R fixed: one program)
            R = max(1, S // 4)
            lanes = free[:n_new]
            idx[lanes] = np.arange(nxt, nxt + n_new)
            live[lanes] = True
            nxt += n_new
            for j in range(0, n_new, R):
                ln = lanes[j:j + R]
                ln = np.concatenate([ln, np.repeat(ln[-1:], R - len(ln))])  # pad: rewrite the last
                inp = _scatter(inp, jnp.asarray(ln), _take(inputs, idx[ln]))
            fresh = np.zeros(S, bool)
            fresh[lanes] = True
            st = _fresh(inp, st, place(fresh), how, cfg)
        elif S > n_dev and 0 < live.sum() <= S // 4:
            # queue empty, few cells left: shrink the batch 4x (one more compilation)
            S2 = max(-(-max(S // 4, 1) // n_dev) * n_dev, n_dev)
            keep = np.flatnonzero(live)
            lanes = np.concatenate([keep, np.repeat(keep[:1], S2 - len(keep))])
            st, inp = (place(jax.tree_util.tree_map(lambda x: x[jnp.asarray(lanes)], t)) for t in (st, inp))
            idx, live = idx[lanes], np.arange(S2) < len(keep)
            S = S2
    return CellSolution(**out)
