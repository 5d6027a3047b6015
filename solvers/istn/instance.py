"""ISTN instance and solution files (``../shared/spec/interfaces.md`` §1 and §2).

The two file formats are tuples of :class:`solvers.npzio.FieldSpec`; loading validates
every field (presence, dtype kind, shape, finiteness, sign, index range) and raises one
:class:`solvers.npzio.InstanceError` naming the field before any work starts.  Saving is
atomic and validates first, so nothing is written on failure.

Axes: ``B`` drops, ``M`` cells, ``K`` TUTs, ``Nt`` TBS antennas, ``T`` targets, ``R`` radar
receivers, ``Nr`` antennas per receiver, ``L`` clutter scatterers per cell.  The solution's
beamformer axis ``K+T`` is bound to the name ``KT`` and checked against ``K + T``.

Conventions recorded here (decisions of the lead, see ``spec/istn.md`` §1.4):

* ``theta_tar_rx`` / ``theta_sat_rx`` hold **u = sin(theta)** of the angle of arrival
  measured from the receiving ULA's broadside (u-space, range [-1, 1]); the generator
  writes them this way and ``delta_sat`` / ``delta_tar`` are thresholds on ``|u_a - u_b|``
  (default 2/Nr, the first-null spacing of the receive ULA).
* Powers and noise are linear in one common unit (watts from the generator).  Use
  :func:`to_normalised` to obtain the equivalent noise-normalised instance (noise = 1).
"""
from __future__ import annotations

import os
from typing import Mapping

import numpy as np

from solvers.npzio import FieldSpec, InstanceError, load_npz, save_npz_atomic, validate_arrays

INSTANCE_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("h_tut", "complex", ("B", "M", "K", "Nt"), doc="TBS -> TUT channel h_{m,k}, eq. (4)"),
    FieldSpec("h_sut", "complex", ("B", "M", "Nt"), doc="TBS -> SUT channel h_m^(S) incl. SUT antenna gain, eq. (7)"),
    FieldSpec("g_tut", "float", ("B", "M", "K"), nonneg=True, doc="satellite beam m -> TUT power gain, eq. (1)"),
    FieldSpec("g_sut", "float", ("B", "M"), nonneg=True, doc="satellite beam m -> SUT m power gain, eq. (1)"),
    FieldSpec("g_rad", "complex", ("B", "M", "R", "Nr"), doc="satellite -> radar receiver channel, eq. (3)"),
    FieldSpec("G_tar", "complex", ("B", "M", "T", "R", "Nr", "Nt"), doc="per-target sensing channel, eq. (8)"),
    FieldSpec("G_cl", "complex", ("B", "M", "L", "R", "Nr", "Nt"), doc="per-clutter sensing channel, eq. (10)"),
    FieldSpec("p_bs", "float", ("B", "M"), nonneg=True, doc="TBS power budget P_BS,m"),
    FieldSpec("p_leo", "float", ("B",), nonneg=True, doc="total satellite power P_LEO"),
    FieldSpec("noise_tut", "float", ("B",), positive=True, doc="TUT noise power sigma_T^2"),
    FieldSpec("noise_sut", "float", ("B",), positive=True, doc="SUT noise power sigma_S^2"),
    FieldSpec("noise_rad", "float", ("B",), positive=True, doc="radar noise power sigma_R^2"),
    FieldSpec("r_min_sut", "float", ("B",), nonneg=True, doc="SUT rate floor R_min^(S), bit/s/Hz"),
    FieldSpec("scnr_min", "float", ("B",), nonneg=True, doc="SCNR floor, linear"),
    # optional
    FieldSpec("assoc", "int", ("B", "M", "T"), required=False, index_axis="R",
              doc="fixed target -> receiver association A(i,m)"),
    FieldSpec("theta_tar_rx", "float", ("B", "M", "T", "R"), required=False, lo=-1.0, hi=1.0,
              doc="u = sin(AoA) of target i at receiver n, from that ULA's broadside"),
    FieldSpec("theta_sat_rx", "float", ("B", "M", "R"), required=False, lo=-1.0, hi=1.0,
              doc="u = sin(AoA) of the satellite at receiver n"),
    FieldSpec("alpha_tar", "float", ("B", "M", "T", "R"), required=False, nonneg=True,
              doc="target path gain alpha^tar of eq. (9) (bistatic power gain), for ordering"),
    FieldSpec("delta_sat", "float", ("B",), required=False, nonneg=True, doc="association threshold on |du| (satellite)"),
    FieldSpec("delta_tar", "float", ("B",), required=False, nonneg=True, doc="association threshold on |du| (targets)"),
    FieldSpec("h_tut_pre", "complex", ("B", "M", "K", "Nt"), required=False, doc="TUT CSI at tau0 - dtau (used by P1)"),
    FieldSpec("h_sut_pre", "complex", ("B", "M", "Nt"), required=False, doc="SUT CSI at tau0 - dtau (used by P1)"),
    FieldSpec("p_sat_fixed", "float", ("B", "M"), required=False, nonneg=True, doc="given satellite powers (skip P1/P2)"),
    FieldSpec("tut_d2d", "float", ("B", "M", "K"), required=False, nonneg=True, doc="TBS-TUT 2-D distance, m (metadata)"),
    FieldSpec("tut_los", "bool", ("B", "M", "K"), required=False, doc="TBS-TUT LOS state (metadata)"),
    FieldSpec("sat_elevation", "float", ("B", "M"), required=False, lo=-1.5708, hi=1.5708,
              doc="satellite elevation at the SUT, rad (metadata)"),
)

SOLUTION_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("F", "complex", ("B", "M", "Nt", "KT"), doc="beamformers; columns K..K+T-1 are sensing beams"),
    FieldSpec("p_sat", "float", ("B", "M"), nonneg=True, doc="satellite power per beam actually used (after P2)"),
    FieldSpec("p_bar", "float", ("B", "M"), nonneg=True, doc="P1 per-beam powers sent to the merge"),
    FieldSpec("assoc", "int", ("B", "M", "T"), index_axis="R", doc="association used"),
    FieldSpec("rate_tut", "float", ("B", "M", "K"), nonneg=True, doc="TUT rates, eq. (23)"),
    FieldSpec("rate_sut", "float", ("B", "M"), nonneg=True, doc="SUT rate, eq. (24)"),
    FieldSpec("scnr", "float", ("B", "M", "T"), nonneg=True, doc="SCNR, eq. (18), linear"),
    FieldSpec("sum_rate", "float", ("B",), nonneg=True, doc="ISTN sum rate, eq. (25a)"),
    FieldSpec("status", "int", ("B", "M"), lo=0, doc="0 ok, 1 iter cap, 2 QoS infeasible, 3 numerical, 4 merge broke R_min"),
    FieldSpec("iterations", "int", ("B", "M"), nonneg=True, doc="outer iterations used"),
)

#: Fields of a solution that ``satisac istn evaluate`` needs: a file made elsewhere may
#: carry only the beamformers and satellite powers (plus ``assoc`` unless the instance
#: has one).  Everything else is recomputed.
EVALUATE_SOLUTION_FIELDS: tuple[FieldSpec, ...] = tuple(
    s if s.name in ("F", "p_sat") else FieldSpec(**{**s.__dict__, "required": False})
    for s in SOLUTION_FIELDS)

#: complex amplitude fields scaled by 1/sqrt(noise) and power gains scaled by 1/noise in
#: :func:`to_normalised`, with the noise field each one belongs to.
_AMPLITUDE_NOISE = {"h_tut": "noise_tut", "h_tut_pre": "noise_tut", "h_sut": "noise_sut", "h_sut_pre": "noise_sut",
                    "g_rad": "noise_rad", "G_tar": "noise_rad", "G_cl": "noise_rad"}
_POWER_NOISE = {"g_tut": "noise_tut", "g_sut": "noise_sut"}


#: every axis of an instance must be non-empty (B = 0 drops, or no TUT/target/clutter/
#: antenna, has no meaning for the solvers and used to crash them)
NONEMPTY_AXES = ("B", "M", "K", "Nt", "T", "R", "Nr", "L")


def validate_instance(arrays: Mapping[str, np.ndarray], source: str = "instance") -> dict[str, int]:
    """Validate an ISTN instance dict; return the axis sizes ``{"B", "M", "K", ...}``.

    Raises:
      InstanceError: naming the first malformed field (missing, dtype, shape, empty axis,
        NaN/Inf, negative power/noise, angle outside [-1, 1], association index out of range).
    """
    return validate_arrays(arrays, INSTANCE_FIELDS, source=source, nonempty=NONEMPTY_AXES)


def load_instance(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict[str, int]]:
    """Load and validate an ISTN instance ``.npz``; returns ``(arrays, dims)``."""
    arrays, _ = load_npz(path, ())
    return arrays, validate_instance(arrays, str(path))


def save_instance(path: str | os.PathLike, arrays: Mapping[str, np.ndarray]):
    """Validate, then write atomically (nothing is written if validation fails)."""
    validate_instance(arrays, source=str(path))
    return save_npz_atomic(path, arrays)


def _solution_dims(dims: Mapping[str, int] | None) -> dict[str, int] | None:
    if dims is None:
        return None
    d = {k: int(v) for k, v in dims.items() if k in ("B", "M", "K", "Nt", "T", "R")}
    if "K" in d and "T" in d:
        d["KT"] = d["K"] + d["T"]
    return d


def validate_solution(arrays: Mapping[str, np.ndarray], dims: Mapping[str, int] | None = None,
                      source: str = "solution", *, specs=SOLUTION_FIELDS) -> dict[str, int]:
    """Validate an ISTN solution dict, optionally against an instance's ``dims``.

    With ``dims`` (from :func:`validate_instance`) every axis must match the instance and
    ``F`` must have ``K + T`` columns.  Returns the bound axis sizes.
    """
    out = validate_arrays(arrays, specs, source=source, dims=_solution_dims(dims))
    if dims is None and "K" in out and "T" in out and "KT" in out and out["KT"] != out["K"] + out["T"]:
        raise InstanceError(f"{source}: field 'F': expected K+T = {out['K'] + out['T']} columns, found {out['KT']}")
    return out


def load_solution(path: str | os.PathLike, dims: Mapping[str, int] | None = None, *,
                  specs=SOLUTION_FIELDS) -> tuple[dict[str, np.ndarray], dict[str, int]]:
    """Load and validate an ISTN solution ``.npz``; returns ``(arrays, dims)``."""
    arrays, _ = load_npz(path, (), source=str(path))
    return arrays, validate_solution(arrays, dims, source=str(path), specs=specs)


def save_solution(path: str | os.PathLike, arrays: Mapping[str, np.ndarray], dims: Mapping[str, int] | None = None):
    """Validate, then write atomically (nothing is written if validation fails)."""
    validate_solution(arrays, dims, source=str(path))
    return save_npz_atomic(path, arrays)


def to_normalised(arrays: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Equivalent instance in noise-normalised units (all noise powers = 1).

    Exactly what it does (per drop b, broadcasting over the trailing axes):

    * ``h_tut``, ``h_tut_pre`` /= sqrt(noise_tut); ``h_sut``, ``h_sut_pre`` /= sqrt(noise_sut);
      ``g_rad``, ``G_tar``, ``G_cl`` /= sqrt(noise_rad)   (complex amplitudes);
    * ``g_tut`` /= noise_tut; ``g_sut`` /= noise_sut   (satellite power gains, so that
      ``g * p`` is the satellite SNR/INR with ``p`` in watts);
    * ``noise_tut`` = ``noise_sut`` = ``noise_rad`` = 1;
    * powers ``p_bs``, ``p_leo``, ``p_sat_fixed`` stay in watts; rates, SCNR floors,
      angles, thresholds, ``alpha_tar`` (only used for ordering) and metadata are unchanged.

    Every SINR (16)-(17), SCNR (18) and rate (23)-(24) is invariant under this map, so
    solvers may work on the result and report numbers valid for the original file.
    Dtypes are kept.  The input dict is not modified.
    """
    out = dict(arrays)
    for name, nz in {**_AMPLITUDE_NOISE, **_POWER_NOISE}.items():
        if name not in arrays:
            continue
        a = np.asarray(arrays[name])
        n = np.asarray(arrays[nz], dtype=np.float64)
        scale = 1.0 / (np.sqrt(n) if name in _AMPLITUDE_NOISE else n)
        scale = scale.reshape(scale.shape + (1,) * (a.ndim - 1))
        out[name] = (a * scale).astype(a.dtype)
    for nz in ("noise_tut", "noise_sut", "noise_rad"):
        if nz in arrays:
            out[nz] = np.ones_like(np.asarray(arrays[nz]))
    return out
