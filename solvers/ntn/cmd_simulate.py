"""``satisac ntn simulate [--config FILE] [--set k=v ...] --frames N -o run_dir [--method m ...]``.

Runs the frame loop of :mod:`solvers.ntn.simulate` for ``--episodes E`` (default 1)
independent episodes of N frames (episode e's world seeded by ``(seed, e)``; several side by
side with ``satisac --scenario-batch``) and writes one row per frame, method and episode to the resumable store of :mod:`solvers.runner` (re-running the
same command resumes; a different command in the same directory is refused).  ``--set``
keys may be :class:`solvers.ntn.config.NtnConfig` fields (world, sensing, timing) or
:class:`solvers.ntn.allocate.JmraConfig` fields (solver).
"""
from __future__ import annotations

import json

import numpy as np

from solvers.configio import (ConfigError, check_keys, field_names, load_config, parse_overrides, read_toml,
                              to_dict)
from solvers.npzio import check_output_dir
from solvers.ntn.allocate import JmraConfig
from solvers.ntn.config import NtnConfig
from solvers.ntn.simulate import make_work
from solvers.runner.montecarlo import run_sweep
from solvers.runner.store import load_results, to_numpy
from solvers.runtime import scenario_batch


def split_overrides(items) -> tuple[list[str], list[str]]:
    """Route ``key=value`` items to NtnConfig or JmraConfig by key (unknown keys: error)."""
    jkeys = set(field_names(JmraConfig))
    ntn, jm = [], []
    for item in items:
        key = item.split("=", 1)[0].strip()
        (jm if key in jkeys else ntn).append(item)
    check_keys(NtnConfig, parse_overrides(ntn).keys(), "--set")
    return ntn, jm


def summary_table(cols: dict) -> str:
    lines = ["method      frames  thr[kbit/s]  Jain    HO/s    infeasible"]
    for m in np.unique(cols["method"]):
        s = cols["method"] == m
        lines.append(f"{m:<11} {int(s.sum()):>6}  {np.nanmean(cols['throughput_kbps'][s]):>11.3f}  "
                     f"{np.nanmean(cols['jain'][s]):.3f}  {np.mean(cols['handovers_per_s'][s]):6.2f}  "
                     f"{int(np.sum(cols['infeasible'][s]))}")
    return "\n".join(lines)


def run(args) -> int:
    check_output_dir(args.output)  # a file in the way or an unwritable parent: refused before any work
    ntn_ov, j_ov = split_overrides(args.overrides)
    cfg = load_config(NtnConfig, args.config, ntn_ov, scenario=args.scenario) if not args.config else None
    if cfg is None:  # a config file may mix both kinds of keys
        data = read_toml(args.config)  # missing, a directory, not UTF-8, not TOML: one ConfigError
        jk = set(field_names(JmraConfig))
        cfg = load_config(NtnConfig, None, [f"{k}={_toml(v)}" for k, v in data.items() if k not in jk] + ntn_ov,
                          scenario=args.scenario)
        j_ov = [f"{k}={_toml(v)}" for k, v in data.items() if k in jk] + j_ov
    jcfg = load_config(JmraConfig, None, j_ov)
    methods = tuple(args.method or ("jmra", "dmrab"))
    if args.frames < 1:
        raise ConfigError(f"--frames: expected an integer >= 1, got {args.frames}")
    if args.episodes < 1:
        raise ConfigError(f"--episodes: expected an integer >= 1, got {args.episodes}")
    work = make_work(jcfg, args.frames, methods)
    run_sweep(args.output, cfg, work, n_drops=args.episodes, seed=args.seed, methods=methods, chunk_size=1,
              extra=dict(frames=args.frames, solver=to_dict(jcfg), scenario=args.scenario), desc="ntn simulate",
              unit="episode", batch=scenario_batch())
    cols = to_numpy(load_results(args.output))
    print(summary_table(cols))
    print(f"wrote {args.output} ({len(cols['frame'])} rows: one per frame, method and episode)")
    return 0


def _toml(v) -> str:
    return json.dumps(v) if not isinstance(v, str) else f'"{v}"'
