"""``satisac reproduce FIGURE [--quick] -o out_dir``: one registry for both papers.

``solvers.istn.figures.FIGURES`` and ``solvers.ntn.figures.FIGURES`` map a figure name
(``istn-fig4`` ... ``ntn-fig11``) to a :class:`Figure` whose ``run(out_dir, quick, seed,
drops)`` writes ``<name>.csv`` and ``<name>.png`` and returns a printable table.
"""
from __future__ import annotations

import argparse
import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

ISTN_FIGURES = tuple(f"istn-fig{i}" for i in range(4, 11))
NTN_FIGURES = ("ntn-table3",) + tuple(f"ntn-fig{i}" for i in range(6, 12))


@dataclass(frozen=True)
class Figure:
    name: str
    title: str
    run: Callable[..., str]  # (out_dir: Path, quick: bool, seed: int, drops: int | None) -> table text


def registry() -> dict[str, Figure]:
    figs: dict[str, Figure] = {}
    for mod in ("solvers.istn.figures", "solvers.ntn.figures"):
        try:
            figs.update(importlib.import_module(mod).FIGURES)
        except ModuleNotFoundError as e:  # a paper's figures not installed yet
            if e.name != mod:
                raise
    return figs


def run(args) -> int:
    figs = registry()
    if args.figure not in figs:
        from solvers.configio import ConfigError
        raise ConfigError(f"FIGURE: expected one of {sorted(figs)}, got {args.figure!r}")
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    table = figs[args.figure].run(out_dir=out, quick=args.quick, seed=args.seed, drops=args.drops)
    print(table)
    print(f"wrote {out / (args.figure + '.csv')} and {out / (args.figure + '.png')}")
    return 0


def register(p: argparse.ArgumentParser) -> None:
    p.add_argument("figure", metavar="FIGURE", choices=ISTN_FIGURES + NTN_FIGURES,
                   help="one of: " + ", ".join(ISTN_FIGURES + NTN_FIGURES))
    p.add_argument("--quick", action="store_true", help="fewer drops/frames: minutes on a laptop CPU")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--drops", type=int, default=None, help="override drops (frames) per point")
    p.add_argument("-o", "--output", required=True, help="output directory")
    p.set_defaults(func=run)
