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
    assert len(run.train) == 20  # train[2:]
    assert list(run.table.columns[:3]) == ["member", "seed", "status"]
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
