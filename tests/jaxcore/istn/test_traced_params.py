"""The generator compiles once per scenario structure: the numbers of ``TRACED_FIELDS`` are
traced, and the drops are bit-identical to a build with every number a compile-time constant
(``jaxcore.istn.params``)."""
from __future__ import annotations

import dataclasses

import jax
import numpy as np
import pytest

from jaxcore.istn import drops as D
from jaxcore.istn import monostatic as MS
from jaxcore.istn.params import TRACED_FIELDS, split_params
from solvers.istn.config import IstnConfig
from solvers.istn.scenarios import SCENARIOS

SMALL = dict(n_tut=3, n_tx=8, n_targets=2, n_radar=2, n_rx=2, clutter_per_target=2)
IDS = np.arange(5, 9, dtype=np.int64)

#: every number a compile-time constant: the build before the split (the reference)
_all_static = jax.jit(D._draw_drops, static_argnums=(1, 3), compiler_options=D.QUICK_COMPILE)


def _draw(fn, p, m=2):
    with jax.enable_x64(True):
        return jax.device_get(fn(jax.random.PRNGKey(3), p, IDS, m))


@pytest.mark.parametrize("scenario,precision,aging", [("paper", "float32", 1.0), ("spec", "float64", 0.9)])
def test_traced_numbers_give_the_same_bits_as_constants(scenario, precision, aging):
    cfg = IstnConfig(**{**SCENARIOS[scenario].values, **SMALL, "aging_corr": aging})
    p = cfg.channel_params(precision)
    ref, new = _draw(_all_static, p), _draw(D.draw_drops_quick, p)
    assert set(ref) == set(new)
    for k in ref:
        np.testing.assert_array_equal(new[k], ref[k], err_msg=k)


def test_a_sweep_over_traced_numbers_compiles_once_and_uses_the_values():
    base = IstnConfig(**SMALL)
    outs = []
    n0 = D._draw_quick._cache_size()
    for r, g in ((50.0, 15.0), (100.0, 15.0), (100.0, 0.0)):
        outs.append(_draw(D.draw_drops_quick, dataclasses.replace(base, r_sens_m=r, g_rad_dbi=g).channel_params()))
    assert D._draw_quick._cache_size() - n0 <= 1  # one program for the three sweep points
    # the values are used: targets twice as far -> weaker target channels; 15 dB less radar gain
    assert np.mean(np.abs(outs[1]["G_tar"]) ** 2) < 0.5 * np.mean(np.abs(outs[0]["G_tar"]) ** 2)
    np.testing.assert_allclose(np.abs(outs[2]["g_rad"]) ** 2, np.abs(outs[1]["g_rad"]) ** 2 / 10 ** 1.5, rtol=1e-9)
    # the structure is static: another size is another program
    assert split_params(base.channel_params())[0] != split_params(dataclasses.replace(base, n_rx=3).channel_params())[0]
    assert "r_sens_m" in TRACED_FIELDS and "fc_hz" not in TRACED_FIELDS


def test_monostatic_sensing_channels_same_bits_as_constants():
    p = IstnConfig(**SMALL).channel_params("float32")
    static = jax.jit(lambda key, ids: jax.vmap(jax.vmap(MS.monostatic_cell, (0, None)), (0, None))(
        D.drop_keys(key, ids, 2), p))
    with jax.enable_x64(True):
        ref = jax.device_get(static(jax.random.PRNGKey(3), IDS))
        new = jax.device_get(MS.monostatic_drops(jax.random.PRNGKey(3), p, IDS, 2))
    for k in ref:
        np.testing.assert_array_equal(new[k], ref[k], err_msg=k)
