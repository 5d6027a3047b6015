"""The error a user's bad configuration raises (one line, exit 2 in the CLI)."""
from __future__ import annotations


class ConfigError(ValueError):
    """A configuration value is missing, unknown, of the wrong type or out of range."""
