"""Rain field: Poisson rain cells, on/off Markov chain and power-law attenuation.

NTN spec ``ntn.md`` §2 III-D, eqs. (6)-(10).  Rain cells are a homogeneous Poisson point
process on the sphere over the area box plus a margin (longitude uniform, sin(latitude)
uniform = uniform in area), each with an exponential radius (mean mu_r) and an exponential
intensity (mean mu_R) and a two-state activity chain X_i(k) with transition probabilities
(7)-(8), initialised from the stationary law (9).  The Poisson count is padded to a static
``n_max`` with a ``valid`` mask so every array has a static shape.

Intensity redraw policy (spec (10) REC-M): ``redraw_every_frame=False`` draws R_i at the
start of every on-period and keeps it while active; ``True`` redraws it every frame.

Units: km, hours for the rain model inputs, seconds for T_f, mm/h for rain rates, dB for (6).
"""
from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

R_E_KM = 6371.0


class RainCells(NamedTuple):
    """Static rain-cell geometry (arrays [N])."""

    lat: jnp.ndarray  # [N] rad
    lon: jnp.ndarray  # [N] rad
    radius_km: jnp.ndarray  # [N]
    valid: jnp.ndarray  # [N] bool (padding slots are False)


class RainState(NamedTuple):
    """Activity X_i(k) (bool [N]) and intensity R_i(k) (mm/h [N])."""

    active: jnp.ndarray
    intensity: jnp.ndarray


def transition_probs(t_frame_s, mean_duration_s, mean_gap_s):
    """(p10, p01) per frame: p10 = 1 - exp(-T_f/mu_D) (7), p01 = 1 - exp(-T_f/mu_I) (8)."""
    return -jnp.expm1(-t_frame_s / mean_duration_s), -jnp.expm1(-t_frame_s / mean_gap_s)


def stationary_active(p10, p01):
    """pi_1 = p01 / (p01 + p10), eq. (9): long-run probability that a rain cell is active."""
    return p01 / (p01 + p10)


def box_area_km2(lat0, lat1, lon0, lon1):
    """Area of a lat/lon box (rad) on the sphere [km^2]."""
    return R_E_KM ** 2 * (lon1 - lon0) * (jnp.sin(lat1) - jnp.sin(lat0))


def sample_rain_cells(key, n_max: int, lat0, lat1, lon0, lon1, density_per_km2, mean_radius_km) -> RainCells:
    """PPP of rain cells in the box [lat0, lat1] x [lon0, lon1] (rad) with density lambda_R.

    The count is Poisson(lambda_R * area), truncated at the static ``n_max`` (choose
    ``n_max`` many standard deviations above the mean; the caller checks ``valid.sum()``).
    """
    kn, kla, klo, kr = jax.random.split(key, 4)
    mean = density_per_km2 * box_area_km2(lat0, lat1, lon0, lon1)
    n = jax.random.poisson(kn, mean)
    u = jax.random.uniform(kla, (n_max,))
    lat = jnp.arcsin(jnp.sin(lat0) + u * (jnp.sin(lat1) - jnp.sin(lat0)))  # [N] uniform in area
    lon = lon0 + jax.random.uniform(klo, (n_max,)) * (lon1 - lon0)
    radius = mean_radius_km * jax.random.exponential(kr, (n_max,))
    return RainCells(lat, lon, radius, jnp.arange(n_max) < n)


def great_circle_km(lat_a, lon_a, lat_b, lon_b):
    """Haversine distance [km] between points (rad), broadcast."""
    h = jnp.sin((lat_b - lat_a) / 2) ** 2 + jnp.cos(lat_a) * jnp.cos(lat_b) * jnp.sin((lon_b - lon_a) / 2) ** 2
    return 2.0 * R_E_KM * jnp.arcsin(jnp.sqrt(jnp.clip(h, 0.0, 1.0)))


def cell_cover(cell_lat, cell_lon, rc: RainCells):
    """[C, N] bool: rain cell i covers ground cell c, delta_{i,c} <= D_i / 2 (set M_c of (10))."""
    d = great_circle_km(cell_lat[:, None], cell_lon[:, None], rc.lat[None, :], rc.lon[None, :])  # [C, N]
    return (d <= rc.radius_km[None, :]) & rc.valid[None, :]


def init_rain_state(key, n: int, pi1, mean_intensity) -> RainState:
    """Draw X_i(0) ~ Bernoulli(pi_1) (9) and R_i ~ Exp(mean mu_R)."""
    ka, kr = jax.random.split(key)
    return RainState(jax.random.bernoulli(ka, pi1, (n,)),
                     mean_intensity * jax.random.exponential(kr, (n,)))


def rain_step(state: RainState, key, p10, p01, mean_intensity, redraw_every_frame: bool = False) -> RainState:
    """One frame of the on/off chain (7)-(8) with the intensity redraw policy."""
    ku, kr = jax.random.split(key)
    u = jax.random.uniform(ku, state.active.shape)
    active = jnp.where(state.active, u >= p10, u < p01)
    fresh = mean_intensity * jax.random.exponential(kr, state.intensity.shape)
    if redraw_every_frame:
        intensity = fresh
    else:
        intensity = jnp.where(active & ~state.active, fresh, state.intensity)
    return RainState(active, intensity)


def evolve_rain(state: RainState, keys, p10, p01, mean_intensity, redraw_every_frame: bool = False):
    """Run the chain over frames with ``lax.scan``.

    Args:
      state: state of the frame before the first key.
      keys: [F, 2] one PRNG key per frame.
    Returns:
      (final_state, RainState with arrays [F, N]) -- the state of each of the F frames.
    """
    def body(s, k):
        s = rain_step(s, k, p10, p01, mean_intensity, redraw_every_frame)
        return s, s

    return jax.lax.scan(body, state, keys)


def cell_rain_rate(cover, active, intensity):
    """R_c(k) = sum of R_i(k) over active rain cells covering c [mm/h], eq. (10).

    cover [C, N] bool; active, intensity [..., N] -> [..., C].
    """
    return jnp.einsum("...n,cn->...c", jnp.where(active, intensity, 0.0), cover.astype(intensity.dtype))


def slant_path_km(rain_height_km, elev):
    """Slant path through rain l = h_R / sin(elev) [km] (spec (6), REC-M)."""
    return rain_height_km / jnp.sin(elev)


def rain_attenuation_db(a, b, rain_rate_mmh, path_km):
    """A^dB = a R^b l, eq. (6) (a, b from ITU-R P.838-3); 0 dB without rain."""
    r = jnp.maximum(rain_rate_mmh, 0.0)
    return jnp.where(r > 0, a * jnp.power(jnp.where(r > 0, r, 1.0), b) * path_km, 0.0)
