"""The one exception hierarchy of lstmtune.

Every error raised on purpose derives from :class:`LstmtuneError`.  Its message is one line
that names the thing (file, column, row, parameter), the rule it broke, the value it had, and a
fix.  The CLI prints that line and exits with code 2; anything else is a bug.
"""

from __future__ import annotations

__all__ = ["LstmtuneError", "DataError", "ConfigError", "SplitError"]


class LstmtuneError(Exception):
    """Base class of every error lstmtune raises deliberately."""


class DataError(LstmtuneError):
    """The data (file, frame, series) cannot be used as given."""


class ConfigError(LstmtuneError):
    """A parameter, option or configuration value is invalid."""


class SplitError(ConfigError):
    """A split or window request does not fit the length of the series."""
