"""Timing and memory helpers for the benchmarks (issue 7; ``.library/device/METHOD.md``).

Rules followed here:

* JAX dispatch is asynchronous: every timed call ends with ``jax.block_until_ready`` on
  its whole output before the host clock is read.
* The first call (trace + XLA compile) is timed separately as ``compile_s`` and never mixed
  into the steady-state numbers; then ``warmup`` more calls run untimed.
* Steady state is the **median** of ``repeats`` calls (with min and max kept to show the
  spread).  The process CPU time (all threads) is recorded too: on a machine shared with
  other jobs the wall time inflates while the CPU seconds stay close to the work done.  A benchmark stops repeating once ``budget_s`` is spent, but always takes at
  least ``min_repeats`` samples.
* Peak memory comes from XLA's compiled buffer assignment (``memory_analysis()``:
  arguments + outputs + temporaries - aliases), which works on every backend, and, where
  the device reports it (GPU/TPU), from ``memory_stats()["peak_bytes_in_use"]``.  The CPU
  backend reports no device statistics, so CPU peaks are the compiled-buffer figure.
"""
from __future__ import annotations

import gc
import statistics
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import jax


@dataclass
class Timing:
    """Result of :func:`time_fn` (seconds)."""

    compile_s: float
    median_s: float
    min_s: float
    max_s: float
    repeats: int
    samples: list = field(default_factory=list)
    cpu_median_s: float = float("nan")  # process CPU seconds (all threads) per call, median
    value: Any = field(default=None, repr=False)  # what the last timed call returned (no re-run to read it)

    def cpu_per_item(self, n: int) -> float:
        return self.cpu_median_s / max(n, 1)

    def per_item(self, n: int) -> float:
        return self.median_s / max(n, 1)

    def throughput(self, n: int) -> float:
        return n / self.median_s if self.median_s > 0 else float("inf")


def block(x: Any) -> Any:
    """Wait for every array in a pytree (numpy leaves pass through)."""
    return jax.block_until_ready(x)


def time_fn(fn: Callable[..., Any], *args, warmup: int = 1, repeats: int = 5, min_repeats: int = 2,
            budget_s: float = 10.0, **kwargs) -> Timing:
    """Time ``fn(*args, **kwargs)``: first call = compile, then warm-up, then median of repeats."""
    t0 = time.perf_counter()
    block(fn(*args, **kwargs))
    compile_s = time.perf_counter() - t0
    for _ in range(warmup):
        block(fn(*args, **kwargs))
    samples: list[float] = []
    cpu: list[float] = []
    t_start = time.perf_counter()
    value = None
    while len(samples) < repeats:
        c0, t0 = time.process_time(), time.perf_counter()
        value = block(fn(*args, **kwargs))
        samples.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        if len(samples) >= min_repeats and time.perf_counter() - t_start > budget_s:
            break
    return Timing(compile_s, statistics.median(samples), min(samples), max(samples), len(samples), samples,
                  statistics.median(cpu), value)


def time_host(fn: Callable[..., Any], *args, repeats: int = 1, **kwargs) -> Timing:
    """Time a host (numpy/cvxpy) function: no compile step, median of ``repeats`` calls."""
    samples, cpu, value = [], [], None
    for _ in range(repeats):
        c0, t0 = time.process_time(), time.perf_counter()
        value = fn(*args, **kwargs)
        samples.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return Timing(0.0, statistics.median(samples), min(samples), max(samples), len(samples), samples,
                  statistics.median(cpu), value)


def compiled_memory_bytes(jitted: Callable[..., Any], *args, **kwargs) -> dict[str, int] | None:
    """XLA's buffer assignment for ``jitted(*args)``: argument/output/temp/peak bytes.

    ``jitted`` must be a ``jax.jit`` object (has ``.lower``).  Returns None when the backend
    does not report it.  ``peak`` is ``peak_memory_in_bytes`` where XLA gives it, else
    arguments + outputs + temporaries - aliased bytes.
    """
    try:
        m = jitted.lower(*args, **kwargs).compile().memory_analysis()
    except Exception:  # pragma: no cover - backend without memory analysis
        return None
    if m is None:
        return None
    arg, out, tmp, alias = (int(m.argument_size_in_bytes), int(m.output_size_in_bytes),
                            int(m.temp_size_in_bytes), int(m.alias_size_in_bytes))
    peak = int(getattr(m, "peak_memory_in_bytes", 0) or 0) or (arg + out + tmp - alias)
    return {"argument": arg, "output": out, "temp": tmp, "alias": alias, "peak": peak}


def compiled_flops(jitted: Callable[..., Any], *args, **kwargs) -> float | None:
    """XLA's own FLOP estimate (``cost_analysis()['flops']``) — counts a loop body once."""
    try:
        ca = jitted.lower(*args, **kwargs).compile().cost_analysis()
    except Exception:  # pragma: no cover
        return None
    if isinstance(ca, list):
        ca = ca[0] if ca else None
    return float(ca.get("flops", 0.0)) if ca else None


def device_peak_bytes() -> int | None:
    """``peak_bytes_in_use`` of device 0 where the backend reports it (GPU/TPU), else None."""
    try:
        st = jax.devices()[0].memory_stats()
    except Exception:  # pragma: no cover
        return None
    return int(st["peak_bytes_in_use"]) if st and "peak_bytes_in_use" in st else None


def host_rss_bytes() -> int:
    """Resident set size of this process now (Linux /proc), bytes; 0 if unknown."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        import os
        return pages * os.sysconf("SC_PAGE_SIZE")
    except Exception:  # pragma: no cover
        return 0


def free_memory() -> None:
    """Drop Python references' garbage and JAX's compilation caches between sizes."""
    gc.collect()
    jax.clear_caches()
