"""``[search] ensemble_top = K``: the K best configurations on validation, each retrained as
the best is, pooled into one forecast scored on test and saved as one model.  Checked
against independent references: the trials are the K best by hand from the study's values,
the pooled score is the median of ``fit_ensemble`` runs of those configurations (same
seeds) scored by hand, and the saved committee forecasts the median of its configurations'
own forecasts."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from lstmtune.cli import main
from lstmtune.data import load
from lstmtune.errors import ConfigError
from lstmtune.experiment import complete
from lstmtune.model import Committee, Ensemble, ModelError, fit_ensemble, load_model, save_model
from lstmtune.search import study_from_dict, tune
from lstmtune.search._final import FINAL

DOC = {"data": {"source": "shampoo", "test_size": 6, "val_size": 6, "folds": 1},
       "training": {"epochs": 15, "batch_size": 4},
       "search": {"strategy": "random", "trials": 4, "repeats": 1, "batch": 4,
                  "final_repeats": 3, "ensemble_top": 2, "combine": "median"},
       "space": {"units": {"int": [1, 6]}, "learning_rate": {"float": [0.001, 0.05]}}}


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    folder = tmp_path_factory.mktemp("committee")
    ts = load("shampoo")
    cfg = study_from_dict(DOC)
    return ts, cfg, tune(ts, cfg, storage=f"sqlite:///{folder / 's.db'}", study_name="s")


def test_the_two_best_configurations_are_pooled_and_scored_by_hand(study):
    ts, cfg, r = study
    done = sorted((t for t in r.study.trials if t.value is not None), key=lambda t: t.value)
    top = r.test["top"]
    assert top["trials"] == [done[0].number, done[1].number] and top["k"] == 2
    pooled = []
    for t in done[:2]:  # each retrained on train + validation with the final seeds
        config = complete({**dict(cfg.fixed), **t.params})
        _, run = fit_ensemble(ts, config, repeats=3, seed=cfg.search.seed + 10_000,
                              holdout=6)
        pooled.append(run.forecasts("test")[:, :, 0])
    point = np.median(np.concatenate(pooled), axis=0)  # 6 members; one step ahead
    rmse = math.sqrt(np.mean((point - ts.y[-6:]) ** 2))
    assert top["members"] == 6 and top["value"] == pytest.approx(rmse, rel=1e-5)
    v = r.test["verdict"]
    assert v["lstm"] == top["value"] and "6 members of its 2 best configurations" in v["text"]
    assert r.study.user_attrs[FINAL]["top"]["trials"] == top["trials"]


def test_the_saved_committee_forecasts_the_median_of_its_configurations(study, tmp_path):
    ts, _, r = study
    model = r.model
    assert isinstance(model, Committee) and len(model.ensembles) == 2
    assert model.repeats == 6 and model.point == "median"
    assert all(e.info["refit"] is True and e.info["n_fit"] == 36 for e in model.ensembles)
    assert [e.info["trial"] for e in model.ensembles] == r.test["top"]["trials"]
    each = np.concatenate([e.member_forecasts(ts, 2) for e in model.ensembles])
    fc = model.forecast(ts, 2)
    np.testing.assert_allclose(fc["forecast"], np.median(each, axis=0))
    save_model(model, tmp_path / "m")
    back = load_model(tmp_path / "m")
    assert isinstance(back, Committee) and all(isinstance(e, Ensemble) for e in back.ensembles)
    np.testing.assert_allclose(back.forecast(ts, 2)["forecast"], fc["forecast"], rtol=1e-6)


def test_predict_reads_a_committee(study, tmp_path, capsys):
    _, _, r = study
    save_model(r.model, tmp_path / "m")
    assert main(["predict", str(tmp_path / "m"), "shampoo", "--horizon", "2", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["point"] == "median" and doc["members"] == 6 and len(doc["forecast"]) == 2


@pytest.mark.parametrize("edit, message", [
    (lambda d: d.update(configurations=["config-0", "../x"]), "'configurations' must list"),
    (lambda d: d.update(configurations=[]), "'configurations' must list"),
    (lambda d: d.update(configurations=["config-0", "config-0"]), "'configurations' must list"),
])
def test_a_changed_committee_file_is_refused(study, tmp_path, edit, message):
    from lstmtune.model._committee import load_committee

    _, _, r = study
    path = save_model(r.model, tmp_path / "m")
    doc = json.loads((path / "model.json").read_text())
    edit(doc)
    with pytest.raises(ModelError, match=message):
        load_committee(path, doc)


def test_a_changed_configuration_fails_the_integrity_check(study, tmp_path):
    _, _, r = study
    path = save_model(r.model, tmp_path / "m")
    (path / "config-1" / "model.json").write_text(
        (path / "config-1" / "model.json").read_text().replace('"units"', '"units" '))
    with pytest.raises(ModelError, match="config-1' failed its integrity check"):
        load_model(path)


def test_ensemble_top_applies_to_one_series():
    with pytest.raises(ConfigError, match="ensemble_top = 3 .* a panel study saves its best"):
        study_from_dict({"data": {"task": "panel", "source": "m1_yearly"},
                         "search": {"ensemble_top": 3}})
    with pytest.raises(ConfigError, match=r"\[search\] ensemble_top = 0: must be a whole "
                                          r"number from 1 to 20"):
        study_from_dict({**DOC, "search": {"ensemble_top": 0}})


def test_with_one_configuration_the_best_alone_is_saved():
    ts = load("shampoo")
    doc = {**DOC, "search": {**DOC["search"], "trials": 1, "batch": 1, "ensemble_top": 3}}
    r = tune(ts, study_from_dict(doc))
    assert isinstance(r.model, Ensemble) and r.test["top"]["k"] == 1
    assert "best configurations" not in r.test["verdict"]["text"]
    assert "the median of its 3 members' forecasts" in r.test["verdict"]["text"]


def test_the_python_forecaster_refuses_a_committee(study, tmp_path):
    from lstmtune.model import LSTMForecaster

    _, _, r = study
    save_model(r.model, tmp_path / "m")
    with pytest.raises(ModelError, match="holds a committee of a study's best configurations"):
        LSTMForecaster.load(tmp_path / "m")
    save_model(r.model.ensembles[0], tmp_path / "one")
    assert LSTMForecaster.load(tmp_path / "one").point == "median"  # the study's combine


def test_a_saved_level_must_agree_with_the_configuration(tmp_path):
    import hashlib

    ts = load("shampoo")
    ens, _ = fit_ensemble(ts, {"calendar": "month", "epochs": 2, "timesteps": 3},
                          repeats=1, seed=0, holdout=6)
    path = save_model(ens, tmp_path / "m")
    doc = json.loads((path / "model.json").read_text())
    doc["config"]["window_norm"] = doc["spec"]["window_norm"] = "level"  # the month column
    (path / "model.json").write_text(json.dumps(doc))  # would be read as the level
    sums = {n: hashlib.sha256((path / n).read_bytes()).hexdigest()
            for n in ("model.json", "params.npz")}
    (path / "checksums.json").write_text(json.dumps({"sha256": sums}))
    with pytest.raises(ModelError, match="framing.level = False disagrees with "
                                         "config.window_norm == 'level' = True"):
        load_model(path)
