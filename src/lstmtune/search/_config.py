"""Study files: TOML read into frozen dataclasses, validated as a whole before anything runs.

```toml
[data]
source = "shampoo"        # built-in name or CSV/Parquet path (relative to the study file)
test_size = 12            # never seen during the search (or a fraction: 0.2)
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
metric = "rmse"           # rmse | mae | mape | smape | mase (trials, final test, baselines)
# p_threshold = 0.1       # pruner = "wilcoxon" only: prune when p < this (Optuna's default)
final_repeats = 30        # retrainings of the best on train+validation, scored on test
refit = true              # then trained again on all the data: the model predict uses
combine = "median"        # the final members' forecasts as one: median | mean
ensemble_top = 1          # > 1: the saved model pools the members of the K best configurations

[space]
units = { int = [1, 64], log = true }
learning_rate = { float = [1e-4, 1e-2], log = true }
optimizer = { choice = ["adam", "sgd"] }
momentum = { float = [0.0, 0.9], when = { optimizer = "sgd" } }
```
"""

from __future__ import annotations

import difflib
import math
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from lstmtune.data import LABELLED_BUILTINS, PANEL_BUILTINS, resolve_size
from lstmtune.errors import ConfigError
from lstmtune.evaluation import CLASS_METRICS, COMBINE, METRICS
from lstmtune.experiment import (
    CLASSIFY_ONLY,
    CLASSIFY_READS,
    PANEL_METRICS,
    PANEL_ONLY,
    SCORED,
    ClassificationTask,
    ForecastTask,
    PanelTask,
    param_name,
)
from lstmtune.search._space import (
    CLASSIFY_SPACE,
    DEFAULT_SPACE,
    PANEL_SPACE,
    Fixed,
    Space,
    _value,
    grid_values,
    parse_space,
)

__all__ = ["DataConfig", "SearchConfig", "StudyConfig", "load_study_file", "study_from_dict",
           "may_impute", "resolve_sizes", "check_panel_strategy",
           "STRATEGIES", "PRUNERS", "AGGREGATES", "LIMITS"]

STRATEGIES = ("grid", "random", "tpe", "gp", "cmaes", "hyperband", "ga", "ga1", "ga2", "ga3",
              "hybrid")
TASKS = ("forecast", "classify", "panel")
# a panel study's defaults: one-step models rolled over the horizon (short series hold few
# direct windows of a long horizon), each series standardised on its own training part
PANEL_FIXED = {"multistep": "recursive", "scaler": "standard"}
PANEL_FINAL_REPEATS = 5  # a panel's final members per series (every series trains them)
# a classification study's training defaults (the forecasting ones are for tiny series)
CLASSIFY_FIXED = {"epochs": 3, "batch_size": 64, "units": 32, "vocab_size": 5000,
                  "input_length": 64, "embed_dim": 32}
PRUNERS = ("none", "median", "successive_halving", "hyperband", "wilcoxon")
AGGREGATES = ("mean", "median", "mean+std")
COMBINE_CHOICES = tuple(COMBINE)  # median | mean
SECTIONS = ("data", "preprocessing", "model", "training", "search", "space")
# Inclusive bounds of the whole-number keys (timeout: seconds, low bound excluded).  The upper
# bounds protect the machine and catch a typo of a few zeros before anything runs.
LIMITS: dict[str, tuple[int, int]] = {
    "test_size": (1, 10_000_000), "val_size": (1, 10_000_000), "folds": (1, 1_000),
    "trials": (1, 100_000), "repeats": (1, 1_000), "final_repeats": (1, 1_000),
    "ensemble_top": (1, 20),
    "batch": (1, 10_000), "top_k": (1, 1_000), "seed": (0, 2**31 - 1),
    "timeout": (0, 30 * 24 * 3600), "season": (1, 100_000)}


@dataclass(frozen=True, kw_only=True)
class DataConfig:
    source: str = "shampoo"
    time_col: str | None = None
    target: str | None = None
    features: tuple[str, ...] = ()
    freq: str | None = None
    sep: str | None = None  # CSV delimiter (None: detected)
    decimal: str | None = None  # decimal mark, "." or "," (None: detected)
    date_format: str | None = None  # strptime format of the time column (None: detected)
    season: int | None = None  # seasonal period (None: from the frequency, 12 for months)
    test_size: int | float = 12  # the final test window, never seen during the search
    val_size: int | float | None = None  # the validation window (default: test_size)
    # (a float in (0, 1): that fraction of the series, rounded up; see ``resolve_sizes``)
    folds: int = 1  # walk-forward folds over the validation window
    task: str = "forecast"  # forecast | classify (sequences with a class, seed 003) | panel
    id_col: str | None = None  # panel, a long table: the series id column (default unique_id)
    text_col: str | None = None  # classify, a table: the text column (default "text")
    label_col: str | None = None  # classify, a table: the label column (default "label")
    # classify: what the data holds (filled in when it is read, ``with_data``)
    n_classes: int = 2
    inputs: str = "text"


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
    metric: str = "rmse"  # rmse | mae | mape | smape | mase: trials, final test, baselines
    # after the test window is scored once, the final members are trained again on every
    # point (every labelled item) with the same settings: the saved model; false keeps the
    # evaluated members
    refit: bool = True
    # how the final members' forecasts make the one that is scored on test beside the
    # baselines and that predict gives: the median of the seeds (the literature's) or mean
    combine: str = "median"
    # K > 1 (one series): the K best configurations on validation are each retrained,
    # scored on test as one pool of members beside the single best, refit, and saved
    # together as the model predict uses
    ensemble_top: int = 1


@dataclass(frozen=True, kw_only=True)
class StudyConfig:
    data: DataConfig = field(default_factory=DataConfig)
    fixed: tuple[tuple[str, Any], ...] = ()  # [preprocessing], [model], [training]
    search: SearchConfig = field(default_factory=SearchConfig)
    space: Space = DEFAULT_SPACE
    declared: Space | None = None  # the space as written, when ``space`` was fitted to data

    def __post_init__(self) -> None:
        top, kind = self.search.ensemble_top, self.data.task
        if top > 1 and kind in ("panel", "classify"):
            raise ConfigError(f"[search] ensemble_top = {top} (--ensemble-top) pools the K "
                              "best configurations of one series' study; a "
                              f"{'panel' if kind == 'panel' else 'classification'} study "
                              "saves its best configuration's members: set ensemble_top = 1, "
                              "or leave it out.")

    @property
    def task(self) -> ForecastTask | ClassificationTask:
        """What every trial, the final test and the baselines score: the (fixed) horizon
        forecast from each walk-forward origin, by the study's metric; or the class of every
        held-out item (``[data] task = "classify"``)."""
        if self.data.task == "classify":
            return ClassificationTask(metric=self.search.metric, n_classes=self.data.n_classes,
                                      inputs=self.data.inputs)
        if self.data.task == "panel":
            return PanelTask(horizon=dict(self.fixed)["horizon"], metric=self.search.metric,
                             n_folds=self.data.folds)
        return ForecastTask.of(dict(self.fixed), self.search.metric)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able description (stored with the study to detect a changed file)."""
        data = asdict(self.data) | {"features": list(self.data.features)}
        if data["season"] is None:  # as studies made before the key existed stored it
            del data["season"]
        if self.data.task == "forecast":  # as studies made before classification stored it
            for k in ("task", "text_col", "label_col", "n_classes", "inputs"):
                del data[k]
        if self.data.task != "panel":  # as studies made before panels stored it
            del data["id_col"]
        search = asdict(self.search)
        if search["metric"] == "rmse":  # as studies made before the metric was a choice
            del search["metric"]
        return {"data": data,
                "fixed": dict(self.fixed), "search": search,
                "space": [[n, repr(e)] for n, e in (self.declared or self.space).entries]}


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


def _whole(section: str, key: str, value: Any) -> int:
    lo, hi = LIMITS[key]
    rule = f"must be a whole number from {lo} to {hi}"
    _typed(section, key, value, int, rule + " (no quotes)")
    if not lo <= value <= hi:
        raise ConfigError(f"[{section}] {key} = {value}: {rule}.")
    return value


def _real(section: str, key: str, value: Any, lo: float, hi: float, *,
          open_low: bool = False) -> float:
    rule = f"must be a number {'>' if open_low else '>='} {lo:g} and <= {hi:g}"
    _typed(section, key, value, (int, float), rule + " (no quotes)")
    if not (math.isfinite(value) and (value > lo if open_low else value >= lo)
            and value <= hi):
        raise ConfigError(f"[{section}] {key} = {value}: {rule}.")
    return float(value)


def _text(section: str, key: str, value: Any, example: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"[{section}] {key} = {value!r}: must be non-empty text in quotes, "
                          f"e.g. {key} = {example}.")
    return value


TEXT_EXAMPLES = {"source": '"sales.csv"', "time_col": '"date"', "target": '"Sales"',
                 "freq": '"MS"', "sep": '";"', "decimal": '","',
                 "date_format": '"%d/%m/%Y"', "text_col": '"review"', "label_col": '"sentiment"',
                 "id_col": '"store_item"'}


def _data(t: Mapping[str, Any], base: Path | None) -> DataConfig:
    _unknown("data", set(t), [f for f in DataConfig.__dataclass_fields__
                              if f not in ("n_classes", "inputs")])
    task = t.get("task", "forecast")
    if task not in TASKS:
        raise ConfigError(f"[data] task = {task!r} is not one of {', '.join(TASKS)}; "
                          'e.g. task = "classify" for labelled sequences.')
    if task != "classify":
        for k in ("text_col", "label_col"):
            if k in t:
                raise ConfigError(f'[data] {k} applies to task = "classify" only; add that '
                                  "or remove the key.")
    if task != "panel" and "id_col" in t:
        raise ConfigError('[data] id_col applies to task = "panel" only (a long table of many '
                          "series); add that or remove the key.")
    if task == "panel":
        for k in ("test_size", "val_size"):
            if k in t:
                raise ConfigError(f"[data] {k}: a panel's test window is each series' last "
                                  "horizon points and its validation windows the folds × "
                                  "horizon points before them; set [model] horizon and [data] "
                                  "folds instead.")
    for k, example in TEXT_EXAMPLES.items():
        if k in t:
            _text("data", k, t[k], example)
    if t.get("decimal") not in (None, ".", ","):
        raise ConfigError(f"[data] decimal = {t['decimal']!r}: must be \".\" or \",\".")
    features = t.get("features", [])
    if not isinstance(features, list) or not all(isinstance(f, str) and f.strip()
                                                 for f in features):
        raise ConfigError(f"[data] features = {features!r}: must be a list of column names, "
                          'e.g. features = ["Temperature", "Promo"] (a list even for one).')
    src = str(t.get("source", "shampoo"))
    if base is not None and not Path(src).is_absolute() and (base / src).exists():
        src = str(base / src)
    sizes = {k: _whole("data", k, t[k]) for k in ("folds", "season") if k in t}
    sizes |= {k: _size("data", k, t[k]) for k in ("test_size", "val_size") if k in t}
    if task == "forecast" and src in LABELLED_BUILTINS:
        raise ConfigError(f'[data] source = "{src}" is a labelled set: add task = "classify" '
                          "to [data] to classify its items.")
    default_test = 12 if task == "forecast" else 0.2  # a classifier's: a fifth of the items
    cfg = DataConfig(source=src, time_col=t.get("time_col"), target=t.get("target"),
                     features=tuple(features), freq=t.get("freq"), sep=t.get("sep"),
                     decimal=t.get("decimal"), date_format=t.get("date_format"),
                     test_size=sizes.get("test_size", default_test),
                     val_size=sizes.get("val_size"),
                     folds=sizes.get("folds", 1), season=sizes.get("season"), task=task,
                     text_col=t.get("text_col"), label_col=t.get("label_col"),
                     id_col=t.get("id_col"))
    if task in ("classify", "panel"):
        return cfg
    _check_folds(cfg, "[data] ")
    return cfg


def _size(section: str, key: str, value: Any) -> int | float:
    """A window as a count (``LIMITS``) or as a fraction in (0, 1) of the series."""
    if isinstance(value, float) and not value.is_integer():
        if not 0 < value < 1:
            raise ConfigError(f"[{section}] {key} = {value}: a fraction of the series must lie "
                              f"in (0, 1), e.g. {key} = 0.2; or give a count, e.g. {key} = 12.")
        return value
    return _whole(section, key, value)


def _check_folds(d: DataConfig, where: str) -> None:
    val = d.val_size or d.test_size
    if isinstance(val, int) and val % d.folds:
        raise ConfigError(f"{where}val_size = {val} must divide into folds = {d.folds} "
                          f"equal windows; use e.g. val_size = {val - val % d.folds or val}.")


def resolve_sizes(cfg: StudyConfig, n: int) -> StudyConfig:
    """``cfg`` with fractional test and validation sizes turned into counts for a series of
    ``n`` points (rounded up, as ``prepare`` does); counts are kept."""
    d = cfg.data
    test = resolve_size(d.test_size, n, "test_size")
    val = None if d.val_size is None else resolve_size(d.val_size, n, "val_size")
    if (test, val) == (d.test_size, d.val_size):
        return cfg
    data = replace(d, test_size=test, val_size=val)
    _check_folds(data, f"[data] with {n} points, ")
    return replace(cfg, data=data)


def _choice(key: str, value: Any, options: tuple[str, ...]) -> str:
    if value not in options:
        hint = difflib.get_close_matches(str(value), options, n=1)
        raise ConfigError(f"[search] {key} = {value!r} is not one of {', '.join(options)}"
                          + (f"; did you mean '{hint[0]}'?" if hint else "."))
    return value


def _search(t: Mapping[str, Any]) -> SearchConfig:
    _unknown("search", set(t), [f for f in SearchConfig.__dataclass_fields__])
    for key, options in (("strategy", STRATEGIES), ("pruner", PRUNERS),
                         ("aggregate", AGGREGATES), ("combine", COMBINE_CHOICES),
                         ("metric", (*METRICS, "owa", *CLASS_METRICS))):
        if key in t:
            _choice(key, t[key], options)
    for key in ("trials", "repeats", "batch", "final_repeats", "top_k", "seed",
                "ensemble_top"):
        if key in t:
            _whole("search", key, t[key])
    if "refit" in t:
        _typed("search", "refit", t["refit"], bool, "must be true or false (no quotes)")
    if "risk" in t:
        _real("search", "risk", t["risk"], 0, 100)
    if "p_threshold" in t:
        _typed("search", "p_threshold", t["p_threshold"], (int, float),
               "must be a number in (0, 1)")
        if not 0 < t["p_threshold"] < 1:
            raise ConfigError(f"[search] p_threshold = {t['p_threshold']}: must be in (0, 1), "
                              "e.g. 0.1 (larger prunes more).")
    if "timeout" in t:
        _real("search", "timeout", t["timeout"], 0, LIMITS["timeout"][1], open_low=True)
    cfg = SearchConfig(**t)
    if "p_threshold" in t and cfg.pruner != "wilcoxon":
        raise ConfigError(f"[search] p_threshold only applies to pruner = 'wilcoxon', not "
                          f"pruner = {cfg.pruner!r}; remove it or set pruner = 'wilcoxon'.")
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
            name = param_name(raw, f"[{section}] {raw}")
            fixed[name] = _value(name, v, f"[{section}] {raw}")
    data = _data(doc.get("data", {}), base)
    classify = data.task == "classify"
    panel = data.task == "panel"
    space = parse_space(doc["space"], "[space]") if "space" in doc else \
        CLASSIFY_SPACE if classify else PANEL_SPACE if panel else DEFAULT_SPACE
    for name in SCORED:
        if name in space.searched():
            raise ConfigError(f"[space] {name}: it is part of what every trial is scored on, "
                              f"so it is fixed for a study: set it in [model] ({name} = 12) "
                              f"or with --{name.replace('_', '-')}, and run one study per "
                              f"{name}.")
    clash = sorted(set(fixed) & set(space.searched()))
    if clash:
        raise ConfigError(f"{clash[0]} is both fixed and searched in [space]; remove one.")
    named = [*fixed, *space.searched()]
    if classify:
        stray = [n for n in named if n not in CLASSIFY_READS]
        if stray:
            raise ConfigError(f"{stray[0]} applies to forecasting; a classification study "
                              f"(task = \"classify\") reads {', '.join(CLASSIFY_READS)}.")
    else:
        stray = [n for n in named if n in CLASSIFY_ONLY]
        if stray:
            raise ConfigError(f"{stray[0]} applies to classification: add [data] task = "
                              '"classify", or remove it.')
    if not panel:
        stray = [n for n in named if n in PANEL_ONLY]
        if stray:
            raise ConfigError(f"{stray[0]} applies to a panel of series: add [data] task = "
                              '"panel", or remove it.')
    search = _search(doc.get("search", {}))
    given = doc.get("search", {}).get("metric")
    if panel:
        if given is None:
            search = replace(search, metric="smape")
        elif given not in PANEL_METRICS:
            raise ConfigError(f"[search] metric = {given!r} is not comparable across the "
                              f"series of a panel: use one of {', '.join(PANEL_METRICS)}.")
        if "horizon" not in fixed:
            official = PANEL_BUILTINS.get(data.source)
            if official is None:
                raise ConfigError("a panel study forecasts a fixed horizon from the end of "
                                  "each series: set it in [model], e.g. horizon = 12.")
            fixed["horizon"] = official[2]
        if "origin_step" in fixed and fixed["origin_step"] != fixed["horizon"]:
            raise ConfigError("[model] origin_step: a panel forecasts once per window (the "
                              "competitions' convention), so origin_step is the horizon; "
                              "remove it.")
        fixed = {**{k: v for k, v in PANEL_FIXED.items() if k not in space.searched()},
                 **fixed, "origin_step": fixed["horizon"]}
        if "final_repeats" not in doc.get("search", {}):  # N × R members: fewer by default
            search = replace(search, final_repeats=PANEL_FINAL_REPEATS)
    if classify:
        if given is None:
            search = replace(search, metric="pr_auc")
        elif given not in CLASS_METRICS:
            raise ConfigError(f"[search] metric = {given!r} scores forecasts; a classification "
                              f"study takes one of {', '.join(CLASS_METRICS)}.")
        fixed = {**{k: v for k, v in CLASSIFY_FIXED.items() if k not in space.searched()},
                 **fixed}
    elif given in CLASS_METRICS:
        raise ConfigError(f"[search] metric = {given!r} scores a classifier; add [data] task = "
                          f'"classify", or use one of {", ".join(METRICS)}.')
    elif given == "owa" and not panel:
        raise ConfigError("[search] metric = 'owa' is relative to Naive2 over the series of a "
                          'panel; add [data] task = "panel", or use one of '
                          f'{", ".join(METRICS)}.')
    if search.strategy == "hyperband" and "epochs" in space.searched():
        raise ConfigError("[space] epochs: hyperband chooses the epochs itself; fix epochs "
                          "(the maximum) in [training] instead of searching it.")
    if search.strategy == "grid":
        grid_values(space)  # a grid too large even with the small default grid is refused
    fixed.update({n: e.value for n, e in space.entries if isinstance(e, Fixed) and not e.when})
    cfg = StudyConfig(data=data, fixed=tuple(fixed.items()), search=search, space=space)
    if panel:
        check_panel_strategy(cfg)
    return cfg


def check_panel_strategy(cfg: StudyConfig) -> None:
    """Hyperband sets each rung's ``epochs``; a global model trains ``global_epochs``."""
    if cfg.search.strategy == "hyperband" and (
            dict(cfg.fixed).get("model", "local") != "local" or "model" in cfg.space.searched()):
        raise ConfigError('[search] strategy = "hyperband" sets the epochs of each rung, but a '
                          'global model trains global_epochs: fix model = "local" in [model], '
                          "or use another strategy.")


def load_study_file(path: str | Path) -> StudyConfig:
    """Read and validate a TOML study file; every error is one line naming key and fix."""
    p = Path(path)
    if not p.exists():
        raise ConfigError(f"study file '{p}' does not exist: give the path of a .toml file.")
    if not p.is_file():
        raise ConfigError(f"study file '{p}' is not a regular file (a folder?): give the path "
                          "of a .toml file.")
    try:
        doc = tomllib.loads(p.read_text())
    except RecursionError:
        raise ConfigError(f"study file '{p}' nests tables or arrays too deeply to read: a "
                          "study file needs two levels at most.") from None
    except OSError as exc:
        raise ConfigError(f"study file '{p}' cannot be read ({exc.strerror}).") from None
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


def may_impute(cfg: StudyConfig) -> bool:
    """Whether some configuration of the study imputes gaps (then data with gaps is read, and
    the configurations without imputation are infeasible on it, with that reason)."""
    if cfg.space == DEFAULT_SPACE and "impute" not in dict(cfg.fixed):
        return True  # the default space imputes data that has gaps (``fit_space``)
    fixed = dict(cfg.fixed).get("impute", "none")
    entry = dict(cfg.space.entries).get("impute")
    values = {fixed} if entry is None or entry.when else set()  # inactive: the fixed value
    if entry is not None:
        values |= set(getattr(entry, "values", ()) or (getattr(entry, "value", "none"),))
    return values != {"none"}
