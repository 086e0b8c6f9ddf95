from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import optuna
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from lstmtune.errors import ConfigError
from lstmtune.search._gp import GPSampler, UnitEncoding, expected_improvement

optuna.logging.set_verbosity(optuna.logging.WARNING)

SPACE = {"lr": FloatDistribution(1e-4, 1e-1, log=True),
         "units": IntDistribution(4, 64, step=4),
         "act": CategoricalDistribution(["tanh", "relu", "elu"])}


def suggest(trial: optuna.Trial) -> dict:
    return {"lr": trial.suggest_float("lr", 1e-4, 1e-1, log=True),
            "units": trial.suggest_int("units", 4, 64, step=4),
            "act": trial.suggest_categorical("act", ["tanh", "relu", "elu"])}


def objective(trial: optuna.Trial) -> float:
    p = suggest(trial)
    return ((math.log10(p["lr"]) + 2.5) ** 2 + ((p["units"] - 36) / 32) ** 2
            + {"tanh": 0.0, "relu": 0.3, "elu": 0.6}[p["act"]] + 0.1)


def check_conformance(make: Callable[[int], optuna.samplers.BaseSampler], tmp_path: Path, *,
                      n_trials: int, stop_at: int, batch_after: int) -> None:
    """Bounds, determinism under a seed, a batch of 5 distinct candidates, SQLite resume."""
    study = optuna.create_study(sampler=make(0))
    study.optimize(objective, n_trials=n_trials)
    for t in study.trials:
        assert 1e-4 <= t.params["lr"] <= 1e-1
        assert type(t.params["units"]) is int and t.params["units"] in range(4, 65, 4)
        assert t.params["act"] in ("tanh", "relu", "elu")
    twin = optuna.create_study(sampler=make(0))
    twin.optimize(objective, n_trials=n_trials)
    assert [t.params for t in twin.trials] == [t.params for t in study.trials]

    batch = optuna.create_study(sampler=make(1))
    batch.optimize(objective, n_trials=batch_after)
    asked = [batch.ask() for _ in range(5)]
    params = [suggest(t) for t in asked]
    assert len({tuple(p.values()) for p in params}) == 5
    for t in asked:
        batch.tell(t, objective(t))

    url = "sqlite:///" + str(tmp_path / "study.db")
    first = optuna.create_study(storage=optuna.storages.RDBStorage(url), study_name="c",
                                sampler=make(0))
    first.optimize(objective, n_trials=stop_at)
    resumed = optuna.load_study(study_name="c", storage=optuna.storages.RDBStorage(url),
                                sampler=make(0))
    resumed.optimize(objective, n_trials=n_trials - stop_at)
    assert [t.number for t in resumed.trials] == list(range(n_trials))
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in resumed.trials)
    # the seed fixes each trial's draw, so the resumed study is the uninterrupted one
    assert [t.params for t in resumed.trials] == [t.params for t in study.trials]


def test_conformance(tmp_path: Path) -> None:
    check_conformance(lambda s: GPSampler(seed=s, n_startup_trials=5, n_candidates=300),
                      tmp_path, n_trials=10, stop_at=7, batch_after=5)


def test_expected_improvement_matches_the_hand_formula() -> None:
    def hand(mu: float, sigma: float, best: float, xi: float) -> float:
        if sigma == 0:
            return max(best - mu - xi, 0.0)
        z = (best - mu - xi) / sigma
        cdf = 0.5 * (1 + math.erf(z / math.sqrt(2)))
        pdf = math.exp(-z * z / 2) / math.sqrt(2 * math.pi)
        return (best - mu - xi) * cdf + sigma * pdf

    mu = np.array([0.5, 1.0, 2.0, 0.2, 3.0])
    sigma = np.array([0.2, 1.0, 0.5, 0.0, 0.0])
    got = expected_improvement(mu, sigma, best=1.0, xi=0.1)
    want = [hand(m, s, 1.0, 0.1) for m, s in zip(mu, sigma, strict=True)]
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)
    assert expected_improvement(np.array([0.0]), np.array([1.0]), 0.0)[0] == pytest.approx(
        1 / math.sqrt(2 * math.pi))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0.0, 1.0), min_size=5, max_size=5))
def test_encoding_decodes_every_point_to_a_valid_value_and_snaps_to_it(x: list[float]) -> None:
    space = {**SPACE, "drop": FloatDistribution(0.0, 0.5, step=0.1)}
    enc = UnitEncoding(space)
    assert enc.dim == 1 + 1 + 3 + 1
    raw = np.array([*x[:2], x[2], x[3], x[4] / 2, x[4]])
    p = enc.decode(raw)
    for name, d in space.items():
        assert d._contains(d.to_internal_repr(p[name]))
    assert p["drop"] in (0.0, 0.1, 0.2, 0.30000000000000004, 0.4, 0.5)
    assert enc.decode(enc.encode(p)) == p
    snapped = enc.snap(raw[None])[0]
    assert enc.decode(snapped) == p
    np.testing.assert_allclose(snapped, enc.encode(p), atol=1e-12)


def test_int_grid_points_get_equal_shares_of_the_unit_interval() -> None:
    enc = UnitEncoding({"units": IntDistribution(4, 12, step=4)})
    u = np.linspace(0, 1, 30001)[:, None]
    values = [enc.decode(row)["units"] for row in u]
    counts = np.unique(values, return_counts=True)[1]
    np.testing.assert_allclose(counts / len(values), 1 / 3, atol=1e-3)


def _quadratic(trial: optuna.Trial) -> float:
    x, y = trial.suggest_float("x", 0, 1), trial.suggest_float("y", 0, 1)
    return (x - 0.3) ** 2 + (y - 0.7) ** 2


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gp_beats_random_search_on_a_smooth_function(seed: int) -> None:
    gp = optuna.create_study(sampler=GPSampler(seed=seed, n_startup_trials=8))
    gp.optimize(_quadratic, n_trials=20)
    rs = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    rs.optimize(_quadratic, n_trials=20)
    assert gp.best_value < rs.best_value / 10
    # the startup trials are the random sampler's own draws
    assert [t.params for t in gp.trials[:8]] == [t.params for t in rs.trials[:8]]


def test_maximisation_is_minimisation_of_the_negated_values() -> None:
    sampler = GPSampler(seed=0, n_startup_trials=5, n_candidates=500)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(lambda t: -_quadratic(t), n_trials=15)
    assert study.best_value > -1e-3


def test_a_batch_is_spread_out_by_the_constant_liar() -> None:
    study = optuna.create_study(sampler=GPSampler(seed=3, n_startup_trials=8))
    study.optimize(_quadratic, n_trials=10)
    asked = [study.ask() for _ in range(4)]
    xy = np.array([[t.suggest_float("x", 0, 1), t.suggest_float("y", 0, 1)] for t in asked])
    gaps = np.linalg.norm(xy[:, None] - xy[None], axis=2)[np.triu_indices(4, 1)]
    assert gaps.min() > 0.01


def test_failed_trials_and_equal_values_leave_it_random() -> None:
    def flat(trial: optuna.Trial) -> float:
        suggest(trial)
        if trial.number % 3 == 0:
            raise optuna.TrialPruned()
        return 1.0

    gp = optuna.create_study(sampler=GPSampler(seed=5, n_startup_trials=2))
    gp.optimize(flat, n_trials=12)
    rs = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=5))
    rs.optimize(flat, n_trials=12)
    assert [t.params for t in gp.trials] == [t.params for t in rs.trials]


@pytest.mark.parametrize("kwargs", [{"n_startup_trials": -1}, {"n_candidates": 0},
                                    {"xi": -0.1}, {"seed": 1.5}])
def test_bad_arguments_raise_config_error(kwargs: dict) -> None:
    with pytest.raises(ConfigError, match=next(iter(kwargs))):
        GPSampler(**kwargs)


def test_multi_objective_studies_are_refused() -> None:
    study = optuna.create_study(directions=["minimize", "minimize"], sampler=GPSampler(seed=0))
    with pytest.raises(ConfigError, match="one objective"):
        study.optimize(lambda t: (t.suggest_float("x", 0, 1), 1.0), n_trials=2)
