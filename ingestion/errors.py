"""The error every part of tunelake raises for a setting a person has to fix."""

from __future__ import annotations


class ConfigurationError(ValueError):
    """The configuration is invalid; raised before any request is sent. The message names the setting."""
