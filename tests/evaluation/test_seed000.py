"""Seed 000's stateful model on Shampoo: 30 repeats of 1 unit, batch 4, 1000 epochs."""

from __future__ import annotations

import numpy as np
import pytest

from lstmtune.data import Framing, Preprocessing, load, prepare
from lstmtune.engine import ModelSpec, TrainSpec
from lstmtune.evaluation import evaluate_baselines, fit_members

PUBLISHED_MEANS = (104.566259, 100.320203, 98.344696)  # the same configuration, three studies


def _tutorial(epochs: int, repeats: int, record: bool = False):
    p = prepare(load("shampoo"), test_size=12,
                preprocessing=Preprocessing(difference=1, scale_on="windows"),
                framing=Framing(lags=1, horizon=1))
    spec = ModelSpec(units=(1,), stateful=True, recurrent_activation="sigmoid")
    tspec = TrainSpec(epochs=epochs, batch_size=4, shuffle=False, record_predictions=record)
    return fit_members(p, spec, tspec, seeds=range(repeats))


def test_short_tutorial_run_table_and_histories():
    run = _tutorial(epochs=20, repeats=3, record=True)
    assert len(run.folds[0].train) == 20  # train[2:]
    assert list(run.table.columns[:4]) == ["member", "seed", "fold", "status"]
    assert (run.table["status"] == "complete").all()
    hist = run.history("test")
    assert hist.shape == (3, 20)
    np.testing.assert_allclose(hist[:, -1], run.table["test_rmse"], rtol=1e-6)
    np.testing.assert_allclose(run.history("train")[:, -1], run.table["train_rmse"], rtol=1e-6)


@pytest.mark.slow
def test_seed_000_statistics_land_in_the_published_range():
    run = _tutorial(epochs=1000, repeats=30)
    scores = run.table["test_rmse"].to_numpy()
    assert np.isfinite(scores).all() and len(scores) == 30
    assert 90 <= scores.mean() <= 110, scores.mean()
    assert min(PUBLISHED_MEANS) * 0.85 <= scores.mean() <= max(PUBLISHED_MEANS) * 1.15
    assert scores.mean() < evaluate_baselines(load("shampoo").y, test_size=12)["persistence"][
        "rmse"]


def test_folds_are_members_of_one_population():
    """Two walk-forward folds (test windows ending 6 points apart) in one population equal the
    same folds trained separately."""
    ts = load("shampoo")
    prep = Preprocessing(difference=1)
    folds = [prepare(ts.head(30), test_size=6, val_size=6, preprocessing=prep),
             prepare(ts, test_size=6, val_size=6, preprocessing=prep)]
    spec, tspec = ModelSpec(units=(2,)), TrainSpec(epochs=15, batch_size=4)
    both = fit_members(folds, spec, tspec, seeds=[0, 1, 0, 1], folds=[0, 0, 1, 1])
    assert list(both.table["fold"]) == [0, 0, 1, 1]
    for k in (0, 1):
        alone = fit_members(folds[k], spec, tspec, seeds=[0, 1])
        np.testing.assert_allclose(both.table["val_rmse"][both.fold == k],
                                   alone.table["val_rmse"], rtol=1e-4)
        np.testing.assert_allclose(both.scores("test")[both.fold == k],
                                   alone.scores("test"), rtol=1e-4)
