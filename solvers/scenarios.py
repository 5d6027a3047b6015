"""Named scenarios shared by both papers: a set of config values with their provenance.

Each paper has a module with ``SCENARIOS: dict[str, Scenario]`` and ``DEFAULT_SCENARIO``
(``solvers.istn.scenarios``, ``solvers.ntn.scenarios``) registered below against the
scenario config it fills (``IstnConfig``, ``NtnConfig``).  A scenario's values apply on top
of the dataclass defaults, then ``--config``, then ``--set``
(``solvers.configio.load_config(cls, path, overrides, scenario=NAME)``); solver configs
have no scenarios and ignore the name (it is still checked).

``satisac reproduce`` hands its ``--scenario``/``--config``/``--set`` to the figure runners
through :func:`use_settings` / :func:`current_settings` (a context variable set at the CLI
boundary), so the figure functions keep their ``(out_dir, quick, seed, drops)`` signature.
"""
from __future__ import annotations

import contextlib
import contextvars
import importlib
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping

from solvers.errors import ConfigError

# scenario config class ("module.Class") -> module holding its SCENARIOS / DEFAULT_SCENARIO
SCENARIO_MODULES: dict[str, str] = {
    "solvers.istn.config.IstnConfig": "solvers.istn.scenarios",
    "solvers.ntn.config.NtnConfig": "solvers.ntn.scenarios",
}


@dataclass(frozen=True)
class Scenario:
    """A named set of config values for parameters a paper leaves open.

    ``values``: config key -> value (keys of the paper's scenario config);
    ``provenance``: config key -> where the value comes from (claims it was fitted on, search range).
    """
    name: str
    description: str
    values: Mapping[str, Any] = field(default_factory=dict)
    provenance: Mapping[str, str] = field(default_factory=dict)


def _qualname(cls) -> str:
    return f"{cls.__module__}.{cls.__name__}"


def scenario_module(cls):
    """The scenario module of config class ``cls``, or None if ``cls`` has no scenarios."""
    mod = SCENARIO_MODULES.get(_qualname(cls))
    return importlib.import_module(mod) if mod else None


def scenario_names(cls=None) -> list[str]:
    """Valid scenario names of ``cls`` (all papers' names when ``cls`` has none, e.g. a solver config)."""
    mod = scenario_module(cls) if cls is not None else None
    if mod is not None:
        return list(mod.SCENARIOS)
    names: dict[str, None] = {}
    for m in SCENARIO_MODULES.values():
        names.update(dict.fromkeys(importlib.import_module(m).SCENARIOS))
    return list(names)


def get_scenario(cls, name: str | None) -> Scenario | None:
    """The :class:`Scenario` ``name`` of config class ``cls`` (None: the paper's default).

    Raises ``ConfigError('--scenario: expected one of [...], got ...')`` for an unknown name;
    returns None for a config class without scenarios (after checking the name).
    """
    mod = scenario_module(cls)
    valid = scenario_names(cls)
    if name is not None and name not in valid:
        raise ConfigError(f"--scenario: expected one of {valid}, got {name!r}")
    if mod is None:
        return None
    return mod.SCENARIOS[name if name is not None else mod.DEFAULT_SCENARIO]


def default_scenario(cls) -> str | None:
    mod = scenario_module(cls)
    return mod.DEFAULT_SCENARIO if mod is not None else None


#: what the ISTN figures' means cover: the drops where the proposed method meets every QoS
#: floor (the same drops for every method; the feasible share is over all drops), or all drops
MEANS = ("proposed-feasible", "all")


@dataclass(frozen=True)
class ConfigSettings:
    """What a user passed: ``--scenario`` (None = the paper's default), ``--config``, ``--set``."""
    scenario: str | None = None
    config: str | None = None
    overrides: tuple = ()
    means: str = MEANS[0]  # ISTN figure means, one of MEANS (``satisac reproduce --means``)

    def scenario_name(self, cls) -> str | None:
        """The scenario name that applies to ``cls`` (the paper's default when none was given)."""
        get_scenario(cls, self.scenario)
        return self.scenario if self.scenario is not None else default_scenario(cls)


_SETTINGS: contextvars.ContextVar[ConfigSettings] = contextvars.ContextVar("satisac_settings",
                                                                           default=ConfigSettings())


def current_settings() -> ConfigSettings:
    """The settings of the running ``satisac reproduce`` command (defaults outside one)."""
    return _SETTINGS.get()


@contextlib.contextmanager
def use_settings(settings: ConfigSettings) -> Iterator[ConfigSettings]:
    """Make ``settings`` the :func:`current_settings` inside the ``with`` block."""
    token = _SETTINGS.set(settings)
    try:
        yield settings
    finally:
        _SETTINGS.reset(token)
