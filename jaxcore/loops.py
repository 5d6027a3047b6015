"""Fixed-length iteration with per-instance convergence masks (STYLE.md, MPAX).

Every iterative solver in satisac is written for ONE instance as a pure
``step(state) -> state`` plus ``done(state) -> bool`` and then ``vmap``-ed over the leading
drop/frame axis.  ``masked_scan`` runs the step a fixed number of times inside
``lax.scan`` and freezes an instance's state once ``done`` is true, so a batch costs the
same as its slowest member but no instance keeps moving after it converged, and the
whole loop stays differentiable and shardable.  ``mode="while"`` gives an early-exit
``lax.while_loop`` (useful unbatched); ``mode="python"`` runs a plain loop for debugging.
"""
from __future__ import annotations

from typing import Callable, NamedTuple, TypeVar

import jax
import jax.numpy as jnp

S = TypeVar("S")


class LoopResult(NamedTuple):
    state: object  # final state pytree
    iterations: jax.Array  # int32: steps actually applied before `done` became true
    converged: jax.Array  # bool: `done` held at the end


def select_tree(pred, new, old):
    """``new`` where the scalar ``pred`` holds, else ``old``, leaf by leaf."""
    return jax.tree_util.tree_map(lambda a, b: jnp.where(pred, a, b), new, old)


def masked_scan(
    step: Callable[[S], S],
    done: Callable[[S], jax.Array],
    state: S,
    max_steps: int,
    mode: str = "scan",
) -> LoopResult:
    """Apply ``step`` up to ``max_steps`` times, freezing the state once ``done(state)``.

    Args:
      step: one iteration for one instance (pure).
      done: scalar bool, True when the instance has converged (checked before each step).
      state: initial state pytree.
      max_steps: static number of iterations.
      mode: ``"scan"`` (fixed length, default), ``"while"`` (early exit) or ``"python"``.

    Returns:
      ``LoopResult(state, iterations, converged)``.
    """
    if mode == "python":
        it = 0
        for _ in range(max_steps):
            if bool(done(state)):
                break
            state = step(state)
            it += 1
        return LoopResult(state, jnp.asarray(it, jnp.int32), jnp.asarray(done(state)))

    if mode == "while":
        def cond(carry):
            s, i = carry
            return jnp.logical_and(i < max_steps, jnp.logical_not(done(s)))

        def body(carry):
            s, i = carry
            return step(s), i + 1

        s, i = jax.lax.while_loop(cond, body, (state, jnp.asarray(0, jnp.int32)))
        return LoopResult(s, i, done(s))

    if mode != "scan":
        raise ValueError(f"mode: expected 'scan', 'while' or 'python', got {mode!r}")

    def body(carry, _):
        s, i = carry
        finished = done(s)
        s_new = step(s)
        s = select_tree(finished, s, s_new)
        i = i + jnp.where(finished, 0, 1).astype(jnp.int32)
        return (s, i), None

    (s, i), _ = jax.lax.scan(body, (state, jnp.asarray(0, jnp.int32)), None, length=max_steps)
    return LoopResult(s, i, done(s))


def when(pred, fn: Callable[..., S], default: S, *args, mode: str = "while") -> S:
    """``fn(*args)`` where the scalar ``pred`` holds, else ``default`` (same pytree).

    For rare, expensive branches of a per-instance solver (a phase switch, a fallback);
    :func:`cond_any` is the same without a loop, cheaper when ``args`` are many arrays.
    ``mode="while"``: a ``lax.while_loop`` that runs ``fn`` at most once; under ``vmap``
    the predicate is batched, so the body runs once if ANY instance needs it and not at all
    otherwise (``lax.cond`` under ``vmap`` evaluates both branches).  Pass every array
    ``fn`` computes with through ``args``: they enter the body behind an optimization
    barrier, so XLA's loop-invariant code motion cannot hoist the work out of the loop (a
    closure over outer values was hoisted and ran unconditionally; measured).
    ``"scan"``/``"python"``: ``fn`` is always evaluated and selected (fixed cost).
    """
    if mode != "while":
        return select_tree(pred, fn(*args), default)

    def body(carry):
        _, _, a = carry
        a = jax.lax.optimization_barrier(a)
        return jnp.asarray(True), fn(*a), a

    _, out, _ = jax.lax.while_loop(lambda c: jnp.logical_not(c[0]), body, (jnp.logical_not(pred), default, args))
    return out


def cond_any(pred, fn: Callable[..., S], default: S, *args) -> S:
    """``fn(*args)`` where the scalar ``pred`` holds, else ``default``, as one ``lax.cond``
    that stays a branch under ``vmap``.

    ``lax.cond`` under ``vmap`` with a batched predicate becomes a select that evaluates
    ``fn`` for every instance every time.  Here (``jax.custom_batching.custom_vmap``) the
    batched call branches once on "any instance's ``pred``": if none holds, ``fn`` is not
    evaluated; if one does, ``fn`` runs on the whole batch and each instance keeps ``fn``'s
    value or its ``default`` by its own ``pred``, so an instance's result does not depend
    on the batch.  Unlike :func:`when`, nothing is carried through a loop (a batched
    ``while`` selects every carried array; measured slower than the select when ``args``
    are many).  Only the outermost ``vmap`` level branches; deeper levels select.  Not
    differentiable (``custom_vmap``).  On a GPU an XLA conditional reads its predicate on the
    host, one synchronisation per call (not measured here; a ``while`` condition costs the same).
    """
    from jax.custom_batching import custom_vmap

    @custom_vmap
    def branch(p, dflt, a):
        return jax.lax.cond(p, lambda: fn(*a), lambda: dflt)

    @branch.def_vmap
    def _rule(axis_size, in_batched, p, dflt, a):
        pb, db, ab = in_batched
        axes = jax.tree_util.tree_map(lambda b: 0 if b else None, ab)
        fn_b = jax.vmap(lambda a_: fn(*a_), in_axes=(axes,), axis_size=axis_size)
        dflt_b = jax.tree_util.tree_map(
            lambda x, b: x if b else jnp.broadcast_to(x, (axis_size,) + jnp.shape(x)), dflt, db)
        if pb:
            def mixed():
                new = fn_b(a)
                return jax.tree_util.tree_map(
                    lambda n, d: jnp.where(p.reshape(p.shape + (1,) * (n.ndim - 1)), n, d), new, dflt_b)
            out = jax.lax.cond(jnp.any(p), mixed, lambda: dflt_b)
        else:
            out = jax.lax.cond(p, lambda: fn_b(a), lambda: dflt_b)
        return out, jax.tree_util.tree_map(lambda _: True, out)

    return branch(pred, default, args)
