"""What ``satisac reproduce`` can run: the figure names of both papers and :class:`Figure`.

A leaf module: the figure modules (``solvers.istn.figures``, ``solvers.ntn.figures``,
``solvers.istn.sensitivity``) define their ``FIGURES`` with it, and ``solvers.reproduce``
collects them (so neither imports the other's side).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

ISTN_FIGURES = tuple(f"istn-fig{i}" for i in range(4, 11))
NTN_FIGURES = ("ntn-table3",) + tuple(f"ntn-fig{i}" for i in range(6, 12))
STUDIES = ("istn-sensitivity",)  # not a paper figure: solvers.istn.sensitivity


@dataclass(frozen=True)
class Figure:
    name: str
    title: str
    run: Callable[..., str]  # (out_dir: Path, quick: bool, seed: int, drops: int | None) -> table text
