"""Named scenarios shared by both papers: a set of config values with their provenance."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping


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
