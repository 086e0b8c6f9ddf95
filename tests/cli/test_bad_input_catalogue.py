"""Issue 22's catalogue of bad inputs (``_bad_cases.py``): panels, classification (texts,
token ids, ``.ts``), model directories of the three kinds with one field of ``model.json``,
``checksums.json`` or ``params.npz`` edited (the checksums recomputed), storages and workers.
Each is refused with exit code 2 and one whole sentence naming what the case expects, no
traceback, nothing on stdout, and nothing written, changed or removed in the folder it ran
in.

The three models are trained once for the module; the unedited copies must predict (exit 0)
with the same command line, so an edited copy is refused for its edit."""

from __future__ import annotations

import shutil

import pytest

from lstmtune.cli import main
from tests.cli._bad_cases import (
    CASES,
    DATA_FOR,
    Case,
    build_models,
    judge,
    run_case,
)


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    return build_models(tmp_path_factory.mktemp("catalogue-models"))


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_refused_in_one_line_and_nothing_written(case: Case, models, tmp_path, capsys):
    result = run_case(case, tmp_path / "case", models)
    if result.skipped:
        pytest.skip(result.skipped)
    problems = judge(result)
    leaked = capsys.readouterr()
    assert not problems, (problems, result.line or result.traceback[-2000:])
    assert not leaked.out.strip() and not leaked.err.strip(), leaked


@pytest.mark.parametrize("kind", sorted(DATA_FOR))
def test_the_unedited_models_predict(kind, models, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    shutil.copytree(getattr(models, kind), tmp_path / "m")
    code = main(["predict", "m", *DATA_FOR[kind](tmp_path, models), "--json"])
    err = capsys.readouterr().err
    assert code == 0, err


def test_the_catalogue_is_large_and_covers_every_group():
    groups = {c.group for c in CASES}
    assert len(CASES) >= 130 and len({c.name for c in CASES}) == len(CASES)
    assert groups >= {"panel", "panel-predict", "classify", "classify-predict",
                      "model-forecaster", "model-panel", "model-classifier", "storage"}


def test_judge_finds_what_is_wrong(tmp_path):
    """The judge itself: a good refusal passes, each defect is named."""
    from tests.cli._bad_cases import Outcome

    case = Case("x", "g", lambda tmp, m: [], expect=("horizon",))
    good = Outcome(case, code=2, err="lstmtune: error: --horizon 0 is below 1: give 1 or "
                                     "more.\n")
    assert judge(good) == []
    assert "exit code 0" in judge(Outcome(case, code=0, err=good.err))
    assert "2 stderr lines" in judge(Outcome(case, code=2, err=good.err + "more\n"))
    assert "not a whole sentence" in judge(Outcome(case, code=2,
                                                   err="lstmtune: error: horizon is\n"))
    assert any("does not name" in p for p in judge(Outcome(
        case, code=2, err="lstmtune: error: wrong thing.\n")))
    assert any("characters" in p for p in judge(Outcome(
        case, code=2, err="lstmtune: error: horizon " + "x" * 400 + ".\n")))
    assert any("left behind +out" in p for p in judge(Outcome(
        case, code=2, err=good.err, changed=["+out"])))
    assert any("raised" in p for p in judge(Outcome(
        case, traceback="Traceback (most recent call last):\nValueError: boom\n")))
    assert "printed on stdout" in judge(Outcome(case, code=2, err=good.err, out="table"))
