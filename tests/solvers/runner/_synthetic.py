"""A cheap synthetic Monte-Carlo job for the runner tests (also run as a subprocess script).

``python _synthetic.py RUN_DIR [--delay S] [--shard i/n]`` runs a 2-point sweep of 40 drops
in chunks of 5; each chunk sleeps ``delay`` seconds so a test can kill the process part-way (``--hold FILE``:
once a chunk is on disk, the next waits while FILE exists);
``--shard`` computes only that share of the 16 chunks (``solvers.runner.claims``).
"""
from __future__ import annotations

import dataclasses
import json
import sys
import time
from pathlib import Path

import numpy as np

from solvers.configio import param, validate
from solvers.runner.claims import parse_shard
from solvers.runner.montecarlo import drop_rng, run_sweep


@dataclasses.dataclass(frozen=True)
class ToyConfig:
    p_dbm: float = param(20.0, "transmit power", lo=-30.0, hi=60.0)
    n_users: int = param(3, "users", lo=1, hi=64)
    mode: str = param("a", "mode", choices=("a", "b"))

    def __post_init__(self):
        validate(self)


METHODS = ("alpha", "beta")
DELAY = [0.0]
HOLD = [None]  # a path: after the first chunk, every chunk waits while this file exists


def work(cfg: ToyConfig, drops: np.ndarray, seed: int):
    """Rows (drop, method) whose values depend only on (seed, drop) and the config."""
    time.sleep(DELAY[0])
    while HOLD[0] is not None and Path(HOLD[0]).exists() and list(Path(HOLD[1]).glob("point-*/chunk-*")):
        time.sleep(0.02)
    rows = []
    for d in drops:
        g = drop_rng(seed, d).exponential(size=cfg.n_users)  # per-drop randomness
        snr = 10 ** (cfg.p_dbm / 10) * g
        for m in METHODS:
            scale = 1.0 if m == "alpha" else 0.5
            rows.append({"drop": int(d), "method": m,
                         "sum_rate": float(np.log2(1 + scale * snr).sum()),
                         "status": 0})
    return rows


def main(argv):
    run_dir = argv[0]
    if "--delay" in argv:
        DELAY[0] = float(argv[argv.index("--delay") + 1])
    if "--hold" in argv:
        HOLD[:] = [argv[argv.index("--hold") + 1], run_dir]
    shard = parse_shard(argv[argv.index("--shard") + 1]) if "--shard" in argv else None
    s = run_sweep(run_dir, ToyConfig(), work, n_drops=40, seed=7, sweep={"p_dbm": [0.0, 10.0]},
                  methods=METHODS, chunk_size=5, progress=False, shard=shard)
    out = {"chunks_run": s.chunks_run, "chunks_skipped": s.chunks_skipped}
    if shard is not None:
        out["chunks_busy"] = s.chunks_busy
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    from solvers.configio import ConfigError
    try:
        main(sys.argv[1:])
    except ConfigError as e:  # one line, exit 2, as the CLI does
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
