"""The Monte-Carlo result store: a directory of Parquet files plus a ``run.json`` manifest.

Layout of ``run_dir``::

    run.json                               what was run (config, sweep, seed, methods, drops, chunk size)
    point-0000/chunk-000000.parquet        rows of sweep point 0, drops [0, chunk_size)
    point-0000/chunk-000001.parquet        ...
    point-0001/...

One row per (drop, method, ...) with the columns that identify it (``point``, the swept
keys, ``config_hash``, ``seed``, ``drop``, ``method``) and the outputs the work function
returned.  Any Parquet reader can query the directory (pyarrow ``dataset``, DuckDB, polars:
``SELECT method, avg(sum_rate) FROM 'run_dir/*/*.parquet' GROUP BY method``).

Atomicity: a chunk file is written to a hidden temporary name in the same directory and
``os.replace``-d into place, so a file either is complete or does not exist; a chunk is
"done" exactly when its file exists.  A killed run therefore loses at most the chunk in
flight and never leaves a half-written file that would be read back.

Several writers: a whole run holds ``run_dir/.lock`` exclusively; shard jobs hold it shared
and claim each chunk before computing it (:mod:`solvers.runner.claims`).
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from solvers.configio import ConfigError
from solvers.npzio import atomic_writer
from solvers.runner.claims import clean_temporaries, lease_seconds, resolve

MANIFEST = "run.json"
MANIFEST_VERSION = 1


def _jsonable(obj: Any) -> Any:
    """Normalise a manifest to plain JSON types (tuples -> lists, numpy scalars -> Python)."""
    return json.loads(json.dumps(obj, sort_keys=True, default=_default))


def _default(o: Any):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, (set, frozenset)):
        return sorted(o)
    return str(o)


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    with atomic_writer(path) as tmp:
        tmp.write_bytes(data)


def _diff(old: Mapping, new: Mapping, prefix: str = "") -> list[str]:
    out = []
    for k in sorted(set(old) | set(new)):
        a, b = old.get(k, "<absent>"), new.get(k, "<absent>")
        if isinstance(a, Mapping) and isinstance(b, Mapping):
            out += _diff(a, b, f"{prefix}{k}.")
        elif a != b:
            out.append(f"{prefix}{k}: stored {a!r}, now {b!r}")
    return out


class RunStore:
    """A result directory bound to one manifest (see module docstring)."""

    def __init__(self, run_dir: str | os.PathLike, manifest: Mapping[str, Any], exclusive: bool = True,
                 lease_s: float | None = None):
        """Open (or create) ``run_dir`` for ``manifest``.

        ``exclusive``: this is the only writer (it holds the run lock exclusively,
        :mod:`solvers.runner.claims`), so every leftover temporary file is removed; with
        False (a shard job) only temporaries whose chunk has no live claim are.

        Raises:
          ConfigError: ``run_dir`` already holds a run with a different manifest (the message
            lists the differing entries and says to use another directory), or ``run_dir``
            exists, is not empty and has no manifest.
        """
        self.dir = Path(run_dir)
        self.manifest = _jsonable({"version": MANIFEST_VERSION, **dict(manifest)})
        mpath = self.dir / MANIFEST
        if mpath.exists():
            try:
                old = json.loads(mpath.read_text())
            except json.JSONDecodeError as e:
                raise ConfigError(f"run dir {self.dir}: {MANIFEST} is not valid JSON ({e})") from None
            if old != self.manifest:
                diffs = _diff(old, self.manifest)
                raise ConfigError(
                    f"run dir {self.dir} holds a different run ({len(diffs)} difference(s): "
                    + "; ".join(diffs[:6]) + ("; ..." if len(diffs) > 6 else "")
                    + "). Use another output directory, or delete this one to start over.")
        else:
            if self.dir.exists() and any(p for p in self.dir.iterdir() if not p.name.startswith(".")):
                raise ConfigError(f"run dir {self.dir} exists, is not empty and has no {MANIFEST}; "
                                  "refusing to mix results. Use an empty or new directory.")
            _atomic_write_bytes(mpath, json.dumps(self.manifest, indent=2, sort_keys=True).encode())
        clean_temporaries(self.dir, exclusive, lease_seconds(lease_s))

    def chunk_path(self, point: int, chunk: int) -> Path:
        return self.dir / f"point-{point:04d}" / f"chunk-{chunk:06d}.parquet"

    def has_chunk(self, point: int, chunk: int) -> bool:
        return self.chunk_path(point, chunk).exists()

    def write_chunk(self, point: int, chunk: int, table: pa.Table) -> Path:
        """Write one chunk's rows atomically (temp file + ``os.replace``)."""
        path = self.chunk_path(point, chunk)
        with atomic_writer(path) as tmp:
            pq.write_table(table, tmp)
        return path


def chunk_files(run_dir: str | os.PathLike) -> list[Path]:
    """All finished chunk files of a run, in (point, chunk) order."""
    return sorted(resolve(run_dir).glob("point-*/chunk-*.parquet"))


def read_manifest(run_dir: str | os.PathLike) -> dict:
    p = resolve(run_dir) / MANIFEST
    if not p.exists():
        raise ConfigError(f"{run_dir}: no {MANIFEST} (not a satisac run directory)")
    return json.loads(p.read_text())


def load_results(run_dir: str | os.PathLike) -> pa.Table:
    """All rows of a run as one pyarrow Table, sorted by (point, drop, method).

    Columns with differing types across chunks are unified (e.g. int -> float).  Use
    :func:`to_numpy` for a dict of numpy columns.
    """
    read_manifest(run_dir)
    files = chunk_files(run_dir)
    if not files:
        return pa.table({})
    tables = [pq.read_table(f) for f in files]
    t = pa.concat_tables(tables, promote_options="permissive")
    keys = [(c, "ascending") for c in ("point", "drop", "method") if c in t.column_names]
    return t.sort_by(keys) if keys else t


def to_numpy(table: pa.Table) -> dict[str, np.ndarray]:
    """A pyarrow Table as ``{column: numpy array}`` (strings become object arrays)."""
    return {name: table.column(name).to_numpy(zero_copy_only=False) for name in table.column_names}


def rows_to_table(rows: Any) -> pa.Table:
    """Accept a pyarrow Table, a list of row dicts or a dict of columns; return a Table."""
    if isinstance(rows, pa.Table):
        return rows
    if isinstance(rows, Mapping):
        return pa.table({k: np.asarray(v) if not isinstance(v, list) else v for k, v in rows.items()})
    rows = list(rows)
    if not rows:
        return pa.table({})
    keys: dict[str, None] = {}
    for r in rows:  # union of the keys, in first-seen order (missing values become nulls)
        keys.update(dict.fromkeys(r))
    cols = {k: [(v.item() if isinstance(v, np.generic) else v) for v in (r.get(k) for r in rows)] for k in keys}
    return pa.table(cols)
