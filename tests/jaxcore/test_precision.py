"""``jaxcore.precision.set_precision``: float32 means IEEE float32 matrix products on every
backend (no TF32 on NVIDIA GPUs), and float64 turns x64 on."""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxcore.precision import MATMUL_PRECISION, set_precision


@pytest.mark.parametrize("precision", ["float32", "float64"])
def test_set_precision_asks_for_full_precision_products(precision):
    before = jax.config.jax_default_matmul_precision
    try:
        jax.config.update("jax_default_matmul_precision", None)  # JAX's default (the suite sets "highest")
        set_precision(precision)
        assert jax.config.jax_default_matmul_precision == MATMUL_PRECISION == "highest"
        assert jax.config.jax_enable_x64  # the suite runs with x64 on; float64 must keep it on
        # a complex64 product whose entries need all 24 mantissa bits: TF32 (10 bits) would be off
        # by ~1e-3 relative; IEEE float32 by ~1e-6
        rng = np.random.default_rng(0)
        a = (rng.standard_normal((64, 64)) + 1j * rng.standard_normal((64, 64))).astype(np.complex64)
        b = (rng.standard_normal((64, 64)) + 1j * rng.standard_normal((64, 64))).astype(np.complex64)
        got = np.asarray(jax.jit(jnp.matmul)(jnp.asarray(a), jnp.asarray(b)))
        want = a.astype(np.complex128) @ b.astype(np.complex128)
        assert np.max(np.abs(got - want)) / np.max(np.abs(want)) < 1e-5
    finally:
        jax.config.update("jax_default_matmul_precision", before)


def test_unknown_precision_is_one_clear_error():
    with pytest.raises(ValueError, match="precision: expected one of"):
        set_precision("bfloat16")
