"""The one CSV schema of every figure and table that ``satisac reproduce`` writes (both papers).

Tidy: one row per experiment x x-value x method x metric, the statistic in ``n, mean,
ci_low, ci_high`` (95 % interval; empty where the figure has none, e.g. a Cramer-Rao bound
or a mean over the frames of one episode; ``n`` is then the count the value is made of).
The columns, in this order:

``figure``      the ``satisac reproduce`` target (``istn-fig4``, ``ntn-table3``, ...)
``experiment``  the curve family / panel within the figure (``rmin3``; empty when there is one)
``x_name``      the swept key (``p_bs_dbm``, ``pilot_len``, ...); ``x`` its value
``method``      the method of the curve (empty for quantities that belong to no method)
``metric``      what ``mean`` measures; ``unit`` its unit (``1`` = dimensionless)
``n``           drops/frames/samples behind ``mean``
``mean``, ``ci_low``, ``ci_high``

then the extra columns a figure needs, after these (e.g. ``means`` and ``n_all`` of the ISTN
rate figures, ``t_ho_s, t_frame_s, infeasible`` of Table III, ``frame`` of NTN Fig. 6).
Floats are written as ``%.6g``; ``None`` and NaN as an empty cell.  :func:`write` writes
atomically (``solvers.npzio.atomic_writer``); :func:`read` parses a file back and
:func:`wide` pivots the rows to one dict per point (metric -> mean) for a reader.
"""
from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

from solvers.npzio import atomic_writer

COLUMNS = ("figure", "experiment", "x_name", "x", "method", "metric", "unit", "n", "mean", "ci_low", "ci_high")


def row(figure: str, experiment: str, x_name: str, x, method: str, metric: str, unit: str, n, mean,
        ci_low=None, ci_high=None, **extra) -> dict:
    """One tidy row (a dict with :data:`COLUMNS` first, then ``extra`` in the given order)."""
    return dict(figure=figure, experiment=experiment, x_name=x_name, x=x, method=method, metric=metric, unit=unit,
                n=n, mean=mean, ci_low=ci_low, ci_high=ci_high, **extra)


def header(rows: Sequence[Mapping]) -> list[str]:
    """:data:`COLUMNS` plus every other key of ``rows`` in first-seen order."""
    extra: dict[str, None] = {}
    for r in rows:
        extra.update((k, None) for k in r if k not in COLUMNS)
    return list(COLUMNS) + list(extra)


def _cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, (float, np.floating)):
        return "" if math.isnan(v) else f"{float(v):.6g}"
    if isinstance(v, np.integer):
        return str(int(v))
    return str(v)


def to_text(rows: Sequence[Mapping]) -> str:
    """The CSV text of ``rows`` (every row must carry every column of :data:`COLUMNS`)."""
    cols = header(rows)
    for r in rows:
        missing = [c for c in COLUMNS if c not in r]
        if missing:
            raise KeyError(f"tidy row without column(s) {missing}: {dict(r)}")
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(cols)
    for r in rows:
        w.writerow([_cell(r.get(c)) for c in cols])
    return buf.getvalue()


def write(path: Path, rows: Sequence[Mapping]) -> None:
    """Write ``rows`` to ``path`` atomically (no half-written CSV on an interrupt)."""
    text = to_text(rows)
    with atomic_writer(path) as tmp:
        tmp.write_text(text)


def is_tidy(path: Path) -> bool:
    """Does the CSV at ``path`` start with the :data:`COLUMNS` header (a file of this schema)?"""
    try:
        with open(path, newline="") as fh:
            head = next(csv.reader(fh), [])
    except OSError:
        return False
    return tuple(head[:len(COLUMNS)]) == COLUMNS


def _num(v: str):
    if v == "":
        return float("nan")
    if v in ("True", "False"):
        return v == "True"
    for parse in (int, float):
        try:
            return parse(v)
        except ValueError:
            pass
    return v


def read(path: Path) -> list[dict]:
    """The rows of a tidy CSV, numbers parsed (integers as int, empty cells as NaN)."""
    if not is_tidy(path):
        raise ValueError(f"{path}: not a figure CSV of the tidy schema (expected the header to start with "
                         f"{','.join(COLUMNS)}); re-run `satisac reproduce` to rewrite it")
    with open(path, newline="") as fh:
        return [{k: (v if k in ("figure", "experiment", "x_name", "method", "metric", "unit") else _num(v))
                 for k, v in r.items()} for r in csv.DictReader(fh)]


def wide(rows: Iterable[Mapping], keys: Sequence[str], metrics: Sequence[str] | None = None) -> list[dict]:
    """One dict per distinct ``keys`` tuple (first-seen order): the keys, then ``metric -> mean``.

    ``metrics`` limits the metrics taken (default: all).  A reader's view of the tidy rows as
    the per-point records of one figure (e.g. ``keys=("x", "frame")`` for NTN Fig. 6).
    """
    out: dict[tuple, dict] = {}
    for r in rows:
        if metrics is not None and r["metric"] not in metrics:
            continue
        k = tuple(r[c] for c in keys)
        out.setdefault(k, dict(zip(keys, k)))[r["metric"]] = r["mean"]
    return list(out.values())
