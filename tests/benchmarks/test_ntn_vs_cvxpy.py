"""benchmarks.ntn_vs_cvxpy at toy size: the report's rows, the loop's optimum, bad arguments."""
import csv

import numpy as np

from benchmarks import ntn_vs_cvxpy


def test_tiny_run_writes_rows_and_matches_the_cvxpy_loop(tmp_path):
    out = tmp_path / "nvc"
    code = ntn_vs_cvxpy.main(["--frames", "2", "--cells", "6", "--sats", "2", "--ref-frames", "1",
                              "--world-frames", "0", "--seed", "3", "--quiet", "-o", str(out)])
    assert code == 0
    rows = list(csv.DictReader(open(out / "ntn_vs_cvxpy.csv")))
    solvers = [r["solver"] for r in rows]
    assert solvers.count("ours float64") == 2 and solvers.count("ours float32") == 2
    assert solvers.count("ours float64 batch 2") == 2 and solvers.count("cvxpy loop") == 1
    assert all(float(r["seconds"]) > 0 for r in rows)
    obj = {(r["solver"], r["frame"]): float(r["objective"]) for r in rows}
    # the same Algorithm 1 + 2 on a 6 x 2 frame: our Newton subproblems and Clarabel's agree
    np.testing.assert_allclose(obj[("ours float64", "0")], obj[("cvxpy loop", "0")], rtol=1e-3)
    md = (out / "ntn_vs_cvxpy.md").read_text()
    assert "cvxpy loop" in md and "ratio to the loop" in md


def test_bad_argument_is_one_line_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "nvc"
    assert ntn_vs_cvxpy.main(["--frames", "0", "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--frames" in err[0]
    assert not out.exists()
