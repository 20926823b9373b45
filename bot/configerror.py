"""The one error type for a bad configuration value, naming the key and the problem."""

from __future__ import annotations


class ConfigError(ValueError):
    """A configuration value is missing or wrong. ``key`` is the dotted path in config.toml."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"config.toml: {key}: {problem}")
        self.key = key
        self.problem = problem
