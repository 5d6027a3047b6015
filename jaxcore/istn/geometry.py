"""Node placement for one ISTN cell (ISTN paper Sec. II; spec istn.md §1.4, §5). float64.

Local ENU frame in metres with the TBS at the cell centre (origin).  Recorded choices:

* TBS at (0, 0, h_bs); its ULA lies along the x-axis [assumption, spec §1.4].
* TUTs (and the SUT in ``"uniform"`` placement) uniform in the annulus
  min_d2d <= d_2D <= cell_radius at height h_ut (d_2D >= 10 m keeps 38.901 valid) [assumption].
  ``"fixed"`` SUT placement: d_2D = sut_distance, uniform azimuth.
* Targets uniform in the disk of radius r_sens around the TBS [paper].
* Radar receiver n at radius r_sens/2, azimuth 2 pi n / R: for R = 4 this is
  (r/2, 0), (0, r/2), (-r/2, 0), (0, -r/2) as in the paper; broadside toward the centre
  (array axis perpendicular to the radius) or, optionally, all along x [assumption].
* Clutter: ``clutter_per_target`` scatterers per target, uniform within clutter_radius of
  it; clutter l belongs to target ``l // clutter_per_target`` [paper N_cl, assumption radius].
* ``"2d"`` sensing geometry: TBS, targets, clutter, receivers at z = 0 for sensing
  distances/angles; ``"3d"``: TBS at h_bs, the others at h_ut.
* Satellite: elevation U[el_min, el_max], azimuth U[0, 2 pi), slant range
  d = sqrt((R_E + h)^2 - R_E^2 cos^2 el) - R_E sin el, placed at SUT + d (cos el cos az,
  cos el sin az, sin el) (flat earth within the cell; beam m is centred on SUT m).
"""
from __future__ import annotations

import jax
import jax.numpy as jnp

F64 = jnp.float64


def uniform_annulus(key, n: int, r_min: float, r_max: float):
    """``n`` points uniform (by area) in r_min <= r <= r_max; returns ([n, 2] xy, [n] r)."""
    u = jax.random.uniform(key, (n, 2), F64)
    # [n]
    r = jnp.sqrt(r_min ** 2 + (r_max ** 2 - r_min ** 2) * u[:, 0])
    az = 2 * jnp.pi * u[:, 1]
    return jnp.stack([r * jnp.cos(az), r * jnp.sin(az)], -1), r


def slant_range(el, earth_radius_m: float, altitude_m: float):
    """Ground-to-satellite distance at elevation ``el`` (rad), spherical earth, metres."""
    re, rs = earth_radius_m, earth_radius_m + altitude_m
    return jnp.sqrt(rs ** 2 - (re * jnp.cos(el)) ** 2) - re * jnp.sin(el)


def _with_z(xy, z):
    return jnp.concatenate([xy, jnp.full(xy.shape[:-1] + (1,), z, F64)], -1)


def radar_positions(p):
    """Radar receiver positions [R, 2] and unit array axes [R, 3] (see module doc)."""
    ang = 2 * jnp.pi * jnp.arange(p.n_radar, dtype=F64) / p.n_radar
    # [R, 2]; rounded so that (0, r/2) is exact
    unit = jnp.round(jnp.stack([jnp.cos(ang), jnp.sin(ang)], -1), 15)
    pos = 0.5 * p.r_sens_m * unit
    if p.radar_orientation == "toward_centre":
        # broadside b = -unit; axis = b rotated by +90 deg = (unit_y, -unit_x)
        axis = jnp.stack([unit[:, 1], -unit[:, 0], jnp.zeros(p.n_radar, F64)], -1)
    else:
        axis = jnp.tile(jnp.array([1.0, 0.0, 0.0], F64), (p.n_radar, 1))
    return pos, axis


def draw_geometry(key, p) -> dict:
    """Positions of every node of one cell.

    Args:
      key: PRNG key.
      p: :class:`jaxcore.istn.params.ChannelParams`.
    Returns:
      dict of float64 arrays (metres, radians): ``tbs`` [3], ``tut`` [K, 3], ``tut_d2d`` [K],
      ``sut`` [3], ``sut_d2d`` [], ``sat`` [3], ``sat_el`` [], ``sat_az`` [], ``sat_range`` [],
      ``tbs_sens`` [3], ``tar`` [T, 3], ``cl`` [L, 3], ``rx`` [R, 3], ``rx_axis`` [R, 3].
    """
    k_tut, k_sut, k_tar, k_cl, k_sat = jax.random.split(key, 5)
    tut_xy, tut_d2d = uniform_annulus(k_tut, p.n_tut, p.min_d2d_m, p.cell_radius_m)
    if p.sut_placement == "uniform":
        sut_xy, sut_d2d = uniform_annulus(k_sut, 1, p.min_d2d_m, p.cell_radius_m)
    else:
        sut_xy, sut_d2d = uniform_annulus(k_sut, 1, p.sut_distance_m, p.sut_distance_m)
    sut = _with_z(sut_xy[0], p.h_ut_m)
    # satellite
    u_sat = jax.random.uniform(k_sat, (2,), F64)
    el = p.el_min_rad + (p.el_max_rad - p.el_min_rad) * u_sat[0]
    az = 2 * jnp.pi * u_sat[1]
    d = slant_range(el, p.earth_radius_m, p.leo_altitude_m)
    sat = sut + d * jnp.stack([jnp.cos(el) * jnp.cos(az), jnp.cos(el) * jnp.sin(az), jnp.sin(el)])
    # sensing nodes
    z_sens = p.h_ut_m if p.sensing_geometry == "3d" else 0.0
    z_tbs_sens = p.h_bs_m if p.sensing_geometry == "3d" else 0.0
    tar_xy, _ = uniform_annulus(k_tar, p.n_targets, 0.0, p.r_sens_m)
    # [T * cpt, 2] clutter offsets, clutter l belongs to target l // cpt
    off, _ = uniform_annulus(k_cl, p.n_clutter, 0.0, p.clutter_radius_m)
    cl_xy = jnp.repeat(tar_xy, p.clutter_per_target, axis=0) + off
    rx_xy, rx_axis = radar_positions(p)
    return dict(
        tbs=jnp.array([0.0, 0.0, p.h_bs_m], F64), tut=_with_z(tut_xy, p.h_ut_m), tut_d2d=tut_d2d,
        sut=sut, sut_d2d=sut_d2d[0], sat=sat, sat_el=el, sat_az=az, sat_range=d,
        tbs_sens=jnp.array([0.0, 0.0, z_tbs_sens], F64), tar=_with_z(tar_xy, z_sens),
        cl=_with_z(cl_xy, z_sens), rx=_with_z(rx_xy, z_sens), rx_axis=rx_axis)
