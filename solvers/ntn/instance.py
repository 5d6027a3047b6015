"""NTN allocation instance and solution files (``../shared/spec/interfaces.md`` §3 and §4).

Paper: Leyva-Mayorga et al., "Integrating Atmospheric Sensing and Communications for
Resource Allocation in NTNs" (``../shared/papers/ntn_leyva_mayorga.txt``), problem P1,
eqs. (23)-(26) of ``../shared/spec/ntn.md``.

Axes: ``B`` frames (or scenarios), ``C`` cells, ``S`` satellites in view (padded with
``rate = 0`` columns so a multi-frame file has a static ``S``).

Public API::

    INSTANCE_FIELDS, SOLUTION_FIELDS          # FieldSpec tuples (interfaces.md §3/§4 + optional extras)
    load_instance(path) -> (arrays, dims)     # dims = {"B":..., "C":..., "S":...}
    validate_instance(arrays, source) -> dims
    save_instance(path, arrays) -> Path       # validates first; nothing written on failure
    load_solution(path, instance_dims=None) -> (arrays, dims)
    validate_solution(arrays, source, instance=None) -> dims
    save_solution(path, arrays, instance=None) -> Path

Cross-field checks beyond the per-field ones of :mod:`solvers.npzio`:
``1 <= n_com <= t_frame / t_ofdma`` (per frame), ``t_ofdma <= t_frame``,
``prev_served`` at most one satellite per cell, ``B``, ``C``, ``S`` >= 1, and for solutions: ``status`` in {0,1,2},
``x`` zero wherever the instance's ``rate`` is 0 and all-zero when ``status == 2``.

Optional extra fields written by ``satisac ntn generate`` (ignored by solvers; extensions
allowed by interfaces.md): ``sat_id`` (B,S) global satellite id or -1 for padding,
``shell`` (B,S) shell index or -1, ``frame`` (B,) frame index k, ``snr_clear`` (B,C,S)
clear-sky SNR (linear), ``cell_lat``/``cell_lon`` (B,C) cell centres in degrees.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping

import numpy as np

from jaxcore.status import Status
from solvers.npzio import FieldSpec, InstanceError, load_npz, save_npz_atomic, validate_arrays

INSTANCE_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("rate", "float", ("B", "C", "S"), nonneg=True,
              doc="achievable rate r_{c,s} in bit/s for the frame; 0 = pair not usable (5)"),
    FieldSpec("n_active", "float", ("B", "C"), nonneg=True,
              doc="active users N^a_c (cells with 0 are ignored)"),
    FieldSpec("prev_served", "bool", ("B", "C", "S"),
              doc="pair served in the previous frame (no handover charged); at most one satellite per cell"),
    FieldSpec("t_ho", "float", ("B",), nonneg=True, doc="handover interruption time T_HO, s"),
    FieldSpec("n_com", "int", ("B",), lo=1,
              doc="OFDMA frames available for communication N_com, 1 <= N_com <= t_frame / t_ofdma"),
    FieldSpec("n_beams", "int", ("B", "S"), nonneg=True, doc="beams per satellite N_b"),
    FieldSpec("t_ofdma", "float", ("B",), positive=True, doc="OFDMA frame duration T_O, s"),
    FieldSpec("t_frame", "float", ("B",), positive=True, doc="system frame duration T_f, s"),
    FieldSpec("eps", "float", ("B",), positive=True, doc="epsilon inside the log (25), bit/s"),
    # optional extensions (never required by a solver)
    FieldSpec("sat_id", "int", ("B", "S"), required=False, doc="global satellite id, -1 = padding column"),
    FieldSpec("shell", "int", ("B", "S"), required=False, doc="orbital shell index, -1 = padding column"),
    FieldSpec("frame", "int", ("B",), required=False, nonneg=True, doc="frame index k"),
    FieldSpec("snr_clear", "float", ("B", "C", "S"), required=False, nonneg=True,
              doc="clear-sky SNR gamma^cs (linear), 0 where not in range"),
    FieldSpec("cell_lat", "float", ("B", "C"), required=False, lo=-90.0, hi=90.0, doc="cell-centre latitude, degrees"),
    FieldSpec("cell_lon", "float", ("B", "C"), required=False, doc="cell-centre longitude, degrees"),
)

SOLUTION_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("x", "int", ("B", "C", "S"), nonneg=True,
              doc="integer OFDMA-frame allocation, feasible for (26)"),
    FieldSpec("x_relaxed", "float", ("B", "C", "S"),
              doc="real-valued output of the augmented-Lagrangian stage"),
    FieldSpec("objective", "float", ("B",), allow_nan=True, doc="(25) evaluated at x"),
    FieldSpec("throughput_per_user", "float", ("B", "C"), nonneg=True,
              doc="(24) summed over satellites, bit/s"),
    FieldSpec("multi_served_before_rounding", "int", ("B",), nonneg=True,
              doc="cells violating (30) when the iterations stopped"),
    FieldSpec("iterations", "int", ("B",), nonneg=True, doc="outer iterations used"),
    FieldSpec("status", "int", ("B",), nonneg=True,
              doc="0 converged, 1 iteration cap reached, 2 infeasible (x all zero, objective NaN)"),
)


def _first(mask: np.ndarray) -> tuple[int, ...]:
    return tuple(int(i) for i in np.argwhere(mask)[0])


def validate_instance(arrays: Mapping[str, np.ndarray], source: str = "instance") -> dict[str, int]:
    """Check an NTN allocation instance (interfaces.md §3); return ``{"B", "C", "S"}`` sizes.

    Raises:
      InstanceError: one message naming the field, what was expected and what was found.
    """
    dims = validate_arrays(arrays, INSTANCE_FIELDS, source=source, nonempty=("B", "C", "S"))
    t_frame = np.asarray(arrays["t_frame"], np.float64)
    t_o = np.asarray(arrays["t_ofdma"], np.float64)
    n_com = np.asarray(arrays["n_com"])
    bad = t_o > t_frame * (1 + 1e-9)
    if bad.any():
        b = _first(bad)[0]
        raise InstanceError(f"{source}: field 't_ofdma': expected t_ofdma <= t_frame, found "
                            f"t_ofdma={t_o[b]} > t_frame={t_frame[b]} at frame {b}")
    n_f = np.floor(t_frame / t_o + 1e-9)  # N_F = T_f / T_O
    bad = n_com > n_f
    if bad.any():
        b = _first(bad)[0]
        raise InstanceError(f"{source}: field 'n_com': expected 1 <= n_com <= t_frame / t_ofdma "
                            f"(= {int(n_f[b])} at frame {b}), found {int(n_com[b])}")
    prev = np.asarray(arrays["prev_served"])
    if prev.dtype.kind in "iu" and ((prev != 0) & (prev != 1)).any():
        raise InstanceError(f"{source}: field 'prev_served': expected booleans (0/1), "
                            f"found values {np.unique(prev)[:5].tolist()}")
    per_cell = (prev != 0).sum(axis=-1)  # [B, C]
    bad = per_cell > 1
    if bad.any():
        b, c = _first(bad)
        raise InstanceError(f"{source}: field 'prev_served': expected at most one satellite per cell, "
                            f"found {int(per_cell[b, c])} for frame {b}, cell {c}")
    return dims


def load_instance(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict[str, int]]:
    """Load and validate an instance file; returns ``(arrays, dims)``."""
    arrays, _ = load_npz(path, INSTANCE_FIELDS)
    dims = validate_instance(arrays, str(path))
    return arrays, dims


def save_instance(path: str | os.PathLike, arrays: Mapping[str, np.ndarray]) -> Path:
    """Validate then write atomically (``prev_served`` stored as bool, ``n_com``/``n_beams`` as int32)."""
    out = dict(arrays)
    validate_instance(out, f"instance to write ({path})")
    out["prev_served"] = np.asarray(out["prev_served"]).astype(bool)
    for k in ("n_com", "n_beams"):
        out[k] = np.asarray(out[k]).astype(np.int32)
    return save_npz_atomic(path, out)


def validate_solution(arrays: Mapping[str, np.ndarray], source: str = "solution",
                      instance: Mapping[str, np.ndarray] | None = None) -> dict[str, int]:
    """Check an NTN solution (interfaces.md §4), optionally against its instance.

    With ``instance`` given, the axes must match it and ``x`` must be 0 wherever ``rate`` is 0.
    """
    dims_in = None
    if instance is not None:
        dims_in = {"B": np.shape(instance["rate"])[0], "C": np.shape(instance["rate"])[1],
                   "S": np.shape(instance["rate"])[2]}
    dims = validate_arrays(arrays, SOLUTION_FIELDS, source=source, dims=dims_in)
    status = np.asarray(arrays["status"])
    bad = (status < Status.CONVERGED) | (status > Status.INFEASIBLE)
    if bad.any():
        b = _first(bad)[0]
        raise InstanceError(f"{source}: field 'status': expected 0, 1 or 2, found {int(status[b])} at frame {b}")
    x = np.asarray(arrays["x"])
    infeas = (status == Status.INFEASIBLE) & (x.reshape(x.shape[0], -1) != 0).any(axis=1)
    if infeas.any():
        b = _first(infeas)[0]
        raise InstanceError(f"{source}: field 'x': expected all zero for an infeasible frame (status 2), "
                            f"found non-zero entries at frame {b}")
    if instance is not None:
        rate = np.asarray(instance["rate"])
        bad = (x != 0) & (rate == 0)
        if bad.any():
            idx = _first(bad)
            raise InstanceError(f"{source}: field 'x': expected 0 where the instance's rate is 0, "
                                f"found x={int(x[idx])} at (frame, cell, satellite) {idx}")
    return dims


def load_solution(path: str | os.PathLike, instance: Mapping[str, np.ndarray] | None = None
                  ) -> tuple[dict[str, np.ndarray], dict[str, int]]:
    """Load and validate a solution file (against ``instance`` when given)."""
    arrays, _ = load_npz(path, SOLUTION_FIELDS)
    dims = validate_solution(arrays, str(path), instance)
    return arrays, dims


def save_solution(path: str | os.PathLike, arrays: Mapping[str, np.ndarray],
                  instance: Mapping[str, np.ndarray] | None = None) -> Path:
    """Validate then write atomically (``status`` as int8)."""
    out = dict(arrays)
    validate_solution(out, f"solution to write ({path})", instance)
    out["status"] = np.asarray(out["status"]).astype(np.int8)
    return save_npz_atomic(path, out)
