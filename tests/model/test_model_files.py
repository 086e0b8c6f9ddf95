"""Model directories of the three kinds (a forecaster, a panel model, text and numeric
classifiers), every entry of model.json edited to a wrong type, an out-of-range, NaN,
duplicate or missing value with the checksums recomputed, and checksums.json itself edited:
each is refused by ``lstmtune predict`` in one line naming the file and the entry, with exit
code 2, no traceback and nothing written.  Then what ``predict`` does with options a model
cannot honour and with series a panel model does not know."""

from __future__ import annotations

import copy
import json
import math
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lstmtune._json import dumps
from lstmtune.cli import main
from lstmtune.data import (
    FittedPrep,
    Framing,
    LabelledSequences,
    Preprocessing,
    load,
    load_panel,
    prepare,
)
from lstmtune.errors import DataError
from lstmtune.experiment import ClassificationTask, PanelTask, fit_config
from lstmtune.model import (
    ModelError,
    PanelModel,
    fit_classifier,
    fit_ensemble,
    load_model,
    save_model,
)
from lstmtune.model._io import MAX_FIRST_ORIGIN
from tests.cli.test_bad_inputs import _json_edit, _resign, _snapshot

POS = ["great fun", "a great film", "loved it", "fun and moving", "great cast", "moving"]
NEG = ["dull", "a dull mess", "boring film", "dull and long", "a mess", "boring"]
CONFORMAL = {"0.8": [0.5, 0.7], "0.95": [1.0, 1.2]}


def _panel_table(path: Path, ids=("S0", "S1", "S2"), n: int = 30) -> Path:
    rng = np.random.default_rng(0)
    rows = [pd.DataFrame({"unique_id": sid, "ds": pd.date_range("2010-01-01", periods=n,
                                                                  freq="MS"),
                          "y": 50 + 5 * i + 0.3 * np.arange(n) + rng.normal(0, 1, n)})
            for i, sid in enumerate(ids)]
    pd.concat(rows).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, tuple[Path, Path]]:
    """kind -> (model directory, data to predict), each trained once, as small as runs."""
    root = tmp_path_factory.mktemp("models")
    out = {}
    panel = load_panel(_panel_table(root / "panel.csv"))
    task = PanelTask(horizon=2)
    config = task.configure({"model": "local", "units": 1, "timesteps": 2, "epochs": 2,
                             "batch_size": 8})
    ids = list(panel.series)
    run, _ = fit_config([(panel.series[i], 2) for i in ids], config, repeats=2, seed=0,
                        task=task)
    model = PanelModel.from_run(run, ids, config, spec_task=task, repeats=2,
                                conformal=CONFORMAL)
    out["panel"] = (save_model(model, root / "panel"), root / "panel.csv")

    def texts(t, labels):
        return LabelledSequences(name="toy", labels=np.asarray(labels), classes=("neg", "pos"),
                                 texts=tuple(t))

    clf, _ = fit_classifier(texts(POS[:4] + NEG[:4], [1] * 4 + [0] * 4),
                            texts(POS[4:] + NEG[4:], [1, 1, 0, 0]),
                            dict(units=1, epochs=2, batch_size=4, vocab_size=20,
                                 input_length=4, embed_dim=2), ClassificationTask(), repeats=2)
    (root / "items.txt").write_text("great fun\na dull mess\n")
    out["text"] = (save_model(clf, root / "text"), root / "items.txt")

    rng = np.random.default_rng(1)
    values = tuple(rng.normal(size=(6, 2)) + k % 2 for k in range(12))

    def numeric(v, labels):
        return LabelledSequences(name="n", labels=np.asarray(labels), classes=("a", "b"),
                                 values=v)

    clf, _ = fit_classifier(numeric(values[:8], [k % 2 for k in range(8)]),
                            numeric(values[8:], [0, 1, 0, 1]),
                            dict(units=1, epochs=2, batch_size=4, input_length=6),
                            ClassificationTask(inputs="numeric"), repeats=2)
    (root / "items.ts").write_text("@classLabel false\n@data\n1,2,3,4:0,1,0,1\n"
                                   "2,2,2,1:1,1,0,0\n")
    out["numeric"] = (save_model(clf, root / "numeric"), root / "items.ts")

    ens, _ = fit_ensemble(load("shampoo"), {"units": 1, "epochs": 2}, repeats=2, seed=0,
                          holdout=6)
    out["forecaster"] = (save_model(ens, root / "forecaster"), Path("shampoo"))
    return out


# -- the cases: (kind, change of the copied directory, what the one line must say) ---------

def doc_edit(edit):
    """A change of model.json (``edit(doc)``), checksums recomputed as a forger would."""
    return _json_edit(edit)


def put(key, value):
    return doc_edit(lambda d: d.__setitem__(key, value))


def drop(key):
    return doc_edit(lambda d: d.pop(key))


def put_in(key, sub, value):
    return doc_edit(lambda d: d[key].__setitem__(sub, value))


def drop_in(key, sub):
    return doc_edit(lambda d: d[key].pop(sub))


def _weights(change):
    def edit(m: Path) -> None:
        with np.load(m / "params.npz") as z:
            arrays = {k: z[k] for k in z.files}
        change(arrays)
        np.savez(m / "params.npz", **arrays)
        _resign(m)
    return edit


def _nan_weights(arrays):
    arrays["bd"] = np.full_like(arrays["bd"], np.nan)


def _float64_weights(arrays):
    arrays["bd"] = arrays["bd"].astype(np.float64)


def _checksums(body):
    return lambda m: (m / "checksums.json").write_text(body)


KINDS = ("forecaster", "panel", "text", "numeric")
MJ = "model.json"
CASES: dict[str, tuple[str, object, list[str]]] = {}
for kind in KINDS:
    CASES |= {
        f"{kind}: format version 2": (kind, put("format_version", 2),
                                      [MJ, "format version 2", "reads version 1"]),
        f"{kind}: format version as text": (kind, put("format_version", "1"),
                                            [MJ, "format version '1'"]),
        f"{kind}: format version true": (kind, put("format_version", True),
                                         [MJ, "format version True"]),
        f"{kind}: config missing": (kind, drop("config"), [MJ, "lacks 'config'"]),
        f"{kind}: config a list": (kind, put("config", [1, 2]),
                                   [MJ, "malformed 'config'", "table of hyperparameters"]),
        f"{kind}: config unknown key": (kind, put_in("config", "unitz", 3),
                                        [MJ, "malformed 'config'", "unknown hyperparameters",
                                         "unitz"]),
        f"{kind}: config units 0": (kind, put_in("config", "units", 0),
                                    [MJ, "malformed 'config'", "units=0 is out of range"]),
        f"{kind}: config units as text": (kind, put_in("config", "units", "two"),
                                          [MJ, "malformed 'config'", "units"]),
        f"{kind}: spec missing": (kind, drop("spec"), [MJ, "lacks 'spec'"]),
        f"{kind}: spec as text": (kind, put("spec", "lstm"), [MJ, "malformed 'spec'",
                                                              "'lstm'"]),
        f"{kind}: spec units 0": (kind, put_in("spec", "units", [0]),
                                  [MJ, "malformed 'spec'", "units", "[0]"]),
        f"{kind}: spec unknown field": (kind, put_in("spec", "colour", 1),
                                        [MJ, "malformed 'spec'", "unknown fields", "colour"]),
        f"{kind}: spec timesteps 1.5": (kind, put_in("spec", "timesteps", 1.5),
                                        [MJ, "malformed 'spec'", "1.5"]),
        f"{kind}: spec stateful as text": (kind, put_in("spec", "stateful", "no"),
                                           [MJ, "malformed 'spec'", "stateful", "'no'"]),
        f"{kind}: spec units changed": (kind, put_in("spec", "units", [2]),
                                        [MJ, "spec does not match its configuration",
                                         "'spec' has units = (2,)", "(1,)"]),
        f"{kind}: seeds missing": (kind, drop("seeds"), [MJ, "lacks 'seeds'"]),
        f"{kind}: seeds as text": (kind, put("seeds", "abc"), [MJ, "malformed 'seeds'",
                                                               "'abc'"]),
        f"{kind}: seeds empty": (kind, put("seeds", []), [MJ, "malformed 'seeds'",
                                                          "1 to 1000"]),
        f"{kind}: seed negative": (kind, put("seeds", [-1, 1]),
                                   [MJ, "malformed 'seeds'", "[0, 4294967295]", "-1"]),
        f"{kind}: seed beyond the engine's": (kind, put("seeds", [2**40, 1]),
                                              [MJ, "malformed 'seeds'", str(2**40)]),
        f"{kind}: seed 1.5": (kind, put("seeds", [1.5, 2]), [MJ, "malformed 'seeds'", "1.5"]),
        f"{kind}: seed true": (kind, put("seeds", [True, 2]),
                               [MJ, "malformed 'seeds'", "True"]),
        f"{kind}: more seeds than weights": (kind, put("seeds", [0, 1, 2]),
                                             [MJ, "'params' shapes do not match"]),
        f"{kind}: info as text": (kind, put("info", "x"), [MJ, "malformed 'info'", "'x'"]),
        f"{kind}: params missing": (kind, drop("params"), [MJ, "lacks 'params'"]),
        f"{kind}: params shape as text": (kind, put_in("params", "bd", "big"),
                                          [MJ, "malformed 'params'", "'big'"]),
        f"{kind}: params shape declared wrong": (kind, put_in("params", "bd", [7, 7]),
                                                 [MJ, "'params' shapes do not match",
                                                  "weight bd is declared (7, 7)"]),
        f"{kind}: NaN weights": (kind, _weights(_nan_weights),
                                 ["params.npz", "NaN/inf weights", "bd"]),
        f"{kind}: float64 weights": (kind, _weights(_float64_weights),
                                     ["params.npz", "weight bd is float64", "float32"]),
        f"{kind}: model.json a list": (kind, lambda m: ((m / MJ).write_text("[1]"),
                                                        _resign(m)),
                                       [MJ, "is not an lstmtune model"]),
        f"{kind}: checksums of the wrong type": (kind, _checksums('{"sha256": ["a", "b"]}'),
                                                 ["failed its integrity check", "model.json"]),
        f"{kind}: checksums without an entry": (
            kind, _checksums('{"sha256": {"params.npz": "00"}}'),
            ["failed its integrity check", "checksums.json has no SHA-256 of model.json"]),
    }


def _conformal(value):
    return put("conformal", value)


def _panel_ids(ids):
    return put("ids", ids)


CASES |= {
    "panel: ids duplicated": ("panel", _panel_ids(["S0", "S0", "S2"]),
                              [MJ, "malformed 'ids'", "series id 'S0' appears more than once"]),
    "panel: ids as numbers": ("panel", _panel_ids([1, 2, 3]),
                              [MJ, "malformed 'ids'", "non-blank text", "1"]),
    "panel: blank id": ("panel", _panel_ids(["S0", "  ", "S2"]),
                        [MJ, "malformed 'ids'", "non-blank text, got '"]),
    "panel: ids empty": ("panel", _panel_ids([]), [MJ, "malformed 'ids'", "non-empty list"]),
    "panel: ids missing": ("panel", drop("ids"), [MJ, "lacks 'ids'"]),
    "panel: one id fewer than preps": ("panel", _panel_ids(["S0", "S1"]),
                                       [MJ, "malformed 'preps'", "one preprocessing per "
                                        "series (2)"]),
    "panel: preps as text": ("panel", put("preps", "x"), [MJ, "malformed 'preps'"]),
    "panel: a prep without its chain": ("panel", doc_edit(lambda d: d["preps"][1].pop(
        "chain")), [MJ, "malformed 'preps'", "series 'S1'"]),
    "panel: first origin negative": ("panel", put("first_origins", [-1, 2, 2]),
                                     [MJ, "malformed 'first_origins'", "-1"]),
    "panel: first origins too few": ("panel", put("first_origins", [2, 2]),
                                     [MJ, "malformed 'first_origins'", "one first origin per "
                                      "series (3)"]),
    "panel: first origin as text": ("panel", put("first_origins", ["2", 2, 2]),
                                    [MJ, "malformed 'first_origins'", "'2'"]),
    "panel: horizon 0": ("panel", put("horizon", 0), [MJ, "malformed 'horizon'", "got 0"]),
    "panel: horizon as text": ("panel", put("horizon", "2"), [MJ, "malformed 'horizon'",
                                                              "'2'"]),
    "panel: horizon not the configuration's": ("panel", put("horizon", 3),
                                               [MJ, "malformed 'config'", "horizon = 2",
                                                "horizon 3"]),
    "panel: config model unknown": ("panel", put_in("config", "model", "both"),
                                    [MJ, "malformed 'config'", "both"]),
    "panel: config stateful": ("panel", put_in("config", "stateful", True),
                               [MJ, "malformed 'config'", "stateful"]),
    "panel: conformal missing": ("panel", drop("conformal"), [MJ, "lacks 'conformal'"]),
    "panel: conformal as a list": ("panel", _conformal([0.5]),
                                   [MJ, "malformed 'conformal'", "table"]),
    "panel: conformal width negative": ("panel", _conformal({"0.8": [-1.0, 0.7]}),
                                        [MJ, "malformed 'conformal'", "finite number >= 0",
                                         "-1.0"]),
    "panel: conformal width NaN": ("panel", _conformal({"0.8": [math.nan, 0.7]}),
                                   [MJ, "malformed 'conformal'", "nan"]),
    "panel: conformal width infinite": ("panel", _conformal({"0.8": [math.inf, 0.7]}),
                                        [MJ, "malformed 'conformal'", "inf"]),
    "panel: conformal width as text": ("panel", _conformal({"0.8": ["wide", 0.7]}),
                                       [MJ, "malformed 'conformal'", "'wide'"]),
    "panel: conformal widths too few": ("panel", _conformal({"0.8": [0.5]}),
                                        [MJ, "malformed 'conformal'", "per horizon step (2)"]),
    "panel: conformal level 1.5": ("panel", _conformal({"1.5": [0.5, 0.7]}),
                                   [MJ, "malformed 'conformal'", "level '1.5'"]),
    "panel: conformal level as a word": ("panel", _conformal({"high": [0.5, 0.7]}),
                                         [MJ, "malformed 'conformal'", "level 'high'"]),
    "panel: conformal levels naming one interval": (
        "panel", _conformal({"0.8": [0.5, 0.7], "0.80": [0.5, 0.7]}),
        [MJ, "malformed 'conformal'", "both name the 80 % interval"]),
    "panel: conformal wider level narrower": (
        "panel", _conformal({"0.8": [0.5, 0.7], "0.95": [0.4, 1.2]}),
        [MJ, "malformed 'conformal'", "level 0.95's half-width at step 1"]),
}
for kind in ("text", "numeric"):
    CASES |= {
        f"{kind}: threshold NaN": (kind, put("threshold", math.nan),
                                   [MJ, "malformed 'threshold'", "[0, 1]", "nan"]),
        f"{kind}: threshold 5": (kind, put("threshold", 5.0),
                                 [MJ, "malformed 'threshold'", "[0, 1]", "5.0"]),
        f"{kind}: threshold negative": (kind, put("threshold", -0.1),
                                        [MJ, "malformed 'threshold'", "-0.1"]),
        f"{kind}: threshold as text": (kind, put("threshold", "0.5"),
                                       [MJ, "malformed 'threshold'", "'0.5'"]),
        f"{kind}: threshold null": (kind, put("threshold", None),
                                    [MJ, "malformed 'threshold'", "None"]),
        f"{kind}: threshold missing": (kind, drop("threshold"), [MJ, "lacks 'threshold'"]),
        f"{kind}: classes duplicated": (kind, doc_edit(lambda d: d.update(
            classes=[d["classes"][0]] * 2)), [MJ, "malformed 'classes'",
                                              "appears more than once"]),
        f"{kind}: classes as numbers": (kind, put("classes", [0, 1]),
                                        [MJ, "malformed 'classes'", "non-blank text"]),
        f"{kind}: a blank class": (kind, put("classes", ["a", ""]),
                                   [MJ, "malformed 'classes'", "''"]),
        f"{kind}: one class name for two": (kind, put("classes", ["a"]),
                                            [MJ, "malformed 'classes'", "1 class names for a "
                                             "task of 2"]),
        f"{kind}: classes missing": (kind, drop("classes"), [MJ, "lacks 'classes'"]),
        f"{kind}: task as text": (kind, put("task", "classify"), [MJ, "malformed 'task'"]),
        f"{kind}: task without a metric": (kind, drop_in("task", "metric"),
                                           [MJ, "malformed 'task'", "no entry 'metric'"]),
        f"{kind}: task metric rmse": (kind, put_in("task", "metric", "rmse"),
                                      [MJ, "malformed 'task'", "rmse"]),
        f"{kind}: task of 2.5 classes": (kind, put_in("task", "n_classes", 2.5),
                                         [MJ, "malformed 'task'", "2.5"]),
        f"{kind}: task of 1 class": (kind, put_in("task", "n_classes", 1),
                                     [MJ, "malformed 'task'", "got 1"]),
        f"{kind}: task of 3 classes": (kind, put_in("task", "n_classes", 3),
                                       [MJ, "malformed 'classes'", "task of 3 classes"]),
        f"{kind}: task inputs unknown": (kind, put_in("task", "inputs", "pictures"),
                                         [MJ, "malformed 'task'", "pictures"]),
        f"{kind}: task direction reversed": (kind, put_in("task", "direction", "minimize"),
                                             [MJ, "malformed 'task'", "direction"]),
        f"{kind}: task kind panel": (kind, put_in("task", "kind", "panel"),
                                     [MJ, "malformed 'task'", "kind is 'classify'", "got 'panel'"]),
        f"{kind}: loss of three classes": (kind, put_in("config", "loss", "cce"),
                                           [MJ, "malformed 'config'", "loss = 'cce'"]),
        f"{kind}: fitted missing": (kind, drop("fitted"), [MJ, "lacks 'fitted'"]),
        f"{kind}: fitted as a list": (kind, put("fitted", []), [MJ, "malformed 'fitted'"]),
        f"{kind}: fitted with an extra entry": (kind, put_in("fitted", "idf", [1]),
                                                [MJ, "malformed 'fitted'", "idf"]),
    }
CASES |= {
    "text: no vocabulary": ("text", drop_in("fitted", "vocabulary"),
                            [MJ, "malformed 'fitted'", "no entry 'vocabulary'"]),
    "text: vocabulary words duplicated": ("text", doc_edit(lambda d: d["fitted"][
        "vocabulary"].update(words=["dull", "dull"])), [MJ, "malformed 'fitted'",
                                                       "'dull' appears more than once"]),
    "text: vocabulary word a number": ("text", doc_edit(lambda d: d["fitted"][
        "vocabulary"].update(words=["dull", 7])), [MJ, "malformed 'fitted'", "got 7"]),
    "text: vocabulary larger than the embedding": ("text", doc_edit(lambda d: d["fitted"][
        "vocabulary"].update(words=[f"w{i}" for i in range(25)])),
        [MJ, "malformed 'fitted'", "25 words"]),
    "text: vocabulary size not the configuration's": ("text", doc_edit(lambda d: d[
        "fitted"]["vocabulary"].update(size=30)), [MJ, "malformed 'fitted'", "size = 30"]),
    "text: vocabulary lower as text": ("text", doc_edit(lambda d: d["fitted"][
        "vocabulary"].update(lower="yes")), [MJ, "malformed 'fitted'", "'yes'"]),
    "text: vocabulary without words": ("text", doc_edit(lambda d: d["fitted"][
        "vocabulary"].pop("words")), [MJ, "malformed 'fitted'", "vocabulary.words"]),
    "numeric: fitted mean as text": ("numeric", put_in("fitted", "mean", ["a", 0.0]),
                                     [MJ, "malformed 'fitted'", "each mean", "'a'"]),
    "numeric: fitted scale missing": ("numeric", drop_in("fitted", "scale"),
                                      [MJ, "malformed 'fitted'", "no entry 'scale'"]),
    "numeric: fitted scale 0": ("numeric", put_in("fitted", "scale", [0.0, 1.0]),
                                [MJ, "malformed 'fitted'", "scale is a finite number > 0",
                                 "0.0"]),
    "numeric: fitted scale negative": ("numeric", put_in("fitted", "scale", [-1.0, 1.0]),
                                       [MJ, "malformed 'fitted'", "-1.0"]),
    "numeric: fitted scale NaN": ("numeric", put_in("fitted", "scale", [math.nan, 1.0]),
                                  [MJ, "malformed 'fitted'", "nan"]),
    "numeric: fitted mean of one channel": ("numeric", put_in("fitted", "mean", [0.0]),
                                            [MJ, "malformed 'fitted'", "per channel (2)"]),
    "numeric: fitted mean null": ("numeric", put_in("fitted", "mean", None),
                                  [MJ, "malformed 'fitted'", "None"]),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_a_bad_model_file_is_refused_in_one_line(case, models, tmp_path, monkeypatch, capsys):
    kind, change, fragments = CASES[case]
    folder, data = models[kind]
    monkeypatch.chdir(tmp_path)
    shutil.copytree(folder, tmp_path / "m")
    change(tmp_path / "m")
    before = _snapshot(tmp_path)
    _one_line(main(["predict", "m", str(data)]), capsys, fragments)
    assert _snapshot(tmp_path) == before, "a refused model must not write anything"


def _one_line(code: int, capsys, fragments: list[str]) -> str:
    """The one error line of a refused command, checked: exit 2, nothing on stdout, no
    traceback, every fragment in it, a whole sentence of sensible length."""
    out = capsys.readouterr()
    line, *more = out.err.strip().splitlines() or [""]
    assert (code, more, out.out) == (2, [], ""), (code, out.err, out.out[:200])
    assert line.startswith("lstmtune: error: ") and line.endswith("."), line
    assert len(line) < 500 and "Traceback" not in line, line
    missing = [f for f in fragments if f not in line]
    assert not missing, (missing, line)
    return line


def test_there_are_enough_cases():
    assert len(CASES) >= 150


@pytest.mark.parametrize("kind", KINDS)
def test_the_unedited_models_load_and_predict(kind, models, capsys):
    folder, data = models[kind]
    assert main(["predict", str(folder), str(data), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["model"] == str(folder)


def test_a_long_value_is_cut_with_an_ellipsis(models, tmp_path):
    folder, _ = models["panel"]
    shutil.copytree(folder, tmp_path / "m")
    put("seeds", "x" * 5000)(tmp_path / "m")
    with pytest.raises(ModelError) as info:
        load_model(tmp_path / "m")
    message = str(info.value)
    assert "'xxxx" in message and "x…" in message and len(message) < 300
    assert message.endswith("; re-export the model.")


def test_a_level_saved_unbounded_is_left_out(models, tmp_path):
    """Earlier versions wrote an unbounded quantile (too few residuals) as null: that level
    is dropped on load, the others kept as saved."""
    folder, _ = models["panel"]
    shutil.copytree(folder, tmp_path / "m")
    _conformal({"0.8": [0.5, 0.7], "0.95": [None, None]})(tmp_path / "m")
    assert load_model(tmp_path / "m").conformal == {"0.8": [0.5, 0.7]}
    _conformal({"0.8": [0.5, 0.7], "0.95": None})(tmp_path / "m")
    assert load_model(tmp_path / "m").conformal == {"0.8": [0.5, 0.7]}


def test_a_seed_at_the_engines_limit_loads(models, tmp_path):
    folder, _ = models["text"]
    shutil.copytree(folder, tmp_path / "m")
    put("seeds", [0, 2**32 - 1])(tmp_path / "m")
    assert load_model(tmp_path / "m").seeds.tolist() == [0, 2**32 - 1]


# -- options a model cannot honour --------------------------------------------------------

FORECASTER_READS = "--horizon, --point, --level, --time-col, --target, --features, --freq"
REFUSED = [
    ("text", ["--series", "S1"], "--series does not apply to a classifier"),
    ("text", ["--point", "median"], "--point does not apply to a classifier"),
    ("text", ["--point", "mean"], "--point does not apply to a classifier"),
    ("text", ["--level", "0.9"], "--level does not apply to a classifier"),
    ("numeric", ["--horizon", "3"], "--horizon does not apply to a classifier"),
    ("numeric", ["--id-col", "id"], "--id-col does not apply to a classifier"),
    ("numeric", ["--time-col", "t"], "--time-col does not apply to a classifier"),
    ("text", ["--target", "y"], "--target does not apply to a classifier"),
    ("text", ["--features", "x"], "--features does not apply to a classifier"),
    ("text", ["--freq", "D"], "--freq does not apply to a classifier"),
    ("text", ["--future", "f.csv"], "--future does not apply to a classifier"),
    ("text", ["--skip-unknown"], "--skip-unknown does not apply to a classifier"),
    ("text", ["--sep", ";"], "--sep does not apply to a classifier"),
    ("panel", ["--text-col", "t"], "--text-col does not apply to a panel model"),
    ("panel", ["--point", "median"], "--point does not apply to a panel model"),
    ("panel", ["--level", "0.9"], "--level does not apply to a panel model"),
    ("panel", ["--future", "f.csv"], "--future does not apply to a panel model"),
    ("panel", ["--decimal", ","], "--decimal does not apply to a panel model"),
    ("panel", ["--date-format", "%Y"], "--date-format does not apply to a panel model"),
    ("forecaster", ["--text-col", "t"], "--text-col does not apply to this model"),
    ("forecaster", ["--series", "S1"], "--series does not apply to this model"),
    ("forecaster", ["--id-col", "id"], "--id-col does not apply to this model"),
    ("forecaster", ["--skip-unknown"], "--skip-unknown does not apply to this model"),
    ("panel", ["--series", ","], "--series ',' names no series"),
    ("panel", ["--series", " , "], "names no series"),
    ("panel", ["--series", "S1,S1"], "--series names 'S1' more than once"),
    ("panel", ["--series", "S9"], "--series 'S9': "),
]


@pytest.mark.parametrize("kind, extra, message", REFUSED,
                         ids=[f"{k} {' '.join(e)}" for k, e, _ in REFUSED])
def test_an_option_the_model_cannot_honour_is_refused(kind, extra, message, models, tmp_path,
                                                      monkeypatch, capsys):
    folder, data = models[kind]
    monkeypatch.chdir(tmp_path)
    err = _one_line(main(["predict", str(folder), str(data), *extra]), capsys, [message])
    if "does not apply" in message:
        reads = {"text": "--text-col, --json and --csv", "numeric": "--text-col, --json",
                 "panel": "--horizon, --series, --skip-unknown, --id-col",
                 "forecaster": FORECASTER_READS}[kind]
        assert f"the options it reads are {reads}" in err
    assert list(tmp_path.iterdir()) == []


def test_the_forecasters_defaults_are_the_mean_and_the_90_percent_range(models, capsys):
    folder, _ = models["forecaster"]
    assert main(["predict", str(folder), "shampoo", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["point"] == "mean" and out["level"] == 0.9
    members = np.asarray(out["member_forecasts"])
    row = out["forecast"][0]
    assert row["forecast"] == pytest.approx(members[:, 0].mean())
    assert row["low"] == pytest.approx(np.quantile(members[:, 0], 0.05))
    assert row["high"] == pytest.approx(np.quantile(members[:, 0], 0.95))


# -- series a panel model does not know -----------------------------------------------------

@pytest.fixture(scope="module")
def wider(models, tmp_path_factory) -> Path:
    """The panel's table with two series the model was not trained on."""
    root = tmp_path_factory.mktemp("wider")
    return _panel_table(root / "wider.csv", ids=("S0", "S1", "S2", "NEW1", "NEW2"))


def test_a_series_the_model_does_not_know_is_an_error(models, wider, capsys):
    folder, _ = models["panel"]
    assert main(["predict", str(folder), str(wider), "--csv"]) == 2
    out = capsys.readouterr()
    assert out.out == "" and len(out.err.strip().splitlines()) == 1
    assert "holds 2 series the model" in out.err and "'NEW1', 'NEW2'" in out.err
    assert "--skip-unknown" in out.err
    assert main(["predict", str(folder), str(wider), "--series", "S0,NEW2"]) == 2
    err = capsys.readouterr().err
    assert "--series names 1 series the model" in err and "'NEW2'" in err


def test_skip_unknown_skips_and_lists_them(models, wider, capsys):
    folder, _ = models["panel"]
    assert main(["predict", str(folder), str(wider), "--skip-unknown", "--json"]) == 0
    out = capsys.readouterr()
    doc = json.loads(out.out)
    assert doc["skipped"] == ["NEW1", "NEW2"] and doc["series"] == 3
    assert sorted({r["unique_id"] for r in doc["forecast"]}) == ["S0", "S1", "S2"]
    assert "skipped 2 series" in out.err and "'NEW1', 'NEW2'" in out.err
    # the known series are forecast as without the others
    assert main(["predict", str(folder), str(models["panel"][1]), "--json"]) == 0
    alone = json.loads(capsys.readouterr().out)
    assert alone["skipped"] == [] and alone["forecast"] == doc["forecast"]


def test_a_table_of_only_unknown_series_is_refused_even_when_skipping(models, tmp_path,
                                                                      capsys):
    folder, _ = models["panel"]
    _panel_table(tmp_path / "other.csv", ids=("X1", "X2"))
    assert main(["predict", str(folder), str(tmp_path / "other.csv"), "--skip-unknown"]) == 2
    err = capsys.readouterr().err
    assert "has none of the 3 series of the model" in err and len(err.splitlines()) == 1


# -- field by field: the saved preprocessing, JSON keys, checksums, origins ----------------

PREPS = [
    (Preprocessing(difference=1), Framing(lags=3)),
    (Preprocessing(difference=1, scale_on="windows"), Framing(lags=2, calendar=("month",),
                                                               horizon=2)),
    (Preprocessing(log=True, seasonal_lag=12, scaler="standard"),
     Framing(lags=2, fourier=((12, 2),), calendar=("month",), indicators=("sma:3", "macd"))),
    (Preprocessing(scaler="robust", deseasonalise=12, outlier_threshold=3.0, impute="linear"),
     Framing(lags=2, multistep="recursive", horizon=3, calendar=("month",))),
    (Preprocessing(scaler=None, difference=2, difference_order=2),
     Framing(lags=1, origin_step=2, horizon=2)),
    (Preprocessing(log=True, deseasonalise=12, deseasonalise_method="stl", difference=0),
     Framing(lags=4, horizon=3, level=True)),
    (Preprocessing(difference=0), Framing(lags=4, calendar=("month",), level=True)),
]


def _saved_prep(prep: Preprocessing, framing: Framing) -> dict:
    p = prepare(load("shampoo"), test_size=6, preprocessing=prep, framing=framing)
    return json.loads(dumps(FittedPrep.from_prepared(p).to_dict()))


@pytest.mark.parametrize("prep, framing", PREPS, ids=[f"prep{k}" for k in range(len(PREPS))])
def test_every_preprocessing_lstmtune_writes_is_read_back(prep, framing):
    d = _saved_prep(prep, framing)
    assert json.loads(dumps(FittedPrep.from_dict(copy.deepcopy(d)).to_dict())) == d


@pytest.mark.parametrize("edit, message", [
    (lambda d: d.update(level_alpha=1.5), "level_alpha must be the level's smoothing weight"),
    (lambda d: d.pop("level_alpha"), "level_alpha must be the level's smoothing weight"),
    (lambda d: d.update(feature_names=["month"]), "feature_names must end with 'es_level'"),
    (lambda d: d["framing"].update(level=False), "but framing.level is false"),
])
def test_a_saved_level_is_checked(edit, message):
    d = _saved_prep(*PREPS[-1])
    edit(d)
    with pytest.raises(DataError, match=message):
        FittedPrep.from_dict(d)


def _set(path: tuple, value):
    def edit(d):
        *head, last = path
        for k in head:
            d = d[k]
        if value is _DROP:
            del d[last]
        else:
            d[last] = value(d[last]) if callable(value) else value
    return edit


_DROP = object()
PREP_EDITS = {  # an edit of shampoo's saved preprocessing (difference 1, minmax, windows)
    "a fitted number missing": (("chain", "steps", 1, "state", "data_max_"), _DROP,
                                "chain.steps[1].state.data_max_ is missing"),
    "a fitted number null": (("chain", "steps", 1, "state", "min_"), None,
                             "chain.steps[1].state.min_ must be a list of finite numbers"),
    "a fitted number infinite": (("chain", "steps", 1, "state", "min_"), [math.inf],
                                 "got [inf]"),
    "fitted state of two columns": (("chain", "steps", 1, "state", "min_"), [0.0, 0.0],
                                    "holds 2 number(s); one per column of the target (1)"),
    "fitted state the scaler lacks": (("chain", "steps", 1, "state", "mean_"), [0.0],
                                      "chain.steps[1].state holds 'mean_', which is no"),
    "a step the preprocessing does not build": (("chain", "steps", 0, "type"), "Log",
                                                "chain.steps[0].type must be 'Difference'"),
    "a step's parameters changed": (("chain", "steps", 0, "params", "lag"), 2,
                                    "chain.steps[0].params must be {'lag': 1, 'order': 1}"),
    "a step too many": (("chain", "steps"), lambda steps: [*steps, {"type": "Log"}],
                        "chain.steps must be the 2 step(s) its preprocessing builds"),
    "difference without its chain step": (("preprocessing", "difference"), 0,
                                          "chain.steps must be the 1 step(s)"),
    "the window scaler of a series scaler": (("window_scaler",), {"type": "MinMaxScale"},
                                             "window_scaler must be null"),
    "a feature scaler without features": (("feature_scaler",), {"type": "MinMaxScale"},
                                          "feature_scaler must be null"),
    "difference as text": (("preprocessing", "difference"), "1",
                           "preprocessing.difference must be a whole number >= 0, got '1'"),
    "an unknown preprocessing field": (("preprocessing", "boxcox"), True,
                                       "preprocessing holds 'boxcox', which is not one of"),
    "an unknown calendar part": (("framing", "calendar"), ["fortnight"],
                                 "framing.calendar holds 'fortnight'"),
    "an unknown indicator": (("framing", "indicators"), ["wma:3"], "indicator 'wma:3'"),
    "lags 0": (("framing", "lags"), 0, "framing.lags must be a whole number >= 1, got 0"),
    "a feature name twice": (("feature_names",), ["month", "month"],
                             "feature_names must be a list of distinct"),
    "freq unknown": (("freq",), "fortnightly", "freq 'fortnightly' is not a frequency"),
    "start a number": (("start",), 5, "start must be the first time label"),
    "start not a time": (("start",), "yesterday-ish", "got 'yesterday-ish'"),
    "an unknown top-level field": (("fitted_on",), "x", "preprocessing holds 'fitted_on'"),
}


@pytest.mark.parametrize("case", list(PREP_EDITS), ids=list(PREP_EDITS))
def test_a_bad_saved_preprocessing_names_its_field(case):
    path, value, message = PREP_EDITS[case]
    d = _saved_prep(Preprocessing(difference=1), Framing(lags=2))
    _set(path, value)(d)
    with pytest.raises(DataError) as info:
        FittedPrep.from_dict(d)
    assert message in str(info.value), str(info.value)


def test_a_key_named_twice_deep_inside_model_json_is_refused(models, tmp_path):
    folder, _ = models["forecaster"]
    shutil.copytree(folder, tmp_path / "m")
    text = (tmp_path / "m" / "model.json").read_text()
    assert text.count('"units": 1,') == 1
    (tmp_path / "m" / "model.json").write_text(text.replace('"units": 1,',
                                                            '"units": 1, "units": 1,'))
    _resign(tmp_path / "m")
    with pytest.raises(ModelError, match="names the key 'units' twice in one object"):
        load_model(tmp_path / "m")


@pytest.mark.parametrize("body, message", [
    ({"sha256": {}, "md5": {}}, "checksums.json holds 'md5' beside 'sha256'"),
    ({"sha256": {"params.npz": "0" * 64}}, "checksums.json has no SHA-256 of model.json"),
    ({"digests": {}}, "checksums.json lacks 'sha256'"),
    (["model.json"], "checksums.json is ['model.json'], not a table"),
])
def test_checksums_json_is_read_field_by_field(models, tmp_path, body, message):
    folder, _ = models["panel"]
    shutil.copytree(folder, tmp_path / "m")
    (tmp_path / "m" / "checksums.json").write_text(json.dumps(body))
    with pytest.raises(ModelError, match=re.escape(message)):
        load_model(tmp_path / "m")


def test_a_forecasters_first_origin_lies_in_its_fitting_data(models, tmp_path):
    """From lags - 1 + the differencing span (shampoo's model: 0 + 1) to the last of the
    info's n_fit points (30: 36 points less a hold-out of 6); with no n_fit, up to
    MAX_FIRST_ORIGIN."""
    folder, _ = models["forecaster"]
    shutil.copytree(folder, tmp_path / "m")
    doc = json.loads((tmp_path / "m" / "model.json").read_text())
    assert (doc["prep"]["framing"]["lags"], doc["info"]["n_fit"]) == (1, 30)
    for value, ok in ((0, False), (1, True), (29, True), (30, False)):
        put("first_origin", value)(tmp_path / "m")
        if ok:
            assert load_model(tmp_path / "m").first_origin == value
        else:
            with pytest.raises(ModelError, match=f"from 1 .* to 29 .*got {value}\\)"):
                load_model(tmp_path / "m")
    doc_edit(lambda d: d["info"].pop("n_fit"))(tmp_path / "m")
    assert load_model(tmp_path / "m").first_origin == 30
    put("first_origin", MAX_FIRST_ORIGIN + 1)(tmp_path / "m")
    with pytest.raises(ModelError, match="at most 100,000,000"):
        load_model(tmp_path / "m")
    doc_edit(lambda d: d["info"].update(n_fit="30"))(tmp_path / "m")
    with pytest.raises(ModelError, match="malformed 'info' \\(n_fit"):
        load_model(tmp_path / "m")


def test_a_panel_prep_framed_otherwise_than_the_model_is_named(models, tmp_path):
    folder, _ = models["panel"]
    shutil.copytree(folder, tmp_path / "m")
    doc_edit(lambda d: d["preps"][2]["framing"].update(lags=5))(tmp_path / "m")
    with pytest.raises(ModelError, match=re.escape(
            "preps[2].framing.lags = 5 disagrees with spec.timesteps = 2")):
        load_model(tmp_path / "m")


def test_a_text_classifiers_spec_has_one_feature(models, tmp_path):
    folder, _ = models["text"]
    shutil.copytree(folder, tmp_path / "m")
    put_in("spec", "n_features", 3)(tmp_path / "m")
    with pytest.raises(ModelError, match=re.escape("'spec' has n_features = 3, the "
                                                   "configuration builds 1")):
        load_model(tmp_path / "m")
