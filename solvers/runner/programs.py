"""Compiled-program housekeeping for long processes (the Linux memory-map limit).

XLA:CPU links every compiled program into its own set of memory regions (code, read-only
data, ...): measured with JAX/jaxlib 0.10.2 on x86_64 Linux, ~17 entries of
``/proc/self/maps`` per small program, released when the program is freed (its jitted
function garbage-collected or ``jax.clear_caches()``).  Linux caps the entries of one process
at ``vm.max_map_count`` (65,530 by default).  A process that compiles a few thousand distinct
programs and keeps them cached -- the whole test suite in one pytest process, or a sweep
over many shapes -- reaches the cap; the next compilation then fails inside LLVM and, on
jaxlib 0.10.2, the C++ exception that reports it crashed the unwinder (segfault in
``backend_compile_and_load``; the core dump of that crash had 65,439 mappings).

:func:`release_programs` drops JAX's compiled-program caches when the process is past a
fraction of the cap.  The runner calls it between sweep points; the test suite after every
module.  Dropping the caches only costs recompilation; results are unchanged.
"""
from __future__ import annotations

import gc
import sys
from pathlib import Path

_MAPS = Path("/proc/self/maps")
_LIMIT = Path("/proc/sys/vm/max_map_count")


def map_count() -> int | None:
    """Memory-map entries of this process, or ``None`` where ``/proc`` does not say."""
    try:
        with _MAPS.open("rb") as f:
            return sum(1 for _ in f)
    except OSError:
        return None


def map_limit() -> int | None:
    """``vm.max_map_count``, or ``None`` where ``/proc`` does not say (not Linux)."""
    try:
        return int(_LIMIT.read_text().strip())
    except (OSError, ValueError):
        return None


def release_programs(fraction: float = 0.5, force: bool = False) -> bool:
    """Clear JAX's compiled-program caches if this process uses more than ``fraction`` of
    ``vm.max_map_count`` (or always with ``force``).  Returns whether it cleared them.

    A no-op when JAX was never imported, or (without ``force``) where the counts are not
    available."""
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"fraction: expected a number in (0, 1], got {fraction!r}")
    jax = sys.modules.get("jax")
    if jax is None:
        return False
    if not force:
        n, cap = map_count(), map_limit()
        if n is None or cap is None or n <= fraction * cap:
            return False
    jax.clear_caches()
    gc.collect()
    return True
