"""``satisac ntn generate|solve|simulate|evaluate`` argument definitions (``../shared/spec/interfaces.md`` §5)."""
from __future__ import annotations

import argparse

from solvers.methods import NTN_ALLOCATE as NTN_METHODS

NTN_SET_EXAMPLE = "cell_deg=1.0"  # a --set example with an NTN key (the default example is ISTN's)


def register(p: argparse.ArgumentParser) -> None:
    from solvers.cli_args import add_config_args, lazy_command as _lazy

    sub = p.add_subparsers(dest="ntn_command", required=True, metavar="COMMAND")

    g = sub.add_parser("generate", help="evolve the world and write allocation instances (../shared/spec/interfaces.md §3)")
    g.add_argument("--frames", type=int, required=True, help="number of consecutive frames B")
    g.add_argument("--seed", type=int, required=True, help="PRNG seed (same seed -> identical file)")
    add_config_args(g, example=NTN_SET_EXAMPLE)
    g.add_argument("-o", "--output", required=True, help="instance file (.npz) to write")
    g.add_argument("--map", metavar="PNG", default=None, help="also draw a map of cells, rain and satellites")
    g.add_argument("--map-frame", type=int, default=0, help="index of the frame drawn on the --map (0 = first)")
    g.set_defaults(func=_lazy("solvers.ntn.cmd_generate"))

    s = sub.add_parser("solve", help="solve allocation instances and write a solution file (../shared/spec/interfaces.md §4)")
    s.add_argument("instance", help="instance file (.npz)")
    s.add_argument("-o", "--output", required=True, help="solution file (.npz) to write")
    s.add_argument("--method", choices=NTN_METHODS, default="jmra",
                   help="allocation method: 'jmra' = joint matching & resource allocation (NTN paper Alg. 1 + "
                        "rounding), 'jmra-nohop' = JMRA with T_HO = 0 inside Alg. 1, 'dmrab' = the paper's "
                        "benchmark (35)-(37)")
    s.add_argument("--reference", action="store_true", help="solve with the cvxpy reference (slow)")
    add_config_args(s, example=NTN_SET_EXAMPLE)
    from solvers.devices import add_devices_arg
    add_devices_arg(s)
    s.set_defaults(func=_lazy("solvers.ntn.cmd_solve"))

    m = sub.add_parser("simulate", help="frame-by-frame simulation with sensing, allocation and KPIs")
    add_config_args(m, example=NTN_SET_EXAMPLE)
    m.add_argument("--frames", type=int, required=True, help="number of frames to simulate")
    m.add_argument("--seed", type=int, default=0, help="PRNG seed of the world (rain, users); same seed -> same run")
    m.add_argument("--episodes", type=int, default=1,
                   help="independent episodes (worlds seeded by (seed, e)); default 1")
    m.add_argument("--method", action="append", choices=NTN_METHODS, default=None,
                   help="allocation method(s) to simulate (default: jmra and dmrab)")
    m.add_argument("-o", "--output", required=True, help="run directory (resumable result store)")
    m.set_defaults(func=_lazy("solvers.ntn.cmd_simulate"))

    e = sub.add_parser("evaluate", help="recompute objective (25), throughput (24) and the constraints (26) "
                                        "of an allocation from the two files alone")
    e.add_argument("instance", help="instance file (.npz)")
    e.add_argument("solution", help="solution file (.npz); only 'x' is required")
    e.add_argument("--json", action="store_true", help="print a JSON summary instead of a table")
    e.add_argument("-o", "--output", default=None, help="also write the report (.json or .csv)")
    e.set_defaults(func=_lazy("solvers.ntn.cmd_evaluate"))
