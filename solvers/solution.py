"""Typed solver results: one frozen dataclass per solver, converted to the interfaces.md
dict only at the file boundary.

Every solver of satisac (the ISTN pipeline and baselines, the NTN allocator, their cvxpy
references) returns a subclass of :class:`Solution` whose fields are exactly the fields of
its solution table in ``../shared/spec/interfaces.md`` (§2 ISTN, §4 NTN; a test checks it),
numpy arrays with a leading batch axis (drops or frames), and whose ``status`` holds the
codes of :class:`jaxcore.status.Status`.

A solution also reads as a read-only mapping from field name to array (``sol["sum_rate"]``,
``dict(sol)``, ``"status" in sol``): that is the interfaces.md view, so an evaluator or a
report takes an in-memory solution and a solution loaded from a file alike.  Writing a file
is ``{**sol.to_arrays(), <optional fields>}``; reading one back is ``from_arrays``.  The
subclasses are registered JAX pytrees (``jax.tree_util.tree_map`` maps over the fields).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any, TypeVar

import jax
import numpy as np

from jaxcore.status import counts, meets_constraints

S = TypeVar("S", bound="Solution")


@dataclasses.dataclass(frozen=True, eq=False)
class Solution:
    """Base of the typed solutions (fields are declared by the subclasses)."""

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        """The interfaces.md field names, in table order."""
        return tuple(f.name for f in dataclasses.fields(cls))

    @classmethod
    def from_arrays(cls: type[S], arrays: Mapping[str, Any]) -> S:
        """The solution held by an interfaces.md dict (extra keys, e.g. ``solve_time_s``, are ignored)."""
        missing = [k for k in cls.field_names() if k not in arrays]
        if missing:
            raise KeyError(f"{cls.__name__}: missing field(s) {', '.join(missing)} (interfaces.md)")
        return cls(**{k: np.asarray(arrays[k]) for k in cls.field_names()})

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The interfaces.md dict of numpy arrays (what ``satisac ... solve`` writes)."""
        return {k: np.asarray(getattr(self, k)) for k in self.field_names()}

    def replace(self: S, **changes) -> S:
        """A copy with some fields replaced (``dataclasses.replace``)."""
        return dataclasses.replace(self, **changes)

    @property
    def batch(self) -> int:
        """Size of the leading drop/frame axis."""
        return int(np.shape(self.status)[0])

    def rows(self: S, lo: int, hi: int) -> S:
        """Drops/frames ``lo:hi`` of every field."""
        return type(self)(**{k: np.asarray(v)[lo:hi] for k, v in self.to_arrays().items()})

    def status_counts(self) -> dict[str, int]:
        """Instances per :class:`~jaxcore.status.Status` name."""
        return counts(self.status)

    # -- read-only mapping view (interfaces.md field -> array) --------------------------
    def __getitem__(self, key: str) -> np.ndarray:
        if key not in self.field_names():
            raise KeyError(key)
        return getattr(self, key)

    def __contains__(self, key: object) -> bool:
        return key in self.field_names()

    def __iter__(self) -> Iterator[str]:
        return iter(self.field_names())

    def __len__(self) -> int:
        return len(self.field_names())

    def keys(self):
        return self.field_names()

    def items(self):
        return ((k, getattr(self, k)) for k in self.field_names())

    def get(self, key: str, default=None):
        return getattr(self, key) if key in self.field_names() else default


@dataclasses.dataclass(frozen=True, eq=False)
class IstnSolution(Solution):
    """ISTN solution, interfaces.md §2 (B drops, M cells, K TUTs, T targets per cell)."""

    F: np.ndarray  # complex [B, M, Nt, K+T]; columns K.. are the sensing beams
    p_sat: np.ndarray  # [B, M] satellite power per beam actually used (after P2)
    p_bar: np.ndarray  # [B, M] P1 per-beam powers sent to the merge
    assoc: np.ndarray  # int [B, M, T] association used
    rate_tut: np.ndarray  # [B, M, K] (23)
    rate_sut: np.ndarray  # [B, M] (24)
    scnr: np.ndarray  # [B, M, T] (18), linear
    sum_rate: np.ndarray  # [B] (25a)
    status: np.ndarray  # int8 [B, M] jaxcore.status.Status per cell
    iterations: np.ndarray  # int [B, M] outer iterations used

    @property
    def cell_ok(self) -> np.ndarray:
        """bool [B, M]: the cell's point meets its QoS constraints (status 0 or 1)."""
        return np.asarray(meets_constraints(np.asarray(self.status)))

    @property
    def drop_ok(self) -> np.ndarray:
        """bool [B]: every cell of the drop meets its QoS constraints."""
        return self.cell_ok.all(axis=1)


@dataclasses.dataclass(frozen=True, eq=False)
class NtnSolution(Solution):
    """NTN allocation solution, interfaces.md §4 (B frames, C cells, S satellites)."""

    x: np.ndarray  # int [B, C, S] OFDMA-frame allocation, feasible for (26)
    x_relaxed: np.ndarray  # [B, C, S] augmented-Lagrangian (or DMRAB continuous) output
    objective: np.ndarray  # [B] (25) at x; NaN when infeasible
    throughput_per_user: np.ndarray  # [B, C] (24) summed over satellites, bit/s
    multi_served_before_rounding: np.ndarray  # int [B] cells violating (30) at the stop
    iterations: np.ndarray  # int [B] outer iterations used
    status: np.ndarray  # int8 [B] jaxcore.status.Status per frame (0, 1 or 2)

    @property
    def infeasible(self) -> np.ndarray:
        """bool [B]: no feasible allocation (status INFEASIBLE; ``x`` all zero)."""
        return ~np.asarray(meets_constraints(np.asarray(self.status)))


for _cls in (IstnSolution, NtnSolution):  # pytrees, so jax.tree_util maps over the fields
    jax.tree_util.register_dataclass(_cls, data_fields=list(_cls.field_names()), meta_fields=[])
