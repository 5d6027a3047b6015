"""``python -m benchmarks.istn_ab``: argument checking (the A/B run itself solves hundreds of
paper-size drops and is a benchmark, not a test)."""
from __future__ import annotations

import argparse

import pytest

from benchmarks.istn_ab import _range, main


def test_drop_range_parsed():
    assert _range("200:600") == (200, 600)
    assert _range("0:1") == (0, 1)


@pytest.mark.parametrize("text", ["5", "a:b", "3:3", "7:2", "-1:4", "1:2:3"])
def test_bad_drop_range_names_the_option(text):
    with pytest.raises(argparse.ArgumentTypeError, match="--drops: expected"):
        _range(text)


def test_bad_setting_rejected_before_any_work(capsys):
    from solvers.configio import ConfigError
    with pytest.raises(ConfigError, match="no_such_key"):
        main(["--drops", "0:2", "--set-b", "no_such_key=1"])
