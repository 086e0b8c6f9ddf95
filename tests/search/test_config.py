"""Study files and spaces: every error is one line naming the key, the rule, the value and a
fix, raised before anything runs."""

from __future__ import annotations

import pytest

from lstmtune.errors import ConfigError
from lstmtune.search import DEFAULT_SPACE, load_study_file, parse_space, study_from_dict
from lstmtune.search._config import may_impute


def test_a_full_study_file(tmp_path):
    (tmp_path / "s.toml").write_text('''
[data]
source = "shampoo"
test_size = 12
val_size = 6
folds = 2
season = 4
[preprocessing]
difference = 1
[training]
epochs = 100
[search]
strategy = "random"
trials = 7
aggregate = "mean+std"
risk = 0.5
[space]
units = { int = [1, 16], log = true }
optimizer = { choice = ["adam", "sgd"] }
momentum = { float = [0.0, 0.9], when = { optimizer = "sgd" } }
lags = 3
''')
    cfg = load_study_file(tmp_path / "s.toml")
    assert cfg.data.folds == 2 and cfg.search.trials == 7 and cfg.search.risk == 0.5
    assert dict(cfg.fixed) == {"difference": 1, "epochs": 100, "timesteps": 3}
    assert list(cfg.space.distributions()) == ["units", "optimizer", "momentum"]
    assert cfg.data.season == 4 and not may_impute(cfg)


def test_data_with_gaps_is_read_when_some_configuration_imputes():
    def cfg(extra):
        return study_from_dict({"space": {"units": {"int": [1, 4]}, **extra.get("space", {})},
                                "preprocessing": extra.get("preprocessing", {})})

    assert not may_impute(cfg({}))
    assert may_impute(cfg({"preprocessing": {"impute": "time"}}))
    assert may_impute(cfg({"space": {"impute": {"choice": ["none", "linear"]}}}))
    assert not may_impute(cfg({"space": {"impute": {"choice": ["none"]}}}))
    # a conditional entry leaves the fixed value where its condition does not hold
    assert may_impute(cfg({"preprocessing": {"impute": "linear"},
                           "space": {"scaler": {"choice": ["robust", "minmax"]},
                                     "impute": {"value": "none",
                                                "when": {"scaler": "robust"}}}}))


def test_a_study_stored_before_the_season_key_describes_itself_the_same():
    assert "season" not in study_from_dict({}).to_dict()["data"]  # resumes an older study
    assert study_from_dict({"data": {"season": 4}}).to_dict()["data"]["season"] == 4


def test_conditional_entries_and_grid():
    space = parse_space({"optimizer": {"choice": ["adam", "sgd"]},
                         "momentum": {"choice": [0.0, 0.9], "when": {"optimizer": "sgd"}},
                         "units": {"int": [1, 3]}})
    grid = space.grid()
    assert len(grid) == 3 * (1 + 2)  # adam has no momentum; sgd has two
    assert {"optimizer": "adam", "units": 2} in grid
    assert {"optimizer": "sgd", "momentum": 0.9, "units": 1} in grid


def test_default_space_is_documented_and_valid():
    assert {"units", "learning_rate", "dropout", "timesteps"} <= set(DEFAULT_SPACE.names)


@pytest.mark.parametrize("doc,fragments", [
    ({"space": {"unitz": {"int": [1, 4]}}}, ["unknown hyperparameter 'unitz'", "'units'"]),
    ({"space": {"units": {"int": [8, 2]}}}, ["`low < high` must hold", "low=8, high=2"]),
    ({"space": {"learning_rate": {"float": [0.0, 0.1], "log": True}}},
     ["learning_rate", "out of range"]),
    ({"space": {"units": {"int": [1, 4], "size": 3}}}, ["unknown key(s) ['size']"]),
    ({"space": {"units": {"int": [1, 4], "choice": [1]}}}, ["exactly one of"]),
    ({"space": {"momentum": {"float": [0, 0.9], "when": {"optimizer": "sgd"}},
                "optimizer": {"choice": ["sgd"]}}}, ["must be an entry listed before"]),
    ({"space": {"units": 4}}, ["nothing to search"]),
    ({"search": {"strategy": "tpee"}, "space": {"units": {"int": [1, 4]}}},
     ["strategy = 'tpee'", "did you mean 'tpe'"]),
    ({"search": {"trails": 5}}, ["unknown key 'trails'", "did you mean 'trials'"]),
    ({"search": {"pruner": "wilcoxn"}}, ["pruner = 'wilcoxn'", "wilcoxon",
                                         "did you mean 'wilcoxon'"]),
    ({"search": {"pruner": "wilcoxon", "p_threshold": 1.5}}, ["p_threshold = 1.5", "(0, 1)"]),
    ({"search": {"pruner": "wilcoxon", "p_threshold": "0.1"}},
     ["p_threshold = '0.1'", "number"]),
    ({"search": {"pruner": "median", "p_threshold": 0.05}},
     ["p_threshold only applies to pruner = 'wilcoxon'", "pruner = 'median'"]),
    ({"search": {"trials": 0}}, ["trials = 0", "from 1 to 100000"]),
    ({"search": {"repeats": "3"}}, ["repeats = '3'", "whole number"]),
    ({"dataa": {}}, ["unknown key 'dataa'"]),
    ({"model": {"units": 4}, "space": {"units": {"int": [1, 4]}}},
     ["units is both fixed and searched"]),
    ({"search": {"strategy": "hyperband"}, "space": {"epochs": {"choice": [10, 20]}}},
     ["hyperband chooses the epochs"]),
    ({"data": {"val_size": 10, "folds": 3}}, ["val_size = 10", "folds = 3"]),
    ({"training": {"optimizer": "adamw"}}, ["[training] optimizer", "adam, rmsprop, sgd"]),
])
def test_errors_are_one_line_and_name_the_fix(doc, fragments):
    with pytest.raises(ConfigError) as exc:
        study_from_dict(doc)
    msg = str(exc.value)
    assert "\n" not in msg
    for f in fragments:
        assert f in msg, (f, msg)


def test_toml_syntax_error_names_the_file(tmp_path):
    (tmp_path / "bad.toml").write_text("[search\ntrials = 3\n")
    with pytest.raises(ConfigError, match="bad.toml' is not valid TOML"):
        load_study_file(tmp_path / "bad.toml")
    with pytest.raises(ConfigError, match="does not exist"):
        load_study_file(tmp_path / "missing.toml")


def test_the_default_space_is_fitted_to_the_data():
    from lstmtune.data import load
    from lstmtune.search._preflight import _candidates, fit_space, infeasible, preflight

    ts = load("shampoo")  # 36 months: test 12, validation 12 -> a training part of 12 points
    cfg0 = study_from_dict({"data": {"source": "shampoo"}})
    cfg, note = fit_space(ts, cfg0)
    # 12 training points, 1 consumed by differencing, 1 target: at most 10 lags (by hand)
    assert dict(cfg.space.entries)["timesteps"].high == 10
    assert "timesteps 1–10" in note
    assert cfg.to_dict() == cfg0.to_dict()  # stored as written: earlier studies resume
    assert fit_space(ts, cfg) == (cfg, None)  # fitting twice changes nothing
    folds = preflight(ts, cfg)
    assert not [c for c in _candidates(cfg) if infeasible(c, folds)]
    # before fitting, draws with 11 or 12 lags could not be framed
    assert infeasible({**_candidates(cfg)[0], "timesteps": 11, "difference": 1}, folds)
    # a user's own space is never changed
    own = study_from_dict({"space": {"timesteps": {"int": [1, 12]}}})
    assert fit_space(ts, own) == (own, None)


def test_a_range_without_a_step_gives_every_integer_or_a_small_default_grid():
    def grid(entry):
        return parse_space({"dropout": entry}).searched()["dropout"].grid("dropout")

    assert grid({"float": [0.0, 0.5]}) == [0.0, 0.5]  # a float range: its two ends
    assert grid({"float": [0.0, 0.5], "step": 0.25}) == [0.0, 0.25, 0.5]  # a step: every one
    units = parse_space({"units": {"int": [1, 64], "log": True}}).searched()["units"]
    assert units.grid("units") == list(range(1, 65))  # as before: every integer
    # the small grid, used only when the whole grid would be too large
    assert units.grid("units", small=True) == [1, 8, 64]  # geometric middle on a log range
    lags = parse_space({"timesteps": {"int": [1, 10]}}).searched()["timesteps"]
    assert lags.grid("timesteps", small=True) == [1, 6, 10]  # (1 + 10) / 2: 6 (half to even)
    few = parse_space({"timesteps": {"int": [2, 6]}}).searched()["timesteps"]
    assert few.grid("timesteps", small=True) == [2, 3, 4, 5, 6]  # at most 5 values: all
    # a user's grid that fits keeps every integer; one that does not gets the small grid
    from lstmtune.search._space import grid_values

    assert grid_values(parse_space({"units": {"int": [1, 64]}, "timesteps": {"int": [1, 10]}}
                                   ))[2] is False


def test_grid_works_on_the_default_space_and_says_its_size():
    from lstmtune.data import load
    from lstmtune.search._preflight import fit_space

    cfg, _ = fit_space(load("shampoo"), study_from_dict({"search": {"strategy": "grid"}}))
    grid = cfg.space.grid()
    # units 3 x layers 2 x timesteps 3 x dropout 2 x recurrent_dropout 2 x learning_rate 2 x
    # batch_size 3 x epochs 3 x (adam, rmsprop, sgd x momentum 2) 4 x activation 2 x l2 2 x
    # difference 2 x scaler 2, counted by hand
    assert len(grid) == 3 * 2 * 3 * 2 * 2 * 2 * 3 * 3 * 4 * 2 * 2 * 2 * 2 == 82_944
    assert sum("momentum" in p for p in grid) == len(grid) // 2  # sgd: 2 of the 4 optimizers


@pytest.mark.parametrize("name", ["shampoo", "sunspots", "nile", "co2", "airpassengers",
                                  "amazon", "bitcoin"])
def test_no_configuration_of_the_default_space_is_infeasible_on_a_builtin(name):
    """Every combination of the values that decide whether a configuration can be framed
    (lags, differencing, scaler, batch size; the rest do not touch the data), so no strategy,
    grid included, can draw an infeasible trial; data with gaps gets imputation."""
    import itertools

    from lstmtune.data import BUILTINS, load
    from lstmtune.search._preflight import fit_space, infeasible, preflight

    ds = BUILTINS[name]
    if not ds.available:
        pytest.skip(f"{ds.requires} is not installed")
    ts = load(name, allow_missing=ds.gaps)
    cfg, note = fit_space(ts, study_from_dict({"data": {"source": name}}))
    if ds.gaps:
        assert dict(cfg.fixed)["impute"] == "linear" and "imputed" in note
    folds = preflight(ts, cfg)
    entries = dict(cfg.space.entries)
    lags = entries["timesteps"]
    framing = {"timesteps": range(int(lags.low), int(lags.high) + 1),
               "difference": entries["difference"].values, "scaler": entries["scaler"].values,
               "batch_size": entries["batch_size"].values}
    bad = [combo for combo in itertools.product(*framing.values())
           if infeasible({**dict(cfg.fixed), **dict(zip(framing, combo, strict=True))}, folds,
                         cfg.task)]
    assert bad == []
