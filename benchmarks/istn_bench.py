"""ISTN benchmarks (ISTN paper Sec. III; issue 7 items 1-2).

Measured, all in one run:

* ``istn_channels``: channel generation (``solvers.istn.generate.generate_instance``,
  38.901 UMa + satellite + sensing channels, complex64) in drops/s vs batch size;
* ``istn_wmmse_iter``: ONE outer QoS-WMMSE iteration per cell (receivers (35)-(37),
  weights (40)-(41), transmit step (43) by the dual method of spec §3.3,
  ``jaxcore.istn.transmit_dual``), vmapped over cells, in cells/s vs batch; its compiled
  peak memory per cell; float32 vs float64; growth with Nt, K, T; the roofline;
* the cvxpy transmit step (``reference.istn_transmit.solve_transmit_cvxpy``, Clarabel) on
  the same cells from the same state: per-cell time ratio and the objective of (43)
  evaluated by the reference's own formula for both solutions (gap tolerance ``TX_TOL``,
  the 1e-4 of spec §3.6);
* ``istn_pipeline``: the full P1 -> P2 -> P3 pipeline (``solvers.istn.pipeline.solve_istn``)
  on generated drops, drops/s vs batch, float32 vs float64, growth with cells M, and the
  cvxpy pipeline (``solve_istn_reference``) on the same drops: per-drop time ratio and
  sum-rate gap (tolerance ``PIPE_TOL``).

The transmit-step cells are ``jaxcore.istn.problem.random_cell_problem`` (synthetic,
noise-normalised, paper sizes Nt=30, K=5, T=4, R=4, Nr=4, L=12 unless varied); the
pipeline uses the paper's channel model from the generator.  The state a transmit step
is timed from is the one after ``WARM_ITERS`` WMMSE iterations from the spec §3.4 start
(MRT TUT beams, principal sensing beams, q = sqrt(P_LEO)/2), as in spec §3.6.
"""
from __future__ import annotations

import time

import numpy as np

from benchmarks import roofline
from benchmarks.timing import compiled_memory_bytes, time_fn

TX_TOL = 1e-4  # relative objective gap of (43) counted as "equal quality" (spec §3.6)
PIPE_TOL = 1e-2  # relative sum-rate gap of the pipeline vs the cvxpy pipeline
WARM_ITERS = 3
RHO = 1e-4
PAPER = dict(Nt=30, K=5, T=4, R=4, Nr=4, L=12)
#: the synthetic cell of the quick WMMSE-iteration benchmark (also ``benchmarks.gpu_check --tiny``'s)
QUICK_CELL = dict(Nt=8, K=2, T=2, R=2, Nr=2, L=2)


# ----------------------------------------------------------------------------------------
# one WMMSE iteration of one cell
# ----------------------------------------------------------------------------------------
def init_point(prob):
    """Spec §3.4 start for ONE cell: MRT TUT columns, principal right-singular vector of
    G^tar_{i,A(i)} for sensing column i (20 power iterations), all columns at power
    P_BS/(K+T); q = sqrt(P_LEO)/2.  Returns (F [Nt, K+T], q)."""
    import jax
    import jax.numpy as jnp
    from jaxcore.istn.problem import target_view

    K, T = prob.n_tut, prob.n_tar
    tut = jnp.conj(prob.h_tut).T  # [Nt, K]
    G = jnp.take_along_axis(target_view(prob).G_t, jnp.arange(T)[:, None, None, None], axis=1)[:, 0]  # [T, Nr, Nt]

    def principal(Gi):
        v = jnp.conj(Gi).T @ jnp.ones(Gi.shape[0], Gi.dtype)

        def body(v, _):
            v = jnp.conj(Gi).T @ (Gi @ v)
            return v / jnp.maximum(jnp.linalg.norm(v), jnp.finfo(prob.p_bs.dtype).tiny), None

        v, _ = jax.lax.scan(body, v, None, length=20)
        return v

    sens = jax.vmap(principal)(G).T  # [Nt, T]
    F = jnp.concatenate([tut, sens], axis=1)
    F = F / jnp.maximum(jnp.linalg.norm(F, axis=0, keepdims=True), jnp.finfo(prob.p_bs.dtype).tiny)
    F = F * jnp.sqrt(prob.p_bs / (K + T)).astype(F.dtype)
    return F, jnp.sqrt(prob.p_leo) / 2


TX_ITERS = 50  # transmit-step iterations (fixed-length scan): QosWmmseConfig.inner_iter


def wmmse_iteration(prob, F, q, y0):
    """ONE outer QoS-WMMSE iteration of one cell: receivers, weights, transmit step (43) by
    the pipeline's default method (projected Newton on the dual, ``TX_ITERS`` iterations)."""
    from jaxcore.istn.transmit_newton import transmit_newton
    from jaxcore.istn.wmmse import mmse_receivers, mmse_weights, mse_coeffs

    p = q * q
    rx = mmse_receivers(prob, F, p)
    wts = mmse_weights(prob, F, p)
    co = mse_coeffs(prob, rx)
    res = transmit_newton(prob, co, wts, F, q, rho=RHO, y0=y0, n_iter=TX_ITERS)
    return res, rx, wts


def _iter_fns():
    import jax
    one = jax.jit(jax.vmap(lambda p, F, q, y: wmmse_iteration(p, F, q, y)[0]))
    init = jax.jit(jax.vmap(init_point))
    full = jax.jit(jax.vmap(wmmse_iteration))
    return one, init, full


def random_cells(n: int, seed: int, dtype, **sizes):
    """``n`` synthetic cells (``random_cell_problem``), batched on the leading axis."""
    import jax
    from jaxcore.istn.problem import random_cell_problem

    s = {**PAPER, **sizes}
    keys = jax.random.split(jax.random.PRNGKey(seed), n)
    f = jax.jit(jax.vmap(lambda k: random_cell_problem(k, K=s["K"], Nt=s["Nt"], T=s["T"], R=s["R"],
                                                       Nr=s["Nr"], L=s["L"], dtype=dtype)))
    return f(keys)


def warm_state(cells, fns):
    """(F, q, y) after WARM_ITERS WMMSE iterations from the spec §3.4 start."""
    import jax.numpy as jnp
    one, init, _ = fns
    F, q = init(cells)
    T = cells.G_tar.shape[-4]
    y = jnp.ones(q.shape + (1 + T,), q.dtype)
    for _ in range(WARM_ITERS):
        r = one(cells, F, q, y)
        F, q, y = r.F, r.q, r.lam
    return F, q, y


def _size_str(**s):
    return ",".join(f"{k}={v}" for k, v in s.items())


# ----------------------------------------------------------------------------------------
# parts
# ----------------------------------------------------------------------------------------
def _cast_cells(cells, real):
    import jax
    import jax.numpy as jnp
    cplx = jnp.complex64 if real == jnp.float32 else jnp.complex128
    return jax.tree_util.tree_map(
        lambda x: x.astype(cplx) if jnp.iscomplexobj(x) else (x.astype(real) if jnp.issubdtype(x.dtype, jnp.floating) else x),
        cells)


def bench_wmmse(ctx) -> None:
    """One outer WMMSE iteration per cell: throughput, memory, roofline, reference, f32/f64,
    growth with Nt, K, T.  Shapes are reused so each distinct shape compiles once."""
    import jax
    import jax.numpy as jnp

    q = ctx.quick
    f32, f64 = jnp.float32, jnp.float64
    sizes = dict(PAPER) if not q else dict(QUICK_CELL)
    batches = [1, 8] if q else [1, 10, 100, 1000]
    Bs = 8 if q else 32  # batch of the precision, reference and scaling runs
    fns = _iter_fns()
    full = fns[2]
    # float64 master cells and state; float32 = the same cells cast
    c64 = random_cells(max(batches), ctx.seed, f64, **sizes)
    F64, q64, y64 = warm_state(c64, fns)
    c32 = _cast_cells(c64, f32)
    F32, q32, y32 = F64.astype(jnp.complex64), q64.astype(f32), y64.astype(f32)
    sl = lambda tree, n: jax.tree_util.tree_map(lambda x: x[:n], tree)  # noqa: E731
    last, timed = None, {}  # timed: batch -> Timing of these float32 cells
    for B in batches:
        args = (sl(c32, B), F32[:B], q32[:B], y32[:B])
        t = timed[B] = time_fn(full, *args, repeats=3 if q else 5, budget_s=ctx.budget_s)
        out = t.value[0]
        mem = compiled_memory_bytes(full, *args)
        ctx.rows.append(dict(section="throughput", bench="istn_wmmse_iter", variant="cells", dtype="float32",
                             batch=B, sizes=_size_str(**sizes), compile_s=t.compile_s, median_s=t.median_s,
                             min_s=t.min_s, max_s=t.max_s, repeats=t.repeats, per_item_s=t.per_item(B), cpu_per_item_s=t.cpu_per_item(B),
                             items_per_s=t.throughput(B), peak_bytes=mem["peak"] if mem else "",
                             bytes_per_item=mem["peak"] / B if mem else "",
                             iterations=float(np.mean(np.asarray(out.iterations)))))
        last = (B, t, out)
        ctx.tick()

    # roofline of one WMMSE iteration (largest batch)
    if ctx.peaks is not None and last is not None:
        B, t, out = last
        n_dual_exec = TX_ITERS
        n_dual_used = float(np.mean(np.asarray(out.iterations)))
        s = sizes
        flops = roofline.wmmse_iteration_flops(s["Nt"], s["K"], s["T"], s["R"], s["Nr"], s["L"], n_dual=n_dual_exec,
                                               strategy="newton")
        ess = roofline.wmmse_iteration_flops(s["Nt"], s["K"], s["T"], s["R"], s["Nr"], s["L"],
                                             n_dual=max(n_dual_used, 1.0), strategy="newton", essential=True)
        nbytes = roofline.wmmse_iteration_bytes(s["Nt"], s["K"], s["T"], s["R"], s["Nr"], s["L"], 4)
        ach = roofline.achieved(flops, nbytes, t.per_item(B), ctx.peaks, complex_work=True, floor_flops=ess)
        ctx.rows.append(dict(section="roofline", bench="istn_wmmse_iteration", dtype="float32", batch=B,
                             sizes=_size_str(**sizes) + f",dual={n_dual_used:.0f}/{n_dual_exec}",
                             per_item_s=t.per_item(B), cpu_per_item_s=t.cpu_per_item(B), **ach,
                             note=f"flops = executed (fixed {TX_ITERS}-step projected-Newton scan, 5 MSE evals, "
                                  "padded RHS); floor = essential flops (Newton steps used, J RHS, 1 MSE eval) "
                                  "vs peaks"))

    # float32 vs float64 on the same Bs cells and state
    a32 = (sl(c32, Bs), F32[:Bs], q32[:Bs], y32[:Bs])
    a64 = (sl(c64, Bs), F64[:Bs], q64[:Bs], y64[:Bs])
    t32 = timed.get(Bs) or time_fn(full, *a32, repeats=3, budget_s=ctx.budget_s)  # the same cells
    t64 = time_fn(full, *a64, repeats=3, budget_s=ctx.budget_s)
    r32, r64 = t32.value[0], t64.value
    o32, o64 = np.asarray(r32.objective, float), np.asarray(r64[0].objective, float)
    gap = float(np.median(np.abs(o32 - o64) / np.maximum(np.abs(o64), 1e-12)))
    ctx.rows.append(dict(section="precision", bench="istn_wmmse_iter", batch=Bs, sizes=_size_str(**sizes),
                         per_item_s=t32.per_item(Bs), cpu_per_item_s=t32.cpu_per_item(Bs), ref_per_item_s=t64.per_item(Bs),
                         speedup_vs_ref=t64.median_s / t32.median_s, quality_metric="objective (43), median rel.",
                         quality=float(np.mean(o32)), ref_quality=float(np.mean(o64)), quality_gap=gap,
                         note=f"out dtypes {r32.F.dtype}/{r64[0].F.dtype}; feasible f32 "
                              f"{np.mean(np.asarray(r32.feasible)):.2f}, f64 {np.mean(np.asarray(r64[0].feasible)):.2f}"))
    ctx.tick()

    # cvxpy transmit step on the first cells of the float64 batch, same state
    n_ref = 3 if q else 8
    bench_transmit_reference(ctx, sizes, n_ref, a64, r64, (t64.per_item(Bs), t64.cpu_per_item(Bs)))

    # growth with Nt, K, T (one WMMSE iteration per cell, float32, batch Bs)
    grid = ({"Nt": [4, 8]} if q else  # quick: one parameter (each size is one more compile)
            {"Nt": [8, 16, 30, 64], "K": [1, 2, 5, 10], "T": [1, 2, 4, 8]})
    for param, vals in grid.items():
        for v in vals:
            sz = dict(sizes)
            sz[param] = v
            if param == "T":
                sz["L"] = max(1, (sizes["L"] // sizes["T"]) * v)  # clutter per target fixed
            if sz == sizes:  # the precision run's float32 cells, timed above
                t = t32
            else:
                cv = random_cells(Bs, ctx.seed + v, f32, **sz)
                Fv, qv = fns[1](cv)
                args = (cv, Fv, qv, jnp.ones(qv.shape + (1 + sz["T"],), f32))
                t = time_fn(full, *args, repeats=2 if q else 3, budget_s=ctx.budget_s)
            ctx.rows.append(dict(section="scaling", bench="istn_wmmse_iter", dtype="float32", batch=Bs,
                                 param=param, value=v, sizes=_size_str(**sz), compile_s=t.compile_s,
                                 median_s=t.median_s, per_item_s=t.per_item(Bs), cpu_per_item_s=t.cpu_per_item(Bs), items_per_s=t.throughput(Bs)))
            ctx.tick()


def bench_transmit_reference(ctx, sizes: dict, n_ref: int, args64, out64, ours_per_cell) -> None:
    """Our transmit step vs cvxpy on the same float64 cells and WMMSE state."""
    import jax

    try:
        from reference.istn_transmit import cell_arrays, mse_coeffs as ref_coeffs, mses as ref_mses
        from reference.istn_transmit import solve_transmit_cvxpy, transmit_objective
    except ImportError as e:
        ctx.note(f"ISTN: cvxpy transmit reference not importable ({e}); ratio not measured.")
        return
    cells, F, q, _ = args64
    res, rx, wts = out64
    to_np = lambda tree, i: jax.tree_util.tree_map(lambda x: np.asarray(x[i]), tree)  # noqa: E731
    gaps, ok, ref_times, ref_cpu, viol_ours = [], [], [], [], []
    for i in range(n_ref):
        cell_i, rx_i, w_i = to_np(cells, i), to_np(rx, i), to_np(wts, i)
        Fp, qp = np.asarray(F[i]), float(q[i])
        c0, t0 = time.process_time(), time.perf_counter()
        F_r, q_r, obj_r, status = solve_transmit_cvxpy(cell_i, (rx_i.w_tut, rx_i.w_sut, rx_i.w_rad),
                                                       (w_i.mu_tut, w_i.mu_sut), Fp, qp, RHO)
        ref_times.append(time.perf_counter() - t0)
        ref_cpu.append(time.process_time() - c0)
        if status not in ("optimal", "optimal_inaccurate"):
            continue
        ca = cell_arrays(cell_i)
        co = ref_coeffs(ca, (rx_i.w_tut, rx_i.w_sut, rx_i.w_rad))
        F_o, q_o = np.asarray(res.F[i]), float(res.q[i])
        o_ours = transmit_objective(co, w_i.mu_tut, w_i.mu_sut, F_o, q_o, Fp, qp, RHO)
        o_ref = transmit_objective(co, w_i.mu_tut, w_i.mu_sut, F_r, q_r, Fp, qp, RHO)
        _, e_s, e_r = ref_mses(co, F_o, q_o)
        v = max(e_s / ca.e_sut - 1.0, float(np.max(e_r / ca.e_rad - 1.0)) if e_r.size else -1.0)
        viol_ours.append(v)
        gaps.append((o_ours - o_ref) / max(abs(o_ref), 1e-12))
        ok.append(abs(gaps[-1]) <= TX_TOL and v <= 1e-6)
    # the first solve of a shape builds the cvxpy problem; report the median of the rest
    ref_per = float(np.median(ref_times[1:] if len(ref_times) > 1 else ref_times))
    ref_cpu_per = float(np.median(ref_cpu[1:] if len(ref_cpu) > 1 else ref_cpu))
    g = np.asarray(gaps)
    ctx.rows.append(dict(
        section="reference", bench="istn_transmit_step", dtype="float64", batch=n_ref, sizes=_size_str(**sizes),
        per_item_s=ours_per_cell[0], cpu_per_item_s=ours_per_cell[1], ref_per_item_s=ref_per,
        ref_cpu_per_item_s=ref_cpu_per, speedup_vs_ref=ref_per / ours_per_cell[0],
        cpu_speedup_vs_ref=ref_cpu_per / ours_per_cell[1],
        quality_metric="objective (43) incl. prox, reference formula",
        quality_gap=float(np.max(np.abs(g))) if g.size else np.nan,
        quality_ok=f"{sum(ok)}/{len(ok)}",
        note=f"ours = one full WMMSE iteration per cell (receivers + dual transmit step), float64, batched; "
             f"cvxpy = one Clarabel solve of (43) per cell (parameters reused, median); median rel. gap "
             f"{float(np.median(g)) if g.size else np.nan:.1e} (+ = ours worse), max QoS violation ours "
             f"{max(viol_ours) if viol_ours else np.nan:.1e}; cvxpy optimal on {len(gaps)}/{n_ref}"))
    ctx.tick()


QUICK_SCENARIO = dict(n_tx=8, n_tut=2, n_targets=2, n_radar=2, n_rx=2, clutter_per_target=1)


def scenario(quick: bool):
    """Generator config: the paper's defaults, or a small cell for ``--quick``."""
    from solvers.istn.config import IstnConfig
    return IstnConfig(**QUICK_SCENARIO) if quick else IstnConfig()


def bench_channels(ctx) -> None:
    """Channel generation (``generate_instance``), drops/s vs batch size, complex64."""
    from solvers.istn.generate import bytes_per_drop, generate_instance

    q = ctx.quick
    cfg = scenario(q)
    M = 1 if q else 4
    batches = [2, 4] if q else [1, 10, 100, 1000, 10000]  # quick: one chunk shape (2), one compile
    compiled = set()
    for B in batches:
        # drops per jit chunk: the generator's default (256 // M), capped by B as it does
        c = max(1, min(2 if q else 256 // M, B))
        t0 = time.perf_counter()
        if c not in compiled:  # compile this chunk shape once (not counted in the timing)
            generate_instance(cfg, c, ctx.seed, M, precision="float32", chunk=c, progress=False)
            compiled.add(c)
        comp = time.perf_counter() - t0
        reps = 1 if B >= 1000 else (2 if q else 3)
        ts, cs = [], []
        for r in range(reps):
            c0, t0 = time.process_time(), time.perf_counter()
            arr = generate_instance(cfg, B, ctx.seed + r, M, precision="float32", chunk=c, progress=False)
            ts.append(time.perf_counter() - t0)
            cs.append(time.process_time() - c0)
        med = float(np.median(ts))
        ctx.rows.append(dict(section="throughput", bench="istn_channels", variant=f"M={M}", dtype="float32",
                             batch=B, sizes=f"M={M}," + ("quick scenario" if q else "paper defaults"),
                             compile_s=comp, median_s=med, min_s=min(ts),
                             max_s=max(ts), repeats=reps, per_item_s=med / B, items_per_s=B / med,
                             cpu_per_item_s=float(np.median(cs)) / B,
                             bytes_per_item=bytes_per_drop(arr),
                             note=f"drops per jit chunk {c}; bytes/item = instance size per drop"))
        ctx.tick()


def _pipeline():
    from solvers.istn.pipeline import SolverConfig, solve_istn, solve_istn_reference
    return SolverConfig, solve_istn, solve_istn_reference


def bench_pipeline(ctx) -> None:
    """P1 -> P2 -> P3 end to end (``solve_istn``) vs batch, f32/f64, cvxpy, cells growth."""
    try:
        SolverConfig, solve_istn, solve_istn_reference = _pipeline()
    except ImportError as e:
        ctx.note(f"ISTN: pipeline not importable ({e}): the P1->P2->P3 pipeline, "
                 "its cvxpy ratio and the cells scaling are not measured.")
        return
    from solvers.istn.generate import generate_instance

    q = ctx.quick
    gcfg = scenario(q)
    # continuous batching over the cells (solvers/istn/streaming.py) with the default slot
    # count: the per-drop cost should not depend on the batch (one program per slot count)
    chunk = 2 if q else 8  # drops of the float32/float64 and cvxpy comparisons
    # the default slot count (1 on a CPU: one program per mode for every batch; in --quick the
    # programs of the suite's other QUICK_SCENARIO runs, benchmarks.gpu_check --tiny and
    # benchmarks.istn_perdrop, so a persistent compilation cache serves them)
    scfg = SolverConfig(progress=False)
    M = 1 if q else 4
    batches = [2, 4] if q else [1, 8, 32]
    solve = lambda a: solve_istn(a, scfg, "proposed", ctx.seed)  # noqa: E731
    big = generate_instance(gcfg, max(batches), ctx.seed, M, precision="float32",
                            chunk=2 if q else None, progress=False)
    sz = "quick scenario" if q else "paper defaults"
    timed = {}  # batch -> Timing (its .value is the solution of the last timed call)
    for B in batches:
        arr = {k: v[:B] for k, v in big.items()}
        t = timed[B] = time_fn(solve, arr, warmup=0, repeats=2 if q else 3, budget_s=ctx.budget_s)
        sol = t.value
        ctx.rows.append(dict(section="throughput", bench="istn_pipeline", variant=f"M={M}", dtype="float32",
                             batch=B, sizes=f"M={M},{sz}", compile_s=t.compile_s, median_s=t.median_s,
                             min_s=t.min_s, max_s=t.max_s, repeats=t.repeats, per_item_s=t.per_item(B), cpu_per_item_s=t.cpu_per_item(B),
                             items_per_s=t.throughput(B),
                             iterations=float(np.mean(np.asarray(sol["iterations"]))),
                             note=f"status counts {np.bincount(np.asarray(sol['status']).ravel(), minlength=5).tolist()}"))
        ctx.tick()
    best = max((r for r in ctx.rows if r.get("bench") == "istn_pipeline" and r["section"] == "throughput"),
               key=lambda r: r["items_per_s"])

    # float32 vs float64 on the same drops (the float64 run also serves the cvxpy comparison)
    Bp = chunk
    a32 = {k: v[:Bp] for k, v in big.items()}
    a64 = {k: (v.astype(np.complex128) if v.dtype == np.complex64 else v) for k, v in a32.items()}
    t32 = timed.get(Bp) or time_fn(solve, a32, warmup=0, repeats=2, budget_s=ctx.budget_s)  # same drops
    t64 = time_fn(solve, a64, warmup=0, repeats=2, budget_s=ctx.budget_s)
    s32, s64 = t32.value, t64.value
    r32, r64 = np.asarray(s32["sum_rate"], float), np.asarray(s64["sum_rate"], float)
    gap = float(np.max(np.abs(r32 - r64) / np.maximum(np.abs(r64), 1e-12)))
    ctx.rows.append(dict(section="precision", bench="istn_pipeline", batch=Bp, sizes=f"M={M},{sz}",
                         per_item_s=t32.per_item(Bp), cpu_per_item_s=t32.cpu_per_item(Bp), ref_per_item_s=t64.per_item(Bp),
                         speedup_vs_ref=t64.median_s / t32.median_s, quality_metric="sum rate (25a), max rel.",
                         quality=float(np.mean(r32)), ref_quality=float(np.mean(r64)), quality_gap=gap,
                         note=f"F dtypes {s32['F'].dtype}/{s64['F'].dtype}"))
    ctx.tick()

    # cvxpy pipeline (reference/istn_wmmse.py through solve_istn_reference) on the first drops
    # Both solve exactly the same n_ref drops (ours timed on that batch too: a drop's cost
    # varies several-fold with its Phase-I difficulty, so a ratio over different drops would
    # mislead).  Quality is one-sided: WMMSE reaches local optima and the cvxpy loop's
    # Phase I can fail (status 2), so ours may be far better; "within tol" = not worse by
    # more than PIPE_TOL on any drop.
    # quick: the float64 drops themselves (their timing above, no batch-1 programs to compile)
    n_ref = Bp if q else 2
    ra = {k: v[:n_ref] for k, v in a64.items()}
    t_same = t64 if n_ref == Bp else time_fn(solve, ra, warmup=0, repeats=2, budget_s=ctx.budget_s)
    so = np.asarray(t_same.value["sum_rate"], float)
    c0, t0 = time.process_time(), time.perf_counter()
    ref = solve_istn_reference(ra, scfg, "proposed", ctx.seed)
    ref_s = (time.perf_counter() - t0) / n_ref
    ref_c = (time.process_time() - c0) / n_ref
    sr = np.asarray(ref["sum_rate"], float)
    rel = (so - sr) / np.maximum(np.abs(sr), 1e-12)  # + = ours better
    ours_s, ours_c = t_same.per_item(n_ref), t_same.cpu_per_item(n_ref)
    ctx.rows.append(dict(section="reference", bench="istn_pipeline", dtype="float64", batch=n_ref, sizes=f"M={M},{sz}",
                         per_item_s=ours_s, cpu_per_item_s=ours_c, ref_per_item_s=ref_s,
                         ref_cpu_per_item_s=ref_c, speedup_vs_ref=ref_s / ours_s,
                         cpu_speedup_vs_ref=ref_c / ours_c, quality_metric="sum rate (25a), worst drop, + = ours better",
                         quality=float(np.mean(so)), ref_quality=float(np.mean(sr)), quality_gap=float(np.min(rel)),
                         quality_ok=bool(np.min(rel) >= -PIPE_TOL),
                         note=f"the same {n_ref} drops, ours float64 batched, cvxpy one drop at a time; per drop "
                              f"{', '.join(f'{100 * r:+.2f} %' for r in rel)}; cell statuses ours "
                              f"{np.asarray(s64['status'])[:n_ref].ravel().tolist()} cvxpy "
                              f"{np.asarray(ref['status']).ravel().tolist()} (2 = Phase I found no feasible point). "
                              f"Throughput at scale: best float32 batch {best['batch']} drops, {best['per_item_s']:.3g} s/drop"))
    ctx.tick()

    # growth with the number of cells M (per drop, float32)
    if not q:
        Bs = chunk
        for m in (1, 4, 8):
            arr = big if m == M else generate_instance(gcfg, Bs, ctx.seed, m, precision="float32", progress=False)
            arr = {k: v[:Bs] for k, v in arr.items()}
            t = time_fn(solve, arr, warmup=0, repeats=2, budget_s=ctx.budget_s)
            ctx.rows.append(dict(section="scaling", bench="istn_pipeline", dtype="float32", batch=Bs,
                                 param="cells", value=m, sizes=f"M={m},{sz}", compile_s=t.compile_s,
                                 median_s=t.median_s, per_item_s=t.per_item(Bs), cpu_per_item_s=t.cpu_per_item(Bs), items_per_s=t.throughput(Bs)))
            ctx.tick()


def bench(ctx) -> None:
    """Append ISTN rows to ``ctx.rows``; each sub-part records its own failure."""
    import traceback
    failures = []
    for name, fn in (("channels", bench_channels), ("wmmse", bench_wmmse), ("pipeline", bench_pipeline)):
        t0 = time.perf_counter()
        try:
            fn(ctx)
            ctx.note(f"istn/{name} took {time.perf_counter() - t0:.1f} s")
        except ImportError as e:
            ctx.note(f"istn/{name} skipped: {e}")
        except Exception as e:
            failures.append(name)
            ctx.note(f"istn/{name} FAILED: {type(e).__name__}: {e} "
                     f"({' | '.join(traceback.format_exc(limit=3).strip().splitlines()[-3:])})")
    if failures:
        raise RuntimeError(f"ISTN sub-benchmarks failed: {failures} (see notes)")
