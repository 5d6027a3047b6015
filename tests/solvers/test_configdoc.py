"""CONFIG.md lists every key of every user-facing config with its current default."""
from pathlib import Path

from solvers.configdoc import render


def test_config_md_is_in_sync():
    doc = (Path(__file__).resolve().parents[2] / "CONFIG.md").read_text()
    assert doc.strip() == render().strip(), "regenerate with: python -m solvers.configdoc > CONFIG.md"
