"""``satisac ntn evaluate inst.npz sol.npz``: check an NTN allocation from the two files alone.

Paper: Leyva-Mayorga et al. (``../shared/papers/ntn_leyva_mayorga.txt``), problem P1 of
``../shared/spec/ntn.md`` §V-B.  For any solution file (one made elsewhere only needs
``x``), everything is recomputed in float64 from the instance (interfaces.md §3) with the
one implementation of each formula in :mod:`solvers.ntn.allocate` and
:mod:`jaxcore.ntn.rounding`:

* per-user throughput (24) summed over satellites: :func:`solvers.ntn.allocate.per_user_throughput`;
* objective (25): :func:`solvers.ntn.allocate.objective`;
* the constraints of (26), each checked and counted per frame:

  ``26a``  x_{c,s} in {0, 1, ..., N_com}  (integer, within range);
  ``rate0`` x_{c,s} = 0 where r_{c,s} = 0 (pair not usable, implicit in (26));
  ``26c``  sum_c x_{c,s} <= N_b N_com per satellite;
  ``26e``  at most one serving satellite per cell;
  ``ho_floor`` a served pair gets more time than its handover (23), x T_O > T^HO_{c,s}
  (interfaces.md §4; :func:`jaxcore.ntn.rounding.handover_floor`).

A frame is feasible when every constraint holds and the solver did not declare it
infeasible (``status`` 2).  The command prints a per-frame table and exits 2 with one line
naming the violated constraint and the frame when the allocation breaks the contract: an
infeasible ``x``, a wrong shape, or reported numbers (``objective``,
``throughput_per_user``) that do not match the recomputed ones (a solution of another
instance).  ``-o report.json`` / ``-o report.csv`` writes the report (nothing on failure).
"""
from __future__ import annotations

import csv
import io
import json
import math
import sys
from pathlib import Path
from typing import Mapping

import jax
import jax.numpy as jnp
import numpy as np

from jaxcore.status import Status
from solvers.npzio import (FieldSpec, InstanceError, atomic_writer, check_output_path, load_npz,
                           validate_arrays)
from solvers.ntn.allocate import objective, per_user_throughput
from solvers.ntn.instance import SOLUTION_FIELDS, load_instance
from jaxcore.ntn.rounding import handover_floor

#: constraint names (columns of the report), in the order they are checked
CONSTRAINTS = ("26a", "rate0", "26e", "26c", "ho_floor")
DESCRIBE = {
    "26a": "(26a) x[c,s] in {0..N_com}",
    "rate0": "x[c,s] = 0 where rate[c,s] = 0 (pair not usable)",
    "26e": "(26e) at most one satellite per cell",
    "26c": "(26c) sum_c x[c,s] <= N_b N_com",
    "ho_floor": "handover floor x[c,s] T_O > T_HO[c,s] (23) on served pairs",
}
#: reported-vs-recomputed tolerance on (25) and (24): relative, plus an absolute floor
RTOL, ATOL = 1e-6, 1e-6

#: Fields ``satisac ntn evaluate`` needs: only ``x`` (any real dtype; integrality is
#: checked as (26a)); the rest of interfaces.md §4 is optional and, when present, must
#: agree with the recomputed values.
EVALUATE_SOLUTION_FIELDS: tuple[FieldSpec, ...] = tuple(
    FieldSpec(**{**s.__dict__, "kind": "float", "nonneg": False}) if s.name == "x"
    else FieldSpec(**{**s.__dict__, "required": False}) for s in SOLUTION_FIELDS)


def pair_handover_time(inst: Mapping[str, np.ndarray]) -> np.ndarray:
    """(23) T^HO_{c,s} = T_HO [1 - u(x_{c,s}(k-1))], s; [B, C, S] float64."""
    prev = np.asarray(inst["prev_served"]) != 0
    return np.asarray(inst["t_ho"], np.float64)[:, None, None] * (1.0 - prev)


def evaluate_allocation(inst: Mapping[str, np.ndarray], sol: Mapping[str, np.ndarray]) -> dict:
    """Recompute (24), (25) and every constraint of (26) for an allocation ``sol["x"]``.

    Args:
      inst: instance arrays (interfaces.md §3), validated by the caller.
      sol: solution arrays with at least ``x`` [B, C, S] (interfaces.md §4).
    Returns:
      dict of numpy arrays: ``objective`` [B] (25) at x (natural log, bit/s),
      ``throughput_per_user`` [B, C] (24) in bit/s (negative where a pair breaks the
      handover floor, 0 for cells with N^a = 0), ``served_cells`` [B], ``n_<name>`` [B]
      violation counts per frame for each name in :data:`CONSTRAINTS` (entries for 26a,
      rate0 and ho_floor; cells for 26e; satellites for 26c), ``declared_infeasible`` [B]
      (``status`` 2), ``feasible`` [B], ``first_<name>`` [B, 2] the first offending
      (cell, satellite) / (cell, -1) / (-1, satellite) index or -1; and, for ``objective``
      and ``throughput_per_user`` reported in ``sol``, ``mismatch_<name>`` [B] bool.
    Raises:
      InstanceError: ``x`` of the wrong shape (naming the field, expected and found).
    """
    rate = np.asarray(inst["rate"])
    B, C, S = rate.shape
    validate_arrays(sol, EVALUATE_SOLUTION_FIELDS, source="solution", dims={"B": B, "C": C, "S": S})
    xf = np.asarray(sol["x"], np.float64)  # [B, C, S]
    n_com = np.asarray(inst["n_com"], np.int64)  # [B]
    n_beams = np.asarray(inst["n_beams"], np.int64)  # [B, S]
    t_o = np.asarray(inst["t_ofdma"], np.float64)  # [B]
    bad = {}
    # [B, C, S] entry violations
    bad["26a"] = (xf != np.round(xf)) | (xf < 0) | (xf > n_com[:, None, None])
    bad["rate0"] = (xf != 0) & (rate == 0)
    # [B, C] cell violations; [B, S] satellite violations (as [B, C, S]-free masks)
    n_sat = (xf > 0).sum(axis=2)
    bad["26e"] = n_sat > 1
    bad["26c"] = xf.sum(axis=1) > (n_beams * n_com[:, None]).astype(np.float64)
    t_ho_cs = pair_handover_time(inst)  # [B, C, S]
    with jax.enable_x64(True):
        kept = np.asarray(handover_floor(jnp.asarray(xf), jnp.asarray(t_ho_cs), jnp.asarray(t_o)[:, None, None]))
    bad["ho_floor"] = (xf > 0) & (kept == 0)
    thr = per_user_throughput(inst, xf)  # [B, C]
    res = dict(objective=objective(inst, thr), throughput_per_user=thr, served_cells=(n_sat > 0).sum(axis=1))
    for name in CONSTRAINTS:
        m = bad[name].reshape(B, -1)
        res[f"n_{name}"] = m.sum(axis=1)
        first = np.argmax(m, axis=1)
        shape = bad[name].shape[1:]
        idx = np.stack(np.unravel_index(first, shape), axis=1) if len(shape) == 2 else first[:, None]
        if name == "26e":
            idx = np.stack([first, np.full(B, -1)], axis=1)
        elif name == "26c":
            idx = np.stack([np.full(B, -1), first], axis=1)
        res[f"first_{name}"] = np.where(m.any(axis=1)[:, None], idx, -1)
    status = np.asarray(sol["status"]) if "status" in sol else np.zeros(B, np.int8)
    res["declared_infeasible"] = status == Status.INFEASIBLE
    ok = np.all([res[f"n_{n}"] == 0 for n in CONSTRAINTS], axis=0)
    res["feasible"] = ok & ~res["declared_infeasible"]
    res["constraints_hold"] = ok
    for name in ("objective", "throughput_per_user"):
        if name in sol:
            a, b = np.asarray(sol[name], np.float64), res[name]
            if name == "throughput_per_user":
                b = np.maximum(b, 0.0)  # the contract reports the clipped value
            close = np.isclose(a, b, rtol=RTOL, atol=ATOL) | (np.isnan(a) & res["declared_infeasible"].reshape(
                (B,) + (1,) * (a.ndim - 1)))
            res[f"mismatch_{name}"] = ~close.reshape(B, -1).all(axis=1)
    return res


def first_violation(res: dict, source: str = "solution") -> str | None:
    """One line naming the first violated constraint and frame, or None if the contract holds."""
    for name in CONSTRAINTS:
        frames = np.nonzero(res[f"n_{name}"])[0]
        if frames.size:
            b = int(frames[0])
            c, s = (int(v) for v in res[f"first_{name}"][b])
            where = ", ".join(w for w in (f"cell {c}" if c >= 0 else "", f"satellite {s}" if s >= 0 else "") if w)
            more = f"; {frames.size} frame(s) violate it" if frames.size > 1 else ""
            return (f"{source}: field 'x' violates {DESCRIBE[name]} at frame {b} ({where}; "
                    f"{int(res[f'n_{name}'][b])} violation(s) in that frame{more})")
    for name in ("objective", "throughput_per_user"):
        key = f"mismatch_{name}"
        if key in res and res[key].any():
            b = int(np.nonzero(res[key])[0][0])
            eq = "(25)" if name == "objective" else "(24)"
            return (f"{source}: field {name!r} differs from {eq} recomputed at x for frame {b} "
                    f"(tolerance rtol={RTOL:g}): a solution of another instance, or a wrong {name}")
    return None


def summarize(res: dict) -> dict:
    """JSON-serialisable aggregate of :func:`evaluate_allocation`."""
    B = res["objective"].shape[0]
    thr = res["throughput_per_user"]
    return dict(
        frames=int(B), cells=int(thr.shape[1]),
        feasible_frames=int(res["feasible"].sum()),
        declared_infeasible_frames=int(res["declared_infeasible"].sum()),
        mean_objective=float(np.mean(res["objective"])),
        mean_throughput_per_user_bps=float(np.mean(thr)),
        violations={DESCRIBE[n]: int(res[f"n_{n}"].sum()) for n in CONSTRAINTS},
        tolerance=dict(rtol=RTOL, atol=ATOL))


def per_frame_rows(res: dict) -> list[dict]:
    """One dict per frame: objective, throughput summary, served cells, violation counts."""
    rows = []
    for b in range(res["objective"].shape[0]):
        thr = res["throughput_per_user"][b]
        row = dict(frame=b, objective=float(res["objective"][b]), mean_throughput_bps=float(thr.mean()),
                   min_throughput_bps=float(thr.min()), served_cells=int(res["served_cells"][b]),
                   feasible=bool(res["feasible"][b]), declared_infeasible=bool(res["declared_infeasible"][b]))
        row.update({f"n_{n}": int(res[f"n_{n}"][b]) for n in CONSTRAINTS})
        rows.append(row)
    return rows


def _table(rows: list[dict], limit: int = 10) -> str:
    head = f"{'frame':>5} {'objective (25)':>15} {'mean R (24)':>12} {'min R':>10} {'served':>6} {'feasible':>8}"
    lines = [head, "-" * len(head)]
    for r in rows[:limit]:
        lines.append(f"{r['frame']:5d} {r['objective']:15.6g} {r['mean_throughput_bps']:12.4g} "
                     f"{r['min_throughput_bps']:10.4g} {r['served_cells']:6d} "
                     f"{'yes' if r['feasible'] else ('status 2' if r['declared_infeasible'] else 'NO'):>8}")
    if len(rows) > limit:
        lines.append(f"  ... {len(rows) - limit} more frames")
    return "\n".join(lines)


def load_for_evaluate(path) -> dict[str, np.ndarray]:
    """A solution archive with only ``x`` required (validated against the instance later)."""
    arrays, _ = load_npz(path, (), source=str(path))
    return arrays


def run(args) -> int:
    out = Path(args.output) if args.output else None
    if out is not None and out.suffix not in (".json", ".csv"):
        raise InstanceError(f"-o {out}: expected a report file ending in .json or .csv")
    if out is not None:
        check_output_path(out, [args.instance, args.solution], npz=False)
    inst, dims = load_instance(args.instance)
    sol = load_for_evaluate(args.solution)
    try:
        res = evaluate_allocation(inst, sol)
    except InstanceError as e:
        raise InstanceError(str(e).replace("solution:", f"{args.solution}:", 1)) from None
    msg = first_violation(res, str(args.solution))
    if msg is not None:
        raise InstanceError(msg)
    summary = summarize(res)
    rows = per_frame_rows(res)
    if out is not None:
        with atomic_writer(out) as tmp:
            if out.suffix == ".json":
                Path(tmp).write_text(json.dumps({**summary, "per_frame": rows}, indent=2) + "\n")
            else:
                buf = io.StringIO()
                w = csv.DictWriter(buf, fieldnames=list(rows[0]))
                w.writeheader()
                w.writerows(rows)
                Path(tmp).write_text(buf.getvalue())
    if args.json:
        print(json.dumps({**summary, "per_frame": rows}, indent=2))
    else:
        print(f"instance {args.instance}, solution {args.solution}: {dims['B']} frame(s), {dims['C']} cells, "
              f"{dims['S']} satellites")
        print("objective (25) natural log over populated cells; per-user throughput (24) in bit/s")
        print(_table(rows))
        mo = summary["mean_objective"]
        print(f"mean objective (25) {mo:.8g}" if math.isfinite(mo) else "mean objective (25) n/a")
        print(f"feasible frames: {summary['feasible_frames']}/{dims['B']} (declared infeasible by the solver: "
              f"{summary['declared_infeasible_frames']}); every constraint of (26) and the handover floor hold; "
              f"reported objective/throughput agree with the recomputed ones")
    if out is not None:  # stdout stays pure JSON with --json
        print(f"wrote {out}", file=sys.stderr if args.json else sys.stdout)
    return 0
