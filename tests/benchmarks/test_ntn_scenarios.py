"""``python -m benchmarks.ntn_scenarios``: bad arguments are one line (its measurement runs in
``test_gpu_check.py``'s tiny run, part ``ntn_scenarios``)."""
import pytest

from benchmarks import ntn_scenarios


@pytest.mark.parametrize("argv, msg", [
    (["--batches", "0"], "--batches: expected positive integers"),
    (["--batches", ""], "--batches: expected positive integers"),
    (["--frames", "0"], "--frames: expected a positive integer"),
    (["--repeats", "0", "--batches", "1"], "--repeats: expected a positive integer"),
    (["--set", "cell_deg=-1"], "cell_deg"),
])
def test_bad_arguments_are_one_line(argv, msg, tmp_path, capsys):
    assert ntn_scenarios.main([*argv, "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and msg in err[0]
    assert not (tmp_path / "out").exists()
