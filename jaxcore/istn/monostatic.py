"""Monostatic variant of a drop's sensing channels (ISTN paper Fig. 8 comparison).

"A monostatic ISAC configuration with the same total number of receive antennas": one
radar receiver co-located with the TBS, a ULA of R*Nr elements along the x-axis (the
TBS array axis), self-interference ignored [assumption, spec istn.md §1.5].

The targets, clutter and satellite of drop i are *the same* as in the multistatic drop:
the geometry is redrawn from the very keys :func:`jaxcore.istn.drops.draw_cell` uses
(``fold_in(cell_key, tag)``), only the receiver moves.  The satellite shadowing of the
co-located receiver is a fresh draw of the same law (the shadowing array has a different
length); target/clutter phases are fresh draws too (only their statistics matter).
"""
from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp

from jaxcore.istn import drops as _drops
from jaxcore.istn.geometry import draw_geometry
from jaxcore.istn.params import join_params, split_params
from jaxcore.istn.satellite import satellite_gains
from jaxcore.istn.sensing_channels import scatter_channels
from jaxcore.istn.ula import ula_response

F64 = jnp.float64


def monostatic_cell(key, p) -> dict:
    """Sensing channels of one cell with a single co-located receiver of R*Nr elements.

    Args:
      key: the cell's PRNG key (as in ``draw_cell``); p: ChannelParams of the multistatic
        scenario (its ``n_radar * n_rx`` sets the array size).
    Returns:
      ``g_rad`` [1, R*Nr], ``G_tar`` [T, 1, R*Nr, Nt], ``G_cl`` [L, 1, R*Nr, Nt],
      ``theta_tar_rx`` [T, 1], ``theta_sat_rx`` [1], ``alpha_tar`` [T, 1].
    """
    cdt = jnp.complex64 if p.precision == "float32" else jnp.complex128
    k = lambda tag: jax.random.fold_in(key, tag)  # noqa: E731
    geo = draw_geometry(k(_drops._GEO), p)
    pm = p._replace(n_radar=1, n_rx=p.n_radar * p.n_rx)
    geo = dict(geo, rx=geo["tbs_sens"][None, :], rx_axis=jnp.array([[1.0, 0.0, 0.0]], F64))
    sat = satellite_gains(k(_drops._SAT), geo, pm)
    g_rad = jnp.sqrt(sat["g_rad_pow"]).astype(cdt)[:, None] * ula_response(sat["u_sat_rx"], pm.n_rx, cdt)
    tar = scatter_channels(k(_drops._TAR), geo["tar"], geo["tbs_sens"], geo["rx"], geo["rx_axis"], pm.rcs_tar_m2, pm)
    cl = scatter_channels(k(_drops._CL), geo["cl"], geo["tbs_sens"], geo["rx"], geo["rx_axis"], pm.rcs_cl_m2, pm)
    return dict(g_rad=g_rad, G_tar=tar["G"], G_cl=cl["G"], theta_tar_rx=tar["u_rx"], theta_sat_rx=sat["u_sat_rx"],
                alpha_tar=tar["gain"])


@partial(jax.jit, static_argnums=(1, 4))
def _monostatic_split(key, static, values, drop_ids, n_cells: int) -> dict:
    keys = _drops.drop_keys(key, jnp.asarray(drop_ids), n_cells)
    return jax.vmap(jax.vmap(monostatic_cell, (0, None)), (0, None))(keys, join_params(static, values))


def monostatic_drops(key, p, drop_ids, n_cells: int) -> dict:
    """:func:`monostatic_cell` for drops ``drop_ids`` x ``n_cells`` cells ([B, M, ...]); jitted
    once per structure of ``p`` (its ``TRACED_FIELDS`` traced, as in ``drops.draw_drops``)."""
    static, values = split_params(p)
    return _monostatic_split(key, static, _drops.traced_values(values), drop_ids, n_cells)
