"""One precision switch for the whole library.

float32/complex64 is the default (speed); float64/complex128 is the validation mode.
Geometry that involves long distances or line-of-sight phases is always computed in
float64 on the host or with x64 enabled (a float32 phase at 600 km is off by radians).

JAX only produces 64-bit arrays when ``jax_enable_x64`` is on, so ``set_precision``
must be called before any array is created (the CLI does it from ``--precision``; the
test-suite's ``conftest.py`` turns x64 on and casts explicitly where float32 is tested).
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

PRECISIONS = ("float32", "float64")


MATMUL_PRECISION = "highest"
"""``jax_default_matmul_precision`` that :func:`set_precision` sets.  JAX's default lets an
NVIDIA GPU run float32/complex64 matrix products in TF32 (10-bit mantissa); the ISTN WMMSE then
stops after ~10 P1 iterations instead of ~50 and lost 14 % of the sum rate on 33 drops of seed 11
against float64 on an H200 (2026-12-04, ``benchmarks.istn_perdrop``).  "highest" keeps float32 at
IEEE float32 on every backend (CPUs never use TF32, so nothing changes there)."""


def set_precision(precision: str) -> None:
    """Turn 64-bit support on for ``"float64"``; leave the default for ``"float32"``.

    Both set matrix products to full precision (:data:`MATMUL_PRECISION`), so that float32
    means IEEE float32 on a GPU too."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision: expected one of {PRECISIONS}, got {precision!r}")
    jax.config.update("jax_default_matmul_precision", MATMUL_PRECISION)
    if precision == "float64":
        jax.config.update("jax_enable_x64", True)


def current_precision() -> str:
    """The precision the process computes in: ``"float64"`` when JAX's x64 mode is on (set
    by :func:`set_precision` or ``jax.enable_x64``), else ``"float32"``.  The one place
    library code reads JAX's global flag."""
    return "float64" if jax.config.read("jax_enable_x64") else "float32"


def real_dtype(precision: str):
    """The real dtype of a precision name."""
    return jnp.float64 if precision == "float64" else jnp.float32


def complex_dtype(precision: str):
    """The complex dtype of a precision name."""
    return jnp.complex128 if precision == "float64" else jnp.complex64


def real_of(dtype) -> jnp.dtype:
    """Real dtype matching ``dtype`` (complex128 -> float64, complex64 -> float32)."""
    return jnp.finfo(dtype).dtype


def promote_arrays(arrays, precision: str) -> dict:
    """Cast the floating arrays of a host dict up to ``precision``.

    ``"float64"``: float16/float32 -> float64 and complex64 -> complex128, so that a
    float32 instance file really is solved in float64 (solvers keep the dtype they are
    given); integer/bool arrays and ``"float32"`` leave everything unchanged (the float32
    mode never downcasts a float64 file on the host: x64 off makes JAX compute in float32).
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision: expected one of {PRECISIONS}, got {precision!r}")
    if precision != "float64":
        return dict(arrays)
    out = {}
    for k, v in arrays.items():
        a = np.asarray(v)
        if a.dtype.kind == "f" and a.dtype.itemsize < 8:
            a = a.astype(np.float64)
        elif a.dtype.kind == "c" and a.dtype.itemsize < 16:
            a = a.astype(np.complex128)
        out[k] = a
    return out
