"""The one status enum of every satisac solver (as optimistix's ``RESULTS``).

Both papers' solvers report a per-instance ``int8`` status (interfaces.md §2 per ISTN cell,
§4 per NTN frame) with the same meaning for the codes they share:

===  ====================  ==============================================================
0    CONVERGED             stopping rule met; the point is feasible
1    ITERATION_CAP         iteration cap reached; the point is feasible
2    INFEASIBLE            no feasible point found (ISTN: Phase I could not meet the
                           SUT-rate / SCNR floors; NTN: (26) infeasible, ``x`` all zero)
3    NUMERICAL_FAILURE     non-finite numbers (replaced by zeros; ISTN only)
4    MERGE_BELOW_RMIN      the P2 merge lowered this beam and its SUT is below R_min
                           (ISTN pipeline only)
===  ====================  ==============================================================

Codes 0 and 1 are the ones whose points meet every constraint (:func:`meets_constraints`).
"""
from __future__ import annotations

import enum

import numpy as np


class Status(enum.IntEnum):
    """Per-instance solver status (interfaces.md §2 and §4)."""

    CONVERGED = 0
    ITERATION_CAP = 1
    INFEASIBLE = 2
    NUMERICAL_FAILURE = 3
    MERGE_BELOW_RMIN = 4

    @property
    def describe(self) -> str:
        """One line for reports and ``--help``."""
        return _DESCRIPTIONS[self]


_DESCRIPTIONS = {
    Status.CONVERGED: "converged and feasible",
    Status.ITERATION_CAP: "iteration cap reached (feasible)",
    Status.INFEASIBLE: "infeasible (no point met the constraints)",
    Status.NUMERICAL_FAILURE: "numerical failure (non-finite numbers replaced by zeros)",
    Status.MERGE_BELOW_RMIN: "the P2 merge pushed this beam's SUT below R_min",
}


def meets_constraints(status):
    """True where the status says the returned point is feasible (CONVERGED or ITERATION_CAP).

    Works on numpy and JAX arrays alike (``status`` int array of any shape -> bool, same shape).
    """
    return status <= Status.ITERATION_CAP


def counts(status) -> dict[str, int]:
    """Instances per status name, every name present (``{"CONVERGED": 3, ...}``)."""
    s = np.asarray(status).ravel().astype(np.int64)
    n = np.bincount(s[s >= 0], minlength=len(Status)) if s.size else np.zeros(len(Status), np.int64)
    return {st.name: int(n[st]) for st in Status}
