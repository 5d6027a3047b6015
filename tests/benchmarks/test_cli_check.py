"""benchmarks.cli_check: the whole-command check's arithmetic, files and input errors, with a
stand-in for the ``satisac`` processes (the real commands take minutes; timings are reported,
never asserted)."""
import argparse

import numpy as np
import pytest

from benchmarks import cli_check


def _fake_run(cmd):
    """Stand-in for :func:`cli_check.run_timed`: writes the files a real command would and
    returns (wall, cpu): ours 1 + 0.1 n s, the reference 2 + 5 n s; the reference's metric is
    10 + k per item k, ours 1 % above it."""
    out = cmd[cmd.index("-o") + 1]
    if "generate" in cmd:
        n = int(cmd[cmd.index("--drops") + 1])
        np.savez(out, h=np.arange(n * 3.0).reshape(n, 3), noise=np.float64(2.5))
        return 0.5, 0.5
    inst = cmd[cmd.index("solve") + 1]
    n = len(np.load(inst)["h"])
    ref = "--reference" in cmd
    metric = (10.0 + np.arange(n)) * (1.0 if ref else 1.01)
    np.savez(out, sum_rate=metric, status=np.zeros(n, np.int8))
    t = 2.0 + 5.0 * n if ref else 1.0 + 0.1 * n
    return t, t


def test_ratio_gap_and_files_from_the_commands(tmp_path):
    ns = argparse.Namespace(paper="istn", seed=7, items=11, ref_items=3, repeats=2, ref_repeats=1, precisions="float32",
                            generate_args=None, solve_args=None, output=str(tmp_path))
    res = cli_check.check(ns, run=_fake_run, say=lambda *_: None)
    (s,) = res["summary"]
    assert s["per_added_s"] == pytest.approx(0.1)
    assert s["ref_per_added_s"] == pytest.approx(5.0)
    assert s["ratio"] == pytest.approx(50.0)
    assert s["gap_mean"] == pytest.approx(0.01) and s["gap_worst"] == pytest.approx(0.01)
    assert s["statuses"] == "0:11"
    # 2 reference solves + 2 rounds x (1, 11) of ours, one CSV row each
    assert [(r["solver"], r["items"]) for r in res["rows"]] == [
        ("reference", 1), ("reference", 3)] + [("ours float32", 1), ("ours float32", 11)] * 2
    md = (tmp_path / "cli_check.md").read_text()
    assert "**50.0x**" in md and "+1.000 %" in md
    assert len((tmp_path / "cli_check.csv").read_text().splitlines()) == 1 + 6
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cli_check.csv", "cli_check.md"]  # files in a temp dir


def test_prefix_check_guards_the_quality_comparison(tmp_path):
    np.savez(tmp_path / "a.npz", h=np.arange(6.0).reshape(2, 3), noise=np.float64(1.0))
    np.savez(tmp_path / "b.npz", h=np.arange(12.0).reshape(4, 3), noise=np.float64(1.0))
    np.savez(tmp_path / "c.npz", h=np.arange(12.0).reshape(4, 3) + 1, noise=np.float64(1.0))
    assert cli_check.is_prefix(tmp_path / "a.npz", tmp_path / "b.npz")
    assert not cli_check.is_prefix(tmp_path / "a.npz", tmp_path / "c.npz")


def test_prefix_check_allows_extra_padding_satellites(tmp_path):
    """NTN: a longer file may pad its frames to more satellite columns (sat_id -1, rate 0);
    the same frames still match, but not when an extra column is a real satellite or when
    the shared columns differ."""
    rate1 = np.array([[[1.0, 2.0], [3.0, 0.0]]])  # [B=1, C=2, S=2]
    sid1 = np.array([[4, 9]])
    rate2 = np.concatenate([np.pad(rate1, ((0, 0), (0, 0), (0, 1))), np.ones((1, 2, 3))])  # [2, 2, 3]
    np.savez(tmp_path / "a.npz", rate=rate1, sat_id=sid1, t_ho=np.array([0.1]))
    np.savez(tmp_path / "b.npz", rate=rate2, sat_id=np.array([[4, 9, -1], [4, 9, 11]]), t_ho=np.array([0.1, 0.1]))
    np.savez(tmp_path / "c.npz", rate=rate2, sat_id=np.array([[4, 9, 12], [4, 9, 11]]), t_ho=np.array([0.1, 0.1]))
    rate3 = rate2.copy()
    rate3[0, 1, 0] = 5.0
    np.savez(tmp_path / "d.npz", rate=rate3, sat_id=np.array([[4, 9, -1], [4, 9, 11]]), t_ho=np.array([0.1, 0.1]))
    assert cli_check.is_prefix(tmp_path / "a.npz", tmp_path / "b.npz")
    assert not cli_check.is_prefix(tmp_path / "a.npz", tmp_path / "c.npz")  # frame 0 gained a satellite
    assert not cli_check.is_prefix(tmp_path / "a.npz", tmp_path / "d.npz")  # a shared column differs


@pytest.mark.parametrize("argv, msg", [
    (["--items", "1"], "--items: expected >= 2, got 1"),
    (["--ref-items", "1"], "--ref-items: expected 0 or 2..--items (33), got 1"),
    (["--repeats", "0"], "--repeats: expected >= 1, got 0"),
    (["--ref-repeats", "0"], "--ref-repeats: expected >= 1, got 0"),
    (["--precisions", "float16"], "--precisions: expected float32 and/or float64, got 'float16'"),
])
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, capsys, argv, msg):
    out = tmp_path / "o"
    assert cli_check.main(["--seed", "1", "-o", str(out)] + argv) == 2
    assert capsys.readouterr().err.strip() == f"error: {msg}"
    assert not out.exists()


def test_a_failing_command_is_one_line_and_writes_nothing(tmp_path, capsys):
    """A real ``satisac`` process refusing its arguments (an unknown generate key) ends the
    check with one ``error:`` line naming the command; no output folder is made."""
    out = tmp_path / "o"
    assert cli_check.main(["--seed", "1", "--generate-args", "--set no_such_key=1", "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "istn generate --drops 1" in err[0]
    assert "no_such_key" in err[0]
    assert not out.exists()
