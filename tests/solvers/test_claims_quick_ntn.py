"""``satisac claims --quick --paper ntn`` end to end at toy sizes (N1-N13; tests/solvers/_quick_ledger.py)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _quick_ledger import run_quick_ledger  # noqa: E402

NTN_TOY = ("cell_deg=2.0",)  # 2-degree cells: fewer beams per frame than the paper's 1 degree


@pytest.mark.slow
def test_quick_ntn_ledger_has_every_claim(tmp_path):
    run_quick_ledger("ntn", NTN_TOY, tmp_path)
    assert list(tmp_path.glob("ntn-*.png"))
