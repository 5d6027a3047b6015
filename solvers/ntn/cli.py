"""``satisac ntn generate|solve|simulate|evaluate`` argument definitions (interfaces.md §5)."""
from __future__ import annotations

import argparse

NTN_METHODS = ("jmra", "jmra-nohop", "dmrab")


def register(p: argparse.ArgumentParser) -> None:
    from solvers.cli import add_config_args, lazy_command as _lazy

    sub = p.add_subparsers(dest="ntn_command", required=True, metavar="COMMAND")

    g = sub.add_parser("generate", help="evolve the world and write allocation instances (interfaces.md §3)")
    g.add_argument("--frames", type=int, required=True, help="number of consecutive frames B")
    g.add_argument("--seed", type=int, required=True, help="PRNG seed (same seed -> identical file)")
    add_config_args(g)
    g.add_argument("-o", "--output", required=True, help="instance file (.npz) to write")
    g.add_argument("--map", metavar="PNG", default=None, help="also draw a map of cells, rain and satellites")
    g.add_argument("--map-frame", type=int, default=0, help="frame shown on the map")
    g.set_defaults(func=_lazy("solvers.ntn.cmd_generate"))

    s = sub.add_parser("solve", help="solve allocation instances and write a solution file (interfaces.md §4)")
    s.add_argument("instance", help="instance file (.npz)")
    s.add_argument("-o", "--output", required=True, help="solution file (.npz) to write")
    s.add_argument("--method", choices=NTN_METHODS, default="jmra")
    s.add_argument("--reference", action="store_true", help="solve with the cvxpy reference (slow)")
    add_config_args(s)
    from solvers.devices import add_devices_arg
    add_devices_arg(s)
    s.set_defaults(func=_lazy("solvers.ntn.cmd_solve"))

    m = sub.add_parser("simulate", help="frame-by-frame simulation with sensing, allocation and KPIs")
    add_config_args(m)
    m.add_argument("--frames", type=int, required=True, help="number of frames to simulate")
    m.add_argument("--seed", type=int, default=0)
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
