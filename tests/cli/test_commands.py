from __future__ import annotations

import json

import pytest

from lstmtune import __version__
from lstmtune.cli import main


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"lstmtune {__version__}"


def test_help_lists_the_subcommands(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    for cmd in ("datasets", "baseline", "prepare", "demo"):
        assert cmd in out


@pytest.mark.parametrize("command", ["tune", "experiment"])
def test_help_lists_every_hyperparameter_with_its_default(command, capsys):
    from lstmtune.experiment import PARAMS

    assert main([command, "--help"]) == 0
    out = capsys.readouterr().out
    for name in PARAMS:
        assert f"\n  {name} (default " in out, name
    assert "indicators (default none): technical indicators" in out
    assert "shuffle (default true)" in out


def test_baseline_json_reproduces_seed_000_persistence(capsys):
    assert main(["baseline", "shampoo", "--test-size", "12", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"persistence", "seasonal_naive", "mean", "drift"}
    assert round(out["persistence"]["rmse"], 3) == 136.761
    assert set(out["drift"]) == {"rmse", "mae", "mape", "smape", "mase"}


def test_baseline_table(capsys):
    assert main(["baseline", "shampoo"]) == 0
    assert "136.761" in capsys.readouterr().out


def test_datasets_json(capsys):
    assert main(["datasets", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["shampoo"]["length"] == 36 and rows["shampoo"]["freq"] == "MS"


def test_prepare_json_shapes(capsys):
    assert main(["prepare", "shampoo", "--lags", "3", "--val-size", "6", "--fourier", "12:1",
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["splits"]["train"]["X_shape"] == [14, 3, 3]
    assert out["splits"]["validation"]["samples"] == 6
    assert out["splits"]["test"]["y_shape"] == [12, 1]


def test_two_column_file_needs_no_options(tmp_path, capsys):
    (tmp_path / "two.csv").write_text("when,amount\n" + "".join(
        f"2020-{m:02d}-01,{m * 2 % 7 + 1}\n" for m in range(1, 13)))
    assert main(["baseline", str(tmp_path / "two.csv"), "--test-size", "3", "--json"]) == 0
    assert "persistence" in json.loads(capsys.readouterr().out)


@pytest.mark.slow
def test_demo_writes_a_report(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path / "demo")]) == 0
    out = capsys.readouterr().out
    assert "136.761" in out and "report.html" in out and "Next 6 months" in out
    page = (tmp_path / "demo" / "report.html").read_text()
    assert 'id="forecast"' in page and "persistence" in page
    assert (tmp_path / "demo" / "model" / "params.npz").exists()
