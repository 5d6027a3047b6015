"""benchmarks.jmra_newton_steps at toy size: the hook sees every Newton step, the dense check runs."""
import csv

from benchmarks import jmra_newton_steps


def test_tiny_run_logs_every_newton_step(tmp_path):
    out = tmp_path / "ns"
    code = jmra_newton_steps.main(["--frames", "2", "--cells", "30", "--sats", "4", "--check", "2", "--seed", "3",
                                   "--quiet", "-o", str(out)])
    assert code == 0
    frames = list(csv.DictReader(open(out / "jmra_newton_steps.csv")))
    assert [int(r["frame"]) for r in frames] == [0, 1]
    for r in frames:
        # one hook call per Newton step the solver counted, across all outer iterations
        assert int(r["newton_steps"]) == int(r["solver_steps"]) > 0
        assert 0 <= int(r["jammed_by_budget"]) <= int(r["jammed"]) <= int(r["newton_steps"])
    for r in csv.DictReader(open(out / "jmra_newton_checks.csv")):
        assert float(r["al"]) < jmra_newton_steps.JAM
        assert 0 <= float(r["budget_step_dense"]) <= 1 and 0 <= float(r["budget_step_ours"]) <= 1
    assert "Newton steps" in (out / "jmra_newton_steps.md").read_text()


def test_bad_argument_is_one_line_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "ns"
    assert jmra_newton_steps.main(["--check", "-1", "-o", str(out)]) == 2
    assert capsys.readouterr().err.strip().count("\n") == 0
    assert jmra_newton_steps.main(["--set", "newton_refin=0", "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "newton_refin" in err[0] and "newton_refine" in err[0]  # unknown key, with the hint
    assert not out.exists()
