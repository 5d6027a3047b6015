"""What a new user sees first: ``satisac --version`` and every sub-command's ``--help``."""
from __future__ import annotations

import argparse
from importlib import metadata

import pytest

from solvers import cli
from solvers.configio import ConfigError, load_config


def _walk(parser: argparse.ArgumentParser, path=()):
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from _walk(child, path + (name,))


def _states_default(action) -> bool:
    d = action.default
    return (action.option_strings and d is not None and d is not argparse.SUPPRESS and action.nargs != 0
            and not (isinstance(d, (list, tuple, str)) and len(d) == 0))


def test_version_prints_installed_version(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["--version"])
    assert e.value.code == 0
    assert capsys.readouterr().out.strip() == f"satisac {metadata.version('satisac')}"


def test_every_help_states_each_default():
    tree = list(_walk(cli.build_parser()))
    assert len(tree) >= 10  # satisac, istn/ntn and their commands, reproduce, claims, bench, ...
    missing = []
    for path, parser in tree:
        text = " ".join(parser.format_help().split())
        for action in parser._actions:
            if not _states_default(action):
                continue
            flag = max(action.option_strings, key=len)
            want = f"(default: {action.default})"
            if want not in text and "default:" not in (action.help or ""):
                missing.append(f"{' '.join(path)} {flag}")
            if action.help is None or not action.help.strip():
                missing.append(f"{' '.join(path)} {flag} (no help)")
    assert not missing, missing


def test_ntn_set_example_uses_an_ntn_key():
    from solvers.ntn.config import NtnConfig
    parsers = dict(_walk(cli.build_parser()))
    for name in ("generate", "solve", "simulate"):
        help_text = " ".join(parsers[("ntn", name)].format_help().split())
        assert "--set cell_deg=1.0" in help_text and "p_bs_dbm" not in help_text
    load_config(NtnConfig, None, ["cell_deg=1.0"])  # the example is a valid key


def test_unknown_set_key_points_to_config_md():
    from solvers.ntn.config import NtnConfig
    with pytest.raises(ConfigError, match=r"'cell_dg' \(did you mean 'cell_deg'\?\).*all keys: CONFIG.md"):
        load_config(NtnConfig, None, ["cell_dg=1.0"])
