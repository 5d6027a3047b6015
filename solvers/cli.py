"""The ``satisac`` command line (``../shared/spec/interfaces.md`` §5).

This module only builds the argument parser and dispatches; each command's work lives
in its own module and is imported lazily, so ``satisac --help`` is instant and a
command pays only for the libraries it uses.  Every command returns an exit code;
configuration and file errors print one ``satisac: error: ...`` line and exit 2 with
nothing written.
"""
from __future__ import annotations

import argparse
import sys


def lazy_command(module: str):
    """A ``func`` for ``set_defaults`` that imports ``module`` only when the command runs."""
    def run(args):
        import importlib
        return importlib.import_module(module).run(args)
    return run


def add_config_args(p: argparse.ArgumentParser) -> None:
    """``--scenario NAME``, ``--config FILE`` and repeatable ``--set key=value``.

    Values apply in that order on top of the dataclass defaults (``solvers.scenarios``);
    the scenario name is checked when the config is built (one error line, exit 2).
    """
    p.add_argument("--scenario", default="paper", metavar="NAME",
                   help="named scenario of the paper's open parameters: 'paper' (calibrated, the default) or "
                        "'spec' (literal reconstructed spec); see CONFIG.md")
    p.add_argument("--config", metavar="FILE", help="TOML file with config values (keys as in --set)")
    p.add_argument("--set", dest="overrides", metavar="KEY=VALUE", action="append", default=[],
                   help="override one config value; may be repeated (e.g. --set p_bs_dbm=30)")


def build_parser() -> argparse.ArgumentParser:
    from solvers.istn import cli as istn_cli
    from solvers.ntn import cli as ntn_cli
    from solvers import reproduce
    from benchmarks import cli as bench_cli

    parser = argparse.ArgumentParser(
        prog="satisac",
        description="Batched ISTN/NTN channel generation and resource allocation in JAX, "
                    "cross-checked against cvxpy.")
    parser.add_argument("--precision", choices=("float32", "float64"), default="float32",
                        help="numeric precision of the solvers (float64 for validation)")
    parser.add_argument("--no-compile-cache", action="store_true",
                        help="do not use the persistent compilation cache (~/.cache/satisac/jax; also "
                             "SATISAC_COMPILATION_CACHE=0)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    istn_cli.register(sub.add_parser("istn", help="ISTN coexistence with multistatic ISAC (Jee & Andrews)"))
    ntn_cli.register(sub.add_parser("ntn", help="atmospheric-sensing LEO NTN allocation (Leyva-Mayorga et al.)"))
    reproduce.register(sub.add_parser("reproduce", help="re-run a figure/table of either paper"))
    from solvers.claims import cli as claims_cli
    claims_cli.register(sub.add_parser("claims", help="judge every paper claim (spec claims.md) from the run stores"))
    bench_cli.register(sub.add_parser("bench", help="speed/scale benchmarks against the cvxpy reference"))
    from solvers import benchmarking_cli
    benchmarking_cli.register_benchset(sub.add_parser(
        "benchset", help="write or check a standard, versioned instance set (manifest with sha256)"))
    benchmarking_cli.register_compare(sub.add_parser(
        "compare", help="evaluate solution files on one instance file and compare them (CSV, markdown, profiles)"))
    return parser


def main(argv: list[str] | None = None) -> int:
    from solvers import runtime
    try:  # first: thread pools are sized when numpy/jax load (solvers/runtime.py)
        runtime.configure_threads()
    except ValueError as e:
        print(f"satisac: error: {e}", file=sys.stderr)
        return 2
    from solvers.configio import ConfigError
    from solvers.npzio import InstanceError

    parser = build_parser()
    args = parser.parse_args(argv)
    runtime.configure_compilation_cache(enabled=not args.no_compile_cache)
    from jaxcore.precision import set_precision
    set_precision(args.precision)
    try:
        return int(args.func(args) or 0)
    except (ConfigError, InstanceError) as e:
        print(f"satisac: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("satisac: interrupted; finished chunks are kept and a re-run resumes", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
