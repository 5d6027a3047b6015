"""Minimal reproducer: the ISTN streaming solve sharded over forced CPU host devices hangs.

    python -m benchmarks.xla_cpu_sharded_hang --sizes 5 30 4 2 2 1   # hangs (2 devices)
    python -m benchmarks.xla_cpu_sharded_hang --sizes 5 30 4 2 2 1 --devices 1   # completes

Measured 2026-12-04 on a (heavily loaded) 2-core x86_64 CPU, JAX 0.10.2, 2 devices: hangs
with sizes ``5 30 4 4 4 12`` (paper) and ``5 30 4 2 2 1`` (also with
``--xla-flags=--xla_cpu_multi_thread_eigen=false``); completes with ``5 8 4 4 4 12``,
``2 30 1 2 2 1``, ``2 30 1 4 4 12``, ``5 30 1 2 2 1``, ``2 30 4 2 2 1``, and with
``5 30 4 2 2 1`` on one device.

It solves ``2 x devices`` random cells (``jaxcore.istn.problem.random_cell_problem``; sizes
K Nt T R Nr L, paper size 5 30 4 4 4 12) with ``solvers.istn.streaming.solve_cells_streaming``
(P1, ``max_iter=3``), one slot per device, the slot axis split over
``XLA_FLAGS=--xla_force_host_platform_device_count=N``.  A watchdog thread reads the
process's CPU time every 10 s; when it has not moved for ``--stall`` seconds (default 90)
the program is deemed hung (0 % CPU: every thread waits on a futex), prints ``HANG`` with the
Python stacks and exits 3.  Exit 0 and ``done`` otherwise.  One device (``--devices 1``),
or one device per process (``--distributed``, ``solvers/devices.py``) runs the same cells.
"""
from __future__ import annotations

import argparse
import faulthandler
import os
import sys
import threading
import time


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--devices", type=int, default=2)
    ap.add_argument("--sizes", type=int, nargs=6, default=[5, 30, 4, 4, 4, 12], metavar=("K", "Nt", "T", "R", "Nr", "L"))
    ap.add_argument("--stall", type=float, default=90.0, help="seconds without CPU progress that count as a hang")
    ap.add_argument("--xla-flags", default="", help="more XLA_FLAGS (e.g. --xla_cpu_multi_thread_eigen=false)")
    args = ap.parse_args(argv)
    os.environ["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={args.devices} {args.xla_flags}".strip()
    import jax
    import numpy as np

    from jaxcore.istn.problem import random_cell_problem
    from jaxcore.istn.qos_wmmse import QosWmmseConfig
    from jaxcore.sharding import drops_mesh
    from solvers.istn.streaming import solve_cells_streaming

    def watchdog():
        last, still = None, 0.0
        while True:
            time.sleep(10)
            t = os.times()
            cpu = t.user + t.system
            still = still + 10 if last is not None and cpu - last < 0.05 else 0.0
            last = cpu
            if still >= args.stall:
                print(f"HANG: no CPU progress for {still:.0f} s", flush=True)
                faulthandler.dump_traceback(all_threads=True)
                os._exit(3)

    threading.Thread(target=watchdog, daemon=True).start()
    K, Nt, T, R, Nr, L = args.sizes
    n = 2 * args.devices
    cells = jax.vmap(lambda k: random_cell_problem(k, K=K, Nt=Nt, T=T, R=R, Nr=Nr, L=L, r_min_sut=1.0))(
        jax.random.split(jax.random.PRNGKey(2), n))
    cells = jax.tree_util.tree_map(np.asarray, cells)
    t0 = time.perf_counter()
    sol = solve_cells_streaming(cells, QosWmmseConfig(max_iter=3), slots=args.devices,
                                mesh=drops_mesh() if args.devices > 1 else None)
    print(f"done: {n} cells, sizes {args.sizes}, {args.devices} device(s), {time.perf_counter() - t0:.1f} s, "
          f"sum rates {np.round(np.asarray(sol.sum_rate), 4).tolist()}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
