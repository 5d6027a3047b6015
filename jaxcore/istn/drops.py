"""Monte-Carlo drops of the ISTN scenario: every channel of ISTN paper Sec. II-A for one cell,
``vmap``ped over cells and drops.

PRNG design (reproducibility contract): drop ``i`` of cell ``m`` uses the key
``fold_in(fold_in(PRNGKey(seed), i), m)``, and inside a cell every random quantity comes
from its own ``fold_in`` stream (geometry, satellite shadowing, large scale, small scale,
sensing phases).  Drop ``i`` is therefore identical whatever the batch/chunk it is drawn
in, whatever ``n_drops`` is, and cell ``m`` of drop ``i`` is the same for any ``n_cells``
> m.  Generating drops 0..999 in one call or in chunks gives bit-identical arrays.

Bit-identity holds within one build of the program (``draw_drops`` or the quick-compile
``draw_drops_quick``; the two differ by float round-off).

Random numbers and geometry are always float64 (needs ``jax_enable_x64``; the generator in
``solvers.istn.generate`` runs inside ``jax.enable_x64(True)``); only the small-scale
synthesis (steering vectors, ray sums, channel products) uses ``p.precision``.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp

from jaxcore.istn import uma
from jaxcore.istn.geometry import draw_geometry
from jaxcore.istn.params import join_params, split_params
from jaxcore.istn.satellite import satellite_gains, sut_antenna_gain
from jaxcore.istn.sensing_channels import scatter_channels
from jaxcore.istn.ula import ula_response

F64 = jnp.float64
# fold_in tags of the per-cell random streams
_GEO, _SAT, _LS, _SS_PRE, _SS_NEW, _TAR, _CL = range(7)


def draw_cell(key, p) -> dict:
    """All channels of one cell (ISTN eqs. (1)-(10)).

    Args:
      key: PRNG key of the cell.
      p: :class:`jaxcore.istn.params.ChannelParams` (its ``TRACED_FIELDS`` may be tracers).
    Returns:
      dict (complex in ``p.precision``, real float64): ``h_tut`` [K, Nt] (4),
      ``h_sut`` [Nt] (7), ``g_tut`` [K], ``g_sut`` [] (1), ``g_rad`` [R, Nr] (3),
      ``G_tar`` [T, R, Nr, Nt] (8), ``G_cl`` [L, R, Nr, Nt] (10), ``theta_tar_rx`` [T, R] and
      ``theta_sat_rx`` [R] (u = sin AoA), ``alpha_tar`` [T, R] (eq. (9) power gain),
      ``tut_d2d`` [K] (m), ``tut_los`` [K] (bool), ``sat_elevation`` [] (rad), and with
      ``p.aging_corr < 1`` also ``h_tut_pre`` [K, Nt], ``h_sut_pre`` [Nt].
    """
    cdt = jnp.complex64 if p.precision == "float32" else jnp.complex128
    k = lambda tag: jax.random.fold_in(key, tag)  # noqa: E731
    geo = draw_geometry(k(_GEO), p)
    sat = satellite_gains(k(_SAT), geo, p)

    # TBS -> UT links: K TUTs then the SUT  # [K + 1, 3]
    ue = jnp.concatenate([geo["tut"], geo["sut"][None]], 0)
    vec = ue - geo["tbs"]
    d2d = jnp.concatenate([geo["tut_d2d"], geo["sut_d2d"][None]])
    d3d = jnp.linalg.norm(vec, axis=-1)
    az = jnp.arctan2(vec[:, 1], vec[:, 0])
    cos_el = d2d / d3d
    n_ue = p.n_tut + 1
    ls = jax.vmap(uma.large_scale, (0, 0, 0, None))(jax.random.split(k(_LS), n_ue), d2d, d3d, p)
    small = jax.vmap(uma.small_scale, (0, 0, 0, 0, None))
    # eq. (7): SUT receive gain toward the TBS (rectangular pattern; G_side in practice)
    gain = jnp.concatenate([jnp.ones(p.n_tut, F64), sut_antenna_gain(geo["sut"], geo["sat"], geo["tbs"], p)[None]])
    comb = jax.vmap(uma.combine, (0, 0, None, 0))
    out = {}
    if p.aging_corr < 1.0:
        # Gauss-Markov aging, paper assumption (ii): same large scale, correlated small scale.
        # Both small-scale draws in one vmapped call (one traced copy: smaller program).
        twice = lambda x: jnp.concatenate([x, x])  # noqa: E731
        keys = jnp.concatenate([jax.random.split(k(_SS_PRE), n_ue), jax.random.split(k(_SS_NEW), n_ue)])
        ss2 = small(keys, jax.tree_util.tree_map(twice, ls), twice(az), twice(cos_el), p)
        ss_pre = jax.tree_util.tree_map(lambda a: a[:n_ue], ss2)
        ss_new = jax.tree_util.tree_map(lambda a: a[n_ue:], ss2)
        rho, rho_c = p.aging_corr, (1.0 - p.aging_corr ** 2) ** 0.5
        ss_now = jax.tree_util.tree_map(lambda a, b: (rho * a + rho_c * b).astype(a.dtype), ss_pre, ss_new)
        h_pre = comb(ls, ss_pre, p.tbs_channel_mode, gain)
        h = comb(ls, ss_now, p.tbs_channel_mode, gain)
        out.update(h_tut_pre=h_pre[:p.n_tut], h_sut_pre=h_pre[p.n_tut])
    else:
        ss_pre = small(jax.random.split(k(_SS_PRE), n_ue), ls, az, cos_el, p)
        h = comb(ls, ss_pre, p.tbs_channel_mode, gain)

    # eq. (3) # [R, Nr]
    g_rad = jnp.sqrt(sat["g_rad_pow"]).astype(cdt)[:, None] * ula_response(sat["u_sat_rx"], p.n_rx, cdt)
    tar = scatter_channels(k(_TAR), geo["tar"], geo["tbs_sens"], geo["rx"], geo["rx_axis"], p.rcs_tar_m2, p)
    cl = scatter_channels(k(_CL), geo["cl"], geo["tbs_sens"], geo["rx"], geo["rx_axis"], p.rcs_cl_m2, p)
    out.update(
        h_tut=h[:p.n_tut], h_sut=h[p.n_tut], g_tut=sat["g_tut"], g_sut=sat["g_sut"], g_rad=g_rad,
        G_tar=tar["G"], G_cl=cl["G"], theta_tar_rx=tar["u_rx"], theta_sat_rx=sat["u_sat_rx"],
        alpha_tar=tar["gain"], tut_d2d=geo["tut_d2d"], tut_los=ls["los"][:p.n_tut], sat_elevation=geo["sat_el"])
    return out


def drop_keys(key, drop_ids, n_cells: int):
    """Keys [len(drop_ids), n_cells] of the cells: fold_in(fold_in(key, i), m)."""
    cell = lambda kd: jax.vmap(lambda m: jax.random.fold_in(kd, m))(jnp.arange(n_cells))  # noqa: E731
    return jax.vmap(lambda i: cell(jax.random.fold_in(key, i)))(drop_ids)


def _draw_drops(key, p, drop_ids, n_cells: int) -> dict:
    """Drops ``drop_ids`` (int array [B]) with ``n_cells`` cells each.

    Returns the dict of :func:`draw_cell` with two leading axes [B, M, ...]; drop
    ``drop_ids[b]`` does not depend on the other ids (see module docstring).
    """
    keys = drop_keys(key, jnp.asarray(drop_ids), n_cells)
    b = keys.shape[0]
    # one vmap over the flattened (drop, cell) axis: smaller program, faster compile
    out = jax.vmap(draw_cell, (0, None))(keys.reshape((b * n_cells,) + keys.shape[2:]), p)
    return jax.tree_util.tree_map(lambda a: a.reshape((b, n_cells) + a.shape[1:]), out)


#: XLA options of the quick-compile variant: ~5x faster compile, ~2x slower run (for
#: tests and small jobs).  Results differ from the optimised build by float round-off
#: (~1e-8 relative in float64), so the chunk-invariance contract holds per variant.
QUICK_COMPILE = {"xla_backend_optimization_level": 0}


def _draw_drops_split(key, static, values, drop_ids, n_cells: int) -> dict:
    return _draw_drops(key, join_params(static, values), drop_ids, n_cells)


_draw_opt = jax.jit(_draw_drops_split, static_argnums=(1, 4))
_draw_quick = jax.jit(_draw_drops_split, static_argnums=(1, 4), compiler_options=QUICK_COMPILE)


def traced_values(values: dict) -> dict:
    """The traced numbers of :func:`jaxcore.istn.params.split_params` as float64 scalars
    (the generator runs under ``jax.enable_x64``)."""
    return {k: jnp.asarray(v, F64) for k, v in values.items()}


def draw_drops(key, p, drop_ids, n_cells: int) -> dict:
    """Jitted :func:`_draw_drops`, optimised build: one compile per structure of ``p`` and
    ``n_cells`` (the numbers of ``params.TRACED_FIELDS`` are traced: a sweep over them
    reuses the program)."""
    static, values = split_params(p)
    return _draw_opt(key, static, traced_values(values), drop_ids, n_cells)


def draw_drops_quick(key, p, drop_ids, n_cells: int) -> dict:
    """:func:`draw_drops` built with :data:`QUICK_COMPILE`."""
    static, values = split_params(p)
    return _draw_quick(key, static, traced_values(values), drop_ids, n_cells)
