"""``satisac benchset`` and ``satisac compare`` argument definitions (issue 24).

The work lives in :mod:`solvers.benchset` and :mod:`solvers.compare` (imported lazily, so
``satisac --help`` stays instant).
"""
from __future__ import annotations

from solvers.cli_args import lazy_command


def register_benchset(p) -> None:
    """Arguments of ``satisac benchset``."""
    p.add_argument("paper", nargs="?", choices=("istn", "ntn"), help="which paper's instances (istn or ntn)")
    p.add_argument("--size", choices=("small", "paper", "large"), default="small",
                   help="small (CI: seconds), paper (the paper's setting) or large (GPU scale, chunked files)")
    p.add_argument("--seed", type=int, default=0, help="PRNG seed (recorded in the manifest)")
    p.add_argument("--scenario", default=None, metavar="NAME",
                   help="named scenario of the paper's open parameters (default: the paper's default, 'paper')")
    p.add_argument("-o", "--output", default=None, help="directory to write the set into")
    p.add_argument("--check", metavar="DIR", default=None,
                   help="verify a set: disk files and a fresh regeneration against the manifest's sha256")
    p.add_argument("--files-only", action="store_true", help="with --check: only hash the files on disk")
    p.set_defaults(func=lazy_command("solvers.benchset"))


def register_compare(p) -> None:
    """Arguments of ``satisac compare``."""
    p.add_argument("instance", help="instance file (.npz) of either paper (detected from its fields)")
    p.add_argument("solutions", nargs="+", help="solution files (.npz); the first is the baseline of the paired tests")
    p.add_argument("--names", default=None, help="comma-separated solver names, one per solution (default: file stems)")
    p.add_argument("--tie-rtol", type=float, default=1e-4,
                   help="relative objective difference counted as a tie (default 1e-4)")
    p.add_argument("-o", "--output", required=True, help="report directory (compare.csv, compare.md, profile.png)")
    p.set_defaults(func=lazy_command("solvers.compare"))
