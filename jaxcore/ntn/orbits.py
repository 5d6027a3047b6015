"""Walker-delta circular shells: orbital speed (1), Earth rotation, ECEF positions.

NTN paper (Leyva-Mayorga et al.), spec ``../shared/spec/ntn.md`` §2 III-A, eq. (1).
Spherical Earth of radius ``R_E`` = 6371 km; circular orbits; satellites of one plane are
equally spaced; the plane RAANs are equally spaced over 360 deg (Walker delta i:T/P/F).
The inertial frame coincides with the Earth-fixed (ECEF) frame at ``t = 0`` and the Earth
rotates about +z at ``OMEGA_E``; J2 and drag are neglected (see ``solvers/ntn/tle.py`` for
SGP4 positions with the same interface).

All functions are pure JAX, batched over satellites and times; call them with float64
arrays (geometry must be float64, STYLE.md); they keep the dtype they are given.
Units: metres, seconds, radians.
"""
from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp

R_E = 6371.0e3  # Earth radius [m] (spec §2 (1))
GM_E = 3.986004418e14  # G * M_E [m^3/s^2]
OMEGA_E = 7.2921159e-5  # Earth rotation rate [rad/s] (sidereal)
C_LIGHT = 299792458.0  # speed of light [m/s]


class Elements(NamedTuple):
    """Circular-orbit elements of N satellites (all arrays [N], float64).

    radius: orbit radius R_E + h [m]; incl: inclination [rad]; raan: right ascension of the
    ascending node at t = 0 [rad]; u0: argument of latitude at t = 0 [rad];
    rate: angular rate v/(R_E + h) [rad/s].
    """

    radius: jnp.ndarray
    incl: jnp.ndarray
    raan: jnp.ndarray
    u0: jnp.ndarray
    rate: jnp.ndarray


def orbital_speed(altitude):
    """Circular orbital speed v_s = sqrt(G M_E / (R_E + h_s)) [m/s], NTN eq. (1)."""
    return jnp.sqrt(GM_E / (R_E + altitude))


def orbital_period(altitude):
    """Orbital period 2 pi (R_E + h) / v_s [s] from eq. (1)."""
    return 2.0 * jnp.pi * (R_E + altitude) / orbital_speed(altitude)


def walker_delta(altitude: float, incl_rad: float, planes: int, sats_per_plane: int, phasing: int,
                 dtype=jnp.float64) -> Elements:
    """Elements of a Walker-delta shell i:T/P/F with T = planes * sats_per_plane.

    Plane p has RAAN 2 pi p / P; satellite m of plane p has argument of latitude
    2 pi m / (T/P) + 2 pi F p / T at t = 0.  Satellite index = p * sats_per_plane + m.
    """
    t = planes * sats_per_plane
    p = jnp.repeat(jnp.arange(planes), sats_per_plane).astype(dtype)  # [N]
    m = jnp.tile(jnp.arange(sats_per_plane), planes).astype(dtype)  # [N]
    raan = 2.0 * jnp.pi * p / planes
    u0 = 2.0 * jnp.pi * m / sats_per_plane + 2.0 * jnp.pi * phasing * p / t
    radius = jnp.full((t,), R_E + altitude, dtype)
    rate = orbital_speed(radius - R_E) / radius
    return Elements(radius, jnp.full((t,), incl_rad, dtype), raan, u0, rate)


def concat_elements(parts) -> Elements:
    """Stack the elements of several shells along the satellite axis."""
    return Elements(*(jnp.concatenate([getattr(e, f) for e in parts]) for f in Elements._fields))


def eci_positions(el: Elements, times):
    """Inertial positions [..., N, 3] (m) at ``times`` [...] (s).

    r = a [cos u cos O - sin u cos i sin O, cos u sin O + sin u cos i cos O, sin u sin i],
    u = u0 + rate * t.
    """
    t = jnp.asarray(times)[..., None]  # [..., 1]
    u = el.u0 + el.rate * t  # [..., N]
    cu, su = jnp.cos(u), jnp.sin(u)
    co, so = jnp.cos(el.raan), jnp.sin(el.raan)
    ci, si = jnp.cos(el.incl), jnp.sin(el.incl)
    x = cu * co - su * ci * so
    y = cu * so + su * ci * co
    z = su * si
    return el.radius[..., None] * jnp.stack([x, y, z], axis=-1)  # [..., N, 3]


def eci_to_ecef(r_eci, times):
    """Rotate inertial vectors [..., N, 3] into the Earth-fixed frame at ``times`` [...]."""
    th = OMEGA_E * jnp.asarray(times)[..., None]  # [..., 1]
    c, s = jnp.cos(th), jnp.sin(th)
    x, y, z = r_eci[..., 0], r_eci[..., 1], r_eci[..., 2]
    return jnp.stack([c * x + s * y, -s * x + c * y, z], axis=-1)


def ecef_positions(el: Elements, times):
    """Earth-fixed satellite positions [..., N, 3] (m) at ``times`` [...] (s)."""
    return eci_to_ecef(eci_positions(el, times), times)


def geodetic_to_ecef(lat, lon, radius=R_E):
    """Points on the spherical Earth: lat/lon [...] (rad) -> ECEF [..., 3] (m)."""
    cl = jnp.cos(lat)
    return radius * jnp.stack([cl * jnp.cos(lon), cl * jnp.sin(lon), jnp.sin(lat)], axis=-1)


def subsatellite_point(r_ecef):
    """Latitude/longitude (rad) of the sub-satellite point of ECEF positions [..., 3]."""
    x, y, z = r_ecef[..., 0], r_ecef[..., 1], r_ecef[..., 2]
    return jnp.arctan2(z, jnp.hypot(x, y)), jnp.arctan2(y, x)
