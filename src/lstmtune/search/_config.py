"""Study files: TOML read into frozen dataclasses, validated as a whole before anything runs.

```toml
[data]
source = "shampoo"        # built-in name or CSV/Parquet path (relative to the study file)
test_size = 12            # never seen during the search
val_size = 12             # scored by walk-forward over this window
folds = 2                 # walk-forward folds over the validation window

[preprocessing]           # fixed values: any hyperparameter name, in any of these sections
difference = 1
[model]
stateful = false
[training]
patience = 0

[search]
strategy = "tpe"          # grid random tpe gp cmaes hyperband ga hybrid
trials = 50
repeats = 3               # trainings per candidate and fold, each from its own seed
aggregate = "mean"        # mean | median | mean+std (risk-averse: mean + risk * std)
risk = 1.0
batch = 8                 # candidates trained together as one population
seed = 0
pruner = "none"           # none | median | successive_halving | hyperband | wilcoxon
# p_threshold = 0.1       # pruner = "wilcoxon" only: prune when p < this (Optuna's default)
final_repeats = 30        # retrainings of the best on train+validation, scored on test

[space]
units = { int = [1, 64], log = true }
learning_rate = { float = [1e-4, 1e-2], log = true }
optimizer = { choice = ["adam", "sgd"] }
momentum = { float = [0.0, 0.9], when = { optimizer = "sgd" } }
```
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from lstmtune.errors import ConfigError
from lstmtune.search._space import DEFAULT_SPACE, Fixed, Space, _name, _value, parse_space

__all__ = ["DataConfig", "SearchConfig", "StudyConfig", "load_study_file", "study_from_dict",
           "STRATEGIES", "PRUNERS", "AGGREGATES"]

STRATEGIES = ("grid", "random", "tpe", "gp", "cmaes", "hyperband", "ga", "hybrid")
PRUNERS = ("none", "median", "successive_halving", "hyperband", "wilcoxon")
AGGREGATES = ("mean", "median", "mean+std")
SECTIONS = ("data", "preprocessing", "model", "training", "search", "space")


@dataclass(frozen=True, kw_only=True)
class DataConfig:
    source: str = "shampoo"
    time_col: str | None = None
    target: str | None = None
    features: tuple[str, ...] = ()
    freq: str | None = None
    test_size: int = 12  # the final test window, never seen during the search
    val_size: int | None = None  # the validation window (default: test_size)
    folds: int = 1  # walk-forward folds over the validation window


@dataclass(frozen=True, kw_only=True)
class SearchConfig:
    strategy: str = "tpe"
    trials: int = 50
    repeats: int = 3
    aggregate: str = "mean"
    risk: float = 1.0
    batch: int = 8
    seed: int = 0
    timeout: float | None = None
    pruner: str = "none"
    p_threshold: float = 0.1  # wilcoxon only: Optuna's WilcoxonPruner p-value threshold
    final_repeats: int = 30
    top_k: int = 3  # hybrid: best configurations taken from each strategy


@dataclass(frozen=True, kw_only=True)
class StudyConfig:
    data: DataConfig = field(default_factory=DataConfig)
    fixed: tuple[tuple[str, Any], ...] = ()  # [preprocessing], [model], [training]
    search: SearchConfig = field(default_factory=SearchConfig)
    space: Space = DEFAULT_SPACE

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able description (stored with the study to detect a changed file)."""
        return {"data": asdict(self.data) | {"features": list(self.data.features)},
                "fixed": dict(self.fixed), "search": asdict(self.search),
                "space": [[n, repr(e)] for n, e in self.space.entries]}


def _unknown(section: str, keys: set[str], allowed: list[str]) -> None:
    for k in sorted(keys - set(allowed)):
        hint = difflib.get_close_matches(k, allowed, n=1)
        raise ConfigError(f"[{section}] has unknown key '{k}'"
                          + (f" (did you mean '{hint[0]}'?)" if hint else "")
                          + f"; valid keys: {', '.join(allowed)}.")


def _typed(section: str, key: str, value: Any, kind: type | tuple, rule: str) -> Any:
    if isinstance(value, bool) and kind is not bool or not isinstance(value, kind):
        raise ConfigError(f"[{section}] {key} = {value!r}: {rule}.")
    return value


def _data(t: Mapping[str, Any], base: Path | None) -> DataConfig:
    _unknown("data", set(t), [f for f in DataConfig.__dataclass_fields__])
    src = str(t.get("source", "shampoo"))
    if base is not None and not Path(src).is_absolute() and (base / src).exists():
        src = str(base / src)
    for k in ("test_size", "folds"):
        if k in t:
            _typed("data", k, t[k], int, "must be a whole number >= 1")
            if t[k] < 1:
                raise ConfigError(f"[data] {k} = {t[k]}: must be >= 1.")
    if "val_size" in t:
        _typed("data", "val_size", t["val_size"], int, "must be a whole number >= 1")
    cfg = DataConfig(source=src, time_col=t.get("time_col"), target=t.get("target"),
                     features=tuple(t.get("features", ())), freq=t.get("freq"),
                     test_size=t.get("test_size", 12), val_size=t.get("val_size"),
                     folds=t.get("folds", 1))
    val = cfg.val_size or cfg.test_size
    if val % cfg.folds:
        raise ConfigError(f"[data] val_size = {val} must divide into folds = {cfg.folds} "
                          f"equal windows; use e.g. val_size = {val - val % cfg.folds or val}.")
    return cfg


def _search(t: Mapping[str, Any]) -> SearchConfig:
    _unknown("search", set(t), [f for f in SearchConfig.__dataclass_fields__])
    cfg = SearchConfig(**t)
    for key, options in (("strategy", STRATEGIES), ("pruner", PRUNERS),
                         ("aggregate", AGGREGATES)):
        v = getattr(cfg, key)
        if v not in options:
            hint = difflib.get_close_matches(str(v), options, n=1)
            raise ConfigError(f"[search] {key} = {v!r} is not one of {', '.join(options)}"
                              + (f"; did you mean '{hint[0]}'?" if hint else "."))
    for key in ("trials", "repeats", "batch", "final_repeats", "top_k"):
        v = _typed("search", key, getattr(cfg, key), int, "must be a whole number >= 1")
        if v < 1:
            raise ConfigError(f"[search] {key} = {v}: must be >= 1.")
    _typed("search", "seed", cfg.seed, int, "must be a whole number")
    _typed("search", "risk", cfg.risk, (int, float), "must be a number")
    _typed("search", "p_threshold", cfg.p_threshold, (int, float), "must be a number in (0, 1)")
    if not 0 < cfg.p_threshold < 1:
        raise ConfigError(f"[search] p_threshold = {cfg.p_threshold}: must be in (0, 1), e.g. "
                          "0.1 (larger prunes more).")
    if "p_threshold" in t and cfg.pruner != "wilcoxon":
        raise ConfigError(f"[search] p_threshold only applies to pruner = 'wilcoxon', not "
                          f"pruner = {cfg.pruner!r}; remove it or set pruner = 'wilcoxon'.")
    if cfg.timeout is not None:
        _typed("search", "timeout", cfg.timeout, (int, float), "must be seconds > 0")
        if cfg.timeout <= 0:
            raise ConfigError(f"[search] timeout = {cfg.timeout}: must be seconds > 0.")
    return cfg


def study_from_dict(doc: Mapping[str, Any], base: Path | None = None) -> StudyConfig:
    """Validate a parsed study document (the TOML file's tables)."""
    _unknown("study file", set(doc), list(SECTIONS))
    for s in SECTIONS:
        if s in doc and not isinstance(doc[s], dict):
            raise ConfigError(f"[{s}] must be a table, got {type(doc[s]).__name__}.")
    fixed = {}
    for section in ("preprocessing", "model", "training"):
        for raw, v in doc.get(section, {}).items():
            name = _name(raw, f"[{section}] {raw}")
            fixed[name] = _value(name, v, f"[{section}] {raw}")
    space = parse_space(doc["space"], "[space]") if "space" in doc else DEFAULT_SPACE
    clash = sorted(set(fixed) & set(space.searched()))
    if clash:
        raise ConfigError(f"{clash[0]} is both fixed and searched in [space]; remove one.")
    search = _search(doc.get("search", {}))
    if search.strategy == "hyperband" and "epochs" in space.searched():
        raise ConfigError("[space] epochs: hyperband chooses the epochs itself; fix epochs "
                          "(the maximum) in [training] instead of searching it.")
    if search.strategy == "grid":
        space.grid()  # raises for float ranges without a step
    fixed.update({n: e.value for n, e in space.entries if isinstance(e, Fixed) and not e.when})
    return StudyConfig(data=_data(doc.get("data", {}), base), fixed=tuple(fixed.items()),
                       search=search, space=space)


def load_study_file(path: str | Path) -> StudyConfig:
    """Read and validate a TOML study file; every error is one line naming key and fix."""
    p = Path(path)
    if not p.exists():
        raise ConfigError(f"study file '{p}' does not exist: give the path of a .toml file.")
    try:
        doc = tomllib.loads(p.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"study file '{p}' is not valid TOML ({exc}); fix the syntax at "
                          "that line.") from None
    except UnicodeDecodeError:
        raise ConfigError(f"study file '{p}' is not UTF-8 text: save it as UTF-8.") from None
    try:
        return study_from_dict(doc, base=p.parent)
    except ConfigError as exc:
        raise ConfigError(f"{p}: {exc}") from None
    except TypeError as exc:
        raise ConfigError(f"{p}: {exc}") from None

