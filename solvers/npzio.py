"""Validated ``.npz`` instance/solution files (``../shared/spec/interfaces.md``).

Each file format is a tuple of :class:`FieldSpec`.  :func:`validate_arrays` binds the
named axes (``B``, ``M``, ``K`` ...) from the first field that carries them, then checks
every field's presence, dtype kind, shape, finiteness, sign and index range, and raises
one :class:`InstanceError` that names the field, what was expected and what was found.
Nothing is ever written on failure; :func:`save_npz_atomic` writes to a temporary file in
the same directory and renames it, so a killed run never leaves a half-written file.
"""
from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

KINDS = ("complex", "float", "int", "bool", "number")


class InstanceError(ValueError):
    """An instance or solution file is malformed."""


@dataclass(frozen=True)
class FieldSpec:
    """One array of a file format.

    Attributes:
      name: field name in the archive.
      kind: ``complex``, ``float`` (real floating or integer), ``int``, ``bool`` or
        ``number`` (real or complex).
      axes: axis names (bound across fields) or fixed ints.
      required: whether the field must be present.
      nonneg: values must be >= 0 (powers, noise, rates).
      positive: values must be > 0.
      index_axis: values are 0-based indices into this named axis.
      allow_nan: NaN allowed (e.g. the objective of an infeasible NTN instance).
      lo: optional inclusive lower bound (e.g. n_com >= 1).
      doc: meaning, for error messages and the README.
    """

    name: str
    kind: str
    axes: tuple
    required: bool = True
    nonneg: bool = False
    positive: bool = False
    index_axis: str | None = None
    allow_nan: bool = False
    lo: float | None = None
    doc: str = ""


def _kind_ok(arr: np.ndarray, kind: str) -> bool:
    k = arr.dtype.kind
    if kind == "complex":
        return k == "c"
    if kind == "float":
        return k in "fiu"
    if kind == "int":
        return k in "iu"
    if kind == "bool":
        return k == "b" or k in "iu"
    if kind == "number":
        return k in "fiuc"
    raise ValueError(kind)


def _fmt_axes(axes: Sequence, dims: Mapping[str, int]) -> str:
    names = ",".join(str(a) for a in axes)
    vals = ",".join(str(dims.get(a, "?")) if isinstance(a, str) else str(a) for a in axes)
    return f"({names}) = ({vals})"


def validate_arrays(arrays: Mapping[str, np.ndarray], specs: Sequence[FieldSpec], *,
                    source: str = "instance", dims: Mapping[str, int] | None = None) -> dict[str, int]:
    """Check ``arrays`` against ``specs``; return the bound axis sizes.

    Raises:
      InstanceError: naming the first offending field.
    """
    bound: dict[str, int] = dict(dims or {})
    for spec in specs:
        if spec.name not in arrays:
            if spec.required:
                raise InstanceError(f"{source}: missing required field {spec.name!r} "
                                    f"({spec.kind} array of shape {_fmt_axes(spec.axes, bound)}"
                                    f"{'; ' + spec.doc if spec.doc else ''})")
            continue
        a = np.asarray(arrays[spec.name])
        if not _kind_ok(a, spec.kind):
            raise InstanceError(f"{source}: field {spec.name!r}: expected a {spec.kind} array, found dtype {a.dtype}")
        if a.ndim != len(spec.axes):
            raise InstanceError(f"{source}: field {spec.name!r}: expected shape {_fmt_axes(spec.axes, bound)}, "
                                f"found {a.ndim}-d shape {a.shape}")
        for ax, n in zip(spec.axes, a.shape):
            if isinstance(ax, int):
                if n != ax:
                    raise InstanceError(f"{source}: field {spec.name!r}: expected shape {_fmt_axes(spec.axes, bound)}, found {a.shape}")
            elif ax in bound and bound[ax] != n:
                raise InstanceError(f"{source}: field {spec.name!r}: expected shape {_fmt_axes(spec.axes, bound)}, "
                                    f"found {a.shape} (axis {ax} is {bound[ax]} elsewhere)")
            else:
                bound.setdefault(ax, n)
        if a.dtype.kind in "fc":
            bad = ~np.isfinite(a)
            if spec.allow_nan:
                bad &= ~np.isnan(a)
            if bad.any():
                idx = tuple(int(i) for i in np.argwhere(bad)[0])
                raise InstanceError(f"{source}: field {spec.name!r}: expected finite values, found {a[idx]} at index {idx}")
        if spec.kind != "complex" and a.dtype.kind != "c" and a.size:
            vals = a[np.isfinite(a)] if a.dtype.kind == "f" else a
            if spec.positive and vals.size and (vals <= 0).any():
                raise InstanceError(f"{source}: field {spec.name!r}: expected positive values, found min {vals.min()}")
            if spec.nonneg and vals.size and (vals < 0).any():
                raise InstanceError(f"{source}: field {spec.name!r}: expected non-negative values, found min {vals.min()}")
            if spec.lo is not None and vals.size and (vals < spec.lo).any():
                raise InstanceError(f"{source}: field {spec.name!r}: expected values >= {spec.lo}, found min {vals.min()}")
            if spec.index_axis is not None:
                n = bound.get(spec.index_axis)
                if n is not None and ((a < 0).any() or (a >= n).any()):
                    raise InstanceError(f"{source}: field {spec.name!r}: expected indices in [0, {n - 1}] "
                                        f"(axis {spec.index_axis}), found range [{a.min()}, {a.max()}]")
    return bound


def load_npz(path: str | os.PathLike, specs: Sequence[FieldSpec], *, source: str | None = None
             ) -> tuple[dict[str, np.ndarray], dict[str, int]]:
    """Load and validate an archive; unknown extra fields are kept (forward compatible)."""
    p = Path(path)
    src = source or str(p)
    try:
        with np.load(p, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except FileNotFoundError:
        raise InstanceError(f"{src}: file not found") from None
    except (ValueError, OSError) as e:
        raise InstanceError(f"{src}: not a readable .npz archive ({e})") from None
    dims = validate_arrays(arrays, specs, source=src)
    return arrays, dims


@contextlib.contextmanager
def atomic_writer(path: str | os.PathLike):
    """Yield a temporary path next to ``path``; on success fsync it and rename it onto
    ``path``, on any failure (or interrupt) remove it.  Readers never see a partial file."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, p)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def save_npz_atomic(path: str | os.PathLike, arrays: Mapping[str, np.ndarray], compress: bool = False) -> Path:
    """Write an ``.npz`` atomically (temp file in the same directory, then rename)."""
    p = Path(path)
    if not p.name.endswith(".npz"):
        p = p.with_name(p.name + ".npz")
    with atomic_writer(p) as tmp, open(tmp, "wb") as fh:
        (np.savez_compressed if compress else np.savez)(fh, **{k: np.asarray(v) for k, v in arrays.items()})
    return p


def spec_table(specs: Sequence[FieldSpec]) -> str:
    """Markdown table of a file format (kept in sync with interfaces.md by a test)."""
    rows = ["| field | kind | shape | required | meaning |", "|---|---|---|---|---|"]
    for s in specs:
        rows.append(f"| `{s.name}` | {s.kind} | ({','.join(map(str, s.axes))}) | {'yes' if s.required else 'no'} | {s.doc} |")
    return "\n".join(rows)
