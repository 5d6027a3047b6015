"""``satisac bench [--quick] [--parts istn,ntn] -o out_dir``."""
from __future__ import annotations

import argparse


def run(args) -> int:
    from benchmarks import suite
    return suite.run(args)


def _parts(text: str) -> tuple[str, ...]:
    from benchmarks.suite import PARTS
    names = [n for n, _, _ in PARTS if n != "device peaks"]
    got = tuple(t.strip() for t in text.split(",") if t.strip())
    bad = [t for t in got if t not in names]
    if not got or bad:
        raise argparse.ArgumentTypeError(f"--parts: expected a comma-separated subset of {names}, got {text!r}")
    return got


def register(p: argparse.ArgumentParser) -> None:
    p.add_argument("--quick", action="store_true", help="CPU smoke run (small sizes, CI-sized time)")
    p.add_argument("--seed", type=int, default=0, help="PRNG seed of the benchmark instances")
    p.add_argument("--parts", type=_parts, default=None,
                   help="comma-separated subset of: istn, ntn (default: all; the device peaks "
                        "are always measured, the roofline needs them)")
    p.add_argument("-o", "--output", required=True, help="output directory (CSV, PNG, Markdown table)")
    p.set_defaults(func=run)
