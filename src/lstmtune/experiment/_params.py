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

from lstmtune.data import Framing, Preprocessing
from lstmtune.engine import ACTIVATIONS, LOSSES, OPTIMIZERS, ModelSpec, TrainSpec
from lstmtune.errors import ConfigError

__all__ = ["Param", "PARAMS", "parse_assignment", "parse_value", "complete", "group_key",
           "units_bucket",
           "build_prep", "build_model", "build_train", "member_hparams", "check_memory",
           "machine_memory"]


def _bool(text: str) -> bool:
    low = text.strip().lower()
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("0", "false", "no", "off"):
        return False
    raise ValueError("expected true or false")


def _int(text: str) -> int:
    value = float(text)
    if not value.is_integer():
        raise ValueError("expected a whole number")
    return int(value)


def _choice(options: tuple[str, ...]) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text not in options:
            raise ValueError(f"expected one of {', '.join(options)}")
        return text

    return parse


@dataclass(frozen=True)
class Param:
    name: str
    kind: str  # prep | framing | model | train | member | epochs
    parse: Callable[[str], Any]
    default: Any
    low: float | None = None  # inclusive bounds for numbers
    high: float | None = None
    help: str = ""

    def check(self, value: Any) -> Any:
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f"{self.name}={value} is not a finite number: give e.g. "
                              f"{self.name}={self.default}.")
        if self.low is not None and value < self.low or self.high is not None and \
                value > self.high:
            hi = "" if self.high is None else f" and <= {self.high}"
            raise ConfigError(f"{self.name}={value} is out of range: it must be >= {self.low}"
                              f"{hi}.")
        return value


MAX_EPOCHS = 100_000  # a bound that catches a typo of a few zeros before anything runs

PARAMS: dict[str, Param] = {p.name: p for p in (
    Param("epochs", "epochs", _int, 500, 1, MAX_EPOCHS, "training epochs (snapshots of one run)"),
    Param("batch_size", "train", _int, 4, 1, 100_000, "samples per gradient step"),
    Param("optimizer", "train", _choice(OPTIMIZERS), "adam", help="adam, rmsprop or sgd"),
    Param("loss", "train", _choice(LOSSES), "mse", help="mse, mae or huber"),
    Param("patience", "train", _int, 0, 0, MAX_EPOCHS, "early stopping patience, 0 = off"),
    Param("shuffle", "train", _bool, True, help="reshuffle each epoch (stateless)"),
    Param("units", "model", _int, 4, 1, 4096, "LSTM units per layer"),
    Param("layers", "model", _int, 1, 1, 8, "stacked LSTM layers"),
    Param("activation", "model", _choice(tuple(ACTIVATIONS)), "tanh"),
    Param("recurrent_activation", "model", _choice(("sigmoid", "hard_sigmoid")), "sigmoid"),
    Param("stateful", "model", _bool, False, help="Keras stateful mode"),
    Param("timesteps", "framing", _int, 1, 1, 1000, "lags per sample (alias: lags)"),
    Param("difference", "prep", _int, 1, 0, 100_000, "differencing lag, 0 = off"),
    Param("seasonal_lag", "prep", _int, 0, 0, 100_000, "seasonal differencing lag, 0 = off"),
    Param("log", "prep", _bool, False, help="log-transform the target"),
    Param("scaler", "prep", _choice(("minmax", "standard", "robust", "none")), "minmax"),
    Param("scale_on", "prep", _choice(("series", "windows")), "series",
          help="windows = seed 000's per-column scaler"),
    Param("learning_rate", "member", float, 1e-3, 1e-8, 10.0),
    Param("dropout", "member", float, 0.0, 0.0, 0.95),
    Param("recurrent_dropout", "member", float, 0.0, 0.0, 0.95),
    Param("l1", "member", float, 0.0, 0.0, 100.0),
    Param("l2", "member", float, 0.0, 0.0, 100.0),
    Param("momentum", "member", float, 0.0, 0.0, 0.999, "SGD momentum"),
)}
ALIASES = {"lags": "timesteps", "neurons": "units", "batch": "batch_size", "lr": "learning_rate"}


def _name(raw: str, where: str | None = None) -> str:
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
        raise ConfigError(f"bad value '{text}' for {name}: {exc}; e.g. {name}={p.default}."
                          ) from None
    return p.check(value)


def parse_assignment(text: str, *, many: bool) -> tuple[str, tuple[Any, ...]]:
    """``NAME=V1,V2`` (many) or ``NAME=VALUE`` → (name, values)."""
    raw, sep, values = text.partition("=")
    if not sep or not values.strip():
        raise ConfigError(f"'{text}' is not NAME=VALUE{'S' if many else ''}: write e.g. "
                          f"{'epochs=500,1000' if many else 'batch_size=4'}.")
    name = _name(raw)
    parts = [v for v in values.split(",") if v.strip()] if many else [values]
    parsed = tuple(parse_value(name, v) for v in parts)
    if len(set(parsed)) != len(parsed):
        raise ConfigError(f"--vary {name} lists a value twice ({values}); give each once.")
    return name, parsed


def complete(config: Mapping[str, Any]) -> dict[str, Any]:
    """Defaults filled in, in registry order."""
    return {name: config.get(name, p.default) for name, p in PARAMS.items()}


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


def build_prep(c: Mapping[str, Any]) -> tuple[Preprocessing, Framing]:
    prep = Preprocessing(difference=c["difference"], seasonal_lag=c["seasonal_lag"],
                         log=c["log"], scaler=None if c["scaler"] == "none" else c["scaler"],
                         scale_on=c["scale_on"])
    return prep, Framing(lags=c["timesteps"], horizon=1)


def build_model(c: Mapping[str, Any], n_features: int, units: int | None = None) -> ModelSpec:
    """The model of ``c`` (``units`` overrides the width, e.g. with its ``units_bucket``)."""
    return ModelSpec(units=(units or c["units"],) * c["layers"], timesteps=c["timesteps"],
                     n_features=n_features, horizon=1, activation=c["activation"],
                     recurrent_activation=c["recurrent_activation"], stateful=c["stateful"])


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
