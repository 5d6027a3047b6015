"""NTN benchmarks: the JMRA allocation (NTN paper Algorithm 1 + 2) batched over frames.

Measured (issue 7 item 1, 2):

* ``ntn_jmra`` throughput (frames/s) vs batch size, end to end as a user calls it (float64,
  ``JmraConfig.precision``)
  (``solvers.ntn.allocate.solve_allocation(arrays, "jmra", cfg)``: relaxation + rounding);
  ``ntn_jmra_core`` the jitted relaxation alone (``jaxcore.ntn.jmra.jmra_relaxed`` vmapped);
* the cvxpy reference (``reference.ntn_jmra``: the same Algorithm 1 with each subproblem P2
  solved by Clarabel) on the first few frames of the same batch: per-frame time ratio and
  the objective (25) of the integer allocations, whose relative gap must stay within the
  validation tolerance (``REF_TOL``);
* float32 vs float64 on the same frames;
* cost growth with cells C and satellites S (fitted exponents);
* one JMRA outer iteration against the roofline (``benchmarks.roofline``).

Instances: random frames with the statistics of the NTN scenario (S-band-like and
Ka-band-like rates, sparse visibility, lognormal active users, most cells served in the
previous frame), drawn by :func:`random_frames` so the benchmark does not depend on the
orbit/rain world; sizes are stated per row.
"""
from __future__ import annotations

import time

import numpy as np

from benchmarks import roofline
from benchmarks.timing import compiled_memory_bytes, time_fn

REF_TOL = 1e-2  # relative objective gap accepted as "equal quality" (integer allocations)


def random_frames(B: int, C: int, S: int, seed: int = 0, density: float = 0.3, n_beams: int = 4,
                  t_ho: float = 0.05, t_frame: float = 10.0, t_ofdma: float = 0.01) -> dict[str, np.ndarray]:
    """B allocation instances (interfaces.md §3) with C cells and S satellites."""
    rng = np.random.default_rng(seed)
    ka = rng.random((B, 1, S)) < 0.5  # # [B, 1, S] Ka- or S-band satellite
    base = np.where(ka, rng.uniform(0.5e9, 2e9, (B, C, S)), rng.uniform(50e6, 200e6, (B, C, S)))
    use = rng.random((B, C, S)) < density
    first = rng.integers(0, S, (B, C))
    use[np.arange(B)[:, None], np.arange(C)[None, :], first] = True  # every cell sees one satellite
    rate = np.where(use, base, 0.0)
    n_active = np.floor(rng.lognormal(4.0, 1.0, (B, C)))
    n_active[rng.random((B, C)) < 0.1] = 0.0
    # previously served: a random usable satellite (the "first" one) for 70 % of cells
    prev = np.zeros((B, C, S), bool)
    served = rng.random((B, C)) < 0.7
    b_i, c_i = np.nonzero(served)
    prev[b_i, c_i, first[b_i, c_i]] = True
    n_f = int(round(t_frame / t_ofdma))
    return dict(rate=rate, n_active=n_active, prev_served=prev, t_ho=np.full(B, t_ho),
                n_com=np.full(B, n_f - 1, np.int64), n_beams=np.full((B, S), n_beams, np.int64),
                t_ofdma=np.full(B, t_ofdma), t_frame=np.full(B, t_frame), eps=np.ones(B))


def objective_25(arrays: dict, x: np.ndarray) -> np.ndarray:
    """NTN paper (25) at an allocation ``x`` [B, C, S] (frames), with (23)-(24); [B]."""
    r = np.asarray(arrays["rate"], float)
    na = np.asarray(arrays["n_active"], float)
    t_ho = np.asarray(arrays["t_ho"], float)[:, None, None] * (1.0 - np.asarray(arrays["prev_served"], float))
    t_o = np.asarray(arrays["t_ofdma"], float)[:, None, None]
    t_f = np.asarray(arrays["t_frame"], float)[:, None, None]
    x = np.asarray(x, float)
    u = (x > 0).astype(float)
    na_safe = np.where(na > 0, na, 1.0)[:, :, None]
    R = r * (x * t_o - u * t_ho) / (t_f * na_safe)  # (24) # [B, C, S]
    tot = np.sum(R, axis=2)
    eps = np.asarray(arrays["eps"], float)[:, None]
    return np.sum(np.where(na > 0, na * np.log(np.maximum(eps + tot, 1e-300)), 0.0), axis=1)


def _cast(arrays: dict, dtype) -> dict:
    return {k: (v.astype(dtype) if v.dtype.kind == "f" else v) for k, v in arrays.items()}


def _allocate():
    """``solve_allocation`` if ``solvers.ntn.allocate`` is importable, else None."""
    try:
        from solvers.ntn.allocate import solve_allocation
        return solve_allocation
    except ImportError:
        return None


_CORE_CACHE: dict = {}


def _core_fn(dtype):
    """Jitted, vmapped JMRA relaxation (Algorithm 1) from the instance arrays (one jit
    object per dtype, so every shape compiles once per run)."""
    key = np.dtype(dtype).name
    if key in _CORE_CACHE:
        return _CORE_CACHE[key]
    import jax
    from jaxcore.ntn.jmra import JmraSettings, jmra_relaxed, prepare

    s = JmraSettings()

    def one(rate, n_active, prev, t_ho, n_com, nb, t_o, t_f, eps):
        d = prepare(rate, n_active, prev, t_ho, n_com, nb, t_o, t_f, eps)
        return jmra_relaxed(d, s)

    f = jax.jit(jax.vmap(one))

    def args(arr):
        a = _cast(arr, dtype)
        return (a["rate"], a["n_active"], a["prev_served"], a["t_ho"], a["n_com"].astype(dtype),
                a["n_beams"].astype(dtype), a["t_ofdma"], a["t_frame"], a["eps"])

    def call(arr):
        return f(*args(arr))

    call.args = args
    _CORE_CACHE[key] = (call, f, s)
    return _CORE_CACHE[key]


def _e2e_call(solve_allocation, dtype):
    def call(arr):
        return solve_allocation(arr, "jmra", None, dtype=dtype)  # None: JmraConfig.precision (float64)
    return call


def bench(ctx) -> None:
    """Append NTN rows to ``ctx.rows`` (see ``benchmarks.suite.Context``)."""
    q = ctx.quick
    C, S = (16, 6) if q else (100, 12)
    batches = [1, 8] if q else [1, 10, 40]
    Bs = 8 if q else 10  # batch of the core, precision and scaling runs
    f32, f64 = np.float32, np.float64
    big = random_frames(max(batches), C, S, seed=ctx.seed)
    sizes = f"C={C},S={S}"
    sl = lambda d, n: {k: v[:n] for k, v in d.items()}  # noqa: E731
    solve_allocation = _allocate()
    e2e_runs = {}  # batch -> (timing, solution) of the default (float64) end-to-end solve
    if solve_allocation is None:
        ctx.note("NTN: solvers.ntn.allocate not importable: end-to-end JMRA "
                 "(relaxation + rounding) not measured; the relaxation core is.")
    else:  # end to end as `satisac ntn solve` runs it (JmraConfig.precision: float64)
        e2e = _e2e_call(solve_allocation, None)
        for B in batches:
            arr = sl(big, B)
            t = time_fn(e2e, arr, repeats=3 if q else 5, budget_s=ctx.budget_s)
            sol = t.value
            e2e_runs[B] = (t, sol)
            ctx.rows.append(dict(section="throughput", bench="ntn_jmra", variant="relax+round", dtype="float64",
                                 batch=B, sizes=sizes, compile_s=t.compile_s, median_s=t.median_s, min_s=t.min_s,
                                 max_s=t.max_s, repeats=t.repeats, per_item_s=t.per_item(B), cpu_per_item_s=t.cpu_per_item(B),
                                 items_per_s=t.throughput(B), iterations=float(np.mean(sol["iterations"]))))
            ctx.tick()

    # the jitted relaxation alone: memory, roofline
    core, core_jit, settings = _core_fn(f32)
    arr = sl(big, Bs)
    t_core = time_fn(core, arr, repeats=3 if q else 5, budget_s=ctx.budget_s)
    out = t_core.value
    mem = compiled_memory_bytes(core_jit, *core.args(arr))
    outer = float(np.mean(np.asarray(out.iterations)))
    ctx.rows.append(dict(section="throughput", bench="ntn_jmra_core", variant="relaxation", dtype="float32",
                         batch=Bs, sizes=sizes, compile_s=t_core.compile_s, median_s=t_core.median_s,
                         min_s=t_core.min_s, max_s=t_core.max_s, repeats=t_core.repeats,
                         per_item_s=t_core.per_item(Bs), cpu_per_item_s=t_core.cpu_per_item(Bs), items_per_s=t_core.throughput(Bs), iterations=outer,
                         peak_bytes=mem["peak"] if mem else "", bytes_per_item=mem["peak"] / Bs if mem else ""))
    ctx.tick()
    if ctx.peaks is not None:
        inner = float(np.mean(np.asarray(out.inner_iterations))) / max(outer, 1.0)
        flops = roofline.jmra_iteration_flops(C, S, n_inner=int(round(inner)), n_bisect=settings.n_bisect,
                                              inner=settings.inner)
        nbytes = roofline.jmra_iteration_bytes(C, S, 4)
        per_iter = t_core.median_s / Bs / max(outer, 1.0)
        ach = roofline.achieved(flops, nbytes, per_iter, ctx.peaks, complex_work=False)
        ctx.rows.append(dict(section="roofline", bench="ntn_jmra_iteration", dtype="float32", batch=Bs,
                             sizes=f"{sizes},inner/outer={inner:.0f}", per_item_s=per_iter, **ach,
                             note="time per outer iteration per frame = batch time / B / mean outer its; "
                                  "vmap(while) runs every frame until the slowest stops"))

    # float32 vs float64 relaxation, same frames
    c64, _, _ = _core_fn(f64)
    t64 = time_fn(c64, arr, repeats=3, budget_s=ctx.budget_s)
    out64 = t64.value
    n_com = arr["n_com"][:, None, None]
    o32 = objective_25(arr, np.floor(np.asarray(out.y, float) * n_com))
    o64 = objective_25(arr, np.floor(np.asarray(out64.y, float) * n_com))
    gap = float(np.max(np.abs(o32 - o64) / np.maximum(np.abs(o64), 1e-12)))
    ctx.rows.append(dict(section="precision", bench="ntn_jmra_core", batch=Bs, sizes=sizes,
                         per_item_s=t_core.per_item(Bs), cpu_per_item_s=t_core.cpu_per_item(Bs), ref_per_item_s=t64.per_item(Bs),
                         speedup_vs_ref=t64.median_s / t_core.median_s,
                         quality_metric="objective (25) at floor(y N_com)", quality=float(np.mean(o32)),
                         ref_quality=float(np.mean(o64)), quality_gap=gap,
                         note=f"out dtype {out.y.dtype}/{out64.y.dtype}; mean inner {settings.inner} steps "
                              f"{np.mean(np.asarray(out.inner_iterations)):.0f} (f32) vs "
                              f"{np.mean(np.asarray(out64.inner_iterations)):.0f} (f64)"))
    ctx.tick()
    if solve_allocation is not None:  # what a user gets: relaxation + Algorithm 2 rounding
        e32 = _e2e_call(solve_allocation, f32)
        te32 = time_fn(e32, arr, repeats=3, budget_s=ctx.budget_s)
        p32 = np.asarray(te32.value["objective"])
        if Bs in e2e_runs:  # the default float64 run on these frames was timed above
            te64, s64 = e2e_runs[Bs]
        else:
            e64 = _e2e_call(solve_allocation, f64)
            te64 = time_fn(e64, arr, repeats=3, budget_s=ctx.budget_s)
            s64 = te64.value
        p64 = np.asarray(s64["objective"])
        rel = (p32 - p64) / np.maximum(np.abs(p64), 1e-12)
        ctx.rows.append(dict(section="precision", bench="ntn_jmra", batch=Bs, sizes=sizes,
                             per_item_s=te32.per_item(Bs), cpu_per_item_s=te32.cpu_per_item(Bs),
                             ref_per_item_s=te64.per_item(Bs), speedup_vs_ref=te64.median_s / te32.median_s,
                             quality_metric="objective (25), integer x, max rel.", quality=float(np.mean(p32)),
                             ref_quality=float(np.mean(p64)), quality_gap=float(np.max(np.abs(rel))),
                             note=f"relaxation + rounding; f32 - f64 per frame: mean {100 * np.mean(rel):+.2f} %, "
                                  f"worst {100 * np.min(rel):+.2f} % (why JmraConfig.precision defaults to float64)"))
        ctx.tick()

    # cvxpy reference on the first frames, same instances
    n_ref = 1 if q else 2
    ref_arr = random_frames(n_ref, 8, 4, seed=ctx.seed + 1) if q else sl(big, n_ref)
    ref_sizes = "C=8,S=4" if q else sizes
    try:
        from solvers.ntn.allocate import solve_allocation_reference as solve_reference  # Algorithm 1, cvxpy P2
    except ImportError as e:
        solve_reference = None
        ctx.note(f"NTN: cvxpy JMRA reference not importable ({e}): ratio not measured.")
    if solve_reference is not None and solve_allocation is not None:
        from solvers.ntn.allocate import JmraConfig
        ours_fn = _e2e_call(solve_allocation, f64)
        t_ours = time_fn(ours_fn, ref_arr, repeats=3, budget_s=ctx.budget_s)
        sol = t_ours.value
        c0, t0 = time.process_time(), time.perf_counter()
        ref = solve_reference(ref_arr, "jmra", JmraConfig())
        ref_s = time.perf_counter() - t0
        ref_c = time.process_time() - c0
        o_ours, o_ref = np.asarray(sol["objective"]), np.asarray(ref["objective"])
        # independent re-evaluation of (25) from x (catches a wrong objective in either)
        chk = max(float(np.max(np.abs(objective_25(ref_arr, sol["x"]) - o_ours))),
                  float(np.max(np.abs(objective_25(ref_arr, ref["x"]) - o_ref))))
        gap = float(np.max(np.abs(o_ours - o_ref) / np.maximum(np.abs(o_ref), 1e-12)))
        ctx.rows.append(dict(section="reference", bench="ntn_jmra", dtype="float64", batch=n_ref, sizes=ref_sizes,
                             per_item_s=t_ours.per_item(n_ref), cpu_per_item_s=t_ours.cpu_per_item(n_ref),
                             ref_per_item_s=ref_s / n_ref, ref_cpu_per_item_s=ref_c / n_ref,
                             speedup_vs_ref=(ref_s / n_ref) / t_ours.per_item(n_ref),
                             cpu_speedup_vs_ref=(ref_c / n_ref) / t_ours.cpu_per_item(n_ref),
                             quality_metric="objective (25), integer x", quality=float(np.mean(o_ours)),
                             ref_quality=float(np.mean(o_ref)), quality_gap=gap, quality_ok=gap <= REF_TOL,
                             iterations=float(np.mean(sol["iterations"])),
                             note=f"max rel. gap over {n_ref} frames (tol {REF_TOL}); ours float64 batched "
                                  f"over them; outer its ours {np.asarray(sol['iterations']).tolist()} ref "
                                  f"{np.asarray(ref['iterations']).tolist()}; (25) recheck diff {chk:.1e}"))
        ctx.tick()

    # cost growth with C and S (relaxation core, float32, batch Bs)
    C_vals = [8, 16] if q else [25, 50, 100, 200]
    S_vals = [] if q else [4, 8, 12, 24]  # quick: C only (each size is one more compile)
    for param, vals in (("C", C_vals), ("S", S_vals)):
        for v in vals:
            Cv, Sv = (v, S) if param == "C" else (C, v)
            if (Cv, Sv) == (C, S):
                t, it = t_core, outer
            else:
                a_v = random_frames(Bs, Cv, Sv, seed=ctx.seed + v)
                t = time_fn(core, a_v, repeats=2 if q else 3, budget_s=ctx.budget_s)
                it = float(np.mean(np.asarray(core(a_v).iterations)))
            ctx.rows.append(dict(section="scaling", bench="ntn_jmra_core", dtype="float32", batch=Bs,
                                 param=param, value=v, sizes=f"C={Cv},S={Sv}", compile_s=t.compile_s,
                                 median_s=t.median_s, per_item_s=t.per_item(Bs), cpu_per_item_s=t.cpu_per_item(Bs), items_per_s=t.throughput(Bs),
                                 iterations=it))
            ctx.tick()
