"""``satisac reproduce FIGURE [--quick] -o out_dir``: one registry for both papers.

``solvers.istn.figures.FIGURES`` and ``solvers.ntn.figures.FIGURES`` map a figure name
(``istn-fig4`` ... ``ntn-fig11``) to a :class:`Figure` whose ``run(out_dir, quick, seed,
drops)`` writes ``<name>.csv`` and ``<name>.png`` and returns a printable table.
"""
from __future__ import annotations

import argparse
import importlib

from solvers.cli_args import add_config_args
from solvers.configio import ConfigError, parse_overrides, read_toml, split_keys
from solvers.figure import ISTN_FIGURES, NTN_FIGURES, STUDIES, Figure
from solvers.istn.config import IstnConfig
from solvers.npzio import check_output_dir
from solvers.ntn.config import NtnConfig
from solvers.runner.jobs import add_job_args, describe, job_from_args, run_job
from solvers.scenarios import MEANS, ConfigSettings, scenario_names, use_settings


def registry() -> dict[str, Figure]:
    figs: dict[str, Figure] = {}
    for mod in ("solvers.istn.figures", "solvers.ntn.figures", "solvers.istn.sensitivity"):
        try:
            figs.update(importlib.import_module(mod).FIGURES)
        except ModuleNotFoundError as e:  # a paper's figures not installed yet
            if e.name != mod:
                raise
    return figs


def config_classes(figure: str) -> tuple:
    """The config classes whose keys ``--config``/``--set`` may carry for ``figure``."""
    # local: the CLI imports this module to build its parser; the solver modules pull in JAX
    if figure.startswith("ntn"):
        from solvers.ntn.allocate import JmraConfig
        return (NtnConfig, JmraConfig)
    from solvers.istn.pipeline import SolverConfig
    return (IstnConfig, SolverConfig)


def run(args) -> int:
    figs = registry()
    if args.figure not in figs:
        raise ConfigError(f"FIGURE: expected one of {sorted(figs)}, got {args.figure!r}")
    if args.scenario not in scenario_names():
        raise ConfigError(f"--scenario: expected one of {scenario_names()}, got {args.scenario!r}")
    classes = config_classes(args.figure)  # malformed/unknown --set or --config keys: fail before writing
    split_keys(classes, parse_overrides(args.overrides), "--set")
    if args.config is not None:
        split_keys(classes, read_toml(args.config), f"config file {args.config}")
    settings = ConfigSettings(args.scenario, args.config, tuple(args.overrides), args.means)
    min_drops = 2 if args.figure in ISTN_FIGURES else 1  # ISTN figures need 2 for confidence intervals
    if args.drops is not None and args.drops < min_drops:  # checked before the output directory is made
        raise ConfigError(f"--drops: expected an integer >= {min_drops}, got {args.drops}")
    job = job_from_args(args)  # --shard i/n, a SLURM array task or --distributed (None: the whole run)
    out = check_output_dir(args.output)
    out.mkdir(parents=True, exist_ok=True)
    with use_settings(settings):  # the figure runners read it (solvers.scenarios.current_settings)
        if job is not None:  # several jobs share the run stores (solvers.runner.jobs)
            table, scope = run_job(job, lambda o: figs[args.figure].run(out_dir=o, quick=args.quick, seed=args.seed,
                                                                        drops=args.drops), out)
            if table is None:
                print(describe(job, scope, f"satisac reproduce {args.figure} -o {args.output}"))
                return 0
        else:
            table = figs[args.figure].run(out_dir=out, quick=args.quick, seed=args.seed, drops=args.drops)
    print(table)
    print(f"wrote {out / (args.figure + '.csv')} and {out / (args.figure + '.png')}")
    return 0


def register(p: argparse.ArgumentParser) -> None:
    p.add_argument("figure", metavar="FIGURE", choices=ISTN_FIGURES + NTN_FIGURES + STUDIES,
                   help="one of: " + ", ".join(ISTN_FIGURES + NTN_FIGURES + STUDIES))
    p.add_argument("--quick", action="store_true", help="fewer drops/frames: minutes on a laptop CPU")
    p.add_argument("--seed", type=int, default=0, help="base PRNG seed of the drops/frames (same seed -> same numbers)")
    p.add_argument("--drops", type=int, default=None, help="drops (NTN: frames) per sweep point (default: the figure's paper size, or its --quick size)")
    p.add_argument("-o", "--output", required=True, help="output directory")
    add_config_args(p)
    p.add_argument("--means", choices=MEANS, default=MEANS[0],
                   help="ISTN rate figures: average over the drops where Proposed meets every QoS floor "
                        "(the same drops for every method; the feasible-share panel counts all drops) "
                        "or over all drops; the caption says which")
    add_job_args(p)
    p.set_defaults(func=run)
