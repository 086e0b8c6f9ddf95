"""lstmtune: find the best LSTM for your time series, rigorously and fast."""

from lstmtune._version import __version__
from lstmtune.errors import ConfigError, DataError, LstmtuneError, SplitError

__all__ = ["__version__", "ConfigError", "DataError", "LstmtuneError", "SplitError"]
