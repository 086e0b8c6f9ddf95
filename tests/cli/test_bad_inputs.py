"""Bad study files, CLI arguments, output paths, storages and model directories: each is
refused before anything runs, in one line naming the thing, the rule, the value and a fix,
with exit code 2, no traceback, and nothing written or changed on disk.

(Bad data files are in ``test_errors.py`` and ``tests/data``.)"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest

from lstmtune.cli import main
from lstmtune.data import load
from lstmtune.model import fit_ensemble, save_model

TINY = """
[data]
source = "shampoo"
test_size = 6
val_size = 6
[training]
epochs = 4
[search]
trials = 2
repeats = 1
final_repeats = 2
[space]
units = { int = [1, 2] }
"""


def study(text: str) -> str:
    """TINY with ``text`` merged in: a line ``[section] key = value`` replaces or adds."""
    lines = TINY.strip().splitlines()
    for change in text.strip().splitlines():
        section, _, assignment = change.partition("] ")
        section += "]"
        key = assignment.split("=")[0].strip()
        if section not in lines:
            lines += [section]
        start = lines.index(section) + 1
        end = next((i for i in range(start, len(lines)) if lines[i].startswith("[")),
                   len(lines))
        hit = [i for i in range(start, end) if lines[i].split("=")[0].strip() == key]
        if hit:
            lines[hit[0]] = assignment
        else:
            lines.insert(end, assignment)
    return "\n".join(lines) + "\n"


def tune_file(text: str, *extra: str):
    def setup(tmp: Path, model: Path) -> list[str]:
        (tmp / "s.toml").write_text(study(text) if text else TINY)
        return ["tune", "s.toml", "--out", "out", *extra]
    return setup


def argv(*args: str, files: dict[str, str] | None = None):
    def setup(tmp: Path, model: Path) -> list[str]:
        for name, body in (files or {}).items():
            (tmp / name).write_text(body)
        return [a.replace("{model}", str(model)) for a in args]
    return setup


def _out_with(name: str, kind: str):
    def setup(tmp: Path, model: Path) -> list[str]:
        (tmp / "s.toml").write_text(TINY)
        out = tmp / "out" / "s"  # the study's own folder under --out
        out.mkdir(parents=True)
        if kind == "file":
            (out / name).write_text("not a folder")
        elif kind == "dir":
            (out / name).mkdir()
        else:
            (tmp / "elsewhere.html").write_text("precious")
            (out / name).symlink_to(tmp / "elsewhere.html")
        return ["tune", "s.toml", "--out", "out"]
    return setup


def _symlink_out(tmp: Path, model: Path) -> list[str]:
    (tmp / "real").mkdir()
    (tmp / "link").symlink_to(tmp / "real")
    (tmp / "s.toml").write_text(TINY)
    return ["tune", "s.toml", "--out", "link"]


def _report_to_symlink(tmp: Path, model: Path) -> list[str]:
    (tmp / "precious.txt").write_text("keep me")
    (tmp / "r.html").symlink_to(tmp / "precious.txt")
    (tmp / "study").mkdir()
    return ["report", "study", "--out", "r.html"]


def _resign(folder: Path) -> None:
    """Recompute checksums.json, as someone crafting a model file would."""
    sums = {n: hashlib.sha256((folder / n).read_bytes()).hexdigest()
            for n in ("model.json", "params.npz")}
    (folder / "checksums.json").write_text(json.dumps({"sha256": sums}))


def _tampered(change):
    def setup(tmp: Path, model: Path) -> list[str]:
        copy = tmp / "m"
        shutil.copytree(model, copy)
        change(copy)
        return ["predict", "m", "shampoo", "--horizon", "2"]
    return setup


def _flip(m: Path) -> None:
    raw = bytearray((m / "params.npz").read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    (m / "params.npz").write_bytes(bytes(raw))


def _truncate(m: Path) -> None:
    raw = (m / "params.npz").read_bytes()
    (m / "params.npz").write_bytes(raw[: len(raw) // 2])
    _resign(m)


def _huge_header(m: Path) -> None:
    """An .npz whose first array declares 4 TB of float32 (and holds nothing)."""
    with zipfile.ZipFile(m / "params.npz", "w") as zf, zf.open("layers.0.W.npy", "w") as f:
        np.lib.format.write_array_header_1_0(
            f, {"descr": "<f4", "fortran_order": False, "shape": (10**12, 4)})
    _resign(m)


def _json_edit(edit):
    def change(m: Path) -> None:
        doc = json.loads((m / "model.json").read_text())
        edit(doc)
        (m / "model.json").write_text(json.dumps(doc))
        _resign(m)
    return change


def _giant(doc: dict) -> None:
    doc["config"].update(units=4096, layers=8)
    doc["spec"]["units"] = [4096] * 8
    doc["seeds"] = list(range(1000))


def _zero_scale(doc: dict) -> None:
    for step in doc["prep"]["chain"]["steps"]:
        if "scale_" in step.get("state", {}):
            step["state"]["scale_"] = [0.0]


def _nan_weights(m: Path) -> None:
    with np.load(m / "params.npz") as z:
        arrays = {k: z[k] for k in z.files}
    arrays["bd"][:] = np.nan
    np.savez(m / "params.npz", **arrays)
    _resign(m)


def _known_future_model(future: str):
    """A recursive model that reads a known feature column, asked to forecast with a future
    file whose body is ``future``."""
    def setup(tmp: Path, model: Path) -> list[str]:
        import pandas as pd

        idx = pd.date_range("2000-01-01", periods=40, freq="MS")
        frame = pd.DataFrame({"y": np.arange(40.0) + np.sin(np.arange(40)),
                              "promo": np.arange(40) % 2.0}, index=idx)
        frame.rename_axis("date").to_csv(tmp / "promo.csv")
        ts = load(tmp / "promo.csv", target="y", features=["promo"])
        ens, _ = fit_ensemble(ts, {"units": 1, "epochs": 2, "horizon": 2,
                                   "multistep": "recursive", "known_features": "promo"},
                              repeats=2, holdout=4)
        save_model(ens, tmp / "known")
        (tmp / "future.csv").write_text(future)
        return ["predict", "known", "promo.csv", "--target", "y", "--features", "promo",
                "--horizon", "2", "--future", "future.csv"]
    return setup


def _readonly_out(tmp: Path, model: Path) -> list[str]:
    (tmp / "ro").mkdir()
    (tmp / "ro").chmod(0o555)
    (tmp / "s.toml").write_text(TINY)
    return ["tune", "s.toml", "--out", "ro/out"]


FEATURE_GAP = "date,y,x\n" + "".join(
    f"{2000 + i // 12}-{i % 12 + 1:02d}-01,{i + (i % 5)},{'' if i == 30 else i % 3}\n"
    for i in range(48))
SHORT = "date,value\n" + "".join(f"2020-{m:02d}-01,{m * 3 % 7 + 1}\n" for m in range(1, 13))

CASES = {
    # ---- study files: types, ranges, structure -------------------------------------------
    "bool as string": (tune_file('[preprocessing] log = "no"'),
                       ["[preprocessing] log = \"no\"", "true or false", "log = false"]),
    "list as string": (tune_file('[data] features = "Sales"'),
                       ["features = 'Sales'", "list of column names", '["Temperature"']),
    "absurd trials": (tune_file("[search] trials = 1000000000"),
                      ["trials = 1000000000", "from 1 to 100000"]),
    "absurd epochs": (tune_file("[training] epochs = 1000000000000"),
                      ["epochs=1000000000000", "out of range", "<= 100000"]),
    "units x layers beyond memory": (
        tune_file("[model] layers = 8\n[space] units = { int = [1, 4096] }"),
        ["units=4096 × layers=8", "GiB", "more than half", "lower units"]),
    "negative seed": (tune_file("[search] seed = -1"), ["seed = -1", "from 0 to"]),
    "zero repeats": (tune_file("[search] repeats = 0"), ["repeats = 0", "from 1 to"]),
    "nan risk": (tune_file("[search] risk = nan"), ["risk = nan", "number >= 0"]),
    "infinite timeout": (tune_file("[search] timeout = inf"), ["timeout = inf", "> 0"]),
    "quoted number": (tune_file('[data] test_size = "12"'),
                      ["test_size = '12'", "whole number", "no quotes"]),
    "zero val_size": (tune_file("[data] val_size = 0"), ["val_size = 0", "from 1 to"]),
    "zero folds": (tune_file("[data] folds = 0"), ["folds = 0", "from 1 to"]),
    "folds do not divide": (tune_file("[data] folds = 4"), ["val_size = 6", "folds = 4",
                                                             "val_size = 4"]),
    "log flag as string in space": (tune_file('[space] units = { int = [1, 8], log = "yes" }'),
                                    ["units.log = 'yes'", "true or false"]),
    "float bounds for int": (tune_file("[space] units = { int = [1.5, 8] }"),
                             ["units = 1.5", "whole number"]),
    "string bound": (tune_file('[space] learning_rate = { float = ["1e-4", 1e-2] }'),
                     ["learning_rate = \"1e-4\"", "a number (no quotes)"]),
    "choice not a list": (tune_file('[space] optimizer = { choice = "adam" }'),
                          ["optimizer.choice must be a non-empty list", "'adam'"]),
    "when not a table": (tune_file('[space] momentum = { float = [0.0, 0.9], when = "sgd" }'),
                         ["momentum.when = 'sgd'", "must be a table"]),
    "dropout out of range": (tune_file("[space] dropout = { float = [0.0, 1.5] }"),
                             ["dropout=1.5", "out of range", "<= 0.95"]),
    "zero step": (tune_file("[space] units = { int = [1, 8], step = 0 }"),
                  ["units.step must be a positive number", "step=0"]),
    "fractional step for int": (tune_file("[space] units = { int = [1, 8], step = 1.5 }"),
                                ["units.step", "step=1.5"]),
    "strategy not text": (tune_file("[search] strategy = 3"),
                          ["strategy = 3 is not one of", "tpe"]),
    "bool as count": (tune_file("[search] batch = true"), ["batch = True", "whole number"]),
    "source not text": (tune_file("[data] source = 5"), ["source = 5", "text in quotes"]),
    "bad decimal mark": (tune_file('[data] decimal = ";"'), ["decimal = ';'", '"." or ","']),
    "zero test_size": (tune_file("[data] test_size = 0"), ["test_size = 0", "from 1 to"]),
    "section not a table": (argv("tune", "s.toml", "--out", "out",
                                 files={"s.toml": "data = 3\n"}),
                            ["[data] must be a table", "int"]),
    "unknown section": (argv("tune", "s.toml", "--out", "out",
                             files={"s.toml": "[serach]\ntrials = 3\n"}),
                        ["unknown key 'serach'", "search"]),
    "invalid toml": (argv("tune", "s.toml", "--out", "out", files={"s.toml": "[search\n"}),
                     ["s.toml' is not valid TOML", "fix the syntax"]),
    "missing study file": (argv("tune", "nope.toml", "--out", "out"),
                           ["study file 'nope.toml' does not exist"]),
    "more lags than data": (tune_file("[space] timesteps = { int = [25, 30] }"),
                            ["no configuration of the space can be prepared", "lags",
                             "fewer lags"]),
    "windows longer than the series": (tune_file("[data] test_size = 30"),
                                       ["36 points", "too short", "test_size=30"]),
    "negative patience": (tune_file("[training] patience = -1"),
                          ["patience=-1", "out of range", ">= 0"]),
    "stateful as string": (tune_file('[model] stateful = "true"'),
                           ["stateful = \"true\"", "true or false (no quotes)"]),
    "unknown aggregate": (tune_file('[search] aggregate = "max"'),
                          ["aggregate = 'max' is not one of", "mean+std"]),
    "zero p_threshold": (tune_file('[search] pruner = "wilcoxon"\n[search] p_threshold = 0'),
                         ["p_threshold = 0", "(0, 1)"]),
    "constant series": (tune_file('[data] source = "flat.csv"', ),
                        ["no configuration of the space can be prepared", "constant"]),
    "study file is a folder": (argv("tune", "d.toml", files={}), ["is not a regular file"]),
    "grid too large": (tune_file('[search] strategy = "grid"\n'
                                 "[space] units = { int = [1, 4096], step = 1 }\n"
                                 "[space] timesteps = { int = [1, 1000], step = 1 }"),
                       ["4096 × 1000 = 4,096,000 combinations", "tpe or random"]),
    "step larger than the range": (tune_file("[space] dropout = { float = [0.0, 0.5], "
                                             "step = 10 }"),
                                   ["dropout.step = 10 is larger than the range"]),
    "unknown indicator in the space": (
        tune_file('[space] indicators = { choice = [[], ["rsx:14"]] }'),
        ["indicator 'rsx:14' is unknown", "did you mean 'rsi'", "returns:N"]),
    "Fourier period of 1": (tune_file('[preprocessing] fourier = "1:1"'),
                            ["'1:1' is no Fourier term", "1 < period", "e.g. 12:2"]),
    "a group item with +": (tune_file('[space] calendar = ["month+day"]'),
                            ["calendar takes a list of names in quotes", '["month"]']),
    "calendar as a number": (tune_file("[preprocessing] calendar = 12"),
                             ["calendar = 12", "text in quotes", 'calendar = "month"']),
    "season 0": (tune_file("[data] season = 0"), ["season = 0", "from 1 to 100000"]),
    "season on the command line": (tune_file("", "--season", "1.5"),
                                   ["argument --season", "got '1.5'"]),
    "outlier window too short": (tune_file("[preprocessing] outlier_window = 1"),
                                 ["outlier_window=1 is out of range", ">= 3"]),
    # ---- CLI arguments -----------------------------------------------------------------------
    "seed -1": (tune_file("", "--seed", "-1"), ["argument --seed", "from 0 to", "-1"]),
    "folds 0": (tune_file("", "--folds", "0"), ["argument --folds", "from 1 to", "got 0"]),
    "val-size -5": (tune_file("", "--val-size", "-5"), ["argument --val-size", "got -5"]),
    "test-size 0": (tune_file("", "--test-size", "0"), ["argument --test-size", "got 0"]),
    "trials 1e9": (tune_file("", "--trials", "1000000000"), ["argument --trials",
                                                             "100000"]),
    "negative timeout": (tune_file("", "--timeout", "-3"), ["argument --timeout", "> 0"]),
    "nan timeout": (tune_file("", "--timeout", "nan"), ["argument --timeout", "got nan"]),
    "repeats not a number": (tune_file("", "--repeats", "abc"),
                             ["argument --repeats", "got 'abc'"]),
    "folds and val-size disagree": (tune_file("", "--folds", "4"),
                                    ["--folds 4", "6 points", "--val-size"]),
    "empty study name": (tune_file("", "--study-name", ""), ["argument --study-name",
                                                            "printable"]),
    "unknown option": (tune_file("", "--trails", "3"), ["unrecognized arguments: --trails"]),
    "no source": (argv("tune"), ["tune:", "required: STUDY.toml|DATA"]),
    "unknown command": (argv("tuen"), ["invalid choice: 'tuen'"]),
    "storage not a URL": (tune_file("", "--storage", "notaurl"),
                          ["storage 'notaurl' is not a storage URL", "sqlite:///"]),
    "unknown storage dialect": (tune_file("", "--storage", "nosuchdb://x/y"),
                                ["storage 'nosuchdb://x/y': unknown database scheme "
                                 "'nosuchdb'", "postgresql://"]),
    "workers 0": (tune_file("", "--workers", "0"), ["argument --workers", "0"]),
    "workers 65": (tune_file("", "--workers", "65"), ["argument --workers", "65"]),
    "workers abc": (tune_file("", "--workers", "abc"), ["argument --workers", "abc"]),
    "workers in memory": (tune_file("", "--workers", "2", "--storage", "memory://x"),
                          ["--workers 2 with --storage memory://x",
                           "a study in memory lives in one process"]),
    "unreachable server": (tune_file("", "--storage", "postgresql://nobody:secret@127.0.0.1:1/x"),
                           ["storage 'postgresql://nobody:***@127.0.0.1:1/x'"]),
    "storage in a missing folder": (tune_file("", "--storage", "sqlite:////nonexistent/x.db"),
                                    ["folder '/nonexistent' does not exist"]),
    "journal in a missing folder": (tune_file("", "--storage",
                                              "journal:///nonexistent/x.log"),
                                    ["folder '/nonexistent' does not exist"]),
    "out is a file": (tune_file("", "--out", "s.toml"),
                      ["--out 's.toml' is a file", "a folder is needed"]),
    "out is a symlink": (_symlink_out, ["--out 'link' is a symbolic link", "target folder"]),
    "out is a device": (tune_file("", "--out", "/dev/null"),
                        ["--out '/dev/null' is a character device, not a folder"]),
    "out/model is a file": (_out_with("model", "file"),
                            ["model' is a file, but a folder is needed"]),
    "out/report.html is a symlink": (_out_with("report.html", "link"),
                                     ["report.html' is a symbolic link"]),
    "out/report.html is a folder": (_out_with("report.html", "dir"),
                                    ["report.html' is a folder, but a file is needed"]),
    "out/leaderboard.csv is a folder": (_out_with("leaderboard.csv", "dir"),
                                        ["leaderboard.csv' is a folder"]),
    "compare unknown strategy": (argv("compare", "shampoo", "--strategies", "tpe,foo",
                                      "--out", "out"), ["unknown strategy 'foo'"]),
    "compare budget 0": (argv("compare", "shampoo", "--budget", "0"),
                         ["argument --budget", "got 0"]),
    "experiment repeats 0": (argv("experiment", "shampoo", "--vary", "units=1,2",
                                  "--repeats", "0"), ["argument --repeats", "got 0"]),
    "experiment units 0": (argv("experiment", "shampoo", "--vary", "units=0,1"),
                           ["units=0 is out of range", ">= 1"]),
    "experiment nan learning rate": (argv("experiment", "shampoo", "--vary", "lr=nan,0.1"),
                                     ["learning_rate=nan is not a finite number"]),
    "experiment unknown calendar part": (
        argv("experiment", "shampoo", "--vary", "calendar=none,mnth"),
        ["bad value 'mnth' for calendar", "did you mean 'month'", "e.g. calendar=month"]),
    "experiment impute unknown": (argv("experiment", "shampoo", "--vary", "impute=mean,linear"),
                                  ["bad value 'mean' for impute", "linear, time, spline"]),
    "experiment value twice": (argv("experiment", "shampoo", "--vary", "units=1,1"),
                               ["lists a value twice"]),
    "experiment out is a file": (argv("experiment", "shampoo", "--vary", "units=1,2",
                                      "--out", "f.txt", files={"f.txt": "x"}),
                                 ["--out 'f.txt' is a file"]),
    "experiment beyond memory": (argv("experiment", "shampoo", "--vary", "units=2048,4096",
                                      "--set", "layers=8", "--repeats", "1000"),
                                 ["experiment: 1000 trainings", "GiB", "more than half"]),
    "experiment without vary": (argv("experiment", "shampoo"), ["nothing to compare"]),
    "experiment of 10^8 configurations": (
        argv("experiment", "shampoo", "--repeats", "1",
             "--vary", "units=" + ",".join(map(str, range(1, 101))),
             "--vary", "timesteps=" + ",".join(map(str, range(1, 101))),
             "--vary", "batch_size=" + ",".join(map(str, range(1, 101))),
             "--vary", "learning_rate=" + ",".join(f"0.{k:03d}" for k in range(1, 11))),
        ["= 10,000,000 configurations", "at most 10,000", "lstmtune tune"]),
    "compare no strategy": (argv("compare", "shampoo", "--strategies", ","),
                            ["names no strategy"]),
    "compare a strategy twice": (argv("compare", "shampoo", "--strategies", "tpe,tpe"),
                                 ["lists 'tpe' twice"]),
    "feature twice": (argv("prepare", "d.csv", "--features", "x,x",
                           files={"d.csv": "date,y,x\n" + "".join(
                               f"2020-{m:02d}-01,{m},{m % 3}\n" for m in range(1, 13))}),
                      ["--features lists 'x' twice"]),
    "the target as a feature": (argv("prepare", "shampoo", "--features", "Sales"),
                                ["no column left for the target", "Sales"]),
    "values too near zero": (argv("baseline", "d.csv", "--test-size", "2",
                                  files={"d.csv": "date,v\n" + "".join(
                                      f"2020-{m:02d}-01,{m}e-310\n" for m in range(1, 13))}),
                             ["nearer to 0 than ±1e-150", "rescale"]),
    "a grid of gaps": (argv("baseline", "d.csv", "--freq", "1ns", files={"d.csv": SHORT}),
                       ["--freq '1ns'", "almost all gaps"]),
    "out under /proc": (tune_file("", "--out", "/proc/lstmtune-out"),
                        ["the folder cannot be created"]),

    "baseline horizon 0": (argv("baseline", "shampoo", "--horizon", "0"),
                           ["argument --horizon", "got 0"]),
    "baseline season 0": (argv("baseline", "shampoo", "--season", "0"),
                          ["argument --season", "got 0"]),
    "baseline test-size 0": (argv("baseline", "shampoo", "--test-size", "0"),
                             ["argument --test-size", "count >= 1 or a fraction"]),
    "baseline test-size 1.5": (argv("baseline", "shampoo", "--test-size", "1.5"),
                               ["argument --test-size", "got 1.5"]),
    "prepare lags 0": (argv("prepare", "shampoo", "--lags", "0"), ["argument --lags"]),
    "prepare lags 5000": (argv("prepare", "shampoo", "--lags", "5000"),
                          ["argument --lags", "from 1 to 1000"]),
    "prepare negative outliers": (argv("prepare", "shampoo", "--outliers", "-1"),
                                  ["argument --outliers", "> 0"]),
    "prepare negative difference": (argv("prepare", "shampoo", "--difference", "-1"),
                                    ["argument --difference"]),
    "prepare nan log offset": (argv("prepare", "shampoo", "--log-offset", "nan"),
                               ["argument --log-offset", "got nan"]),
    "prepare bad decimal option": (argv("prepare", "shampoo", "--decimal", ";"),
                                   ["argument --decimal", "invalid choice"]),
    "dashboard port": (argv("dashboard", "x", "--port", "70000"),
                       ["argument --port", "from 1 to 65535"]),
    # ---- reports: where they are written -------------------------------------------------
    "report of a URL without --out": (argv("report", "sqlite:///s.db"),
                                      ["storage URL", "--out report.html"]),
    "report to a symlink": (_report_to_symlink, ["--out 'r.html' is a symbolic link"]),
    "report to a folder": (argv("report", "x", "--out", "."), ["--out '.' is a folder"]),
    "report to a device": (argv("report", "x", "--out", "/dev/null"),
                           ["'/dev/null' is a character device, not a regular file"]),
    "report of a missing sqlite file": (argv("report", "sqlite:///missing.db", "--out",
                                             "r.html"), ["'missing.db' does not exist"]),
    "report of a folder without a study": (argv("report", "."), ["has no study.db"]),
    # ---- model directories ---------------------------------------------------------------
    "model folder missing": (argv("predict", "nowhere", "shampoo"),
                             ["model directory 'nowhere' does not exist"]),
    "model is a file": (argv("predict", "f.txt", "shampoo", files={"f.txt": "x"}),
                        ["is a file, not a folder"]),
    "model lacks params": (_tampered(lambda m: (m / "params.npz").unlink()),
                           ["lacks params.npz"]),
    "model bit flipped": (_tampered(_flip), ["failed its integrity check"]),
    "truncated params": (_tampered(_truncate), ["params.npz is not a readable weight file"]),
    "params header declares 4 TB": (_tampered(_huge_header),
                                    ["weight layers.0.W has shape (1000000000000, 4)"]),
    "model.json declares 4 TB": (_tampered(_json_edit(_giant)),
                                 ["GiB of weights", "more than half"]),
    "model.json not JSON": (_tampered(lambda m: ((m / "model.json").write_text("{"),
                                                 _resign(m))), ["not readable JSON"]),
    "seeds of the wrong type": (_tampered(_json_edit(lambda d: d.update(seeds="abc"))),
                                ["model.json has a malformed 'seeds'", "'abc'"]),
    "config of the wrong type": (_tampered(_json_edit(lambda d: d.update(config=[1, 2]))),
                                 ["malformed 'config'", "table of hyperparameters"]),
    "declared shapes disagree": (_tampered(_json_edit(lambda d: d["params"].update(
        {"layers.0.U": [2, 100000000, 800000000]}))), ["'params' shapes do not match"]),
    "params section missing": (_tampered(_json_edit(lambda d: d.pop("params"))),
                               ["model.json lacks 'params'"]),
    "negative first origin": (_tampered(_json_edit(lambda d: d.update(first_origin=-5))),
                              ["malformed 'first_origin'", "-5"]),
    "checksums of the wrong type": (_tampered(lambda m: (m / "checksums.json").write_text(
        json.dumps({"sha256": ["a", "b"]}))), ["failed its integrity check"]),
    "deeply nested model.json": (_tampered(lambda m: ((m / "model.json").write_text(
        "[" * 100000 + "]" * 100000), _resign(m))), ["nests too deeply"]),
    "params is a device link": (_tampered(lambda m: ((m / "params.npz").unlink(),
                                                     (m / "params.npz").symlink_to(
                                                         "/dev/zero"))),
                                ["params.npz is not a regular file"]),
    "format version 2": (_tampered(_json_edit(lambda d: d.update(format_version=2))),
                         ["model format version 2", "reads version 1"]),
    "checksums without an entry": (_tampered(lambda m: (m / "checksums.json").write_text(
        json.dumps({"sha256": {}}))), ["failed its integrity check"]),
    "NaN weights": (_tampered(_nan_weights), ["NaN/inf weights"]),
    "units beyond the registry": (_tampered(_json_edit(lambda d: d["config"].update(
        units=100000))), ["units=100000 is out of range"]),
    "unknown indicator in model.json": (_tampered(_json_edit(lambda d: d["config"].update(
        indicators="bogus"))), ["model.json", "indicator 'bogus' is unknown"]),
    "zero scale in the fitted scaler": (_tampered(_json_edit(_zero_scale)),
                                        ["malformed 'prep'", "scale_", "finite and > 0"]),
    # ---- horizons, multi-step strategies, metrics ----------------------------------------
    "horizon searched": (tune_file("[space] horizon = { int = [1, 3] }"),
                         ["[space] horizon", "fixed for a study", "[model] (horizon = 12)"]),
    "horizon beyond the test window": (tune_file("[model] horizon = 8"),
                                       ["horizon = 8", "test_size = 6", "at most 6"]),
    "horizon beyond a fold": (tune_file("[model] horizon = 4\n[data] folds = 2"),
                              ["horizon = 4", "validation fold", "= 3", "at most 3"]),
    "--horizon beyond the test window": (tune_file("", "--horizon", "7"),
                                         ["horizon = 7", "test_size = 6"]),
    "horizon zero": (tune_file("[model] horizon = 0"), ["horizon=0", "out of range"]),
    "unknown metric": (tune_file('[search] metric = "rsme"'),
                       ["metric = 'rsme'", "did you mean 'rmse'"]),
    "unknown multistep": (tune_file('[model] multistep = "both"'),
                          ["multistep", "'both'", "direct, recursive"]),
    "recursive with an indicator": (
        tune_file('[model] horizon = 3\n[model] multistep = "recursive"\n'
                  '[preprocessing] indicators = ["rsi:14"]'),
        ["multistep=recursive with horizon=3", "indicator rsi:14", "multistep=direct"]),
    "recursive stateful": (
        tune_file('[model] horizon = 3\n[model] multistep = "recursive"\n'
                  "[model] stateful = true"),
        ["multistep=recursive with horizon=3", "stateful=false"]),
    "recursive with the window scaler": (
        tune_file('[model] horizon = 3\n[model] multistep = "recursive"\n'
                  '[preprocessing] scale_on = "windows"'),
        ["multistep=recursive", "scale_on=series"]),
    "known feature the data lacks": (tune_file('[preprocessing] known_features = ["holiday"]'),
                                     ["known_features", "holiday", "--features"]),
    "mape on a series with zeros": (argv("tune", "zeros.csv", "--metric", "mape", "--out", "o",
                                         files={"zeros.csv": "t,y\n" + "".join(
                                             f"{i},{i % 3}\n" for i in range(40))}),
                                    ["metric = mape", "is 0", "smape or mase"]),
    "experiment varying the horizon": (argv("experiment", "shampoo", "--vary", "horizon=1,3",
                                            "--out", "o"),
                                       ["horizon is part of what an experiment scores",
                                        "--set horizon=12"]),
    "experiment with an unknown metric": (argv("experiment", "shampoo", "--vary",
                                               "units=1,2", "--metric", "rsme", "--out", "o"),
                                          ["--metric", "rsme"]),
    "future file without the known feature": (
        _known_future_model("date,other\n2003-05-01,1\n2003-06-01,0\n"),
        ["future file lacks column 'promo'", "known feature"]),
    "future file with a gap": (_known_future_model("date,promo\n2003-05-01,1\n2003-06-01,\n"),
                               ["column 'promo' has a missing or non-numeric value at row 2"]),
    "future file of the wrong dates": (
        _known_future_model("date,promo\n2004-05-01,1\n2004-06-01,0\n"),
        ["times start at 2004-05-01", "2003-05-01"]),
    "feature with a gap and no imputation": (
        argv("experiment", "feat.csv", "--features", "x", "--vary", "units=1,2", "--out", "o",
             files={"feat.csv": FEATURE_GAP}),
        ["1 row(s) with missing values", "--set impute=linear"]),
    "feature with a gap in a study without imputation": (
        argv("tune", "s.toml", "--out", "out", files={
            "feat.csv": FEATURE_GAP,
            "s.toml": study('[data] source = "feat.csv"\n[data] features = ["x"]\n'
                            "[data] test_size = 6")}),
        ["1 row(s) with missing values", "[preprocessing] impute"]),
    "predict --future that is not a file": (argv("predict", "{model}", "shampoo",
                                                 "--horizon", "2", "--future", "nope.csv"),
                                            ["--future 'nope.csv' is not a file"]),
}


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    ens, _ = fit_ensemble(load("shampoo"), {"units": 1, "epochs": 2}, repeats=2, seed=0,
                          holdout=6)
    return save_model(ens, tmp_path_factory.mktemp("m") / "model")


def _snapshot(root: Path) -> dict[str, tuple]:
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            st = p.lstat()
            out[str(p.relative_to(root))] = (st.st_mode, st.st_size, st.st_mtime_ns)
    return out


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_refused_in_one_line_and_nothing_written(case, tmp_path, monkeypatch, capsys, model):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "d.toml").mkdir()
    (tmp_path / "flat.csv").write_text("date,value\n" + "".join(
        f"{2000 + i // 12}-{i % 12 + 1:02d}-01,5\n" for i in range(36)))
    setup, fragments = CASES[case]
    args = setup(tmp_path, model)
    before = _snapshot(tmp_path)
    code = main(args)
    out = capsys.readouterr()
    lines = out.err.strip().splitlines()
    assert code == 2, (code, out.err)
    assert len(lines) == 1 and lines[0].startswith("lstmtune: error: "), out.err
    assert "Traceback" not in out.err and out.out == ""
    for f in fragments:
        assert f in lines[0], (f, lines[0])
    assert _snapshot(tmp_path) == before, "a refused input must not write anything"


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into a read-only folder")
def test_a_read_only_folder_is_refused(tmp_path, monkeypatch, capsys, model):
    monkeypatch.chdir(tmp_path)
    assert main(_readonly_out(tmp_path, model)) == 2
    assert "cannot write in" in capsys.readouterr().err
    assert not (tmp_path / "ro" / "out").exists()


def test_a_file_system_error_is_one_line(tmp_path, monkeypatch, capsys):
    """Writing where the file system refuses (a full disk, /proc...): one line, exit 2."""
    import lstmtune.cli._commands as commands

    def refuse(args):
        raise OSError(28, "No space left on device", str(tmp_path / "x.csv"))

    monkeypatch.setattr(commands, "cmd_datasets", refuse)
    monkeypatch.setattr("lstmtune.cli.cmd_datasets", refuse)
    assert main(["datasets"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "No space left on device" in err and "x.csv" in err


def test_there_are_at_least_eighty_cases():
    assert len(CASES) >= 80
