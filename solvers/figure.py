"""What ``satisac reproduce`` can run: the figure names of both papers and :class:`Figure`.

A leaf module: the figure modules (``solvers.istn.figures``, ``solvers.ntn.figures``,
``solvers.istn.sensitivity``) define their ``FIGURES`` with it, and ``solvers.reproduce``
collects them (so neither imports the other's side).
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

ISTN_FIGURES = tuple(f"istn-fig{i}" for i in range(4, 11))
NTN_FIGURES = ("ntn-table3",) + tuple(f"ntn-fig{i}" for i in range(6, 12)) + ("ntn-realtime",)  # + Sec. VII-A (N8)
STUDIES = ("istn-sensitivity",)  # not a paper figure: solvers.istn.sensitivity


@dataclass(frozen=True)
class Figure:
    name: str
    title: str
    run: Callable[..., str]  # (out_dir: Path, quick: bool, seed: int, drops: int | None) -> table text


_LEGACY_SEEN: set = set()


def runs_dir(out_dir, target: str, experiment: str, legacy: str | None = None) -> Path:
    """The run store of one experiment of a figure, the same layout for both papers:
    ``<out_dir>/<target>_runs/<experiment>`` (figures that share runs pass the sharing target).

    ``legacy``: the store's name (relative to ``out_dir``) before this layout (NTN used
    ``ntn-table3_run``, ``ntn-fig10_run_perfect``, ...).  When that folder exists and the new one
    does not, it is used, with a one-line note on stderr: an old store is resumed, not ignored.
    """
    new = Path(out_dir) / f"{target}_runs" / experiment
    if legacy is not None and not new.exists():
        old = Path(out_dir) / legacy
        if old.is_dir():
            if old not in _LEGACY_SEEN:
                _LEGACY_SEEN.add(old)
                print(f"satisac: using the run store {old} (old name; new runs go to <out>/{target}_runs/<experiment>)",
                      file=sys.stderr)
            return old
    return new
