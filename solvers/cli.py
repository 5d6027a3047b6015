"""The ``satisac`` command line (``../shared/spec/interfaces.md`` §5).

This module only builds the argument parser and dispatches; each command's work lives
in its own module and is imported lazily, so ``satisac --help`` is instant and a
command pays only for the libraries it uses.  Every command returns an exit code;
configuration and file errors print one ``satisac: error: ...`` line and exit 2 with
nothing written.  Ctrl-C (SIGINT) and SIGTERM print one line saying what was kept and
exit 130 / 143 (temporary files are removed on the way out; the console script then
leaves with ``os._exit``); called in-process with an ``argv`` list, :func:`main` re-raises
the interrupt so the caller (e.g. pytest) stops.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys

from solvers.cli_args import set_formatter


def build_parser() -> argparse.ArgumentParser:
    from solvers.istn import cli as istn_cli
    from solvers.ntn import cli as ntn_cli
    from solvers import reproduce
    from benchmarks import cli as bench_cli

    parser = argparse.ArgumentParser(
        prog="satisac",
        description="Batched ISTN/NTN channel generation and resource allocation in JAX, "
                    "cross-checked against cvxpy.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    parser.add_argument("--precision", choices=("float32", "float64"), default="float32",
                        help="numeric precision of the solvers (float64 for validation)")
    parser.add_argument("--no-compile-cache", action="store_true",
                        help="do not use the persistent compilation cache (~/.cache/satisac/jax; also "
                             "SATISAC_COMPILATION_CACHE=0)")
    parser.add_argument("--scenario-batch", default=None, metavar="N|auto",
                        help="independent NTN simulations (sweep points, episodes) solved side by side in one "
                             "batched call per frame (default auto: 1 on a CPU, 64 on a GPU; also "
                             "SATISAC_SCENARIO_BATCH); results agree with one at a time to the solver tolerance")
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
    set_formatter(parser)
    return parser


def _version() -> str:
    """The installed distribution's version (``importlib.metadata``)."""
    from importlib import metadata
    try:
        return metadata.version("satisac")
    except metadata.PackageNotFoundError:  # pragma: no cover - source tree without install
        return "unknown (not installed)"


def main(argv: list[str] | None = None) -> int:
    from solvers import runtime
    try:  # first: thread pools are sized when numpy/jax load (solvers/runtime.py)
        runtime.configure_threads()
        runtime.scenario_batch(backend="cpu")  # a malformed SATISAC_SCENARIO_BATCH: one line, before any work
        runtime.min_compile_s()  # likewise SATISAC_COMPILATION_CACHE_MIN_S
    except ValueError as e:
        print(f"satisac: error: {e}", file=sys.stderr)
        return 2
    from solvers.configio import ConfigError
    from solvers import interrupts
    from solvers.npzio import InstanceError, OutputPathError

    args = None
    previous = interrupts.install()
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        runtime.configure_compilation_cache(enabled=not args.no_compile_cache)
        if args.scenario_batch is not None:
            try:
                runtime.scenario_batch({"SATISAC_SCENARIO_BATCH": args.scenario_batch}, backend="cpu")
            except ValueError as e:
                raise ConfigError(f"--scenario-batch: {str(e).split(': ', 1)[1]}") from None
            os.environ["SATISAC_SCENARIO_BATCH"] = args.scenario_batch  # read by solvers.runtime.scenario_batch
        from jaxcore.precision import set_precision
        set_precision(args.precision)
        return int(args.func(args) or 0)
    except (ConfigError, InstanceError, OutputPathError) as e:
        print(f"satisac: error: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `satisac ... | head`: stop quietly
        _silence_stdout()
        return 141
    except OSError as e:
        if e.filename is None:
            raise
        print(f"satisac: error: {e.filename}: {e.strerror or e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as e:
        signum = getattr(e, "signum", signal.SIGINT)
        print(f"satisac: interrupted ({signal.Signals(signum).name}); {_interrupt_note(args)}", file=sys.stderr)
        if argv is not None:  # called in-process (tests, scripts): the interrupt belongs to the caller
            raise
        # console script: leave without Python finalisation; XLA's threads may still be
        # running and tearing the interpreter down under them crashed (SIGSEGV)
        _exit_now(128 + signum)
    finally:
        interrupts.restore(previous)


def _interrupt_note(args) -> str:
    """What an interrupt leaves behind, for the command that was running."""
    cmd = (getattr(args, "command", None), getattr(args, "istn_command", None) or getattr(args, "ntn_command", None))
    if cmd in (("ntn", "simulate"),) or cmd[0] == "reproduce":
        return "finished chunks are kept and a re-run resumes"
    if cmd[0] == "bench":
        return "files already written are complete, none is partial"
    return "nothing written"


def _silence_stdout() -> None:
    import os
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # pragma: no cover
        pass


def _exit_now(code: int):
    import os
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
