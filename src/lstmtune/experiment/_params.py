"""The hyperparameters an experiment can vary or set, and how a configuration becomes the
frozen specs of the data, engine and evaluation layers.

Each name has a kind that decides where it goes: ``prep`` and ``framing`` change the prepared
data, ``model`` and ``train`` change the compiled program (one population per distinct
combination), ``member`` values are per-member data inside one program, and ``epochs`` is read
from snapshots of one longer training.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from lstmtune.data import (
    CALENDAR_PARTS,
    DEFAULT_WINDOWS,
    MULTISTEP,
    Framing,
    Preprocessing,
    parse_indicator,
)
from lstmtune.engine import ACTIVATIONS, LOSSES, OPTIMIZERS, ModelSpec, TrainSpec
from lstmtune.errors import ConfigError

__all__ = ["Config", "Param", "PARAMS", "ALIASES", "param_name", "parse_assignment",
           "parse_value", "complete", "group_key",
           "units_bucket", "split_group", "n_inputs",
           "build_prep", "build_model", "build_train", "member_hparams", "check_memory",
           "machine_memory"]


def _bool(text: str) -> bool:
    low = text.strip().lower()
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("0", "false", "no", "off"):
        return False
    raise ValueError("expected true or false")


def _deseasonalise(text: str) -> bool | str:
    """``true`` / ``classical`` (True), ``false`` / ``none`` (False), or ``stl``."""
    low = text.strip().lower()
    if low in ("classical", "multiplicative"):
        return True
    if low == "none":
        return False
    if low == "stl":
        return "stl"
    try:
        return _bool(low)
    except ValueError:
        raise ValueError("expected true (classical), stl or false") from None


def _int(text: str) -> int:
    value = float(text)
    if not value.is_integer():
        raise ValueError("expected a whole number")
    return int(value)


def _group(item: Callable[[str], str]) -> Callable[[str], str]:
    """A set of items written ``a+b+c`` (``+``, since ``,`` separates the values of --vary),
    or ``none``; each item checked by ``item``, which returns its canonical text."""
    def parse(text: str) -> str:
        parts = [s.strip() for s in text.split("+")]
        if text.strip().lower() in ("", "none"):
            return "none"
        if "" in parts:
            raise ValueError("expected items joined by '+' (e.g. month+quarter), or none")
        out = [item(s) for s in parts]
        keys = [s.split(":")[0] if item is _fourier_term else s for s in out]
        if len(set(keys)) != len(keys):
            raise ValueError("an item (or a Fourier period) is listed twice")
        return "+".join(out)

    return parse


def _calendar_part(text: str) -> str:
    if text not in CALENDAR_PARTS:
        hint = difflib.get_close_matches(text, CALENDAR_PARTS, n=1)
        raise ValueError(f"'{text}' is no calendar part; choose from "
                         f"{', '.join(CALENDAR_PARTS)}" + (f" (did you mean '{hint[0]}'?)"
                                                          if hint else ""))
    return text


def _fourier_term(text: str) -> str:
    period, sep, order = text.partition(":")
    try:
        p, k = float(period), int(order)
    except ValueError:
        p = k = None
    if not sep or p is None or not math.isfinite(p) or not 1 < p <= 1e9 or \
            not 1 <= k <= min(p / 2, MAX_FOURIER_ORDER):
        raise ValueError(f"'{text}' is no Fourier term: write PERIOD:ORDER with 1 < period <= "
                         f"1e9 and 1 <= order <= period/2 (at most {MAX_FOURIER_ORDER}), e.g. "
                         "12:2 for monthly data")
    return f"{np.format_float_positional(p, trim='-')}:{k}"


def _indicator(text: str) -> str:
    try:
        name, arg = parse_indicator(text)
    except ConfigError as exc:
        raise ValueError(str(exc).rstrip(".")) from None
    return name if name == "macd" else f"{name}:{arg or DEFAULT_WINDOWS[name]}"


def _column(text: str) -> str:
    return text


def split_group(value: str) -> tuple[str, ...]:
    """``"a+b"`` → ``("a", "b")``; ``"none"`` → ``()``."""
    return () if value == "none" else tuple(value.split("+"))


def _choice(options: tuple[str, ...]) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text not in options:
            raise ValueError(f"expected one of {', '.join(options)}")
        return text

    return parse


@dataclass(frozen=True)
class Param:
    name: str
    kind: str  # prep | framing | text | model | train | member | epochs
    parse: Callable[[str], Any]
    default: Any
    low: float | None = None  # inclusive bounds for numbers
    high: float | None = None
    help: str = ""
    example: Any = None  # shown in errors (default: the default value)
    words: tuple[str, ...] = ()  # a true-or-false setting's other values (deseasonalise "stl")

    @property
    def group(self) -> bool:
        """A set of items (``a+b``; a list in study files), e.g. indicators."""
        return self.name in GROUPS

    def check(self, value: Any) -> Any:
        """``value`` validated (text re-read by ``parse``; a group may be a list)."""
        if self.group and isinstance(value, list | tuple):
            value = "+".join(map(str, value)) if value else "none"
        if value is None and isinstance(self.default, str):
            value = "none"  # scaler=None, as the Python API and older model files say
        if isinstance(self.default, str):
            example = self.default if self.example is None else self.example
            if not isinstance(value, str):
                raise ConfigError(f"{self.name}={value!r}: text is expected, e.g. "
                                  f"{self.name}={example}.")
            try:
                return self.parse(value)
            except ValueError as exc:
                raise ConfigError(f"bad value '{value}' for {self.name}: {exc}; e.g. "
                                  f"{self.name}={example}.") from None
        if isinstance(self.default, bool):
            if isinstance(value, str) and self.words:  # deseasonalise = "stl"
                try:
                    return self.parse(value)
                except ValueError as exc:
                    raise ConfigError(f"bad value '{value}' for {self.name}: {exc}.") from None
            if not isinstance(value, bool | np.bool_):
                words = "".join(f' or "{w}"' for w in self.words)
                raise ConfigError(f"{self.name}={value!r}: true or false{words} is expected, "
                                  f"e.g. {self.name}={str(self.default).lower()}.")
            return bool(value)
        if isinstance(value, bool | np.bool_) or not isinstance(
                value, int | float | np.integer | np.floating):
            raise ConfigError(f"{self.name}={value!r}: a number is expected, e.g. "
                              f"{self.name}={self.default}.")
        if isinstance(value, float | np.floating) and not math.isfinite(value):
            raise ConfigError(f"{self.name}={value} is not a finite number: give e.g. "
                              f"{self.name}={self.default}.")
        if isinstance(self.default, int) and value != int(value):
            raise ConfigError(f"{self.name}={value}: a whole number is expected, e.g. "
                              f"{self.name}={self.default}.")
        value = int(value) if isinstance(self.default, int) else float(value)
        if self.low is not None and value < self.low or self.high is not None and \
                value > self.high:
            hi = "" if self.high is None else f" and <= {self.high}"
            raise ConfigError(f"{self.name}={value} is out of range: it must be >= {self.low}"
                              f"{hi}.")
        return value


GROUPS = ("calendar", "fourier", "indicators", "known_features")
MAX_HORIZON = 1_000  # as the CLI's --horizon
MAX_FOURIER_ORDER = 100
MAX_EPOCHS = 100_000  # a bound that catches a typo of a few zeros before anything runs

PARAMS: dict[str, Param] = {p.name: p for p in (
    Param("epochs", "epochs", _int, 500, 1, MAX_EPOCHS, "training epochs (snapshots of one run)"),
    Param("batch_size", "train", _int, 4, 1, 100_000, "samples per gradient step"),
    Param("optimizer", "train", _choice(OPTIMIZERS), "adam", help="adam, rmsprop or sgd"),
    Param("loss", "train", _choice(LOSSES), "mse",
          help="mse, mae or huber (a classifier: its cross-entropy, set by the task)"),
    Param("patience", "train", _int, 0, 0, MAX_EPOCHS, "early stopping patience, 0 = off"),
    Param("shuffle", "train", _bool, True, help="reshuffle each epoch (stateless)"),
    Param("units", "model", _int, 4, 1, 4096, "LSTM units per layer"),
    Param("layers", "model", _int, 1, 1, 8, "stacked LSTM layers"),
    Param("activation", "model", _choice(tuple(ACTIVATIONS)), "tanh",
          help=f"cell activation: {', '.join(ACTIVATIONS)}"),
    Param("recurrent_activation", "model", _choice(("sigmoid", "hard_sigmoid")), "sigmoid",
          help="gate activation: sigmoid or hard_sigmoid (Keras 2.0)"),
    Param("stateful", "model", _bool, False, help="Keras stateful mode"),
    Param("window_norm", "model", _choice(("none", "last", "level")), "none",
          help="last: each input window and its targets taken relative to the window's last "
               "value in model space (a division by it with log = true); level: relative "
               "to the target's exponential-smoothing level at the window's last point "
               "(alpha fitted on the training part, ES-RNN's normaliser)"),
    Param("timesteps", "framing", _int, 1, 1, 1000, "lags per sample (alias: lags)"),
    Param("horizon", "framing", _int, 1, 1, MAX_HORIZON,
          "steps forecast from each origin, all of them scored (fixed in a study)"),
    Param("origin_step", "framing", _int, 1, 1, MAX_HORIZON,
          "steps between walk-forward origins (e.g. = horizon: forecasts do not overlap; "
          "fixed in a study)"),
    Param("multistep", "framing", _choice(MULTISTEP), "direct",
          help="multi-step: direct (a head of H outputs) or recursive (one step fed its own "
          "forecasts; needs inputs whose future is known)"),
    Param("impute", "prep", _choice(("none", "linear", "time", "spline")), "none",
          help="gap filling (two-sided in training, forward after it); none = gaps are an "
          "error"),
    Param("outliers", "prep", float, 0.0, 0.0, 1000.0,
          "Hampel filter threshold in MADs (causal, trailing window), 0 = off"),
    Param("outlier_window", "prep", _int, 7, 3, 1000, "trailing window of the Hampel filter"),
    Param("difference", "prep", _int, 1, 0, 100_000, "differencing lag, 0 = off"),
    Param("difference_order", "prep", _int, 1, 1, 3, "times to difference at that lag"),
    Param("seasonal_lag", "prep", _int, 0, 0, 100_000, "seasonal differencing lag, 0 = off"),
    Param("deseasonalise", "prep", _deseasonalise, False, words=("stl",),
          help="true: divide by classical multiplicative seasonal indices (the M4 "
               "benchmarks'); stl: subtract robust STL's seasonal component (after the log), "
               "the last cycle carried forward; each fitted on the training part when its "
               "90 % ACF test finds it seasonal"),
    Param("log", "prep", _bool, False, help="log-transform the target"),
    Param("log_offset", "prep", float, 0.0, 0.0, 1e12, "log(x + offset)"),
    Param("scaler", "prep", _choice(("minmax", "standard", "robust", "none")), "minmax",
          help="minmax, standard, robust or none (fitted on the training part)"),
    Param("scale_on", "prep", _choice(("series", "windows")), "series",
          help="windows = seed 000's per-column scaler"),
    Param("calendar", "framing", _group(_calendar_part), "none",
          help="calendar features, e.g. month+quarter (future known)", example="month"),
    Param("fourier", "framing", _group(_fourier_term), "none",
          help="Fourier terms PERIOD:ORDER, e.g. 12:2+3:1 (future known)", example="12:2"),
    Param("indicators", "framing", _group(_indicator), "none",
          help="technical indicators of the target, e.g. sma:5+ema:5+rsi:14+macd+returns:1 "
          "(causal)", example="rsi:14+macd"),
    Param("known_features", "framing", _group(_column), "none",
          help="feature columns whose future is known, e.g. holiday (the others are "
          "observed only up to the forecast origin)", example="holiday"),
    Param("vocab_size", "text", _int, 5000, 1, 1_000_000,
          "classification: the most frequent training words kept, the rest out of vocabulary"),
    Param("input_length", "text", _int, 200, 1, 100_000,
          "classification: tokens (or steps) per sequence, longer cut, shorter padded"),
    Param("keep", "text", _choice(("first", "last")), "first",
          help="classification: the words a cut keeps, first (the paper) or last"),
    Param("embed_dim", "model", _int, 32, 1, 4096, "classification: embedding width"),
    Param("bidirectional", "model", _bool, False,
          help="classification: each LSTM layer also reads the sequence backwards"),
    Param("class_weight", "train", _choice(("none", "balanced")), "none",
          help="classification: weigh classes by n / (K n_k) on the training items"),
    Param("model", "panel", _choice(("local", "global")), "local",
          help="panel: one set of weights per series (local) or one for all (global)"),
    Param("global_epochs", "epochs", _int, 20, 1, MAX_EPOCHS,
          help="panel, model = global: epochs over every series' windows"),
    Param("global_batch_size", "panel", _int, 256, 1, 1_000_000,
          help="panel, model = global: windows (of all series) per gradient step"),
    Param("learning_rate", "member", float, 1e-3, 1e-8, 10.0, "optimizer step size"),
    Param("dropout", "member", float, 0.0, 0.0, 0.95, "dropout of the LSTM inputs"),
    Param("recurrent_dropout", "member", float, 0.0, 0.0, 0.95,
          "dropout of the recurrent state"),
    Param("l1", "member", float, 0.0, 0.0, 100.0, "L1 penalty on the weights"),
    Param("l2", "member", float, 0.0, 0.0, 100.0, "L2 penalty on the weights"),
    Param("momentum", "member", float, 0.0, 0.0, 0.999, "SGD momentum"),
)}
ALIASES = {"lags": "timesteps", "neurons": "units", "batch": "batch_size", "lr": "learning_rate"}


# what a classifier reads (the rest is forecasting's: framing, cleaning, stateful, loss) and
# what only a classifier reads
CLASSIFY_ONLY = ("vocab_size", "input_length", "keep", "embed_dim", "class_weight",
                 "bidirectional")
PANEL_ONLY = ("model", "global_epochs", "global_batch_size")  # what only a panel reads
CLASSIFY_READS = (*CLASSIFY_ONLY, "units", "layers", "activation", "recurrent_activation",
                  "epochs", "batch_size", "optimizer", "patience", "shuffle", "learning_rate",
                  "dropout", "recurrent_dropout", "l1", "l2", "momentum")


def param_name(raw: str, where: str | None = None) -> str:
    """The registry name of ``raw`` (aliases allowed); ``where`` prefixes the error."""
    name = ALIASES.get(raw.strip(), raw.strip())
    if name not in PARAMS:
        hint = difflib.get_close_matches(name, list(PARAMS) + list(ALIASES), n=1)
        raise ConfigError((f"{where}: " if where else "") + f"unknown hyperparameter '{raw}'"
                          + (f" (did you mean '{hint[0]}'?)" if hint else "")
                          + f"; valid names: {', '.join(PARAMS)}.")
    return name


def parse_value(name: str, text: str) -> Any:
    p = PARAMS[name]
    try:
        value = p.parse(text.strip())
    except ValueError as exc:
        example = p.default if p.example is None else p.example
        raise ConfigError(f"bad value '{text}' for {name}: {exc}; e.g. {name}={example}."
                          ) from None
    return p.check(value)


def parse_assignment(text: str, *, many: bool) -> tuple[str, tuple[Any, ...]]:
    """``NAME=V1,V2`` (many) or ``NAME=VALUE`` → (name, values)."""
    raw, sep, values = text.partition("=")
    if not sep or not values.strip():
        raise ConfigError(f"'{text}' is not NAME=VALUE{'S' if many else ''}: write e.g. "
                          f"{'epochs=500,1000' if many else 'batch_size=4'}.")
    name = param_name(raw)
    parts = [v for v in values.split(",") if v.strip()] if many else [values]
    parsed = tuple(parse_value(name, v) for v in parts)
    if len(set(parsed)) != len(parsed):
        raise ConfigError(f"--vary {name} lists a value twice ({values}); give each once.")
    return name, parsed


class Config(Mapping[str, Any]):
    """A complete configuration: every hyperparameter of :data:`PARAMS`, in registry order,
    with defaults filled in, aliases resolved (``lags`` → ``timesteps``) and every value
    validated; frozen and hashable.  It reads like a dict (``c["units"]``, ``{**c}``) and by
    attribute (``c.units``); ``c.replace(units=8)`` is a new one.

    >>> Config(units=8, lr=0.01).learning_rate
    0.01
    """

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, Any] | None = None, /, **changes: Any) -> None:
        given: dict[str, Any] = {}
        for raw, value in {**(values or {}), **changes}.items():
            given[param_name(raw)] = value
        object.__setattr__(self, "_values", {
            name: p.check(given[name]) if name in given else p.default
            for name, p in PARAMS.items()})

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def __iter__(self):
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("a Config is frozen: use config.replace(name=value)")

    def __hash__(self) -> int:
        return hash(tuple(self._values.items()))

    def __repr__(self) -> str:
        changed = ", ".join(f"{k}={v!r}" for k, v in self._values.items()
                            if v != PARAMS[k].default)
        return f"Config({changed})"

    def __reduce__(self):
        return (Config, (self._values,))

    def replace(self, **changes: Any) -> Config:
        return Config(self._values, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dict(self._values)


def complete(config: Mapping[str, Any]) -> Config:
    """``config`` as a complete, validated :class:`Config` (defaults filled in)."""
    return config if isinstance(config, Config) else Config(config)


def units_bucket(units: int) -> int:
    """The program width that configurations of ``units`` share: 8, 16 or 32 up to 32 units,
    exact above.  Narrow members ride in the wider program with zero extra units (equal to
    their own training within float rounding, see ``lstmtune.engine.init_members``).  Measured
    on a 2-core CPU (100 members, 200 epochs, seed 000's shape): units 1 trains in 0.08 s, 8 in
    0.38 s, 16 in 0.73 s, 32 in 1.34 s, while each extra program costs 5-8 s to compile cold;
    above 32 units training dominates and padding would only add arithmetic."""
    for b in (8, 16, 32):
        if units <= b:
            return b
    return units


def group_key(config: Mapping[str, Any]) -> tuple:
    """Configurations with equal keys share prepared data and one compiled program (units
    by their ``units_bucket``)."""
    return tuple((k, units_bucket(v) if k == "units" else v) for k, v in config.items()
                 if PARAMS[k].kind not in ("member", "epochs"))


def build_prep(c: Mapping[str, Any], season: int = 1) -> tuple[Preprocessing, Framing]:
    """``c``'s preprocessing and framing; ``season``: the series' seasonal period, which
    ``deseasonalise`` reads."""
    prep = Preprocessing(deseasonalise=season if c["deseasonalise"] and season > 1 else 0,
                         deseasonalise_method="stl" if c["deseasonalise"] == "stl"
                         and season > 1 else "classical",
                         impute=None if c["impute"] == "none" else c["impute"],
                         outlier_threshold=c["outliers"] or None,
                         outlier_window=c["outlier_window"],
                         log=c["log"], log_offset=c["log_offset"],
                         difference=c["difference"], difference_order=c["difference_order"],
                         seasonal_lag=c["seasonal_lag"],
                         scaler=None if c["scaler"] == "none" else c["scaler"],
                         scale_on=c["scale_on"])
    fourier = tuple((float(p), int(k)) for p, k in
                    (term.split(":") for term in split_group(c["fourier"])))
    return prep, Framing(lags=c["timesteps"], horizon=c["horizon"],
                         calendar=split_group(c["calendar"]), fourier=fourier,
                         indicators=split_group(c["indicators"]), multistep=c["multistep"],
                         known=split_group(c["known_features"]),
                         origin_step=c["origin_step"], level=c["window_norm"] == "level")


def n_inputs(c: Mapping[str, Any], n_exog: int) -> int:
    """Input columns of ``c``'s samples: the target, ``n_exog`` feature columns, and the
    calendar, Fourier (sin and cos per order) and indicator columns (macd gives three), and
    the level's column (window_norm = level)."""
    fourier = sum(2 * int(term.split(":")[1]) for term in split_group(c["fourier"]))
    indicators = sum(3 if s == "macd" else 1 for s in split_group(c["indicators"]))
    return 1 + n_exog + len(split_group(c["calendar"])) + fourier + indicators + \
        (c["window_norm"] == "level")


def build_model(c: Mapping[str, Any], n_features: int, units: int | None = None) -> ModelSpec:
    """The model of ``c`` (``units`` overrides the width, e.g. with its ``units_bucket``):
    a head of ``horizon`` outputs (direct) or of one (recursive)."""
    direct = c["multistep"] == "direct"
    if c["loss"] in ("bce", "cce"):
        raise ConfigError(f"loss={c['loss']} is a classifier's cross-entropy; a forecast "
                          "takes mse, mae or huber.")
    if c["stateful"] and direct and c["horizon"] > 1:
        raise ConfigError(f"stateful=true with horizon={c['horizon']}: a stateful model carries "
                          "its state through consecutive windows, which a head of several "
                          "steps leaves out between training and validation; set "
                          "stateful=false (or horizon=1).")
    if c["stateful"] and c["origin_step"] > 1:
        raise ConfigError(f"origin_step={c['origin_step']} skips windows, but a stateful model "
                          "carries its state from one window to the next: set origin_step=1 "
                          "or stateful=false.")
    if not direct and c["horizon"] > 1 and c["stateful"]:
        raise ConfigError(f"multistep=recursive with horizon={c['horizon']} needs "
                          "stateful=false (a stateful model's state belongs to the actual "
                          "series, not to its own forecasts): set stateful=false or "
                          "multistep=direct.")
    return ModelSpec(units=(units or c["units"],) * c["layers"], timesteps=c["timesteps"],
                     n_features=n_features, horizon=c["horizon"] if direct else 1,
                     activation=c["activation"],
                     recurrent_activation=c["recurrent_activation"], stateful=c["stateful"],
                     window_norm=c["window_norm"])


def build_train(c: Mapping[str, Any], *, epochs: int, snapshots: tuple[int, ...],
                dropout: bool, record: bool, record_every: int = 1) -> TrainSpec:
    return TrainSpec(epochs=epochs, batch_size=c["batch_size"], optimizer=c["optimizer"],
                     loss=c["loss"], shuffle=c["shuffle"],
                     patience=c["patience"] or None, dropout=dropout,
                     record_predictions=record, record_every=record_every,
                     snapshots=snapshots)


def member_hparams(configs: list[Mapping[str, Any]]) -> dict[str, list[float]]:
    return {k: [float(c[k]) for c in configs] for k, p in PARAMS.items() if p.kind == "member"}


MEMORY_FRACTION = 0.5  # a population may take at most this share of the machine's memory


def machine_memory() -> int | None:
    """Physical memory in bytes (None where the platform does not say)."""
    import os

    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_memory(config: Mapping[str, Any], *, members: int, samples: int, n_features: int,
                 where: str) -> None:
    """Refuse, before anything runs, a population of ``members`` trainings of ``config``
    (e.g. the largest the study allows) whose estimated memory
    (``lstmtune.engine.estimate_bytes``) exceeds half of this machine's."""
    from lstmtune.engine import estimate_bytes

    total = machine_memory()
    if total is None:
        return
    spec = build_model(config, n_features=n_features)
    need = estimate_bytes(spec, members=members, batch_size=config["batch_size"],
                          samples=samples)
    if need > MEMORY_FRACTION * total:
        gib = 2**30
        raise ConfigError(
            f"{where}: {members} trainings of units={config['units']} × layers="
            f"{config['layers']}, timesteps={config['timesteps']}, batch_size="
            f"{config['batch_size']} would need about {need / gib:,.1f} GiB, more than half "
            f"of this machine's {total / gib:.0f} GiB: lower units, layers or timesteps, or "
            "train fewer at once (batch, repeats, folds).")
