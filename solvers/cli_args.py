"""Argument-parser helpers shared by every ``satisac`` sub-command module: lazy command
imports, the help formatter that states defaults, and the ``--scenario/--config/--set``
options.  A leaf module (argparse only), so the sub-command modules import it and not
``solvers.cli``, which imports them."""
from __future__ import annotations

import argparse


def lazy_command(module: str):
    """A ``func`` for ``set_defaults`` that imports ``module`` only when the command runs."""
    def run(args):
        import importlib
        return importlib.import_module(module).run(args)
    return run


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Every option's help ends with ``(default: X)``, unless it has no default to state.

    Skipped: options whose default is None, empty (repeatable ``--set``) or suppressed, flags
    (``store_true``: absent = off) and help that already names its default.  Set on every parser of the tree by
    :func:`build_parser` (``set_formatter``), so sub-command modules need nothing.
    """

    def _get_help_string(self, action):
        text = action.help or ""
        if (action.default is None or action.default is argparse.SUPPRESS or action.nargs == 0
                or _empty(action.default) or not action.option_strings or "%(default)" in text or "default:" in text):
            return text
        return text + " (default: %(default)s)"


def _empty(value) -> bool:
    return isinstance(value, (list, tuple, str)) and len(value) == 0


def set_formatter(parser: argparse.ArgumentParser, formatter=HelpFormatter) -> None:
    """Give ``parser`` and every sub-command parser below it the same help formatter."""
    parser.formatter_class = formatter
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                set_formatter(child, formatter)


def add_config_args(p: argparse.ArgumentParser, example: str = "p_bs_dbm=30") -> None:
    """``--scenario NAME``, ``--config FILE`` and repeatable ``--set key=value``.

    Values apply in that order on top of the dataclass defaults (``solvers.scenarios``);
    the scenario name is checked when the config is built (one error line, exit 2).
    """
    p.add_argument("--scenario", default="paper", metavar="NAME",
                   help="named scenario of the paper's open parameters: 'paper' (calibrated) or "
                        "'spec' (literal reconstructed spec); see CONFIG.md")
    p.add_argument("--config", metavar="FILE", help="TOML file with config values (keys as in --set)")
    p.add_argument("--set", dest="overrides", metavar="KEY=VALUE", action="append", default=[],
                   help=f"override one config value; may be repeated (e.g. --set {example}); "
                        "every key is listed in CONFIG.md")
