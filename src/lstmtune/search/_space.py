"""Search spaces: ranges, choices and fixed values over the experiment's hyperparameter names.

An entry is an int or float range (optionally log-scaled, optionally stepped), a choice list,
or a fixed value; ``when`` makes it conditional on other parameters (e.g. momentum only when
optimizer is sgd).  A space samples through an Optuna trial, so every Optuna sampler (and ours)
sees ordinary distributions.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import optuna
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from lstmtune.errors import ConfigError
from lstmtune.experiment import PARAMS, param_name, parse_value

__all__ = ["Range", "Choice", "Fixed", "Space", "parse_space", "DEFAULT_SPACE", "PANEL_SPACE",
           "MAX_GRID"]

MAX_GRID = 100_000  # as many trials as a study may have
ALL_INTS = 5  # in a small grid, an integer range of at most this many values gives them all


@dataclass(frozen=True, kw_only=True)
class Range:
    """low..high inclusive; ``integer`` ranges give ints; ``log`` samples on a log scale."""

    low: float
    high: float
    integer: bool = False
    log: bool = False
    step: float | None = None
    when: tuple[tuple[str, tuple[Any, ...]], ...] = ()

    def distribution(self) -> BaseDistribution:
        if self.integer:
            return IntDistribution(int(self.low), int(self.high), log=self.log,
                                   step=int(self.step or 1))
        return FloatDistribution(self.low, self.high, log=self.log, step=self.step)

    def grid(self, name: str, small: bool = False) -> list[Any]:
        """The values grid search tries: every step (an integer range without a step: every
        integer).  A float range without a step gives its two ends; with ``small`` (when the
        whole grid would be too large) an integer range without a step of more than 5 values
        gives its low, middle and high values (the middle geometric on a log range)."""
        if self.step is None and not self.integer or \
                small and self.step is None and self.high - self.low >= ALL_INTS:
            if not self.integer:
                return [float(self.low), float(self.high)]
            mid = math.sqrt(self.low * self.high) if self.log else (self.low + self.high) / 2
            return sorted({int(self.low), int(round(mid)), int(self.high)})
        if self.integer:
            n = (int(self.high) - int(self.low)) // int(self.step or 1)
        else:
            n = int(round((self.high - self.low) / self.step))
        if n + 1 > MAX_GRID:
            raise ConfigError(f"space '{name}': the grid has {n + 1:,} values, more than a "
                              f"study may run ({MAX_GRID:,}); use a larger step or a choice "
                              "list.")
        if self.integer:
            return list(range(int(self.low), int(self.high) + 1, int(self.step or 1)))
        return [float(self.low + i * self.step) for i in range(n + 1)]


@dataclass(frozen=True, kw_only=True)
class Choice:
    values: tuple[Any, ...]
    when: tuple[tuple[str, tuple[Any, ...]], ...] = ()

    def distribution(self) -> BaseDistribution:
        return CategoricalDistribution(list(self.values))

    def grid(self, name: str) -> list[Any]:
        return list(self.values)


@dataclass(frozen=True, kw_only=True)
class Fixed:
    value: Any
    when: tuple[tuple[str, tuple[Any, ...]], ...] = ()


Entry = Range | Choice | Fixed


@dataclass(frozen=True)
class Space:
    """Named entries, in order (a condition may only refer to an earlier entry)."""

    entries: tuple[tuple[str, Entry], ...]

    @property
    def names(self) -> list[str]:
        return [n for n, _ in self.entries]

    def searched(self) -> dict[str, Entry]:
        return {n: e for n, e in self.entries if not isinstance(e, Fixed)}

    def distributions(self) -> dict[str, BaseDistribution]:
        return {n: e.distribution() for n, e in self.searched().items()}

    def suggest(self, trial: optuna.Trial) -> dict[str, Any]:
        """Sample one configuration through ``trial`` (conditions respected)."""
        params: dict[str, Any] = {}
        for name, e in self.entries:
            if not _active(e, params):
                continue
            if isinstance(e, Fixed):
                params[name] = e.value
            elif isinstance(e, Choice):
                params[name] = trial.suggest_categorical(name, list(e.values))
            elif e.integer:
                params[name] = trial.suggest_int(name, int(e.low), int(e.high), log=e.log,
                                                 step=int(e.step or 1))
            else:
                params[name] = trial.suggest_float(name, e.low, e.high, log=e.log, step=e.step)
        return params

    def keeping(self, stored: Mapping[str, BaseDistribution]) -> tuple[Space, list[str]]:
        """This space with each choice whose values differ from the study's recorded
        distribution (``stored``: name -> a trial's distribution) given the recorded values
        instead (Optuna refuses a categorical whose choices change within a study: a study
        made before lstmtune widened a default space keeps its own), and the names kept."""
        out, kept = [], []
        for name, e in self.entries:
            d = stored.get(name)
            if isinstance(e, Choice) and isinstance(d, CategoricalDistribution) and \
                    tuple(d.choices) != tuple(e.values):
                e = replace(e, values=tuple(d.choices))
                kept.append(name)
            out.append((name, e))
        return Space(tuple(out)), kept

    def grid(self) -> list[dict[str, Any]]:
        """Every combination (conditions respected, duplicates removed), in order."""
        return [dict(p) for p in _grid(self)]

    def contains(self, params: Mapping[str, Any]) -> bool:
        for name, e in self.searched().items():
            if name not in params:
                continue
            v = params[name]
            if isinstance(e, Choice) and v not in e.values:
                return False
            if isinstance(e, Range) and not e.low - 1e-12 <= v <= e.high + 1e-12:
                return False
        return True


def grid_values(space: Space) -> tuple[list[str], list[list[Any]], bool]:
    """The searched names, each one's grid values, and whether the small default grid of
    ranges without a step was needed; a ConfigError when even that is too large."""
    searched = space.searched()
    names = list(searched)
    for small in (False, True):
        values = [e.grid(n, small) if isinstance(e, Range) else e.grid(n)
                  for n, e in searched.items()]
        size = math.prod(len(v) for v in values)
        if size <= 4 * MAX_GRID:  # conditions remove some: enumerate up to 4x, then count
            return names, values, small
    raise ConfigError(f"the grid has {' × '.join(str(len(v)) for v in values)} = "
                      f"{size:,} combinations, more than a study may run "
                      f"({MAX_GRID:,}); search fewer values, or use tpe or random.")


@functools.lru_cache(maxsize=4)
def _grid(space: Space) -> tuple[dict[str, Any], ...]:
    """``Space.grid``, computed once per space (a study asks for it several times)."""
    names, values, _ = grid_values(space)
    seen, out = set(), []
    for combo in itertools.product(*values):
        params: dict[str, Any] = {}
        full = dict(zip(names, combo, strict=True))
        for name, e in space.entries:
            if _active(e, params):
                params[name] = e.value if isinstance(e, Fixed) else full[name]
        key = tuple(sorted(params.items()))
        if key not in seen:
            seen.add(key)
            out.append(params)
    if len(out) > MAX_GRID:
        raise ConfigError(f"the grid has {len(out):,} combinations, more than a study may run "
                          f"({MAX_GRID:,}); search fewer values, or use tpe or random.")
    return tuple(out)


def _active(e: Entry, params: Mapping[str, Any]) -> bool:
    return all(params.get(name) in values for name, values in e.when)


_KIND_WORDS = {bool: "true or false (no quotes)", int: "a whole number (no quotes)",
               float: "a number (no quotes)", str: "text in quotes"}


def _toml(v: Any) -> str:
    return str(v).lower() if isinstance(v, bool) else f'"{v}"' if isinstance(v, str) else str(v)


def _value(name: str, v: Any, where: str) -> Any:
    """Validate a TOML value with the registry: its TOML type must be the parameter's (a
    string is never read as a boolean or a number), then its range."""
    default = PARAMS[name].default
    want = type(default)
    if PARAMS[name].group and isinstance(v, list):  # indicators = ["rsi:14", "macd"]
        if not all(isinstance(s, str) and s.strip() and "+" not in s for s in v):
            example = ", ".join(f'"{s}"' for s in PARAMS[name].example.split("+"))
            raise ConfigError(f"{where} = {v!r}: {name} takes a list of names in quotes, e.g. "
                              f"{name} = [{example}], or [] for none.")
        v = "+".join(v) if v else "none"
    words = PARAMS[name].words  # deseasonalise = "stl" beside true and false
    ok = (isinstance(v, bool) or isinstance(v, str) and v.strip().lower() in words
          if want is bool else
          isinstance(v, int) and not isinstance(v, bool) if want is int else
          isinstance(v, int | float) and not isinstance(v, bool) if want is float else
          isinstance(v, str))
    if not ok:
        shown = repr(v) if isinstance(v, list | dict) else _toml(v)
        example = default if PARAMS[name].example is None else PARAMS[name].example
        kind = _KIND_WORDS[want] + "".join(f' or "{w}"' for w in words)
        raise ConfigError(f"{where} = {shown}: {name} takes {kind}, e.g. "
                          f"{name} = {_toml(example)}.")
    text = str(v).lower() if isinstance(v, bool) else str(v)
    try:
        return parse_value(name, text)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def _entry(name: str, spec: Any, where: str, earlier: list[str]) -> Entry:
    if not isinstance(spec, dict):  # a bare value is fixed
        return Fixed(value=_value(name, spec, where))
    keys = set(spec)
    when = []
    if not isinstance(spec.get("when", {}), dict):
        raise ConfigError(f"{where}.when = {spec['when']!r}: must be a table of earlier "
                          "entries and their values, e.g. when = { optimizer = \"sgd\" }.")
    for cname, cval in spec.get("when", {}).items():
        cname_n = param_name(cname, f"{where}.when")
        if PARAMS[cname_n].group:
            raise ConfigError(f"{where}.when: '{cname}' is a group of items; a condition can "
                              "name a single-valued entry only (e.g. optimizer, impute).")
        if cname_n not in earlier:
            raise ConfigError(f"{where}.when: '{cname}' must be an entry listed before "
                              f"'{name}' in the space.")
        vals = cval if isinstance(cval, list) else [cval]
        when.append((cname_n, tuple(_value(cname_n, v, f"{where}.when") for v in vals)))
    when_t = tuple(when)
    allowed = {"int", "float", "choice", "value", "log", "step", "when"}
    unknown = keys - allowed
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {sorted(unknown)}; an entry is one of "
                          "int = [low, high], float = [low, high], choice = [...], value = x, "
                          "with optional log = true, step = s, when = {name = value}.")
    kinds = keys & {"int", "float", "choice", "value"}
    if len(kinds) != 1:
        raise ConfigError(f"{where}: give exactly one of int, float, choice, value; got "
                          f"{sorted(kinds) or 'none'}.")
    kind = kinds.pop()
    if kind == "value":
        return Fixed(value=_value(name, spec["value"], where), when=when_t)
    if kind == "choice":
        values = spec["choice"]
        if not isinstance(values, list) or not values:
            raise ConfigError(f"{where}.choice must be a non-empty list, got {values!r}.")
        return Choice(values=tuple(_value(name, v, where) for v in values), when=when_t)
    bounds = spec[kind]
    if not (isinstance(bounds, list) and len(bounds) == 2):
        raise ConfigError(f"{where}.{kind} must be [low, high], got {bounds!r}.")
    low, high = (_value(name, b, where) for b in bounds)
    if not low < high:
        raise ConfigError(f"{where}: `low < high` must hold, but got low={low}, high={high}.")
    log = spec.get("log", False)
    if not isinstance(log, bool):
        raise ConfigError(f"{where}.log = {log!r}: must be true or false (no quotes).")
    if log and low <= 0:
        raise ConfigError(f"{where}: a log range needs low > 0, got low={low}.")
    step = spec.get("step")
    if step is not None and (isinstance(step, bool) or not isinstance(step, int | float)
                             or not 0 < step < float("inf") or log
                             or kind == "int" and not isinstance(step, int)):
        raise ConfigError(f"{where}.step must be a positive number and cannot be combined "
                          f"with log, got step={step!r}, log={log}.")
    if step is not None and step > high - low:
        raise ConfigError(f"{where}.step = {step} is larger than the range {low}–{high}: it "
                          "would leave only the low end; use a step <= high - low.")
    integer = kind == "int"
    if integer and PARAMS[name].parse is float:
        integer = False
    if not integer and isinstance(low, int) and PARAMS[name].parse is not float:
        raise ConfigError(f"{where}: '{name}' takes whole numbers; write int = [{low}, {high}].")
    return Range(low=low, high=high, integer=integer, log=log, step=step, when=when_t)


def parse_space(table: Mapping[str, Any], where: str = "space") -> Space:
    """Read a ``[space]`` table: ``name = value`` (fixed) or ``name = {int|float|choice ...}``."""
    entries, earlier = [], []
    for raw, spec in table.items():
        name = param_name(raw, f"{where}.{raw}")
        if name in earlier:
            raise ConfigError(f"{where}: '{raw}' is given twice.")
        entries.append((name, _entry(name, spec, f"{where}.{raw}", earlier)))
        earlier.append(name)
    if not any(not isinstance(e, Fixed) for _, e in entries):
        raise ConfigError(f"{where} has nothing to search: give at least one range or choice, "
                          "e.g. units = {int = [1, 64], log = true}.")
    return Space(tuple(entries))


# A documented default for forecasting (small data such as Shampoo: short windows, few units).
DEFAULT_SPACE = parse_space({
    "units": {"int": [1, 64], "log": True},
    "layers": {"int": [1, 2]},
    "timesteps": {"int": [1, 12]},
    "dropout": {"float": [0.0, 0.5]},
    "recurrent_dropout": {"float": [0.0, 0.5]},
    "learning_rate": {"float": [1e-4, 3e-2], "log": True},
    "batch_size": {"choice": [4, 8, 16]},
    "epochs": {"choice": [100, 200, 400]},
    "optimizer": {"choice": ["adam", "rmsprop", "sgd"]},
    "momentum": {"float": [0.0, 0.95], "when": {"optimizer": "sgd"}},
    "activation": {"choice": ["tanh", "relu"]},
    "l2": {"float": [1e-6, 1e-2], "log": True},
    "difference": {"choice": [0, 1]},
    "scaler": {"choice": ["minmax", "standard"]},
})

# A panel without a [space]: local and global models, with and without deseasonalising;
# local models train on a few dozen windows (small batches, many epochs), a global one on
# every series' windows (large batches, few epochs).
PANEL_SPACE = parse_space({
    "model": {"choice": ["local", "global"]},
    "deseasonalise": {"choice": [True, False]},
    "units": {"int": [4, 16], "log": True},
    "timesteps": {"int": [2, 12]},
    "learning_rate": {"float": [1e-3, 3e-2], "log": True},
    "epochs": {"choice": [25, 50, 100], "when": {"model": "local"}},
    "batch_size": {"choice": [16, 32], "when": {"model": "local"}},
    "global_epochs": {"choice": [10, 20, 40], "when": {"model": "global"}},
    "global_batch_size": {"choice": [128, 256, 512], "when": {"model": "global"}},
    "difference": {"choice": [0, 1]},
})

# Classification without a [space]: seed 003's four hyperparameters at ranges a CPU covers in
# minutes (the paper: learning rate 0.0005-0.51, units 1-511, epochs 1-15, input length
# 1-511; ``examples/reviews-paper.toml`` has those).
CLASSIFY_SPACE = parse_space({
    "learning_rate": {"float": [5e-4, 5e-2], "log": True},
    "units": {"int": [4, 64], "log": True},
    "epochs": {"int": [1, 6]},
    "input_length": {"int": [8, 128], "log": True},
})

