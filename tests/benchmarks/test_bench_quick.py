"""``satisac bench --quick`` end to end (issue 7 "must show"): it runs, writes the CSV,
the PNG plots and the Markdown table, and the numbers in them are sane.

Timings are never asserted (they depend on the machine); the test checks structure and
the quantities that must hold on any machine: positive finite times and throughputs,
throughput = batch / median time, the cvxpy comparisons ran on the same instances and
agree within the validation tolerances, float32 and float64 agree, and the roofline
fractions are fractions.  The whole bench runs once (module fixture).
"""
from __future__ import annotations

import csv
import math

import numpy as np
import pytest

from benchmarks.report import fit_exponent

pytestmark = pytest.mark.slow  # the whole `satisac bench --quick` runs once (module fixture)


@pytest.fixture(scope="module")
def bench_out(tmp_path_factory):
    import contextlib
    import io

    from solvers.cli import main

    out = tmp_path_factory.mktemp("bench")
    so, se = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(so), contextlib.redirect_stderr(se):
        code = main(["bench", "--quick", "-o", str(out)])
    return code, so.getvalue(), se.getvalue(), out


def _rows(out):
    with open(out / "bench.csv") as f:
        return list(csv.DictReader(f))


def _f(v):
    return float(v) if v not in ("", None) else math.nan


def test_runs_and_writes_files(bench_out):
    code, stdout, stderr, out = bench_out
    assert code == 0, stderr[-3000:]
    for name in ("bench.csv", "exponents.csv", "throughput.png", "scaling.png", "bench.md"):
        p = out / name
        assert p.exists() and p.stat().st_size > 0, name
        assert str(p) in stdout  # the CLI says where it wrote
    for png in ("throughput.png", "scaling.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    md = (out / "bench.md").read_text()
    for heading in ("Measured device ceilings", "Throughput vs batch size", "Against the cvxpy reference",
                    "float32 vs float64", "Cost growth", "Roofline"):
        assert heading in md
    assert "FAILED" not in md


def test_every_benchmark_present(bench_out):
    rows = _rows(bench_out[3])
    benches = {(r["section"], r["bench"]) for r in rows}
    for need in [("peak", "device"), ("throughput", "istn_channels"), ("throughput", "istn_wmmse_iter"),
                 ("reference", "istn_transmit_step"), ("precision", "istn_wmmse_iter"),
                 ("scaling", "istn_wmmse_iter"), ("roofline", "istn_wmmse_iteration"),
                 ("throughput", "ntn_jmra"), ("reference", "ntn_jmra"), ("precision", "ntn_jmra_core"),
                 ("scaling", "ntn_jmra_core"), ("roofline", "ntn_jmra_iteration"),
                 ("throughput", "istn_pipeline"), ("reference", "istn_pipeline"), ("precision", "istn_pipeline")]:
        assert need in benches, need


def test_throughput_rows_consistent(bench_out):
    rows = [r for r in _rows(bench_out[3]) if r["section"] == "throughput"]
    assert rows
    for r in rows:
        B, med, thr, per = int(r["batch"]), _f(r["median_s"]), _f(r["items_per_s"]), _f(r["per_item_s"])
        assert B >= 1 and med > 0 and np.isfinite(med)
        assert thr == pytest.approx(B / med, rel=1e-4)
        assert per == pytest.approx(med / B, rel=1e-4)
        # float32 throughput, except end-to-end JMRA at its default precision (float64)
        assert r["dtype"] == ("float64" if r["bench"] == "ntn_jmra" else "float32"), r["bench"]
        if r["bytes_per_item"]:
            assert _f(r["bytes_per_item"]) > 0
    # more than one batch size per end-to-end benchmark (a curve, not a point)
    for bench in ("istn_channels", "istn_wmmse_iter", "ntn_jmra", "istn_pipeline"):
        assert len({r["batch"] for r in rows if r["bench"] == bench}) >= 2, bench


def test_reference_rows_equal_quality(bench_out):
    rows = {r["bench"]: r for r in _rows(bench_out[3]) if r["section"] == "reference"}
    tx = rows["istn_transmit_step"]
    # every cell where cvxpy was optimal agrees to the spec §3.6 tolerance (1e-4 relative)
    n_ok, n = (int(x) for x in tx["quality_ok"].split("/"))
    assert n >= 1 and n_ok == n
    assert _f(tx["quality_gap"]) <= 1e-4
    for b in ("istn_transmit_step", "ntn_jmra", "istn_pipeline"):
        r = rows[b]
        assert _f(r["per_item_s"]) > 0 and _f(r["ref_per_item_s"]) > 0
        assert _f(r["speedup_vs_ref"]) == pytest.approx(_f(r["ref_per_item_s"]) / _f(r["per_item_s"]), rel=1e-4)
    assert rows["ntn_jmra"]["quality_ok"] == "True"
    assert rows["istn_pipeline"]["quality_ok"] == "True"


def test_precision_rows(bench_out):
    rows = [r for r in _rows(bench_out[3]) if r["section"] == "precision"]
    for r in rows:
        assert _f(r["per_item_s"]) > 0 and _f(r["ref_per_item_s"]) > 0
        assert np.isfinite(_f(r["quality"])) and np.isfinite(_f(r["ref_quality"]))
    gaps = {r["bench"]: _f(r["quality_gap"]) for r in rows}
    assert gaps["istn_wmmse_iter"] < 1e-3  # float32 transmit step vs float64, same state
    assert gaps["istn_pipeline"] < 5e-2
    assert "ntn_jmra" in gaps  # the integer allocation in float32 vs float64 (the default)


def test_roofline_and_peaks(bench_out):
    rows = _rows(bench_out[3])
    peaks = {r["variant"]: _f(r["value"]) for r in rows if r["section"] == "peak"}
    assert len(peaks) == 3 and all(v > 0 and np.isfinite(v) for v in peaks.values())
    for r in (r for r in rows if r["section"] == "roofline"):
        assert _f(r["flops"]) > 0 and _f(r["bytes"]) > 0
        assert 0 < _f(r["frac_peak_flops"]) and 0 < _f(r["frac_peak_bw"])
        # time over floor >= 1 up to timing noise: nothing runs faster than the measured peaks
        assert _f(r["time_over_floor"]) > 0.5
        assert r["bound"] in ("compute", "memory")


def test_exponents_file(bench_out):
    with open(bench_out[3] / "exponents.csv") as f:
        ex = list(csv.DictReader(f))
    params = {(e["bench"], e["param"]) for e in ex}
    # --quick fits one size parameter per problem (the full run fits Nt, K, T, cells, C, S)
    assert {("istn_wmmse_iter", "Nt"), ("ntn_jmra_core", "C")} <= params
    assert all(np.isfinite(_f(e["exponent"])) for e in ex)


def test_fit_exponent_recovers_power_law():
    x = np.array([8, 16, 32, 64.0])
    p, c = fit_exponent(x, 3e-6 * x ** 2.5)
    assert p == pytest.approx(2.5, abs=1e-9) and c == pytest.approx(3e-6, rel=1e-9)
    assert math.isnan(fit_exponent([4, 4], [1, 2])[0])


def test_parts_option_parsed_and_checked():
    import argparse
    from benchmarks.cli import _parts
    assert _parts("ntn") == ("ntn",)
    assert _parts("istn, ntn") == ("istn", "ntn")
    for bad in ("", "gpu", "istn,foo", "device peaks"):
        with pytest.raises(argparse.ArgumentTypeError, match="--parts: expected a comma-separated subset"):
            _parts(bad)


def test_only_named_parts_run(tmp_path, monkeypatch):
    from benchmarks import suite
    ran = []
    monkeypatch.setattr(suite, "PARTS", tuple((n, m, (lambda ctx, n=n: ran.append(n))) for n, m, _ in suite.PARTS))
    ctx = suite.Context(quick=True, seed=0, out_dir=tmp_path)
    assert suite.run_parts(ctx, ("device peaks", "ntn")) == 0
    assert ran == ["device peaks", "ntn"]
    assert any("part 'ntn' took" in n for n in ctx.notes)
