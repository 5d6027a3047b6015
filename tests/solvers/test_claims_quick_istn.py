"""``satisac claims --quick --paper istn`` end to end at toy sizes (I1-I14; tests/solvers/_quick_ledger.py)."""
from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _quick_ledger import run_quick_ledger  # noqa: E402

# Smaller cells than the paper's with the figures' --quick sweep grids and 2 drops per point;
# keys the figures fix per experiment (n_rx, n_radar, n_cells, ...) are left alone except
# below, so every comparison of a claim still has its two sides.  slots=1: one compiled
# program per cell size for every figure.
ISTN_TOY = ("n_tx=8", "n_tut=2", "n_targets=2", "clutter_per_target=1", "max_iter=10", "max_phase1=10", "slots=1")


def _same_shapes_as(spec, big: str, shapes: dict):
    return dataclasses.replace(spec, experiments=tuple(
        dataclasses.replace(e, overrides={**e.overrides, **shapes}) if e.key == big else e for e in spec.experiments))


@pytest.mark.slow
def test_quick_istn_ledger_has_every_claim(tmp_path, monkeypatch):
    from solvers.istn import figures
    monkeypatch.setenv("SATISAC_QUICK_COMPILE", "1")  # ISTN drop generator at XLA -O0 (round-off only)
    # the large-array experiments at the shapes of their small partner (the same experiment
    # keys and claim paths, I9-I11, with programs compiled once): Fig. 7's N_RX 16 at 4,
    # Fig. 8's (32, 32) at (4, 4)
    monkeypatch.setitem(figures.SPECS, "istn-fig7", _same_shapes_as(figures.SPECS["istn-fig7"], "nrx16", {"n_rx": 4}))
    monkeypatch.setitem(figures.SPECS, "istn-fig8", _same_shapes_as(figures.SPECS["istn-fig8"], "nrx32_nrad32",
                                                                    {"n_rx": 4, "n_radar": 4}))
    run_quick_ledger("istn", ISTN_TOY, tmp_path)
    assert (tmp_path / "istn-fig4.png").exists()
