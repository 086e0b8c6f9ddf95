"""Classification from the command line, as a user runs it: a study on a small review table
(tune, its report in Chromium, predict on new texts, resume), compare with the GA variants,
a numeric UCR study, and every bad input refused in one line with exit code 2 and nothing
written."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from lstmtune.cli import main
from tests._browser import artifacts_dir, browser_fixture  # noqa: F401 (fixture "browser")

POS = ["a great and moving film", "loved every minute", "great cast and fun", "moving fun"]
NEG = ["a dull boring mess", "dull and far too long", "boring film", "a mess"]

STUDY = """
[data]
task = "classify"
source = "reviews.csv"
text_col = "review"
label_col = "sentiment"
test_size = 0.25
val_size = 0.25
[model]
vocab_size = 30
embed_dim = 4
[training]
batch_size = 8
[search]
strategy = "random"
trials = 3
repeats = 2
batch = 3
final_repeats = 2
[space]
units = { int = [2, 6] }
learning_rate = { float = [0.01, 0.05], log = true }
epochs = { int = [2, 4] }
input_length = { int = [3, 6] }
"""

SECTIONS = ["summary", "verdict", "leaderboard", "best", "classification", "curves", "repeats",
            "history", "importance", "parallel", "members"]


def _corpus(path, n=48, seed=0):
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for i in range(n):
        words = POS if i % 2 else NEG
        texts.append(" ".join(rng.choice(" ".join(words).split(), size=rng.integers(2, 7))))
        labels.append("pos" if i % 2 else "neg")
    pd.DataFrame({"review": texts, "sentiment": labels}).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def tuned(tmp_path_factory):
    root = tmp_path_factory.mktemp("classify")
    _corpus(root / "reviews.csv")
    (root / "reviews.toml").write_text(STUDY)
    code = main(["tune", str(root / "reviews.toml"), "--out", str(root / "out"), "--json"])
    return root, code


def test_tune_a_review_classifier(tuned, capsys):
    root, code = tuned
    assert code == 0
    folder = root / "out" / "reviews"
    assert {p.name for p in folder.iterdir()} >= {"study.db", "model", "report.html",
                                                  "leaderboard.csv"}
    board = pd.read_csv(folder / "leaderboard.csv")
    assert len(board) == 3 and board["value"].is_monotonic_decreasing  # PR-AUC: higher first


@pytest.mark.browser
@pytest.mark.slow
def test_the_classification_report_in_a_browser(tuned, browser):
    root, _ = tuned
    page = browser.render(root / "out" / "reviews" / "report.html",
                          screenshot=artifacts_dir("report") / "classify-report.png")
    page.assert_clean(warnings=True)
    assert page.section_ids == SECTIONS
    assert page.images and all(i.decoded for i in page.images)
    text = (root / "out" / "reviews" / "report.html").read_text()
    assert "Confusion matrix" in text and "precision–recall (test)" not in text  # a PNG
    assert "confusion matrix and curves" in text and "bag of words" in text


def test_predict_new_texts_with_the_saved_classifier(tuned, capsys):
    root, _ = tuned
    (root / "new.txt").write_text("loved it, great fun\nboring dull mess\n")
    capsys.readouterr()
    assert main(["predict", str(root / "out" / "reviews" / "model"), str(root / "new.txt"),
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["classes"] == ["neg", "pos"] and len(out["items"]) == 2
    for row in out["items"]:
        assert row["p_neg"] + row["p_pos"] == pytest.approx(1.0, abs=1e-6)
        assert row["label"] == ("pos" if row["p_pos"] >= out["threshold"] else "neg")


def test_running_again_resumes_without_new_trials(tuned, capsys):
    root, _ = tuned
    capsys.readouterr()
    assert main(["tune", str(root / "reviews.toml"), "--out", str(root / "out"),
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["n_trials_complete"] == 3  # the budget was spent: nothing more ran


@pytest.mark.slow
def test_compare_ga_variants_and_hybrid(tuned, capsys):
    root, _ = tuned
    capsys.readouterr()
    assert main(["compare", str(root / "reviews.toml"), "--strategies", "ga1,ga3,hybrid",
                 "--budget", "4", "--out", str(root / "cmp"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [r["method"] for r in out["table"]] == ["ga1", "ga3", "hybrid"]
    assert {"bag_of_words", "majority"} == set(out["baselines"])
    for r in out["table"]:
        assert 0 <= r["test"] <= 1 and {"test_precision", "test_recall", "test_f1"} <= set(r)
        assert r["search_seconds"] > 0
    import optuna

    url = f"sqlite:///{root / 'cmp' / 'compare' / 'study.db'}"
    for name in ("ga1", "ga3"):  # every trial bred by the GA: asked one generation at a time
        trials = optuna.load_study(study_name=f"compare-{name}", storage=url).trials
        assert len(trials) == 4 and all(t.system_attrs["ga:generation"] >= 0
                                        for t in trials)


@pytest.mark.slow
def test_a_numeric_ucr_study(tmp_path, capsys):
    assert main(["tune", "italy_power", "--trials", "2", "--repeats", "1",
                 "--final-repeats", "2", "--metric", "accuracy", "--out", str(tmp_path),
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["test"]["metric"] == "accuracy" and 0 <= out["test"]["value"] <= 1
    assert out["baselines"]["majority"]["accuracy"] == pytest.approx(513 / 1029, abs=1e-3)


def _refused(capsys, args, match, where):
    before = sorted(p.name for p in where.iterdir())
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert match in err and "Traceback" not in err and len(err.splitlines()) == 1, err
    assert sorted(p.name for p in where.iterdir()) == before


@pytest.mark.parametrize("frame, match", [
    ({"review": ["a", "b", "c", "d"], "sentiment": ["x"] * 4}, "a single class"),
    ({"review": ["a", " ", "c", "d"], "sentiment": ["x", "y"] * 2}, "empty text"),
    ({"review": [f"t{i}" for i in range(40)], "sentiment": [f"note {i}" for i in range(40)]},
     "looks like free text"),
    ({"review": ["a", "b", "c", "d"], "sentiment": ["x", None, "y", "x"]}, "has no label"),
    ({"text": ["a", "b"], "sentiment": ["x", "y"]}, "no text column 'review'"),
])
def test_bad_labelled_data_is_refused_in_one_line(tmp_path, capsys, frame, match):
    pd.DataFrame(frame).to_csv(tmp_path / "reviews.csv", index=False)
    (tmp_path / "reviews.toml").write_text(STUDY)
    _refused(capsys, ["tune", str(tmp_path / "reviews.toml"), "--out", str(tmp_path / "o")],
             match, tmp_path)


def test_bad_files_and_options_are_refused_in_one_line(tmp_path, capsys):
    for part, label, name in (("train", "pos", "a"), ("train", "neg", "b"),
                              ("test", "pos", "c"), ("test", "meh", "d")):
        (tmp_path / "imdb" / part / label).mkdir(parents=True, exist_ok=True)
        (tmp_path / "imdb" / part / label / f"{name}.txt").write_text("words here")
    ragged = np.empty(2, dtype=object)
    ragged[0], ragged[1] = [1, 2], [3]
    np.savez(tmp_path / "imdb.npz", x=ragged, y=np.array([0, 1]))
    out = ["--out", str(tmp_path / "o")]
    _refused(capsys, ["tune", str(tmp_path / "imdb"), "--task", "classify", *out],
             "a test class must also be in training", tmp_path)
    (tmp_path / "imdb" / "test" / "meh" / "d.txt").unlink()
    (tmp_path / "imdb" / "test" / "meh").rmdir()
    (tmp_path / "imdb" / "train" / "pos" / "bad.txt").write_bytes(b"\xff\xfe\x00bad")
    _refused(capsys, ["tune", str(tmp_path / "imdb"), "--task", "classify", *out],
             "is not UTF-8 text", tmp_path)
    _refused(capsys, ["tune", str(tmp_path / "imdb.npz"), "--task", "classify", *out],
             "never unpickles", tmp_path)
    _refused(capsys, ["tune", "rotten_tomatoes", "--metric", "rmse", *out],
             "scores forecasts", tmp_path)
    _refused(capsys, ["tune", "rotten_tomatoes", "--horizon", "3", *out],
             "--horizon applies to forecasting", tmp_path)
    (tmp_path / "rt.toml").write_text('[data]\nsource = "rotten_tomatoes"\n')
    _refused(capsys, ["tune", str(tmp_path / "rt.toml"), *out], 'add task = "classify"',
             tmp_path)


def test_review_fixes_are_refused_or_read(tmp_path, capsys):
    """Token ids keep their own padding out, a model refuses items of another kind, too
    large a study is refused before anything is written."""
    huge = STUDY.replace("vocab_size = 30", "vocab_size = 900000").replace(
        "embed_dim = 4", "embed_dim = 4096")
    _corpus(tmp_path / "reviews.csv")
    (tmp_path / "reviews.toml").write_text(huge)
    _refused(capsys, ["tune", str(tmp_path / "reviews.toml"), "--out", str(tmp_path / "o")],
             "more than half of this machine", tmp_path)
    (tmp_path / "shampoo.toml").write_text('[data]\nsource = "shampoo"\n[training]\n'
                                           'loss = "cce"\n')
    _refused(capsys, ["tune", str(tmp_path / "shampoo.toml"), "--out", str(tmp_path / "o")],
             "loss=cce is a classifier's cross-entropy", tmp_path)


def test_predict_refuses_items_of_another_kind(tuned, tmp_path, capsys):
    root, _ = tuned
    np.savez(tmp_path / "ids.npz", x=np.array([[3, 4, 0]]))
    _refused(capsys, ["predict", str(root / "out" / "reviews" / "model",),
                      str(tmp_path / "ids.npz")], "was trained on texts", tmp_path)


def test_forecasting_commands_keep_the_classifiers_names_out(tmp_path, capsys):
    _refused(capsys, ["experiment", "shampoo", "--vary", "bidirectional=true,false",
                      "--out", str(tmp_path / "e")], "applies to classification", tmp_path)


def test_a_forecasters_model_file_has_no_classifier_keys(tmp_path):
    import json as _json

    from lstmtune.data import load
    from lstmtune.model import fit_ensemble, load_model, save_model

    ens, _ = fit_ensemble(load("shampoo"), {"epochs": 2, "units": 2}, repeats=1)
    path = save_model(ens, tmp_path / "model")
    doc = _json.loads((path / "model.json").read_text())
    assert not {"vocab_size", "bidirectional", "embed_dim"} & set(doc["config"])
    assert not {"vocab_size", "bidirectional", "masked"} & set(doc["spec"])
    assert load_model(path).spec == ens.spec
