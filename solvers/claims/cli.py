"""``satisac claims``: judge every claim of ``../shared/spec/claims.md`` from the run stores.

::

    satisac claims [--paper istn|ntn|all] [--ids I1,N6,...] [--scenario NAME] [--quick]
                   [--config F] [--set k=v] [--seed S] [--drops N] [--frames N] [--world-seeds N] -o DIR

For each claim id the figures it reads are run (or resumed) in ``DIR`` exactly as
``satisac reproduce FIGURE -o DIR`` runs them (one run serves both), the metric is formed
with its 95 % CI and n, and the verdict rule of claims.md is applied
(:mod:`solvers.claims.verdict`).  Writes ``DIR/claims.csv`` and ``DIR/claims.md`` and
prints the table.  Every requested id gets a row; one that cannot be computed has verdict
"not measured" and the reason in ``note``.  ``quick`` is true when the run is below paper
statistics (ISTN >= 200 drops per point; NTN >= 20 frames per point and >= 2 world seeds).
A run over some claims (``--paper``, ``--ids``) keeps the rows of the other claims already in
``DIR/claims.csv`` (:func:`merged_ledger`); each row names the command that made it and when.
"""
from __future__ import annotations

import argparse
import csv
import math
import re
import sys
import time
import traceback
from pathlib import Path

from solvers.cli_args import add_config_args

COLUMNS = ("id", "paper", "figure", "metric", "estimate", "ci_low", "ci_high", "n", "band", "verdict", "scenario",
           "quick", "command", "note", "written")  # written: when, where and with which seed the row was judged


def _fmt(v) -> str:
    if isinstance(v, float):
        return "" if math.isnan(v) else f"{v:.4g}"
    return str(v)


def evaluate(claims, src, scenario: str, quick_flag: bool, command: str) -> list[dict]:
    """One row per claim (see module docstring); never raises for a single claim."""
    from solvers.claims.sources import NotMeasured, PAPER_ISTN_DROPS, PAPER_NTN_FRAMES, PAPER_NTN_SEEDS
    from solvers.claims.verdict import NOT_MEASURED, combine
    rows = []
    for cl in claims:
        row = dict(id=cl.id, paper=cl.paper, figure=cl.figure, metric=cl.metric, estimate=math.nan, ci_low=math.nan,
                   ci_high=math.nan, n=0, band=cl.band, verdict=NOT_MEASURED, scenario=scenario, quick=quick_flag,
                   command=command.format(id=cl.id), note="")
        t0 = time.perf_counter()
        try:
            parts, note = cl.compute(src)
            verdict = combine(p.verdict for p in parts)
            worst = [p for p in parts if p.verdict == verdict] or parts
            w = worst[0]
            row.update(estimate=w.estimate, ci_low=w.ci_low, ci_high=w.ci_high, n=w.n, verdict=verdict,
                       note=(f"worst part: {w.label}; " if len(parts) > 1 else "") + note
                       + "; parts: " + " | ".join(p.text() for p in parts))
        except NotMeasured as e:
            row["note"] = str(e)
        except Exception as e:  # noqa: BLE001 -- a broken metric is reported, never skipped
            traceback.print_exc(file=sys.stderr)
            row["note"] = f"error while computing: {type(e).__name__}: {e}"
        sizes = [src.sizes.get(f) for f in cl.figures if f in src.sizes]
        below = False
        for n, seeds in sizes:
            if cl.paper == "istn":
                below |= n is not None and n < PAPER_ISTN_DROPS
            else:
                below |= (n is not None and n < PAPER_NTN_FRAMES) or seeds < PAPER_NTN_SEEDS
        row["quick"] = bool(quick_flag or below)
        print(f"  {cl.id}: {row['verdict']} ({time.perf_counter() - t0:.1f} s)", file=sys.stderr)
        rows.append(row)
    return rows


def merged_ledger(old: list[dict], new: list[dict]) -> list[dict]:
    """This run's rows plus the rows of every other claim in the ledger already in the
    directory (a run over some ids or one paper leaves the others as they were), in the
    order of :data:`solvers.claims.registry.CLAIMS`; rows written before the ``written``
    column existed get it empty."""
    from solvers.claims.registry import CLAIMS
    ran = {r["id"] for r in new}
    rows = [{k: r.get(k) or "" for k in COLUMNS} for r in old if r.get("id") not in ran] + list(new)
    order = {c.id: i for i, c in enumerate(CLAIMS)}
    return sorted(rows, key=lambda r: order.get(r["id"], len(order)))


def read_ledger(path: Path) -> list[dict]:
    """The rows of a ledger CSV (strings), or [] when there is none."""
    if not path.exists():
        return []
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def _ids_text(ids: list[str]) -> str:
    """``I1-I14`` for a run of consecutive ids of one paper, comma-separated otherwise."""
    out, run = [], []
    for i in ids + [""]:
        if run and i and i[0] == run[-1][0] and i[1:].isdigit() and int(i[1:]) == int(run[-1][1:]) + 1:
            run.append(i)
            continue
        if run:
            out.append(run[0] if len(run) == 1 else f"{run[0]}-{run[-1]}")
        run = [i] if i else []
    return ", ".join(out)


def provenance_md(rows: list[dict]) -> str:
    """One line per run that wrote rows of the ledger: the rows, the command, when and where."""
    groups: dict = {}
    for r in rows:
        cmd = re.sub(r" --ids \S+", "", str(r["command"]))
        groups.setdefault((cmd, r.get("written") or ""), []).append(r["id"])
    return "\n\n".join(f"Rows {_ids_text(ids)}: `{cmd}`; "
                        + (f"written {w}." if w else "written before the ledger recorded when (see git log).")
                        for (cmd, w), ids in groups.items())


def write_csv(rows: list[dict], path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS)
        w.writeheader()
        for r in rows:
            w.writerow({k: _fmt(r.get(k, "")) for k in COLUMNS})
    tmp.replace(path)


def verdict_text(r: dict) -> str:
    return r["verdict"] + (" (quick)" if str(r["quick"]) in ("True", "true", "1") else "")


def estimate_text(r: dict) -> str:
    e, lo, hi = (float(r[k]) if r[k] not in ("", None) else math.nan for k in ("estimate", "ci_low", "ci_high"))
    if math.isnan(e):
        return "–"
    if math.isnan(lo) or (lo == e == hi):
        return f"{e:.3g}"
    return f"{e:.3g} [{lo:.3g}, {hi:.3g}]"


def md(text: str) -> str:
    """Text safe inside a markdown table cell."""
    return str(text).replace("|", "\\|")


def table_md(rows: list[dict]) -> str:
    lines = ["| id | figure | metric | estimate [95 % CI] | n | holds when | verdict |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['id']} | {r['figure']} | {md(r['metric'])} | {estimate_text(r)} | {r['n']} | {md(r['band'])} | "
                     f"**{verdict_text(r)}** |")
    return "\n".join(lines)


def write_md(rows: list[dict], path: Path, header: str) -> None:
    text = [header, "", table_md(rows), "", "Notes (every part of each claim with its estimate, CI, n and band):", ""]
    text += [f"- **{r['id']}**: {r['note']}" for r in rows]
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text("\n".join(text) + "\n")
    tmp.replace(path)


def select(paper: str, ids: str | None):
    from solvers.claims.registry import BY_ID, CLAIMS
    from solvers.configio import ConfigError
    if ids:
        want = [s.strip() for s in ids.split(",") if s.strip()]
        bad = [s for s in want if s not in BY_ID]
        if bad or not want:
            raise ConfigError(f"--ids: expected a comma-separated list from {list(BY_ID)}, got {ids!r}")
        chosen = [BY_ID[s] for s in want]
    else:
        chosen = list(CLAIMS)
    return [c for c in chosen if paper == "all" or c.paper == paper]


def run(args) -> int:
    from solvers.claims.sources import Sources
    from solvers.configio import ConfigError, parse_overrides, read_toml, split_keys
    from solvers.scenarios import ConfigSettings, scenario_names
    from solvers.reproduce import config_classes

    claims = select(args.paper, args.ids)
    if not claims:
        raise ConfigError(f"--ids/--paper: no claim of paper {args.paper!r} among {args.ids!r}")
    if args.scenario not in scenario_names():
        raise ConfigError(f"--scenario: expected one of {scenario_names()}, got {args.scenario!r}")
    for name, v in (("--drops", args.drops), ("--frames", args.frames), ("--world-seeds", args.world_seeds)):
        if v is not None and v < (1 if name == "--world-seeds" else 2):
            raise ConfigError(f"{name}: expected an integer >= {1 if name == '--world-seeds' else 2}, got {v}")
    papers = sorted({c.paper for c in claims})
    if (args.overrides or args.config) and len(papers) > 1:
        raise ConfigError("--set/--config: the two papers have different config keys; add --paper istn or --paper ntn")
    classes = config_classes(f"{papers[0]}-")  # malformed/unknown --set or --config keys: fail before writing
    split_keys(classes, parse_overrides(args.overrides), "--set")
    if args.config is not None:
        split_keys(classes, read_toml(args.config), f"config file {args.config}")
    from solvers.runner.jobs import describe, job_from_args, run_job
    job = job_from_args(args)  # --shard i/n, a SLURM array task or --distributed (None: the whole run)
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    settings = ConfigSettings(args.scenario, args.config, tuple(args.overrides))
    opts = " --quick" * args.quick + "".join(f" --{k.replace('_', '-')} {getattr(args, k)}" for k in (
        "drops", "frames", "world_seeds") if getattr(args, k) is not None) + f" --scenario {args.scenario}" + "".join(
        f" --set {o}" for o in args.overrides) + (f" --config {args.config}" if args.config else "")
    command = f"satisac claims --ids {{id}}{opts} -o {args.output}"
    t0 = time.perf_counter()

    def ledger(store_dir: Path) -> list[dict]:
        src = Sources(store_dir, quick=args.quick, seed=args.seed, drops=args.drops, frames=args.frames,
                      world_seeds=args.world_seeds, settings=settings, progress=True, run=not args.no_run)
        return evaluate(claims, src, args.scenario, args.quick, command)

    if job is not None:  # several jobs fill the same run stores; only the whole run writes the ledger
        rows, scope = run_job(job, ledger, out)
        if rows is None:
            print(describe(job, scope, f"satisac claims{opts} -o {args.output}"))
            return 0
    else:
        rows = ledger(out)
    import datetime
    import os
    import platform

    import jax
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    written = (f"{when} on {platform.machine()} with {os.cpu_count()} CPUs, JAX {jax.__version__} "
               f"({jax.default_backend()}), seed {args.seed}{', --no-run' if args.no_run else ''}")
    rows = merged_ledger(read_ledger(out / "claims.csv"), [dict(r, written=written) for r in rows])
    write_csv(rows, out / "claims.csv")
    header = (f"# Claims ledger: scenario `{args.scenario}` (rows marked quick are below paper statistics)\n\n"
              f"{provenance_md(rows)}\n\nVerdict rule: ../shared/spec/claims.md; 'quick' = below paper statistics.")
    write_md(rows, out / "claims.md", header)
    print(table_md(rows))
    print(f"wrote {out / 'claims.csv'} and {out / 'claims.md'} ({time.perf_counter() - t0:.0f} s)")
    return 0


def register(p: argparse.ArgumentParser) -> None:
    p.add_argument("--paper", choices=("istn", "ntn", "all"), default="all", help="which paper's claims")
    p.add_argument("--ids", default=None, help="comma-separated claim ids (e.g. I1,N6); default all")
    p.add_argument("--quick", action="store_true", help="the figures' --quick sizes (minutes; verdicts marked quick)")
    p.add_argument("--seed", type=int, default=0, help="base PRNG seed of the runs (as satisac reproduce)")
    p.add_argument("--drops", type=int, default=None, help="ISTN drops per sweep point (default: the figures')")
    p.add_argument("--frames", type=int, default=None, help="NTN frames per point (default: the figures')")
    p.add_argument("--world-seeds", type=int, default=None,
                   help="NTN world seeds (default 2, 1 with --quick); seed s>first runs in DIR/ntn-seed<s>")
    p.add_argument("--no-run", action="store_true",
                   help="run nothing: judge from the stores already in DIR (a claim whose runs are missing or "
                        "incomplete is 'not measured', with the reason)")
    p.add_argument("-o", "--output", required=True, help="output directory (shared with satisac reproduce)")
    add_config_args(p)
    from solvers.runner.jobs import add_job_args
    add_job_args(p)
    p.set_defaults(func=run)
