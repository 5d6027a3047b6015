"""Named ISTN scenarios: values for the parameters the paper leaves open (issue: fidelity).

``SCENARIOS[name]`` maps a scenario name to a :class:`solvers.scenarios.Scenario` whose
``values`` are ``IstnConfig`` keys (applied on top of the dataclass defaults, before
``--config`` and ``--set``).  ``spec`` keeps the literal-spec defaults; ``paper`` is the
calibrated default.  Each value carries its provenance in ``Scenario.provenance``.
"""
from __future__ import annotations

from solvers.scenarios import Scenario

SCENARIOS: dict[str, Scenario] = {
    "spec": Scenario("spec", "literal reconstructed spec (spec/istn.md §5 defaults)", {}, {}),
    "paper": Scenario("paper", "calibrated to the paper's regime (see CONFIG.md)", {}, {}),
}
DEFAULT_SCENARIO = "paper"
