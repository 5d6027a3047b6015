"""``satisac istn generate|solve|evaluate`` argument definitions (``../shared/spec/interfaces.md`` §5).

The work of each command lives in ``cmd_generate``, ``cmd_solve`` and ``cmd_evaluate``
(imported lazily).
"""
from __future__ import annotations

import argparse

from solvers.methods import ISTN_ASSOC as ASSOC_METHODS
from solvers.methods import ISTN_SOLVE as ISTN_METHODS


def register(p: argparse.ArgumentParser) -> None:
    from solvers.cli_args import add_config_args, lazy_command as _lazy

    sub = p.add_subparsers(dest="istn_command", required=True, metavar="COMMAND")

    g = sub.add_parser("generate", help="draw ISTN drops and write an instance file (../shared/spec/interfaces.md §1)")
    g.add_argument("--drops", type=int, required=True, help="number of Monte-Carlo drops B")
    g.add_argument("--seed", type=int, required=True, help="PRNG seed (same seed -> identical file)")
    g.add_argument("--cells", type=int, default=None, help="cells/spot beams M (default: config n_cells)")
    add_config_args(g)
    g.add_argument("-o", "--output", required=True, help="instance file (.npz) to write")
    g.set_defaults(func=_lazy("solvers.istn.cmd_generate"))

    s = sub.add_parser("solve", help="solve an instance file and write a solution file (../shared/spec/interfaces.md §2)")
    s.add_argument("instance", help="instance file (.npz)")
    s.add_argument("-o", "--output", required=True, help="solution file (.npz) to write")
    s.add_argument("--method", choices=ISTN_METHODS, default="proposed",
                   help="beamforming/power method: 'proposed' = the ISTN paper's P1-P2-P3 pipeline (QoS-WMMSE, "
                        "merge, satellite power); the others are its baselines (Fig. 4)")
    s.add_argument("--assoc", choices=ASSOC_METHODS, default="proposed",
                   help="target-receiver association (ignored if the instance carries 'assoc')")
    s.add_argument("--reference", action="store_true", help="solve with the cvxpy reference (slow)")
    s.add_argument("--seed", type=int, default=0, help="seed for random association / tie-breaks")
    add_config_args(s)
    from solvers.devices import add_devices_arg
    add_devices_arg(s)
    s.set_defaults(func=_lazy("solvers.istn.cmd_solve"))

    e = sub.add_parser("evaluate", help="recompute rates, SCNR and constraint violations of a solution")
    e.add_argument("instance", help="instance file (.npz)")
    e.add_argument("solution", help="solution file (.npz)")
    e.add_argument("--json", action="store_true", help="print a JSON summary instead of a table")
    e.set_defaults(func=_lazy("solvers.istn.cmd_evaluate"))
