"""``satisac bench [--quick] -o out_dir``."""
from __future__ import annotations

import argparse


def run(args) -> int:
    from benchmarks import suite
    return suite.run(args)


def register(p: argparse.ArgumentParser) -> None:
    p.add_argument("--quick", action="store_true", help="CPU smoke run (small sizes, CI-sized time)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("-o", "--output", required=True, help="output directory (CSV, PNG, Markdown table)")
    p.set_defaults(func=run)
