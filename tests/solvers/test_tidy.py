"""The one figure-CSV schema (solvers.tidy): columns, cell format, atomic write, read-back."""
from __future__ import annotations

import numpy as np
import pytest

from solvers import tidy


def test_write_read_round_trip(tmp_path):
    rows = [tidy.row("istn-fig4", "rmin3", "p_bs_dbm", 30.0, "proposed", "sum_rate", "bit/s/Hz", np.int64(5),
                     np.float32(12.3456789), 10.0, 14.5, means="all"),
            tidy.row("ntn-fig9", "", "snr_db", -7.5, "crb", "crb", "1", 1, 1 / 3, None, float("nan"), extra_col=7)]
    tidy.write(tmp_path / "f.csv", rows)
    lines = (tmp_path / "f.csv").read_text().splitlines()
    assert lines[0] == ",".join(tidy.COLUMNS) + ",means,extra_col"
    assert lines[1] == "istn-fig4,rmin3,p_bs_dbm,30,proposed,sum_rate,bit/s/Hz,5,12.3457,10,14.5,all,"
    assert lines[2] == "ntn-fig9,,snr_db,-7.5,crb,crb,1,1,0.333333,,,,7"  # %.6g; None and NaN empty
    assert [p.name for p in tmp_path.iterdir()] == ["f.csv"]  # no temporary left
    back = tidy.read(tmp_path / "f.csv")
    assert back[0]["x"] == 30 and back[0]["n"] == 5 and back[0]["mean"] == pytest.approx(12.3457)
    assert back[1]["experiment"] == "" and np.isnan(back[1]["ci_low"]) and back[1]["extra_col"] == 7
    assert tidy.wide(back, ("x",)) == [{"x": 30, "sum_rate": pytest.approx(12.3457)},
                                       {"x": -7.5, "crb": pytest.approx(0.333333)}]


def test_row_without_a_schema_column_is_refused(tmp_path):
    bad = {k: 1 for k in tidy.COLUMNS if k != "unit"}
    with pytest.raises(KeyError, match="unit"):
        tidy.write(tmp_path / "f.csv", [bad])
    assert not list(tmp_path.iterdir())  # nothing written
