"""Instance -> per-cell problems: the one path from an interfaces.md §1 instance to the
``jaxcore.istn.problem.CellProblem`` batch every ISTN solver works on.

    prepare        validate, noise-normalise (``solvers.istn.instance.to_normalised``, the one
                   normalisation), and pick the association (the instance's ``assoc``, else
                   ``solvers.istn.association.associate``: Algorithm 1 or a baseline rule)
 -> cell_problems  ``CellProblem`` with numpy leaves [B, M, ...] in the solver dtypes
 -> batch_cells    (``jaxcore``) one flat cell axis [B*M, ...] for ``vmap``

Used by the proposed pipeline (P1 on the outdated CSI ``h_*_pre``, P3 on the current CSI),
the baselines, the sensing-failure experiment and the evaluator.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np

from jaxcore.istn.problem import CellProblem
from jaxcore.precision import current_precision
from solvers.istn.association import associate
from solvers.istn.instance import to_normalised, validate_instance


def solver_dtypes(arrays: Mapping[str, np.ndarray]) -> tuple[type, type]:
    """(real, complex) solver dtypes: the instance's channel dtype, float64 only where the
    process computes in float64 (``jaxcore.precision.current_precision``)."""
    c = np.asarray(arrays["h_tut"]).dtype
    if current_precision() == "float64" and c == np.complex128:
        return np.float64, np.complex128
    return np.float32, np.complex64


def prepare(arrays: Mapping[str, np.ndarray], assoc_method: str = "proposed",
            seed: int = 0) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Validated, noise-normalised instance and its association [B, M, T] int32.

    ``assoc_method`` (``proposed``/``nearest``/``greedy``/``random``, seed ``seed``) is used
    only when the instance carries no ``assoc``."""
    validate_instance(arrays)
    assoc = (np.asarray(arrays["assoc"], np.int32) if "assoc" in arrays
             else associate(dict(arrays), assoc_method, seed))
    return to_normalised(arrays), assoc


def cell_problems(a: Mapping[str, np.ndarray], assoc: np.ndarray, pre: bool = False) -> CellProblem:
    """Batched ``CellProblem`` [B, M, ...] (numpy leaves, :func:`solver_dtypes`) of a
    noise-normalised instance ``a`` (from :func:`prepare`).

    ``pre``: the channels at tau0 - dtau (``h_tut_pre``/``h_sut_pre``, P1's CSI) where the
    instance has them.  QoS floors become MSE bounds (ISTN paper (43)): e_sut = 2^-R_min,
    e_rad = 1 / (1 + SCNR_min)."""
    rdt, cdt = solver_dtypes(a)
    B, M = np.asarray(a["p_bs"]).shape
    bm = lambda x: np.broadcast_to(np.asarray(x, rdt).reshape(B, 1), (B, M)).copy()  # noqa: E731  per drop
    h_tut = a["h_tut_pre"] if pre and "h_tut_pre" in a else a["h_tut"]
    h_sut = a["h_sut_pre"] if pre and "h_sut_pre" in a else a["h_sut"]
    return CellProblem(
        h_tut=np.asarray(h_tut, cdt), h_sut=np.asarray(h_sut, cdt), g_tut=np.asarray(a["g_tut"], rdt),
        g_sut=np.asarray(a["g_sut"], rdt), g_rad=np.asarray(a["g_rad"], cdt),
        G_tar=np.asarray(a["G_tar"], cdt), G_cl=np.asarray(a["G_cl"], cdt),
        assoc=np.asarray(assoc, np.int32), p_bs=np.asarray(a["p_bs"], rdt), p_leo=bm(a["p_leo"]),
        e_sut=bm(2.0 ** -np.asarray(a["r_min_sut"], np.float64)),
        e_rad=bm(1.0 / (1.0 + np.asarray(a["scnr_min"], np.float64))),
        noise_tut=bm(a["noise_tut"]), noise_sut=bm(a["noise_sut"]), noise_rad=bm(a["noise_rad"]))
