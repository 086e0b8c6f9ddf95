"""`predict`, `dashboard` and `report` from the command line: outputs equal the library's,
bad input is one line and exit code 2."""

from __future__ import annotations

import io
import json
import sys
import types

import numpy as np
import pandas as pd
import pytest

from lstmtune.cli import main
from lstmtune.data import load
from lstmtune.model import fit_ensemble, save_model


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    ts = load("shampoo")
    ens, _ = fit_ensemble(ts, {"units": 2, "epochs": 40}, repeats=3, seed=0, holdout=12)
    return ens, save_model(ens, tmp_path_factory.mktemp("m") / "model")


def test_predict_json_equals_the_library(model, capsys):
    ens, path = model
    assert main(["predict", str(path), "shampoo", "--horizon", "6", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    want = ens.forecast(load("shampoo"), 6)
    np.testing.assert_allclose([r["forecast"] for r in out["forecast"]], want["forecast"])
    np.testing.assert_allclose([r["high"] for r in out["forecast"]], want["high"])
    assert [r["time"] for r in out["forecast"]][0] == "1904-01-01"
    assert out["members"] == 3 and np.shape(out["member_forecasts"]) == (3, 6)
    assert "initialisation" in out["interval_note"]


def test_predict_csv_and_table(model, capsys):
    _, path = model
    assert main(["predict", str(path), "shampoo", "--horizon", "2", "--csv",
                 "--point", "median"]) == 0
    table = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert list(table.columns[:5]) == ["time", "step", "forecast", "low", "high"]
    np.testing.assert_allclose(table["forecast"], table["median"])
    assert main(["predict", str(path), "shampoo", "--horizon", "2"]) == 0
    out = capsys.readouterr().out
    assert "1904-02-01" in out and "not a prediction interval" in " ".join(out.split())


def test_a_tampered_model_is_one_line_and_exit_2(model, tmp_path, capsys):
    import shutil

    _, path = model
    copy = shutil.copytree(path, tmp_path / "model")
    raw = bytearray((copy / "params.npz").read_bytes())
    raw[-100] ^= 0xFF
    (copy / "params.npz").write_bytes(bytes(raw))
    assert main(["predict", str(copy), "shampoo", "--horizon", "6"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "failed its integrity check: params.npz has SHA-256" in err


@pytest.mark.parametrize("argv, message", [
    (["--horizon", "0"], "argument --horizon: must be a whole number from 1 to 1000, got 0"),
    (["--horizon", "10000000"], "from 1 to 1000, got 10000000"),
    (["--level", "1.5"], "argument --level: must be a number > 0 and < 1, got 1.5"),
])
def test_predict_argument_errors(model, capsys, argv, message):
    _, path = model
    assert main(["predict", str(path), "shampoo", *argv]) == 2
    assert message in capsys.readouterr().err


def test_report_and_dashboard_need_a_study(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    assert "has no study.db" in capsys.readouterr().err
    assert main(["dashboard", str(tmp_path)]) == 2
    assert "has no study.db" in capsys.readouterr().err


@pytest.fixture()
def storage(tmp_path):
    import optuna

    url = f"sqlite:///{tmp_path / 'study.db'}"
    optuna.create_study(storage=url, study_name="s").optimize(lambda t: t.suggest_float(
        "x", 0, 1), n_trials=2)
    return tmp_path, url


def test_dashboard_says_how_to_install_it(storage, capsys, monkeypatch):
    folder, _ = storage
    monkeypatch.setitem(sys.modules, "optuna_dashboard", None)  # import fails
    assert main(["dashboard", str(folder)]) == 2
    assert "pip install optuna-dashboard" in capsys.readouterr().err


def test_dashboard_serves_the_studys_storage(storage, monkeypatch, capsys):
    folder, url = storage
    calls = []
    fake = types.SimpleNamespace(run_server=lambda st, host, port: calls.append((st, host,
                                                                                 port)))
    monkeypatch.setitem(sys.modules, "optuna_dashboard", fake)
    assert main(["dashboard", str(folder), "--port", "9999"]) == 0
    st, host, port = calls[0]
    assert (host, port) == ("127.0.0.1", 9999)
    assert [s.study_name for s in st.get_all_studies()] == ["s"]
    assert "http://127.0.0.1:9999/dashboard/" in capsys.readouterr().err
