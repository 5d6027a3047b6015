"""The quick claims ledger end to end: ``satisac claims --quick --paper P`` at toy sizes
through the real path (figures run into their stores, metrics, verdicts), then the same
ledger judged from those stores with ``--no-run``.  One paper per test module
(``test_claims_quick_istn.py``, ``test_claims_quick_ntn.py``) so that pytest-xdist runs the
two on different workers."""
from __future__ import annotations

import csv
import re
from pathlib import Path

from solvers.claims.verdict import NOT_MEASURED

CLAIMS_MD = Path(__file__).resolve().parents[3] / "shared" / "spec" / "claims.md"


def _rows(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def run_quick_ledger(paper: str, toy: tuple[str, ...], out: Path) -> list[dict]:
    """Run and check one paper's quick ledger in ``out``; returns its rows."""
    from solvers.cli import main
    ids = [i for i in re.findall(r"^\| ([IN]\d+) \|", CLAIMS_MD.read_text(), re.M) if i[0] == paper[0].upper()]
    common = ["claims", "--quick", "--drops", "2", "--frames", "2", "--paper", paper, "-o", str(out)]
    assert main(common + [a for kv in toy for a in ("--set", kv)]) == 0
    ran = _rows(out / "claims.csv")
    assert [r["id"] for r in ran] == ids  # every claim id of claims.md, in its order
    assert all(r["quick"] == "True" for r in ran)
    assert not [r["id"] for r in ran if r["note"].startswith("error")]  # no metric crashed
    # every claim has its data (N8 too: ntn-realtime; N13 pairs Fig. 10 with its own perfect-CSI run)
    assert [r["id"] for r in ran if r["verdict"] == NOT_MEASURED] == []
    # judged again from the stores alone: the same verdict and estimate for every id
    assert main(common + ["--no-run"]) == 0
    again = _rows(out / "claims.csv")
    assert [(r["id"], r["verdict"], r["estimate"]) for r in again] == [(r["id"], r["verdict"], r["estimate"])
                                                                        for r in ran]
    assert (out / "claims.md").exists()
    return ran
