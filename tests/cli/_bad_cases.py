"""A catalogue of bad inputs aimed at panels, classification, model directories of the three
kinds and storages/workers (issue 22), shared by ``test_bad_input_catalogue.py`` and
``benchmarks/bad_inputs.py``.

A ``Case`` is a name, a group, a ``setup(folder, models)`` that writes the case's files into
``folder`` (the working directory of the run) and returns the command line, and the words
its one stderr line must hold. ``run_case`` runs it in this process with ``lstmtune.cli.main``
and ``judge`` says what is wrong with the answer: an exit code other than 2, anything but one
whole sentence of at most ``MAX_LINE`` characters on stderr (warnings and log records count
as lines), a traceback, output on stdout, a missing word, or a file written, changed or
removed in ``folder``.

The model cases copy a trained model directory (``build_models``: each kind trained once),
edit one field of ``model.json``, ``checksums.json`` or ``params.npz``, recompute the
checksums as someone crafting a model file would, and ask ``predict`` to use it.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import io
import json
import logging
import os
import shutil
import signal
import sqlite3
import subprocess
import time
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

MAX_LINE = 400
LIMIT = 30.0  # a refusal takes seconds; a bad input taken for a good one runs a whole study
PREFIX = "lstmtune: error: "
NAN = float("nan")


class _Stopped(BaseException):
    """Raised in the command by the alarm at the case's time limit."""


class Unavailable(Exception):
    """The case cannot be made on this machine (e.g. no way to make a file read-only)."""


@dataclass(frozen=True)
class Models:
    """The trained model directories and the data each predicts on."""

    forecaster: Path  # shampoo, 2 members
    panel: Path  # 4 series S0…S3, local, horizon 3, 2 repeats
    text: Path  # texts, classes neg/pos
    numeric: Path  # a one-channel .ts, classes a/b
    panel_table: Path  # the long table the panel model was tuned on
    ts_test: Path  # a .ts of the numeric classifier's kind


@dataclass(frozen=True)
class Case:
    name: str
    group: str
    setup: Callable[[Path, Models], list[str]]
    expect: tuple = ()  # each a word, or a tuple of alternatives, the line must hold
    teardown: Callable[[Path], None] | None = None
    reject: tuple[str, ...] = ()  # words of a wrong story the line must not hold
    limit: float = LIMIT  # seconds before the command is stopped


@dataclass
class Outcome:
    case: Case
    argv: list[str] = field(default_factory=list)
    code: int | None = None
    out: str = ""
    err: str = ""
    extra: list[str] = field(default_factory=list)  # warnings and log records
    traceback: str = ""
    changed: list[str] = field(default_factory=list)
    seconds: float = 0.0
    skipped: str = ""
    stopped: bool = False  # still running after the case's limit

    @property
    def lines(self) -> list[str]:
        return [ln for ln in self.err.splitlines() if ln.strip()] + self.extra

    @property
    def line(self) -> str:
        lines = self.lines
        return lines[0] if lines else ""


# ---- data the cases write -------------------------------------------------------------------

PANEL_STUDY = """
[data]
task = "panel"
source = "{source}"
[model]
horizon = 3
units = 1
timesteps = 3
model = "local"
[training]
epochs = 2
batch_size = 8
[search]
strategy = "random"
trials = 1
repeats = 1
batch = 1
final_repeats = 2
[space]
learning_rate = { choice = [0.01] }
"""

TEXT_STUDY = """
[data]
task = "classify"
source = "{source}"
{data}
test_size = 0.25
val_size = 0.25
[model]
units = 2
input_length = 4
{model}
[training]
batch_size = 8
epochs = 2
[search]
strategy = "random"
trials = 1
repeats = 1
batch = 1
final_repeats = 2
[space]
learning_rate = { choice = [0.01] }
"""

FORECAST_STUDY = """
[data]
source = "shampoo"
test_size = 6
val_size = 6
[training]
epochs = 2
[search]
trials = 1
repeats = 1
final_repeats = 2
[space]
units = { int = [1, 2] }
"""

def text_study(source: str, data: str, model: str) -> str:
    return TEXT_STUDY.replace("{source}", source).replace("{data}", data).replace(
        "{model}", model)


POS = ["a", "great", "and", "moving", "film", "loved", "every", "minute", "great", "cast",
       "and", "fun"]
NEG = ["a", "dull", "boring", "mess", "dull", "and", "far", "too", "long", "boring", "film",
       "a", "mess"]


BLANK_ID = (("blank", "empty", "no series id"),)


def panel_frame(n_series: int = 4, n: int = 30, seed: int = 0) -> pd.DataFrame:
    """A long table of ``n_series`` monthly series S0…, ``n`` points each, ds as text."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_series):
        t = np.arange(n)
        rows.append(pd.DataFrame({
            "unique_id": f"S{i}",
            "ds": pd.date_range("2010-01-01", periods=n, freq="MS").strftime("%Y-%m-%d"),
            "y": 50 + 5 * i + 0.3 * t + rng.normal(0, 1, n)}))
    return pd.concat(rows, ignore_index=True)


def reviews_frame(n: int = 24, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    texts = [" ".join(rng.choice(POS if i % 2 else NEG, size=int(rng.integers(2, 7))))
             for i in range(n)]
    return pd.DataFrame({"review": texts, "sentiment": ["pos" if i % 2 else "neg"
                                                         for i in range(n)]})


def ts_text(n: int, seed: int = 1, classes: tuple[str, ...] = ("a", "b"),
            header: str | None = None, length: int = 8) -> str:
    """A univariate .ts file of ``n`` items of ``length`` points, classes alternating."""
    rng = np.random.default_rng(seed)
    lines = (header or "@problemName toy\n@timeStamps false\n@univariate true\n"
             f"@classLabel true {' '.join(classes)}\n@data").splitlines()
    for i in range(n):
        lab = classes[i % len(classes)]
        v = rng.normal(0, 1, length) + np.arange(length) * (0.5 if i % 2 else -0.5)
        lines.append(",".join(f"{x:.3f}" for x in v) + ":" + lab)
    return "\n".join(lines) + "\n"


# ---- running and judging ---------------------------------------------------------------------

def snapshot(root: Path) -> dict[str, tuple]:
    """Every path under ``root`` with its mode, size and modification time."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            st = p.lstat()
            out[str(p.relative_to(root))] = (st.st_mode, st.st_size, st.st_mtime_ns)
    return out


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"[log {record.name}] {record.getMessage()}")


def run_case(case: Case, folder: Path, models: Models) -> Outcome:
    """Run ``case`` with ``folder`` (created, empty) as the working directory."""
    from lstmtune.cli import main

    result = Outcome(case)
    folder.mkdir(parents=True, exist_ok=True)
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        try:
            result.argv = case.setup(folder, models)
        except Unavailable as exc:
            result.skipped = str(exc)
            return result
        before = snapshot(folder)
        out, err, records = io.StringIO(), io.StringIO(), _Records()
        loggers = [logging.getLogger(n) for n in ("", "optuna", "lstmtune")]
        for lg in loggers:
            lg.addHandler(records)
        start = time.perf_counter()
        previous = signal.signal(signal.SIGALRM, _alarm)
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
                    warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                signal.setitimer(signal.ITIMER_REAL, case.limit)
                try:
                    result.code = main(result.argv)
                except SystemExit as exc:
                    result.code = exc.code if isinstance(exc.code, int) else 1
                except _Stopped:
                    result.stopped = True
                except Exception:  # noqa: BLE001 — what the catalogue looks for
                    result.traceback = traceback.format_exc()
                finally:
                    signal.setitimer(signal.ITIMER_REAL, 0)
        finally:
            signal.signal(signal.SIGALRM, previous)
            result.seconds = time.perf_counter() - start
            for lg in loggers:
                lg.removeHandler(records)
        result.out, result.err = out.getvalue(), err.getvalue()
        result.extra = [f"[{w.category.__name__}] {w.message}" for w in caught] + records.lines
        after = snapshot(folder)
        result.changed = sorted(
            [f"+{p}" for p in after.keys() - before.keys()]
            + [f"-{p}" for p in before.keys() - after.keys()]
            + [f"~{p}" for p in before.keys() & after.keys() if before[p] != after[p]])
        return result
    finally:
        os.chdir(cwd)
        if case.teardown is not None:
            case.teardown(folder)


def _alarm(signum, frame) -> None:
    raise _Stopped


def _sentence(line: str) -> bool:
    return line.rstrip("'\"`").endswith((".", "?", "!")) or line.endswith(")")


def judge(result: Outcome) -> list[str]:
    """What is wrong with the answer; empty when the case is refused as it should be."""
    if result.skipped:
        return []
    problems = []
    if result.stopped:
        problems.append(f"still running after {result.case.limit:g} s (stopped)")
    elif result.traceback:
        last = result.traceback.strip().splitlines()[-1]
        problems.append(f"raised {last[:200]}")
    elif result.code != 2:
        problems.append(f"exit code {result.code}")
    if "Traceback" in result.err:
        problems.append("a traceback on stderr")
    lines = result.lines
    if len(lines) != 1:
        problems.append(f"{len(lines)} stderr lines")
    line = result.line
    if lines:
        if not line.startswith(PREFIX):
            problems.append("the line does not start with 'lstmtune: error: '")
        if len(line) > MAX_LINE:
            problems.append(f"{len(line)} characters (more than {MAX_LINE})")
        if not _sentence(line):
            problems.append("not a whole sentence")
        low = line.lower()
        for want in result.case.expect:
            alternatives = (want,) if isinstance(want, str) else want
            if not any(a.lower() in low for a in alternatives):
                problems.append(f"does not name {' or '.join(map(repr, alternatives))}")
        for wrong in result.case.reject:
            if wrong.lower() in low:
                problems.append(f"says {wrong!r}, which is not the problem")
    if result.out.strip():
        problems.append("printed on stdout")
    if result.changed:
        problems.append(f"left behind {', '.join(result.changed[:5])}"
                        + (" …" if len(result.changed) > 5 else ""))
    return problems


# ---- building the models -------------------------------------------------------------------

def _quiet_main(argv: list[str]) -> int:
    from lstmtune.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    if code != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({code}): {err.getvalue()[-2000:]}")
    return code


def build_models(root: Path) -> Models:
    """Train each kind of model once, tiny, into ``root`` (about 30 s on two cores)."""
    from lstmtune.data import load
    from lstmtune.model import fit_ensemble, save_model

    root.mkdir(parents=True, exist_ok=True)
    ens, _ = fit_ensemble(load("shampoo"), {"units": 1, "epochs": 2}, repeats=2, seed=0,
                          holdout=6)
    forecaster = save_model(ens, root / "forecaster")
    panel_frame().to_csv(root / "panel.csv", index=False)
    (root / "panel.toml").write_text(PANEL_STUDY.replace("{source}", "panel.csv"))
    reviews_frame().to_csv(root / "reviews.csv", index=False)
    (root / "reviews.toml").write_text(text_study(
        source="reviews.csv", data=REVIEW_COLS,
        model="vocab_size = 30\nembed_dim = 2"))
    (root / "toy_TRAIN.ts").write_text(ts_text(16))
    (root / "toy_TEST.ts").write_text(ts_text(8, seed=2))
    (root / "toy.toml").write_text(text_study(source="toy_TRAIN.ts", data="", model="")
                                   .replace("test_size = 0.25\n", "")
                                   .replace("input_length = 4", "input_length = 8"))
    for name in ("panel", "reviews", "toy"):
        _quiet_main(["tune", str(root / f"{name}.toml"), "--out", str(root / "out")])
    return Models(forecaster=Path(forecaster), panel=root / "out" / "panel" / "model",
                  text=root / "out" / "reviews" / "model", numeric=root / "out" / "toy" / "model",
                  panel_table=root / "panel.csv", ts_test=root / "toy_TEST.ts")


# ---- helpers for the setups --------------------------------------------------------------------

def resign(folder: Path) -> None:
    """Recompute checksums.json, as someone crafting a model file would."""
    sums = {n: hashlib.sha256((folder / n).read_bytes()).hexdigest()
            for n in ("model.json", "params.npz")}
    (folder / "checksums.json").write_text(json.dumps({"sha256": sums}))


_DROP = object()


def _at(doc, path: tuple, value) -> None:
    """Set ``doc[path]`` to ``value`` (``_DROP``: remove it)."""
    *head, last = path
    for key in head:
        doc = doc[key]
    if value is _DROP:
        del doc[last]
    else:
        doc[last] = value(copy.deepcopy(doc[last])) if callable(value) else value


def _edit_json(*changes: tuple) -> Callable[[Path], None]:
    """Each change ``(path, value)``; a value that is callable gets the old one."""
    def edit(m: Path) -> None:
        doc = json.loads((m / "model.json").read_text())
        for path, value in changes:
            _at(doc, path, value)
        (m / "model.json").write_text(json.dumps(doc))  # NaN written as NaN
        resign(m)
    return edit


def _raw_json(transform: Callable[[str], str]) -> Callable[[Path], None]:
    def edit(m: Path) -> None:
        (m / "model.json").write_text(transform((m / "model.json").read_text()))
        resign(m)
    return edit


def _duplicate_key(key: str, value) -> Callable[[Path], None]:
    """A second ``key`` before the real one: JSON readers keep the last without a word."""
    return _raw_json(lambda text: "{" + json.dumps(key) + ": " + json.dumps(value) + ", "
                     + text.lstrip()[1:])


def _checksums(body: str | None) -> Callable[[Path], None]:
    def edit(m: Path) -> None:
        if body is None:
            (m / "checksums.json").unlink()
        else:
            (m / "checksums.json").write_text(body)
    return edit


def _real_sums(m: Path) -> dict[str, str]:
    return {n: hashlib.sha256((m / n).read_bytes()).hexdigest()
            for n in ("model.json", "params.npz")}


def _sums_edit(change: Callable[[dict], object]) -> Callable[[Path], None]:
    def edit(m: Path) -> None:
        sums = _real_sums(m)
        (m / "checksums.json").write_text(json.dumps(change(sums)))
    return edit


def _params(change: Callable[[dict], None]) -> Callable[[Path], None]:
    def edit(m: Path) -> None:
        with np.load(m / "params.npz") as z:
            arrays = {k: z[k] for k in z.files}
        change(arrays)
        np.savez(m / "params.npz", **arrays)
        resign(m)
    return edit


DATA_FOR = {  # how predict is asked to use each kind of model
    "forecaster": lambda tmp, models: ["shampoo", "--horizon", "2"],
    "panel": lambda tmp, models: [shutil.copy(models.panel_table, tmp / "panel.csv")
                                  and "panel.csv"],
    "text": lambda tmp, models: [(tmp / "new.txt").write_text("loved it great fun\n"
                                                              "boring dull mess\n")
                                 and "new.txt"],
    "numeric": lambda tmp, models: [shutil.copy(models.ts_test, tmp / "toy_TEST.ts")
                                    and "toy_TEST.ts"],
}


def tampered(kind: str, edit: Callable[[Path], None]):
    def setup(tmp: Path, models: Models) -> list[str]:
        shutil.copytree(getattr(models, kind), tmp / "m")
        edit(tmp / "m")
        return ["predict", "m", *DATA_FOR[kind](tmp, models)]
    return setup


def predict_with(kind: str, *extra: str, files: dict[str, str] | None = None):
    """``predict`` of the untouched model of ``kind`` (read in place) with ``extra``."""
    def setup(tmp: Path, models: Models) -> list[str]:
        for name, body in (files or {}).items():
            (tmp / name).write_text(body)
        return ["predict", str(getattr(models, kind)), *DATA_FOR[kind](tmp, models), *extra]
    return setup


def predict_on(kind: str, data: Callable[[Path], str], *extra: str):
    """``predict`` of the model of ``kind`` on what ``data(tmp)`` writes."""
    def setup(tmp: Path, models: Models) -> list[str]:
        return ["predict", str(getattr(models, kind)), data(tmp), *extra]
    return setup


def panel_tune(change: Callable[[pd.DataFrame], pd.DataFrame | str] | None = None,
               *extra: str, study: tuple[str, str] = ("", "")):
    """``tune`` of PANEL_STUDY (``study``: a text it replaces and its replacement) on the
    panel table ``change`` returns (a frame, or the CSV text itself)."""
    def setup(tmp: Path, models: Models) -> list[str]:
        frame = panel_frame()
        body = change(frame) if change else frame
        if isinstance(body, str):
            (tmp / "p.csv").write_text(body)
        else:
            body.to_csv(tmp / "p.csv", index=False)
        text = PANEL_STUDY.replace("{source}", "p.csv")
        (tmp / "p.toml").write_text(text.replace(*study) if study[0] else text)
        return ["tune", "p.toml", "--out", "out", *extra]
    return setup


def panel_table(change: Callable[[pd.DataFrame], pd.DataFrame | str]):
    """The panel model's predict data: the tuning table, changed."""
    def data(tmp: Path) -> str:
        body = change(panel_frame())
        if isinstance(body, str):
            (tmp / "p.csv").write_text(body)
        else:
            body.to_csv(tmp / "p.csv", index=False)
        return "p.csv"
    return data


def classify_tune(write: Callable[[Path], str], *extra: str, data: str = "",
                  model: str = "vocab_size = 30\nembed_dim = 2", study: str | None = None):
    """``tune`` of TEXT_STUDY on the source ``write(tmp)`` writes (returning its name)."""
    def setup(tmp: Path, models: Models) -> list[str]:
        source = write(tmp)
        text = text_study(source=source, data=data, model=model)
        if source.endswith(".ts"):
            text = text.replace("test_size = 0.25\n", "").replace("input_length = 4",
                                                                  "input_length = 8")
        (tmp / "c.toml").write_text(study if study is not None else text)
        return ["tune", "c.toml", "--out", "out", *extra]
    return setup


REVIEW_COLS = 'text_col = "review"\nlabel_col = "sentiment"'


def _study_edit(setup, old: str, new: str):
    """``setup``, then ``old`` replaced by ``new`` in its study file c.toml."""
    def edited(tmp: Path, models: Models) -> list[str]:
        argv = setup(tmp, models)
        text = (tmp / "c.toml").read_text()
        assert old in text, old
        (tmp / "c.toml").write_text(text.replace(old, new))
        return argv
    return edited


def _csv(frame_or_text, name: str = "r.csv"):
    def write(tmp: Path) -> str:
        body = frame_or_text() if callable(frame_or_text) else frame_or_text
        if isinstance(body, str):
            (tmp / name).write_text(body)
        else:
            body.to_csv(tmp / name, index=False)
        return name
    return write


def _npz(**arrays):
    def write(tmp: Path) -> str:
        np.savez(tmp / "x.npz", **{k: v() if callable(v) else v for k, v in arrays.items()})
        return "x.npz"
    return write


def _ts(train: str, test: str | None = None):
    def write(tmp: Path) -> str:
        (tmp / "d_TRAIN.ts").write_text(train)
        if test is not None:
            (tmp / "d_TEST.ts").write_text(test)
        return "d_TRAIN.ts"
    return write


def _folders(layout: dict[str, list[str]]):
    def write(tmp: Path) -> str:
        for label, texts in layout.items():
            (tmp / "docs" / label).mkdir(parents=True, exist_ok=True)
            for i, text in enumerate(texts):
                (tmp / "docs" / label / f"{i}.txt").write_text(text)
        return "docs"
    return write


def forecast_tune(*extra: str, files: dict[str, str] | None = None):
    def setup(tmp: Path, models: Models) -> list[str]:
        (tmp / "s.toml").write_text(FORECAST_STUDY)
        for name, body in (files or {}).items():
            (tmp / name).write_text(body)
        return ["tune", "s.toml", "--out", "out", *extra]
    return setup


# ---- read-only files for a user who may write anything (root) ------------------------------

def _read_only(path: Path) -> None:
    """Make ``path`` unwritable even for root (``chattr +i``), or say it cannot be done."""
    path.chmod(0o555 if path.is_dir() else 0o444)
    if os.geteuid() != 0:
        return
    done = subprocess.run(["chattr", "+i", str(path)], capture_output=True)
    if done.returncode != 0:
        path.chmod(0o755 if path.is_dir() else 0o644)
        raise Unavailable("root, and chattr +i is refused here: no read-only file")


def _writable_again(*names: str) -> Callable[[Path], None]:
    def teardown(tmp: Path) -> None:
        for name in names:
            p = tmp / name
            if p.exists():
                if os.geteuid() == 0:
                    subprocess.run(["chattr", "-i", str(p)], capture_output=True)
                p.chmod(0o755 if p.is_dir() else 0o644)
    return teardown


def _sqlite_db(tmp: Path, name: str = "s.db") -> Path:
    with contextlib.closing(sqlite3.connect(tmp / name)) as con:
        con.execute("CREATE TABLE t (a)")
        con.commit()
    return tmp / name


def _readonly_sqlite(tmp: Path, models: Models) -> list[str]:
    (tmp / "s.toml").write_text(FORECAST_STUDY)
    _read_only(_sqlite_db(tmp))
    return ["tune", "s.toml", "--out", "out", "--storage", "sqlite:///s.db"]


def _readonly_sqlite_folder(tmp: Path, models: Models) -> list[str]:
    (tmp / "s.toml").write_text(FORECAST_STUDY)
    (tmp / "ro").mkdir()
    _read_only(tmp / "ro")
    return ["tune", "s.toml", "--out", "out", "--storage", "sqlite:///ro/s.db"]


def _readonly_journal(tmp: Path, models: Models) -> list[str]:
    (tmp / "s.toml").write_text(FORECAST_STUDY)
    (tmp / "j.log").write_text("")
    _read_only(tmp / "j.log")
    return ["tune", "s.toml", "--out", "out", "--storage", f"journal:///{tmp / 'j.log'}"]


def _readonly_out_root(tmp: Path, models: Models) -> list[str]:
    """--out is writable, but the default storage's folder inside it is not."""
    (tmp / "s.toml").write_text(FORECAST_STUDY)
    (tmp / "out" / "s").mkdir(parents=True)
    _read_only(tmp / "out" / "s")
    return ["tune", "s.toml", "--out", "out"]


def _null_link_storage(tmp: Path, models: Models) -> list[str]:
    (tmp / "s.toml").write_text(FORECAST_STUDY)
    (tmp / "null.db").symlink_to("/dev/null")
    return ["tune", "s.toml", "--out", "out", "--storage", "sqlite:///null.db"]


# ---- the panels ----------------------------------------------------------------------------------

def _rows(sid: str):
    return lambda f: f.unique_id == sid


def _dup_row(f: pd.DataFrame) -> pd.DataFrame:
    s2 = f[f.unique_id == "S2"]
    return pd.concat([f, s2.iloc[[5]]], ignore_index=True)


def _set_id(sid: str, value: str):
    def change(f: pd.DataFrame) -> pd.DataFrame:
        f.loc[f.unique_id == sid, "unique_id"] = value
        return f
    return change


def _set_cell(sid: str, pos: int, col: str, value):
    def change(f: pd.DataFrame) -> pd.DataFrame:
        f[col] = f[col].astype(object)
        f.loc[f.index[f.unique_id == sid][pos], col] = value
        return f
    return change


def _keep(sid: str, n: int):
    def change(f: pd.DataFrame) -> pd.DataFrame:
        return pd.concat([f[f.unique_id != sid], f[f.unique_id == sid].head(n)],
                         ignore_index=True)
    return change


def _constant(sid: str, value: float):
    def change(f: pd.DataFrame) -> pd.DataFrame:
        f.loc[f.unique_id == sid, "y"] = value
        return f
    return change


def _daily(sid: str):
    def change(f: pd.DataFrame) -> pd.DataFrame:
        rows = f.unique_id == sid
        f.loc[rows, "ds"] = pd.date_range("2010-01-01", periods=int(rows.sum()), freq="D"
                                          ).strftime("%Y-%m-%d")
        return f
    return change


def _many_short(f: pd.DataFrame) -> str:
    """20,000 series of three points."""
    n = 20_000
    ids = np.repeat([f"S{i}" for i in range(n)], 3)
    ds = np.tile(["2010-01-01", "2010-02-01", "2010-03-01"], n)
    y = np.round(np.random.default_rng(0).normal(50, 5, 3 * n), 3)
    return pd.DataFrame({"unique_id": ids, "ds": ds, "y": y}).to_csv(index=False)


def _decimal_comma_in(sid: str):
    def change(f: pd.DataFrame) -> str:
        f["y"] = f["y"].round(2).astype(str)
        f.loc[f.index[f.unique_id == sid][7], "y"] = "51,5"
        return f.to_csv(index=False)
    return change


PANELS = [
    Case("duplicate (id, time) in S2", "panel", panel_tune(_dup_row),
         ("S2", ("time", "ds"))),
    Case("empty series id", "panel", panel_tune(_set_id("S1", "")), BLANK_ID),
    Case("blank series id", "panel", panel_tune(_set_id("S1", "   ")), BLANK_ID),
    Case("no value column", "panel", panel_tune(lambda f: f.drop(columns="y")), ("y",)),
    Case("no id or time column", "panel",
         panel_tune(lambda f: f.rename(columns={"unique_id": "store", "ds": "when"})),
         ("unique_id",)),
    Case("S3 daily among monthly series", "panel", panel_tune(_daily("S3")),
         ("S3", "frequenc")),
    Case("a word in the third series", "panel", panel_tune(_set_cell("S2", 9, "y", "abc")),
         ("S2", "abc")),
    Case("a decimal comma in the third series", "panel",
         panel_tune(_decimal_comma_in("S2")), ("S2", "51,5")),
    Case("inf in a series", "panel", panel_tune(_set_cell("S1", 4, "y", "inf")),
         ("S1", "inf")),
    Case("a missing value without imputation", "panel",
         panel_tune(_set_cell("S1", 10, "y", "")), ("S1",)),
    Case("a one-point series", "panel", panel_tune(_keep("S3", 1)),
         ("S3", ("point", "short")), reject=("frequenc",)),
    Case("a series shorter than horizon + window", "panel", panel_tune(_keep("S1", 6)),
         ("S1", "short")),
    Case("a constant series under mase", "panel",
         panel_tune(_constant("S1", 5.0), "--metric", "mase"), ("S1", "constant")),
    Case("an all-zero series under smape", "panel", panel_tune(_constant("S2", 0.0)),
         ("S2",)),
    Case("an all-zero series under mape", "panel",
         panel_tune(_constant("S2", 0.0), "--metric", "mape"), ("S2", "mape")),
    Case("text in the time column", "panel", panel_tune(_set_cell("S2", 3, "ds", "yesterday")),
         ("S2", "yesterday")),
    Case("the time column all text", "panel",
         panel_tune(lambda f: f.assign(ds="someday")), ("ds", "someday"),
         reject=("sharing",)),
    Case("an empty file", "panel", panel_tune(lambda f: ""), ("p.csv",)),
    Case("20,000 series of three points", "panel", panel_tune(_many_short),
         (("short", "points"),), limit=10.0),
    Case("--horizon 0 for a panel", "panel", panel_tune(None, "--horizon", "0"),
         ("--horizon",)),
    Case("--horizon longer than the series", "panel", panel_tune(None, "--horizon", "40"),
         ("horizon", "40")),
    Case("--folds 0 for a panel", "panel", panel_tune(None, "--folds", "0"), ("--folds",)),
    Case("--folds 40 for 30-point series", "panel", panel_tune(None, "--folds", "40"),
         ("folds", "40")),
    Case("--id-col naming no column", "panel", panel_tune(None, "--id-col", "store"),
         ("store",)),
    Case("--id-col naming the target", "panel", panel_tune(None, "--id-col", "y"),
         ("target",), reject=("points",)),
    Case("--id-col empty", "panel", panel_tune(None, "--id-col", ""), ("--id-col",)),
    Case("--test-size given to a panel file", "panel", panel_tune(None, "--test-size", "3"),
         ("--test-size",)),
    Case("--metric accuracy for a panel", "panel", panel_tune(None, "--metric", "accuracy"),
         ("accuracy",)),
    Case("--freq that is no frequency", "panel", panel_tune(None, "--freq", "XYZ"),
         ("XYZ",)),
    Case("id_col of the wrong type in the study file", "panel",
         panel_tune(None, study=('task = "panel"', 'task = "panel"\nid_col = 5')),
         ("id_col",)),
    Case("an unknown task", "panel",
         panel_tune(None, study=('task = "panel"', 'task = "panels"')), ("panels",)),
    Case("every id blank", "panel", panel_tune(lambda f: f.assign(unique_id="")),
         BLANK_ID),
    # predicting with the panel model (S0…S3, horizon 3, timesteps 3)
    Case("predict a table with an unknown series", "panel-predict",
         predict_on("panel", panel_table(lambda f: pd.concat(
             [f, f[f.unique_id == "S0"].assign(unique_id="S9")]))), ("S9",)),
    Case("predict --series ,", "panel-predict", predict_with("panel", "--series", ","),
         ("--series",), reject=("none of",)),
    Case("predict --series of an unknown id", "panel-predict",
         predict_with("panel", "--series", "S9"), ("S9",)),
    Case("predict --series naming one twice", "panel-predict",
         predict_with("panel", "--series", "S1,S1"), ("S1", ("twice", "more than once"))),
    Case("predict a table with a one-point series", "panel-predict",
         predict_on("panel", panel_table(_keep("S1", 1))), ("S1",), reject=("frequenc",)),
    Case("predict a series shorter than the window", "panel-predict",
         predict_on("panel", panel_table(_keep("S2", 2))), ("S2",), reject=("frequenc",)),
    Case("predict a weekly table with a monthly model", "panel-predict",
         predict_on("panel", panel_table(lambda f: f.assign(ds=np.tile(pd.date_range(
             "2010-01-03", periods=30, freq="W-SUN").strftime("%Y-%m-%d"), 4)))),
         ("freq", "frequenc")),
    Case("predict --horizon beyond the tuned one", "panel-predict",
         predict_with("panel", "--horizon", "4"), ("horizon", "3")),
    Case("predict --point for a panel", "panel-predict",
         predict_with("panel", "--point", "median"), ("--point",)),
    Case("predict --level for a panel", "panel-predict",
         predict_with("panel", "--level", "0.5"), ("--level",)),
    Case("predict --future for a panel", "panel-predict",
         predict_with("panel", "--future", "f.csv", files={"f.csv": "ds,x\n2012-07-01,1\n"}),
         ("--future",)),
    Case("predict --id-col naming no column", "panel-predict",
         predict_with("panel", "--id-col", "store"), ("store",)),
    Case("predict --text-col for a panel", "panel-predict",
         predict_with("panel", "--text-col", "review"), ("--text-col",)),
    Case("predict a table with a blank id", "panel-predict",
         predict_on("panel", panel_table(_set_id("S2", " "))), BLANK_ID),
    Case("predict a table with a word in S2", "panel-predict",
         predict_on("panel", panel_table(_set_cell("S2", 20, "y", "n/a!"))), ("S2",)),
    Case("predict an empty table", "panel-predict",
         predict_on("panel", panel_table(lambda f: f.head(0))), (("p.csv", "panel 'p'"),)),
    Case("predict a table without its target", "panel-predict",
         predict_on("panel", panel_table(lambda f: f.drop(columns="y"))), ("y",)),
]


# ---- classification ------------------------------------------------------------------------

def _reviews(**change):
    def frame() -> pd.DataFrame:
        f = reviews_frame()
        for col, value in change.items():
            f[col] = value(f) if callable(value) else value
        return f
    return frame


def _ragged_object() -> np.ndarray:
    out = np.empty(12, dtype=object)
    for i in range(12):
        out[i] = list(range(1, 2 + i % 4))
    return out


TOKENS = np.tile(np.arange(1, 6), (12, 1))
LABELS = np.arange(12) % 2
TS_HEADER = "@problemName d\n@timeStamps false\n@univariate true\n@classLabel true a b\n@data"


def _ts_with(line: str, at: int = 3) -> str:
    lines = ts_text(16).splitlines()
    lines[5 + at] = line
    return "\n".join(lines) + "\n"


CLASSIFY = [
    Case("all texts empty", "classify",
         classify_tune(_csv(_reviews(review="")), data=REVIEW_COLS), ("empty",)),
    Case("class folders with one class", "classify",
         classify_tune(_folders({"pos": POS[:6]})), ("class",)),
    Case("class folders whose texts are empty", "classify",
         classify_tune(_folders({"pos": ["", " "], "neg": ["", "\n"]})), ("empty",)),
    Case("the label column missing", "classify",
         classify_tune(_csv(lambda: reviews_frame().rename(columns={"sentiment": "label"})),
                       data=REVIEW_COLS), ("sentiment",)),
    Case("no label in any row", "classify",
         classify_tune(_csv(_reviews(sentiment="")), data=REVIEW_COLS), ("label",)),
    Case("a table that is not UTF-8", "classify",
         classify_tune(lambda tmp: ((tmp / "r.csv").write_bytes(
             b"review,sentiment\n\xff\xfe bad,pos\nok,neg\n"), "r.csv")[1],
             data=REVIEW_COLS), ("r.csv",)),
    Case(".npz of all-padding tokens", "classify",
         classify_tune(_npz(x=np.zeros((12, 5), int), y=LABELS)), (("padding", "0"),)),
    Case(".npz with object labels", "classify",
         classify_tune(_npz(x=TOKENS, y=np.array(["a", "b"] * 6, dtype=object))),
         ("pickle",)),
    Case(".npz with ragged object sequences", "classify",
         classify_tune(_npz(x=_ragged_object, y=LABELS)), ("pickle",)),
    Case(".npz with negative token ids", "classify",
         classify_tune(_npz(x=TOKENS - 3, y=LABELS)), ("negative",)),
    Case(".npz of float tokens", "classify",
         classify_tune(_npz(x=TOKENS + 0.5, y=LABELS)), ("integer",)),
    Case(".npz without labels", "classify", classify_tune(_npz(x=TOKENS)), ("'y'",)),
    Case(".npz with more labels than sequences", "classify",
         classify_tune(_npz(x=TOKENS, y=np.arange(14) % 2)), ("labels",)),
    Case(".npz of 3-D tokens", "classify",
         classify_tune(_npz(x=np.ones((12, 3, 2), int), y=LABELS)), ("2-D",)),
    Case(".npz that is text", "classify",
         classify_tune(lambda tmp: ((tmp / "x.npz").write_text("x,y\n1,0\n"), "x.npz")[1]),
         ("x.npz",)),
    Case(".npz of one class", "classify",
         classify_tune(_npz(x=TOKENS, y=np.zeros(12, int))), ("class",)),
    Case(".npz with bad lengths", "classify",
         classify_tune(_npz(x=np.arange(1, 25), y=LABELS, lengths=np.full(12, 3))),
         ("lengths",)),
    Case(".npz of a single number", "classify",
         classify_tune(_npz(x=np.array(5), y=LABELS)), ("'x'",)),
    Case(".ts with one class", "classify",
         classify_tune(_ts(ts_text(16, classes=("a",)))), ("class",)),
    Case(".ts with ragged channels", "classify",
         classify_tune(_ts(_ts_with("1,2,3,4:5,6:a"))), ("line",)),
    Case(".ts with NaN values", "classify",
         classify_tune(_ts(_ts_with("nan,nan,1,2,3,4,5,6:a"))), (("nan", "missing"),)),
    Case(".ts with an item of only missing values", "classify",
         classify_tune(_ts(_ts_with("?,?,?,?,?,?,?,?:a"))), (("missing", "nan", "empty"),)),
    Case(".ts with inf values", "classify",
         classify_tune(_ts(_ts_with("inf,1,2,3,4,5,6,7:a"))), ("inf",)),
    Case(".ts without @data", "classify",
         classify_tune(_ts("@problemName d\n1,2,3:a\n")), ("@data",)),
    Case(".ts with an undeclared label", "classify",
         classify_tune(_ts(_ts_with("1,2,3,4,5,6,7,8:zz"))), ("zz",)),
    Case(".ts with items of different channel counts", "classify",
         classify_tune(_ts(_ts_with("1,2,3,4,5,6,7,8:1,2,3,4,5,6,7,8:a"))), ("channel",)),
    Case(".ts with time stamps", "classify",
         classify_tune(_ts(ts_text(16).replace("@timeStamps false", "@timeStamps true"))),
         ("time stamps",)),
    Case(".ts whose test part has a class training lacks", "classify",
         classify_tune(_ts(ts_text(16), ts_text(8, classes=("a", "b", "c"),
                                                header=TS_HEADER.replace("a b", "a b c")))),
         ("c",)),
    Case("--metric mase for a classifier", "classify",
         classify_tune(_csv(reviews_frame), "--metric", "mase",
                       data=REVIEW_COLS), ("mase",)),
    Case("--metric owa for a classifier", "classify",
         classify_tune(_csv(reviews_frame), "--metric", "owa",
                       data=REVIEW_COLS), ("owa",)),
    *[Case(f"{flag} for a classifier", "classify",
           classify_tune(_csv(reviews_frame), flag, value,
                         data=REVIEW_COLS), (flag,))
      for flag, value in (("--origin-step", "2"),
                          ("--multistep", "recursive"), ("--season", "12"),
                          ("--id-col", "review"), ("--freq", "MS"), ("--time-col", "review"),
                          ("--features", "review"))],
    Case("--text-col for a .ts source", "classify",
         classify_tune(_ts(ts_text(16)), "--text-col", "review", model=""), ("--text-col",)),
    Case("1,001 classes", "classify",
         classify_tune(_csv(lambda: pd.DataFrame({"review": [f"w{i} x" for i in range(2002)],
                                                  "sentiment": [f"c{i % 1001}"
                                                                for i in range(2002)]})),
                       data=REVIEW_COLS),
         (("class", "label"),)),
    Case("input_length = 0", "classify",
         _study_edit(classify_tune(_csv(reviews_frame), data=REVIEW_COLS),
                     "input_length = 4", "input_length = 0"), ("input_length",)),
    Case("vocab_size = 0", "classify",
         classify_tune(_csv(reviews_frame), data=REVIEW_COLS,
                       model="vocab_size = 0\nembed_dim = 2"), ("vocab_size",)),
    Case("test_size = 1.0 for a classifier", "classify",
         _study_edit(classify_tune(_csv(reviews_frame), data=REVIEW_COLS),
                     "test_size = 0.25", "test_size = 1.0"), ("test_size",)),
    Case("an unknown class_weight", "classify",
         classify_tune(_csv(reviews_frame), data=REVIEW_COLS,
                       model="vocab_size = 30\nembed_dim = 2\nclass_weight = \"heavy\""),
         ("class_weight", "heavy")),
    # predicting with the classifiers
    Case("predict an empty text file", "classify-predict",
         predict_on("text", lambda tmp: ((tmp / "e.txt").write_text(""), "e.txt")[1]),
         ("e.txt",)),
    Case("predict a text file of blank lines", "classify-predict",
         predict_on("text", lambda tmp: ((tmp / "e.txt").write_text("\n  \n\n"), "e.txt")[1]),
         ("e.txt",)),
    Case("predict texts with a numeric classifier", "classify-predict",
         predict_on("numeric", lambda tmp: ((tmp / "n.txt").write_text("some words\n"),
                                            "n.txt")[1]), ("numeric",)),
    Case("predict a .ts with a text classifier", "classify-predict",
         predict_on("text", lambda tmp: ((tmp / "n.ts").write_text(ts_text(4)), "n.ts")[1]),
         ("text",)),
    Case("predict a two-channel .ts with a one-channel model", "classify-predict",
         predict_on("numeric", lambda tmp: ((tmp / "two.ts").write_text(
             TS_HEADER.replace("true\n@class", "false\n@class") + "\n"
             + "1,2,3,4,5,6,7,8:1,2,3,4,5,6,7,8:a\n"), "two.ts")[1]), ("channel",)),
    Case("predict a .ts with NaN values", "classify-predict",
         predict_on("numeric", lambda tmp: ((tmp / "nan.ts").write_text(
             _ts_with("nan,nan,nan,nan,nan,nan,nan,nan:a")), "nan.ts")[1]),
         (("nan", "missing"),)),
    Case("predict .npz token ids with a text classifier", "classify-predict",
         predict_on("text", lambda tmp: (np.savez(tmp / "t.npz", x=TOKENS), "t.npz")[1]),
         ("text",)),
    *[Case(f"predict a text classifier with {flag}", "classify-predict",
           predict_with("text", flag, *value), (flag,))
      for flag, value in (("--series", ("S1",)), ("--horizon", ("2",)),
                          ("--point", ("median",)), ("--level", ("0.5",)),
                          ("--future", ("f.csv",)), ("--id-col", ("x",)),
                          ("--target", ("y",)), ("--features", ("x",)), ("--freq", ("MS",)),
                          ("--time-col", ("t",)))],
    Case("predict a numeric classifier with --horizon", "classify-predict",
         predict_with("numeric", "--horizon", "3"), ("--horizon",)),
    Case("predict a numeric classifier with --text-col", "classify-predict",
         predict_with("numeric", "--text-col", "review"), ("--text-col",)),
    Case("predict a forecaster with --series", "forecaster-predict",
         predict_with("forecaster", "--series", "S1"), ("--series",)),
    Case("predict a forecaster with --id-col", "forecaster-predict",
         predict_with("forecaster", "--id-col", "x"), ("--id-col",)),
    Case("predict a forecaster with --text-col", "forecaster-predict",
         predict_with("forecaster", "--text-col", "x"), ("--text-col",)),
]


# ---- model directories ------------------------------------------------------------------------

def _scale_of(doc_path: tuple) -> tuple:
    return (*doc_path, "chain", "steps", 1, "state", "scale_")


def field_cases(kind: str, group: str, fields: list[tuple]) -> list[Case]:
    """One case per ``(name, edit, words)``; words default to ``model.json``."""
    return [Case(f"{kind}: {name}", group, tampered(kind, edit),
                 words if words else ("model.json",)) for name, edit, words in fields]


def _common(kind: str) -> list[tuple]:
    """Fields every kind holds: format, version, config, spec, seeds, info, params,
    checksums."""
    return [
        ("format missing", _edit_json((("format",), _DROP)), ("model.json", "format")),
        ("format unknown", _edit_json((("format",), "lstmtune-bogus")),
         ("model.json", "lstmtune-bogus")),
        ("format of the wrong type", _edit_json((("format",), 7)), ("model.json", "format")),
        ("format_version as text", _edit_json((("format_version",), "1")),
         ("model.json", "version")),
        ("format_version missing", _edit_json((("format_version",), _DROP)),
         ("model.json", "version")),
        ("format_version NaN", _edit_json((("format_version",), NAN)),
         ("model.json", "version")),
        ("config missing", _edit_json((("config",), _DROP)), ("model.json", "config")),
        ("config.units NaN", _edit_json((("config", "units"), NAN)), ("model.json", "units")),
        ("config.learning_rate negative", _edit_json((("config", "learning_rate"), -1.0)),
         ("model.json", "learning_rate")),
        ("config.horizon 0", _edit_json((("config", "horizon"), 0)), ("model.json", "horizon")),
        ("config.activation unknown", _edit_json((("config", "activation"), "swish!")),
         ("model.json", "activation")),
        ("spec missing", _edit_json((("spec",), _DROP)), ("model.json", "spec")),
        ("spec.units empty", _edit_json((("spec", "units"), [])), ("model.json", "units")),
        ("spec.units fractional", _edit_json((("spec", "units"), [1.5])),
         ("model.json", "units")),
        ("spec.units disagree with the weights", _edit_json((("spec", "units"), [3])),
         ("model.json", "units")),
        ("spec.n_features disagrees with the weights", _edit_json((("spec", "n_features"), 3)),
         ("model.json",)),
        ("spec.stateful as text", _edit_json((("spec", "stateful"), "no")),
         ("model.json", "stateful")),
        ("spec.activation unknown", _edit_json((("spec", "activation"), "relu6!")),
         ("model.json", "activation")),
        ("seeds missing", _edit_json((("seeds",), _DROP)), ("model.json", "seeds")),
        ("seeds duplicate", _edit_json((("seeds",), lambda s: [s[0]] * len(s))),
         ("model.json", "seeds")),
        ("seeds fewer than the members", _edit_json((("seeds",), lambda s: s[:1])),
         ("model.json", ("seeds", "members"))),
        ("seed negative", _edit_json((("seeds",), lambda s: [-1, *s[1:]])),
         ("model.json", "seed", "-1")),
        ("seed beyond 2**63", _edit_json((("seeds",), lambda s: [2**70, *s[1:]])),
         ("model.json", "seed")),
        ("seed NaN", _edit_json((("seeds",), lambda s: [NAN, *s[1:]])),
         ("model.json", "seed")),
        ("seed a float", _edit_json((("seeds",), lambda s: [0.5, *s[1:]])),
         ("model.json", "seed")),
        ("a duplicated key", _duplicate_key("seeds", [7, 7]), ("model.json", "seeds")),
        ("info of the wrong type", _edit_json((("info",), [1, 2])), ("model.json", "info")),
        ("params missing a weight", _edit_json((("params",), lambda p: {
            k: v for k, v in p.items() if k != "bd"})), ("model.json", "bd")),
        ("params shape of text", _edit_json((("params", "Wd"), "big")), ("model.json", "Wd")),
        ("params shape negative", _edit_json((("params", "bd"), lambda s: [-s[0], *s[1:]])),
         ("model.json", "bd")),
        ("params.npz lacks a weight", _params(lambda a: a.pop("bd")), ("params.npz", "bd")),
        ("params.npz has an extra weight", _params(lambda a: a.update(evil=np.ones(3))),
         ("params.npz", "evil")),
        ("params.npz of integers", _params(lambda a: a.update(
            Wd=a["Wd"].astype(np.int64))), ("params.npz", "Wd")),
        ("params.npz of text", _params(lambda a: a.update(
            bd=np.full(a["bd"].shape, "x"))), ("params.npz", "bd")),
        ("params.npz with a weight reshaped", _params(lambda a: a.update(
            Wd=a["Wd"].reshape(a["Wd"].shape[0], -1).T.copy()
            if a["Wd"].shape[0] != a["Wd"].size // a["Wd"].shape[0] else a["Wd"][:, :0])),
         ("params.npz", "Wd")),
        ("checksums.json missing", _checksums(None), ("checksums.json",)),
        ("checksums.json not JSON", _checksums("{"), ("checksums.json",)),
        ("checksums.json without sha256", _sums_edit(lambda s: {"md5": s}),
         ("checksums.json", ("sha256", "sha-256"))),
        ("checksums.json sha256 as text", _sums_edit(lambda s: {"sha256": "abc"}),
         ("checksums.json", ("sha256", "sha-256"))),
        ("checksums.json lists an extra file", _sums_edit(lambda s: {"sha256": {
            **s, "evil.bin": "0" * 64}}), ("checksums.json", "evil.bin")),
        ("checksums.json a digest as a number", _sums_edit(lambda s: {"sha256": {
            **s, "params.npz": 5}}), ("checksums.json", "params.npz")),
        ("checksums.json a list", _checksums("[1, 2]"), ("checksums.json",)),
    ]


def _swap_first(values: list) -> list:
    return [values[1], values[0], *values[2:]]


FORECASTER = [
    ("first_origin missing", _edit_json((("first_origin",), _DROP)),
     ("model.json", "first_origin")),
    ("first_origin as text", _edit_json((("first_origin",), "1")),
     ("model.json", "first_origin")),
    ("first_origin NaN", _edit_json((("first_origin",), NAN)), ("model.json", "first_origin")),
    ("first_origin beyond any series", _edit_json((("first_origin",), 10**9)),
     ("model.json", "first_origin")),
    ("prep missing", _edit_json((("prep",), _DROP)), ("model.json", "prep")),
    ("prep.chain missing", _edit_json((("prep", "chain"), _DROP)), ("model.json", "chain")),
    ("prep scale_ as text", _edit_json((_scale_of(("prep",)), "abc")),
     ("model.json", ("scale_", "MinMaxScale"), "abc")),
    ("prep scale_ NaN", _edit_json((_scale_of(("prep",)), [NAN])), ("model.json", "scale_")),
    ("prep min_ missing", _edit_json((("prep", "chain", "steps", 1, "state", "min_"), _DROP)),
     ("model.json", "min_")),
    ("prep chain step of an unknown type", _edit_json((("prep", "chain", "steps", 0, "type"),
                                                       "Evil")), ("model.json", "Evil")),
    ("prep.framing.lags disagree with spec.timesteps",
     _edit_json((("prep", "framing", "lags"), 5)), ("model.json", ("lags", "timesteps"))),
    ("prep.freq unknown", _edit_json((("prep", "freq"), "XYZ")), ("model.json", "XYZ")),
    ("prep.start not a time", _edit_json((("prep", "start"), "not a date")),
     ("model.json", "start")),
    ("prep.preprocessing.scaler unknown", _edit_json((("prep", "preprocessing", "scaler"),
                                                      "bogus")), ("model.json", "bogus")),
    ("prep.preprocessing.difference negative",
     _edit_json((("prep", "preprocessing", "difference"), -1)),
     ("model.json", "difference")),
    ("spec.timesteps disagrees with config", _edit_json((("spec", "timesteps"), 4)),
     ("model.json", "timesteps")),
]

PANEL_MODEL = [
    ("ids missing", _edit_json((("ids",), _DROP)), ("model.json", "ids")),
    ("ids duplicate", _edit_json((("ids",), lambda ids: [ids[0], *ids[:-1]])),
     ("model.json", "S0")),
    ("an empty id", _edit_json((("ids",), lambda ids: ["", *ids[1:]])),
     ("model.json", "id")),
    ("a blank id", _edit_json((("ids",), lambda ids: ["  ", *ids[1:]])),
     ("model.json", "id")),
    ("ids as one text", _edit_json((("ids",), "S0,S1,S2,S3")), ("model.json", "ids")),
    ("ids as numbers", _edit_json((("ids",), [0, 1, 2, 3])), ("model.json", "ids")),
    ("fewer ids than preps", _edit_json((("ids",), lambda ids: ids[:-1])),
     ("model.json", ("ids", "series"))),
    ("preps missing", _edit_json((("preps",), _DROP)), ("model.json", "preps")),
    ("fewer preps than ids", _edit_json((("preps",), lambda p: p[:-1])),
     ("model.json", "preps")),
    ("a prep of the wrong type", _edit_json((("preps", 1), 5)), ("model.json", "preps")),
    ("a prep's scale_ as text", _edit_json((_scale_of(("preps", 2)), "abc")),
     ("model.json", "S2", ("scale_", "StandardScale"), "abc")),
    ("a prep's scale_ 0", _edit_json((_scale_of(("preps", 2)), [0.0])),
     ("model.json", "scale_")),
    ("a prep's mean_ NaN", _edit_json((("preps", 1, "chain", "steps", 1, "state", "mean_"),
                                       [NAN])), ("model.json", "mean_")),
    ("first_origins missing", _edit_json((("first_origins",), _DROP)),
     ("model.json", "first_origins")),
    ("a first origin negative", _edit_json((("first_origins",), lambda f: [-4, *f[1:]])),
     ("model.json", "first_origin")),
    ("a first origin NaN", _edit_json((("first_origins",), lambda f: [NAN, *f[1:]])),
     ("model.json", "first_origin")),
    ("fewer first origins than ids", _edit_json((("first_origins",), lambda f: f[:-1])),
     ("model.json", "first_origins")),
    ("horizon missing", _edit_json((("horizon",), _DROP)), ("model.json", "horizon")),
    ("horizon 0", _edit_json((("horizon",), 0)), ("model.json", "horizon")),
    ("horizon as text", _edit_json((("horizon",), "3")), ("model.json", "horizon")),
    ("horizon disagrees with config", _edit_json((("horizon",), 5)), ("model.json", "horizon")),
    ("conformal of the wrong type", _edit_json((("conformal",), [1, 2])),
     ("model.json", "conformal")),
    ("a conformal width as text", _edit_json((("conformal", "0.8"),
                                              lambda q: ["wide", *q[1:]])),
     ("model.json", "conformal")),
    ("a conformal width negative", _edit_json((("conformal", "0.8"),
                                               lambda q: [-abs(q[0]) - 1, *q[1:]])),
     ("model.json", "conformal")),
    ("a conformal width NaN", _edit_json((("conformal", "0.8"), lambda q: [NAN, *q[1:]])),
     ("model.json", "conformal")),
    ("conformal widths too few", _edit_json((("conformal", "0.8"), lambda q: q[:1])),
     ("model.json", "conformal")),
    ("a conformal level of 1.5", _edit_json((("conformal",), lambda c: {
        "1.5": c["0.8"]})), ("model.json", "1.5")),
    ("a conformal level that is no number", _edit_json((("conformal",), lambda c: {
        "high": c["0.8"]})), ("model.json", "high")),
    ("conformal 80 % wider than 95 %", _edit_json((("conformal",), lambda c: {
        "0.8": [2 * abs(x) + 1 for x in c["0.8"]], "0.95": [abs(x) for x in c["0.8"]]})),
     ("model.json", "conformal")),
    ("config.model unknown", _edit_json((("config", "model"), "bogus")),
     ("model.json", "bogus")),
    ("seeds more than the members", _edit_json((("seeds",), lambda s: [*s, 99])),
     ("model.json", ("seeds", "members"))),
    ("a format that says forecaster", _edit_json((("format",), "lstmtune-model")),
     ("model.json",)),
]

CLASSIFIER = [
    ("threshold NaN", _edit_json((("threshold",), NAN)), ("model.json", "threshold")),
    ("threshold 5.0", _edit_json((("threshold",), 5.0)), ("model.json", "threshold")),
    ("threshold negative", _edit_json((("threshold",), -0.1)), ("model.json", "threshold")),
    ("threshold as text", _edit_json((("threshold",), "0.5")), ("model.json", "threshold")),
    ("threshold missing", _edit_json((("threshold",), _DROP)), ("model.json", "threshold")),
    ("classes duplicate", _edit_json((("classes",), lambda c: [c[0], c[0]])),
     ("model.json", "classes")),
    ("one class", _edit_json((("classes",), lambda c: c[:1])), ("model.json", "class")),
    ("classes missing", _edit_json((("classes",), _DROP)), ("model.json", "classes")),
    ("classes as one text", _edit_json((("classes",), "neg,pos")), ("model.json", "classes")),
    ("three classes for a binary head", _edit_json((("classes",), lambda c: [*c, "meh"])),
     ("model.json", "class")),
    ("an empty class name", _edit_json((("classes",), lambda c: ["", *c[1:]])),
     ("model.json", "class")),
    ("task missing", _edit_json((("task",), _DROP)), ("model.json", "task")),
    ("task.kind forecast", _edit_json((("task", "kind"), "forecast")),
     ("model.json", "kind")),
    ("task.inputs unknown", _edit_json((("task", "inputs"), "images")),
     ("model.json", "images")),
    ("task.n_classes 0", _edit_json((("task", "n_classes"), 0)), ("model.json", "n_classes")),
    ("task.metric unknown", _edit_json((("task", "metric"), "bogus")),
     ("model.json", "bogus")),
    ("task.direction unknown", _edit_json((("task", "direction"), "sideways")),
     ("model.json", "sideways")),
    ("fitted missing", _edit_json((("fitted",), _DROP)), ("model.json", "fitted")),
    ("fitted of the wrong type", _edit_json((("fitted",), "x")), ("model.json", "fitted")),
    ("spec.masked as text", _edit_json((("spec", "masked"), "yes")),
     ("model.json", "masked")),
    ("config.input_length 0", _edit_json((("config", "input_length"), 0)),
     ("model.json", "input_length")),
]

TEXT_CLASSIFIER = [
    ("vocabulary words duplicate", _edit_json((("fitted", "vocabulary", "words"),
                                               lambda w: [w[0], *w[:-1]])),
     ("model.json", "word")),
    ("vocabulary empty", _edit_json((("fitted", "vocabulary", "words"), [])),
     ("model.json", "vocabulary")),
    ("vocabulary larger than the embedding", _edit_json((
        ("fitted", "vocabulary", "words"), lambda w: [*w, *(f"w{i}" for i in range(100))])),
     ("model.json", "vocabulary")),
    ("vocabulary words of the wrong type", _edit_json((
        ("fitted", "vocabulary", "words"), lambda w: [1, *w[1:]])),
     ("model.json", "word")),
    ("vocabulary size as text", _edit_json((("fitted", "vocabulary", "size"), "30")),
     ("model.json", "size")),
    ("vocabulary lower as text", _edit_json((("fitted", "vocabulary", "lower"), "yes")),
     ("model.json", "lower")),
    ("vocabulary missing", _edit_json((("fitted", "vocabulary"), _DROP)),
     ("model.json", "vocabulary")),
    ("spec.vocab_size disagrees with the embedding", _edit_json((("spec", "vocab_size"), 10)),
     ("model.json", ("vocab_size", "embedding"))),
    ("spec.embed_dim disagrees with the embedding", _edit_json((("spec", "embed_dim"), 5)),
     ("model.json", "embed_dim")),
    ("params E shape disagrees", _edit_json((("params", "E"), lambda s: [s[0], s[1] + 1,
                                                                          s[2]])),
     ("model.json", "E")),
    ("params.npz lacks the embedding", _params(lambda a: a.pop("E")), ("params.npz", "E")),
]

NUMERIC_CLASSIFIER = [
    ("fitted mean as text", _edit_json((("fitted", "mean"), "abc")), ("model.json", "mean")),
    ("fitted scale missing", _edit_json((("fitted", "scale"), _DROP)),
     ("model.json", "scale")),
    ("fitted scale 0", _edit_json((("fitted", "scale"), [0.0])), ("model.json", "scale")),
    ("fitted scale negative", _edit_json((("fitted", "scale"), [-1.0])),
     ("model.json", "scale")),
    ("fitted mean NaN", _edit_json((("fitted", "mean"), [NAN])), ("model.json", "mean")),
    ("fitted mean of two channels", _edit_json((("fitted", "mean"), [0.0, 0.0])),
     ("model.json", "mean")),
    ("task.inputs text with a scaler", _edit_json((("task", "inputs"), "text")),
     ("model.json",)),
    ("threshold 1.5", _edit_json((("threshold",), 1.5)), ("model.json", "threshold")),
]

MODELS = [
    *field_cases("forecaster", "model-forecaster", [*_common("forecaster"), *FORECASTER]),
    *field_cases("panel", "model-panel", [*_common("panel"), *PANEL_MODEL]),
    *field_cases("text", "model-classifier", [*_common("text")[:26], *CLASSIFIER,
                                              *TEXT_CLASSIFIER]),
    *field_cases("numeric", "model-classifier", NUMERIC_CLASSIFIER),
]


# ---- storages and workers ----------------------------------------------------------------------

STORAGES = [
    Case("a read-only sqlite file", "storage", _readonly_sqlite, teardown=_writable_again("s.db"),
         expect=(("read-only", "readonly", "cannot write", "not writable"), "s.db")),
    Case("sqlite in a read-only folder", "storage", _readonly_sqlite_folder,
         teardown=_writable_again("ro"), expect=("ro",)),
    Case("a read-only journal file", "storage", _readonly_journal,
         teardown=_writable_again("j.log"), expect=("j.log",)),
    Case("the study's own folder read-only", "storage", _readonly_out_root,
         teardown=_writable_again("out/s"), expect=("out",)),
    Case("sqlite opened read-only by URI", "storage",
         lambda tmp, m: (_sqlite_db(tmp), forecast_tune(
             "--storage", "sqlite:///file:s.db?mode=ro&uri=true")(tmp, m))[1],
         (("read-only", "readonly", "mode=ro"),)),
    Case("--storage into a missing relative folder", "storage",
         forecast_tune("--storage", "sqlite:///missing/x.db"), ("missing",)),
    Case("a folder as the sqlite file", "storage",
         lambda tmp, m: ((tmp / "dir.db").mkdir(), forecast_tune(
             "--storage", "sqlite:///dir.db")(tmp, m))[1], ("dir.db",)),
    Case("a text file as the sqlite file", "storage",
         forecast_tune("--storage", "sqlite:///notes.db",
                       files={"notes.db": "these are my notes, not a database\n" * 50}),
         ("notes.db",)),
    Case("/dev/null behind the sqlite file", "storage", _null_link_storage, ("null.db",)),
    Case("sqlite inside a file", "storage",
         forecast_tune("--storage", "sqlite:///f.txt/x.db", files={"f.txt": "x"}),
         ("f.txt",)),
    Case("a journal that is a folder", "storage",
         lambda tmp, m: ((tmp / "j").mkdir(), forecast_tune(
             "--storage", f"journal:///{tmp / 'j'}")(tmp, m))[1], ("j",)),
    Case("a journal of garbage", "storage",
         lambda tmp, m: ((tmp / "j.log").write_text("not a journal {\n"), forecast_tune(
             "--storage", f"journal:///{tmp / 'j.log'}")(tmp, m))[1], ("j.log",)),
    Case("an http URL as storage", "storage",
         forecast_tune("--storage", "http://example.com/x.db"), ("http",)),
    Case("sqlite:// without a path", "storage", forecast_tune("--storage", "sqlite://"),
         ("sqlite://",)),
    Case("sqlite:/ with one slash", "storage", forecast_tune("--storage", "sqlite:/x.db"),
         ("sqlite:/x.db",)),
    Case("an empty --storage", "storage", forecast_tune("--storage", ""), ("storage",)),
    Case("a port that is no number", "storage",
         forecast_tune("--storage", "postgresql://u:pw@localhost:port/db"),
         ("storage", "port")),
    Case("a port beyond 65535", "storage",
         forecast_tune("--storage", "postgresql://u:pw@localhost:99999/db"),
         ("storage", "99999")),
    Case("a bad sqlite query option", "storage",
         forecast_tune("--storage", "sqlite:///x.db?timeout=abc"), ("timeout",)),
    Case("--workers 2 with an in-memory sqlite", "storage",
         forecast_tune("--workers", "2", "--storage", "sqlite:///:memory:"), ("memory",)),
    Case("--workers -1", "storage", forecast_tune("--workers", "-1"), ("--workers",)),
    Case("--workers 2.5", "storage", forecast_tune("--workers", "2.5"), ("--workers",)),
    Case("--workers empty", "storage", forecast_tune("--workers", ""), ("--workers",)),
    Case("a study name of 5,000 characters", "storage",
         forecast_tune("--study-name", "x" * 5000), ("study", "…")),
    Case("a study name that is only '/'", "storage", forecast_tune("--study-name", "/"),
         ("study",)),
    Case("a study name of '..'", "storage", forecast_tune("--study-name", ".."), ("study",)),
    Case("a study name of dots and slashes only", "storage",
         forecast_tune("--study-name", "../.."), ("letter or a digit",)),
    Case("a study name with a newline", "storage", forecast_tune("--study-name", "a\nb"),
         ("study",)),
    Case("a study name of spaces", "storage", forecast_tune("--study-name", "   "),
         ("study",)),
]

CASES: list[Case] = [*PANELS, *CLASSIFY, *MODELS, *STORAGES]
BY_NAME = {c.name: c for c in CASES}
assert len(BY_NAME) == len(CASES), "case names must be distinct"
