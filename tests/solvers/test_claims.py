"""The claims ledger (``satisac claims``, ``solvers/claims``): verdict rule, metrics, stores, REPRODUCTION.md."""
from __future__ import annotations

import csv
import math
import re
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from solvers.claims import metrics as M
from solvers.claims.registry import BY_ID, CLAIMS
from solvers.claims.verdict import (CONSISTENT, DIFFERS, HOLDS, INCONCLUSIVE, NOT_MEASURED, Band, above, below,
                                    combine, combine_any, judge)

ROOT = Path(__file__).resolve().parents[2]
CLAIMS_MD = ROOT.parent / "shared" / "spec" / "claims.md"
NAN = float("nan")


# ------------------------------------------------------------------ verdict rule on synthetic numbers
@pytest.mark.parametrize("est, lo, hi, want", [
    (0.50, 0.45, 0.55, HOLDS),          # CI inside [0.4, 0.6]
    (0.55, 0.45, 0.65, CONSISTENT),     # estimate inside, CI sticks out
    (0.70, 0.65, 0.75, DIFFERS),        # CI wholly above
    (0.30, 0.20, 0.38, DIFFERS),        # CI wholly below
    (0.62, 0.55, 0.70, INCONCLUSIVE),   # estimate outside, CI reaches in
    (0.50, NAN, NAN, CONSISTENT),       # no CI: never "holds"
    (0.70, NAN, NAN, INCONCLUSIVE),
    (NAN, NAN, NAN, NOT_MEASURED),
])
def test_two_sided_band(est, lo, hi, want):
    assert judge(est, lo, hi, Band(0.40, 0.60)) == want


@pytest.mark.parametrize("est, lo, hi, band, want", [
    (1.0, 0.2, 1.8, above(0.0), HOLDS),
    (1.0, -0.2, 1.8, above(0.0), CONSISTENT),
    (-1.0, -1.8, -0.2, above(0.0), DIFFERS),
    (0.0, 0.0, 0.0, above(0.0), DIFFERS),        # strict "> 0": an exact tie is outside
    (0.0, 0.0, 0.0, Band(0.0), HOLDS),           # ">= 0" holds on a tie
    (-0.5, -0.9, -0.1, below(0.0), HOLDS),
    (-10.0, -10.0, -10.0, Band(-10.05), HOLDS),  # exact metric: CI = estimate
    (-10.2, -10.2, -10.2, Band(-10.05), DIFFERS),
])
def test_one_sided_bounds(est, lo, hi, band, want):
    assert judge(est, lo, hi, band) == want


def test_combine_worst_and_any():
    assert combine([HOLDS, CONSISTENT, HOLDS]) == CONSISTENT
    assert combine([HOLDS, DIFFERS, INCONCLUSIVE]) == DIFFERS
    assert combine([NOT_MEASURED, HOLDS]) == HOLDS
    assert combine([NOT_MEASURED]) == NOT_MEASURED
    assert combine_any([DIFFERS, CONSISTENT, INCONCLUSIVE]) == CONSISTENT


def test_band_rejects_reversed():
    with pytest.raises(ValueError, match="lo <= hi"):
        Band(1.0, 0.0)


# ------------------------------------------------------------------ metrics
def test_ratio_of_means_delta_ci_covers_truth():
    """Paired ratio of means: the 95 % delta-method CI covers the true ratio ~95 % of the time."""
    rng = np.random.default_rng(3)
    cover = 0
    for _ in range(400):
        b = rng.uniform(5, 15, 40)
        a = 0.5 * b + rng.normal(0, 0.5, 40)
        e, lo, hi, n = M.ratio_of_means(a, b)
        assert n == 40 and lo < e < hi
        cover += lo <= 0.5 <= hi
    assert 0.90 <= cover / 400 <= 0.99


def test_paired_matches_keys_and_bootstrap_median():
    cols = {"drop": np.array([0, 1, 2, 0, 1, 3]), "method": np.array(["a"] * 3 + ["b"] * 3),
            "v": np.array([1.0, 2.0, 3.0, 10.0, 20.0, 40.0])}
    a, b = M.paired(cols, cols["method"] == "a", cols["method"] == "b", "v")
    assert a.tolist() == [1.0, 2.0] and b.tolist() == [10.0, 20.0]
    x = np.arange(101.0)
    e, lo, hi, n = M.bootstrap(lambda i: np.median(x[i]), x.size, reps=300)
    assert e == 50.0 and lo < 50.0 < hi and n == 101


def test_every_claims_md_id_is_registered():
    ids = re.findall(r"^\| ([IN]\d+) \|", CLAIMS_MD.read_text(), re.M)
    assert len(ids) == 27
    assert [c.id for c in CLAIMS] == ids


# ------------------------------------------------------------------ a real store: one number changes the verdict
def _fake_istn_work(methods, solver_cfg=None, precision="float32", baseline_cfg=None):
    """Rows shaped like solvers.istn.experiments for Fig. 4: Greedy = 0.5 x interference-free (+ noise)."""
    def work(cfg, drops, seed):
        rows = []
        for d in drops:
            rng = np.random.default_rng([seed, int(d), int(cfg.p_bs_dbm)])
            sr_if = 20.0 + rng.uniform(0, 5)
            val = {"interference-free": sr_if, "greedy": sr_if * (0.5 + 0.01 * rng.standard_normal()),
                   "proposed": 0.9 * sr_if, "zf-eps": 0.8 * sr_if, "uniform": 0.45 * sr_if}
            for m in methods:
                rows.append(dict(drop=int(d), method=m, sum_rate=val[m], tut_rate=val[m] - 5, sut_rate=5.0,
                                 sut_rate_min=5.0, min_scnr_db=-10.0, mean_scnr_db=-9.0, p_sat_total=50.0,
                                 p_sat_frac=0.5, status=0, feasible=True, sense_ok=True, sut_ok=True, iterations=3))
        return rows
    return work


def test_ledger_reads_store_and_one_changed_number_changes_the_verdict(tmp_path, monkeypatch):
    from solvers.claims.cli import evaluate, write_csv
    from solvers.claims.sources import Sources
    monkeypatch.setattr("solvers.istn.experiments.istn_work", _fake_istn_work)

    def ledger():
        src = Sources(tmp_path, quick=True, drops=4, progress=False)
        return {r["id"]: r for r in evaluate([BY_ID["I1"], BY_ID["I3"]], src, "paper", True, "cmd {id}")}

    rows = ledger()
    assert rows["I1"]["verdict"] == HOLDS and rows["I1"]["quick"] is True
    assert abs(rows["I1"]["estimate"] - 0.5) < 0.03 and rows["I1"]["n"] == 4
    assert rows["I3"]["verdict"] == HOLDS  # Proposed 0.9 x IF beats 0.8, 0.5, 0.45 x IF
    assert (tmp_path / "istn-fig4.csv").exists() and (tmp_path / "istn-fig4.png").exists()
    write_csv(list(rows.values()), tmp_path / "claims.csv")
    assert list(csv.DictReader(open(tmp_path / "claims.csv")))[0]["id"] == "I1"

    # change one stored number: Greedy's sum rate on one drop of one P_BS point
    chunk = sorted(tmp_path.glob("istn-fig4_runs/rmin3*/point-*/chunk-*.parquet"))[0]
    t = pq.read_table(chunk)
    sr = t.column("sum_rate").to_numpy().copy()
    sr[np.flatnonzero(t.column("method").to_numpy(zero_copy_only=False) == "greedy")[0]] = 0.0
    pq.write_table(t.set_column(t.column_names.index("sum_rate"), "sum_rate", pa.array(sr)), chunk)
    rows2 = ledger()
    assert rows2["I1"]["verdict"] != HOLDS
    assert rows2["I1"]["estimate"] > rows["I1"]["estimate"]  # the worst point now loses more
    assert rows2["I3"]["verdict"] == HOLDS  # the claims not involving that number keep theirs


def test_cli_rejects_bad_ids_and_mixed_set(tmp_path, capsys):
    from solvers.cli import main
    assert main(["claims", "--ids", "I1,X9", "-o", str(tmp_path / "a")]) == 2
    assert "--ids" in capsys.readouterr().err
    assert main(["claims", "--set", "p_bs_dbm=30", "-o", str(tmp_path / "b")]) == 2
    assert "--paper istn" in capsys.readouterr().err
    assert main(["claims", "--paper", "istn", "--set", "no_such_key=1", "-o", str(tmp_path / "c")]) == 2
    assert "no_such_key" in capsys.readouterr().err
    assert main(["claims", "--scenario", "nope", "-o", str(tmp_path / "d")]) == 2
    assert not any((tmp_path / x).exists() for x in "abcd")


def test_cli_shard_jobs(tmp_path, capsys):
    """`claims --shard i/n` is one job of a split campaign: it fills stores, writes no ledger;
    a malformed shard is one line, exit 2, nothing written."""
    from solvers.cli import main
    assert main(["claims", "--ids", "I1", "--shard", "3/2", "-o", str(tmp_path / "bad")]) == 2
    assert "--shard" in capsys.readouterr().err and not (tmp_path / "bad").exists()
    out = tmp_path / "job"
    assert main(["claims", "--ids", "N8", "--no-run", "--shard", "0/2", "-o", str(out)]) == 0
    assert "shard 0/2" in capsys.readouterr().out
    assert not (out / "claims.csv").exists()  # only the final run without --shard writes the ledger
    assert main(["claims", "--ids", "N8", "--no-run", "-o", str(out)]) == 0
    assert (out / "claims.csv").exists()


def test_not_measured_claim_gives_reason(tmp_path):
    from solvers.claims.cli import evaluate
    from solvers.claims.sources import Sources
    rows = evaluate([BY_ID["N8"]], Sources(tmp_path, quick=True, run=False), "paper", True, "cmd {id}")
    assert rows[0]["verdict"] == NOT_MEASURED and "ntn-realtime.csv was not written" in rows[0]["note"]
    assert math.isnan(rows[0]["estimate"])


# ------------------------------------------------------------------ REPRODUCTION.md is generated
def test_reproduction_md_is_the_generator_output():
    """The committed REPRODUCTION.md equals `python -m solvers.claims.reproduction` on the committed ledgers."""
    from solvers.claims.reproduction import render
    assert (ROOT / "REPRODUCTION.md").read_text() == render(ROOT)


def test_committed_ledgers_cover_every_claim_and_match_reproduction():
    from solvers.claims.reproduction import read_ledger, read_notes
    text = (ROOT / "REPRODUCTION.md").read_text()
    notes = read_notes()
    for scenario in ("paper", "spec"):
        led = read_ledger(ROOT, scenario)
        assert sorted(led) == sorted(c.id for c in CLAIMS), scenario
        for r in led.values():
            assert r["scenario"] == scenario
            assert r["verdict"] in (HOLDS, CONSISTENT, INCONCLUSIVE, DIFFERS, NOT_MEASURED)
            assert r["verdict"] != NOT_MEASURED or r["note"], r["id"]
    assert all(c.id in notes for c in CLAIMS)
    assert "quick" in text


def test_run_over_some_claims_keeps_the_other_rows_of_the_ledger(tmp_path, capsys):
    """`claims --ids N8` in a directory whose ledger already has I1 (written before the
    `written` column existed) and an older N8: I1 stays as it was, N8 is replaced, rows in
    registry order, and claims.md names the command and time of each group of rows."""
    from solvers.claims.cli import COLUMNS, _ids_text, read_ledger
    from solvers.cli import main
    out = tmp_path / "ledger"
    out.mkdir()
    old_cols = [c for c in COLUMNS if c != "written"]
    with open(out / "claims.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=old_cols)
        w.writeheader()
        w.writerow({**{c: "" for c in old_cols}, "id": "N8", "paper": "ntn", "verdict": "holds", "n": "3",
                    "command": "satisac claims --ids N8 --quick -o old", "estimate": "0.5"})
        w.writerow({**{c: "" for c in old_cols}, "id": "I1", "paper": "istn", "verdict": "differs", "n": "2",
                    "estimate": "0.937", "ci_low": "0.85", "ci_high": "1.02", "quick": "True",
                    "command": "satisac claims --ids I1 --quick -o old"})
    assert main(["claims", "--ids", "N8", "--no-run", "--seed", "3", "-o", str(out)]) == 0
    capsys.readouterr()
    rows = read_ledger(out / "claims.csv")
    assert [r["id"] for r in rows] == ["I1", "N8"]
    i1, n8 = rows
    assert (i1["verdict"], i1["estimate"], i1["command"], i1["written"]) == (
        "differs", "0.937", "satisac claims --ids I1 --quick -o old", "")
    assert n8["verdict"] == "not measured" and "seed 3, --no-run" in n8["written"]
    text = (out / "claims.md").read_text()
    assert "Rows I1: `satisac claims --quick -o old`; written before the ledger recorded when" in text
    assert f"Rows N8: `satisac claims --scenario paper -o {out}`" in text and "| I1 |" in text and "| N8 |" in text
    assert _ids_text(["I1", "I2", "I3", "I5", "N1", "N2"]) == "I1-I3, I5, N1-N2"


def test_ntn_figure_csv_is_reused_only_when_made_with_the_same_solver(tmp_path, monkeypatch):
    """The NTN figures without a store (Figs. 6-9, the real-time figure) are reused from their
    CSV only when ``claims-sources.json`` shows every resolved config value equal: another
    JMRA setting -- a --set, or a default that changed since the CSV was made -- runs it again."""
    import json
    from types import SimpleNamespace

    from solvers import tidy
    from solvers.claims import sources as S
    from solvers.scenarios import ConfigSettings
    runs = []

    def run(out_dir, quick, seed, drops):
        runs.append(seed)
        tidy.write(out_dir / "ntn-fig6.csv", [tidy.row("ntn-fig6", "rho=2", "rho", 2.0, "jmra", "iterations", "1",
                                                        3, 8.0, 7.0, 9.0)])
    monkeypatch.setattr(S, "registry", lambda: {"ntn-fig6": SimpleNamespace(run=run)})
    same = ConfigSettings(scenario="paper")
    S.Sources(tmp_path, quick=True, world_seeds=1, settings=same).ensure("ntn-fig6")
    S.Sources(tmp_path, quick=True, world_seeds=1, settings=same).ensure("ntn-fig6")
    assert runs == [0]  # the second run reads the CSV
    other = ConfigSettings(scenario="paper", overrides=("newton_centre_dec=0.5",))
    S.Sources(tmp_path, quick=True, world_seeds=1, settings=other).ensure("ntn-fig6")
    assert runs == [0, 0]
    side = tmp_path / "claims-sources.json"  # a CSV recorded without the solver's values (an older ledger)
    d = json.loads(side.read_text())
    del d["ntn-fig6@."]["configs"]
    side.write_text(json.dumps(d))
    S.Sources(tmp_path, quick=True, world_seeds=1, settings=other).ensure("ntn-fig6")
    assert runs == [0, 0, 0]
