"""Validated ``.npz`` instance/solution files (``../shared/spec/interfaces.md``).

Each file format is a tuple of :class:`FieldSpec`.  :func:`validate_arrays` binds the
named axes (``B``, ``M``, ``K`` ...) from the first field that carries them, then checks
every field's presence, dtype kind, shape, finiteness, sign and index range, and raises
one :class:`InstanceError` that names the field, what was expected and what was found.
Nothing is ever written on failure; :func:`save_npz_atomic` writes to a temporary file in
the same directory and renames it, so a killed run never leaves a half-written file, and
the file gets the mode a plain ``open`` would give (``0666 & ~umask``, 0644 by default).

:func:`load_npz` turns every way a file can be unreadable (missing, a directory, empty,
truncated, bad CRC, a ``.npy`` or text file, pickled data) into one :class:`InstanceError`
naming the file; :func:`check_output_path` refuses an output path that is an input file
(same file, also through a link) or cannot be written, before any work starts.
"""
from __future__ import annotations

import contextlib
import os
import struct
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from solvers.interrupts import raise_if_pending

KINDS = ("complex", "float", "int", "bool", "number")


class InstanceError(ValueError):
    """An instance or solution file is malformed."""


class OutputPathError(ValueError):
    """An output path cannot be used (it is an input file, or it cannot be written)."""


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
      hi: optional inclusive upper bound (e.g. 1 for u = sin(angle)).
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
    hi: float | None = None
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


#: largest itemsize accepted per dtype kind: float64 / complex128 (long double would be
#: silently downcast by every solver, so it is refused)
_MAX_ITEMSIZE = {"f": 8, "c": 16}


def validate_arrays(arrays: Mapping[str, np.ndarray], specs: Sequence[FieldSpec], *,
                    source: str = "instance", dims: Mapping[str, int] | None = None,
                    nonempty: Sequence[str] = ("B",)) -> dict[str, int]:
    """Check ``arrays`` against ``specs``; return the bound axis sizes.

    Axes named in ``nonempty`` (by default the batch axis ``B``) must have size >= 1.

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
        if a.dtype.itemsize > _MAX_ITEMSIZE.get(a.dtype.kind, 8):
            raise InstanceError(f"{source}: field {spec.name!r}: expected at most float64/complex128 precision, "
                                f"found dtype {a.dtype} (long double is not supported; convert with astype)")
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
            elif n == 0 and ax in nonempty:
                raise InstanceError(f"{source}: field {spec.name!r}: expected at least one entry along axis {ax}, "
                                    f"found shape {a.shape} ({ax} = 0{': an empty batch' if ax == 'B' else ''})")
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
            if spec.lo is not None and spec.hi is not None and vals.size and ((vals < spec.lo) | (vals > spec.hi)).any():
                raise InstanceError(f"{source}: field {spec.name!r}: expected values in [{spec.lo:g}, {spec.hi:g}], "
                                    f"found range [{vals.min()}, {vals.max()}]")
            if spec.lo is not None and vals.size and (vals < spec.lo).any():
                raise InstanceError(f"{source}: field {spec.name!r}: expected values >= {spec.lo}, found min {vals.min()}")
            if spec.hi is not None and vals.size and (vals > spec.hi).any():
                raise InstanceError(f"{source}: field {spec.name!r}: expected values <= {spec.hi}, found max {vals.max()}")
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
    arrays = read_npz(p, src)
    dims = validate_arrays(arrays, specs, source=src)
    return arrays, dims


#: what can go wrong while reading a damaged or foreign archive (truncated zip, bad CRC,
#: broken deflate stream, bad .npy header, unsupported zip feature)
_READ_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, zlib.error, struct.error, ValueError,
                TypeError, KeyError, OSError, NotImplementedError, RuntimeError, UnicodeDecodeError, MemoryError)


def read_npz(path: str | os.PathLike, source: str | None = None) -> dict[str, np.ndarray]:
    """Read every array of an ``.npz`` archive (pickles refused); one :class:`InstanceError`
    naming the file (and member) for anything unreadable."""
    p = Path(path)
    src = source or str(p)
    try:
        with open(p, "rb") as fh:
            head = fh.read(8)
    except FileNotFoundError:
        raise InstanceError(f"{src}: file not found") from None
    except IsADirectoryError:
        raise InstanceError(f"{src}: is a directory, expected an .npz file") from None
    except OSError as e:
        raise InstanceError(f"{src}: cannot be read ({e.strerror or e})") from None
    if not head:
        raise InstanceError(f"{src}: empty file (0 bytes), expected an .npz archive (numpy.savez)")
    if head.startswith(b"\x93NUMPY"):
        raise InstanceError(f"{src}: is a single .npy array, expected an .npz archive of named arrays (numpy.savez)")
    if not head.startswith(b"PK"):
        raise InstanceError(f"{src}: not an .npz archive (no zip signature), expected a file written by numpy.savez")
    member = None
    try:
        with zipfile.ZipFile(p) as zf:  # np.load reads a stored member without checking its CRC
            member = zf.testzip()
        if member is not None:
            raise InstanceError(f"{src}: corrupt .npz archive: bad CRC-32 for member {member!r}")
        with np.load(p, allow_pickle=False) as z:
            arrays = {}
            for member in z.files:
                arrays[member] = z[member]
    except InstanceError:
        raise
    except ValueError as e:
        if "allow_pickle" in str(e) or "pickle" in str(e).lower():
            raise InstanceError(f"{src}: field {member!r} holds pickled (object) data, expected a numeric array "
                                "(pickles are never loaded)") from None
        raise InstanceError(f"{src}: unreadable .npz archive{_member(member)} ({e})") from None
    except _READ_ERRORS as e:
        raise InstanceError(f"{src}: unreadable .npz archive{_member(member)}: truncated or corrupt "
                            f"({type(e).__name__}: {e})") from None
    return arrays


def _member(name) -> str:
    return f" (field {name!r})" if name is not None else ""


def npz_path(path: str | os.PathLike) -> Path:
    """The path :func:`save_npz_atomic` writes for ``path`` (``.npz`` appended if missing)."""
    p = Path(path)
    return p if p.name.endswith(".npz") else p.with_name(p.name + ".npz")


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _first_existing(p: Path) -> Path:
    q = p
    while not os.path.lexists(q) and q != q.parent:
        q = q.parent
    return q


def _check_writable_dir(d: Path, what: str) -> None:
    """``d`` must be an existing directory in which a file can be created (probed with a
    temporary file that is removed at once: works for read-only mounts and for root)."""
    if not d.is_dir():
        raise OutputPathError(f"{what}: {d} is not a directory (a file is in the way), expected a writable directory")
    try:
        fd, tmp = tempfile.mkstemp(prefix=".satisac-probe-", dir=d)
    except OSError as e:
        raise OutputPathError(f"{what}: directory {d} is not writable ({e.strerror or e})") from None
    os.close(fd)
    os.unlink(tmp)


def check_output_path(path: str | os.PathLike, inputs: Sequence[str | os.PathLike] = (), *,
                      what: str = "-o", npz: bool = True) -> Path:
    """Refuse an output file path before any work; return the path that will be written.

    Refused (one :class:`OutputPathError`): the path is one of ``inputs`` (the same file,
    also through a symlink or hard link: inputs are never overwritten), it is a directory,
    or the nearest existing ancestor directory is a file or cannot be written.  Missing
    parent directories are fine (they are created when the file is written).  With
    ``npz`` the ``.npz`` suffix is appended as :func:`save_npz_atomic` does."""
    if not str(path).strip():
        raise OutputPathError(f"{what}: expected a file path, got an empty string")
    p = npz_path(path) if npz else Path(path)
    label = f"{what} {p}"
    for inp in inputs:
        if inp is not None and (_same_file(p, Path(inp)) or p.resolve() == Path(inp).resolve()):
            raise OutputPathError(f"{label}: is the input file {inp}; inputs are never overwritten, "
                                  "choose another output path")
    if p.is_dir():
        raise OutputPathError(f"{label}: is a directory, expected a file path")
    _check_writable_dir(_first_existing(p.parent if str(p.parent) else Path(".")), label)
    return p


def check_output_dir(path: str | os.PathLike, *, what: str = "-o") -> Path:
    """Refuse an output directory before any work: it must be a directory (or not exist yet,
    under a writable existing ancestor).  Nothing is created here."""
    p = Path(path)
    if os.path.lexists(p) and not p.is_dir():
        raise OutputPathError(f"{what} {p}: is a file, expected a directory (or a path to create)")
    _check_writable_dir(_first_existing(p), f"{what} {p}")
    return p


def _umask() -> int:
    """The process umask, read without changing it where /proc allows."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    m = os.umask(0o022)
    os.umask(m)
    return m


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
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give what open() would
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        raise_if_pending()  # a Ctrl-C/SIGTERM whose exception was swallowed: do not commit
        os.replace(tmp, p)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


#: zip member timestamp of every archive written here (np.savez stamps the current time)
ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def write_npz(fh, arrays: Mapping[str, np.ndarray], compress: bool = False) -> None:
    """``np.savez`` / ``np.savez_compressed`` into the binary file ``fh``, with every zip member
    stamped :data:`ZIP_DATE`, so equal arrays (same names, order, dtypes) give equal bytes."""
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(fh, "w", compression=method, allowZip64=True) as zf:
        for name, v in arrays.items():
            info = zipfile.ZipInfo(f"{name}.npy", date_time=ZIP_DATE)
            info.compress_type = method
            info.external_attr = 0o644 << 16
            with zf.open(info, "w", force_zip64=True) as out:
                np.lib.format.write_array(out, np.asanyarray(v), allow_pickle=False)


def save_npz_atomic(path: str | os.PathLike, arrays: Mapping[str, np.ndarray], compress: bool = False) -> Path:
    """Write an ``.npz`` atomically (temp file in the same directory, then rename); the bytes
    depend only on the arrays (:func:`write_npz`)."""
    p = npz_path(path)
    with atomic_writer(p) as tmp, open(tmp, "wb") as fh:
        write_npz(fh, {k: np.asarray(v) for k, v in arrays.items()}, compress)
    return p


def spec_table(specs: Sequence[FieldSpec]) -> str:
    """Markdown table of a file format (kept in sync with interfaces.md by a test)."""
    rows = ["| field | kind | shape | required | meaning |", "|---|---|---|---|---|"]
    for s in specs:
        rows.append(f"| `{s.name}` | {s.kind} | ({','.join(map(str, s.axes))}) | {'yes' if s.required else 'no'} | {s.doc} |")
    return "\n".join(rows)
