"""Data layer: load and validate, transform without leakage, frame windows, split in time.

Knows numpy and pandas only: no JAX, no Optuna, no CLI.
"""

from lstmtune.data._datasets import BUILTINS, builtin_names
from lstmtune.data._features import (
    CALENDAR_PARTS,
    DEFAULT_WINDOWS,
    INDICATORS,
    calendar_features,
    ema,
    fourier_features,
    indicator_features,
    macd,
    parse_indicator,
    returns,
    rsi,
    season_length,
    sma,
)
from lstmtune.data._fitted import FittedPrep, position_offset
from lstmtune.data._labelled import (
    LABELLED_BUILTINS,
    LabelledSequences,
    load_items,
    load_labelled,
    stratified_split,
)
from lstmtune.data._load import TimeSeries, load
from lstmtune.data._panel import PANEL_BUILTINS, Panel, load_panel
from lstmtune.data._prepare import (
    MULTISTEP,
    Framing,
    Prepared,
    Preprocessing,
    past_only,
    prepare,
)
from lstmtune.data._seasonal import acf, seasonal_indices, seasonality_test
from lstmtune.data._splits import Split, WalkForward, chronological_split, resolve_size
from lstmtune.data._text import OOV, PAD, Vocabulary, tokenize
from lstmtune.data._transforms import (
    Chain,
    Deseasonalise,
    Difference,
    Hampel,
    Interpolate,
    Log,
    MinMaxScale,
    RobustScale,
    StandardScale,
    STLDeseasonalise,
)
from lstmtune.data._windows import Windows, frame_supervised, make_windows, trim_to_multiple

__all__ = [
    "BUILTINS", "builtin_names", "TimeSeries", "load", "LabelledSequences", "load_labelled",
    "LABELLED_BUILTINS", "stratified_split", "load_items", "Panel", "load_panel", "PANEL_BUILTINS",
    "Vocabulary", "tokenize", "PAD", "OOV",
    "acf", "seasonality_test", "seasonal_indices", "Deseasonalise",
    "STLDeseasonalise",
    "Chain", "Difference", "Hampel", "Interpolate", "Log", "MinMaxScale", "RobustScale",
    "StandardScale",
    "Windows", "frame_supervised", "make_windows", "trim_to_multiple",
    "Split", "WalkForward", "chronological_split", "resolve_size",
    "Framing", "Prepared", "Preprocessing", "prepare", "FittedPrep", "position_offset",
    "MULTISTEP", "past_only",
    "calendar_features", "fourier_features", "indicator_features", "sma", "ema", "rsi", "macd",
    "returns", "parse_indicator", "CALENDAR_PARTS", "INDICATORS", "season_length",
    "DEFAULT_WINDOWS",
]
