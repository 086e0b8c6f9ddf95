"""Every data problem of a panel, a classification study or a storage is refused before
anything is written: `lstmtune tune` exits 2 with one line that names the thing, the real
reason, the value and a fix that matches it, and the folder it ran in holds exactly what it
held before (no study.db, no lock, -wal or -shm file, no empty study folder under --out)."""

from __future__ import annotations

import os
import sqlite3
import subprocess

import numpy as np
import optuna
import pandas as pd
import pytest

from lstmtune.cli import main

N, H = 40, 4  # points per series, horizon: 36 before the test window, 32 before validation


def _snapshot(root) -> dict[str, int]:
    """Every path under ``root`` (hidden ones too) with its size."""
    return {str(p.relative_to(root)): (p.stat().st_size if p.is_file() else -1)
            for p in sorted(root.rglob("*"))}


def _refused(capsys, root, args: list[str], *parts: str) -> str:
    """``lstmtune ARGS`` exits 2 with one line holding every part, nothing on disk changed."""
    capsys.readouterr()
    before = _snapshot(root)
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    assert err.startswith("lstmtune: error: ") and err.endswith("."), err
    for part in parts:
        assert part in err, (part, err)
    assert _snapshot(root) == before
    return err


@pytest.fixture
def here(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _panel(path, series: dict[int, np.ndarray] | None = None):
    """Four monthly series of N points with a trend and noise; ``series``: replacements."""
    rng = np.random.default_rng(0)
    rows = []
    for i in range(4):
        y = 50 + 5 * i + 0.3 * np.arange(N) + rng.normal(0, 1, N)
        if series and i in series:
            y = np.asarray(series[i], float)
        rows.append(pd.DataFrame({"unique_id": f"S{i}", "ds": pd.date_range(
            "2010-01-01", periods=N, freq="MS"), "y": y}))
    pd.concat(rows).to_csv(path, index=False)
    return str(path)


def _tune_panel(path, *more: str) -> list[str]:
    return ["tune", path, "--task", "panel", "--horizon", str(H), "--out", "out", *more]


# -- panels: constant and all-zero series ----------------------------------------------------
def test_a_constant_series_under_smape_names_it_its_value_and_the_scaler(here, capsys):
    p = _panel(here / "p.csv", {2: np.full(N, 5.0)})
    _refused(capsys, here, _tune_panel(p, "--metric", "smape"),
             "series 'S2' is constant at 5.0 (all 36 points before its test window)",
             "scaler = standard cannot scale a constant part", "drop the series",
             '[preprocessing] scaler = "none"')


def test_a_constant_series_under_mase_is_a_zero_scale_not_a_batch_size(here, capsys):
    p = _panel(here / "p.csv", {2: np.full(N, 5.0)})
    err = _refused(capsys, here, _tune_panel(p, "--metric", "mase"),
                   "metric = mase is undefined on series 'S2', which is constant at 5.0",
                   "seasonal-naive error there, which is 0", "drop the series")
    assert "timesteps" not in err and "batch_size" not in err and "smape" not in err


def test_an_all_zero_series_under_smape(here, capsys):
    p = _panel(here / "p.csv", {3: np.zeros(N)})
    _refused(capsys, here, _tune_panel(p), "series 'S3' is all zero (all 36 points",
             "cannot scale a constant part", "drop the series")


def test_an_all_zero_series_under_mape(here, capsys):
    p = _panel(here / "p.csv", {3: np.zeros(N)})
    _refused(capsys, here, _tune_panel(p, "--metric", "mape"),
             "metric = mape is undefined on series 'S3', which is all zero",
             "MAPE divides by every actual value", "drop the series")


def test_an_all_zero_series_under_mase(here, capsys):
    p = _panel(here / "p.csv", {1: np.zeros(N)})
    _refused(capsys, here, _tune_panel(p, "--metric", "mase"),
             "metric = mase is undefined on series 'S1', which is all zero")


def test_a_series_constant_only_over_its_training_part(here, capsys):
    y = np.full(N, 5.0)
    y[32:] = [6.0, 7.0, 5.5, 8.0, 9.0, 7.0, 6.5, 8.5]  # validation and test windows vary
    p = _panel(here / "p.csv", {0: y})
    _refused(capsys, here, _tune_panel(p),
             "series 'S0' is constant at 5.0 over its training part (its first 32 points)",
             "drop the series, or start it where its values begin to change")


def test_a_training_part_of_zeros_under_mase(here, capsys):
    y = np.zeros(N)
    y[32:] = [3.0, 1.0, 2.0, 4.0, 2.0, 1.0, 3.0, 5.0]
    p = _panel(here / "p.csv", {3: y})
    _refused(capsys, here, _tune_panel(p, "--metric", "mase"),
             "series 'S3', which is all zero over its training part (its first 32 points)",
             "start it where its values begin to change")


def test_an_exactly_seasonal_series_under_mase_is_offered_smape(here, capsys):
    y = np.tile(np.arange(10.0, 22.0), N // 12 + 1)[:N]  # repeats every 12 months exactly
    p = _panel(here / "p.csv", {1: y})
    _refused(capsys, here, _tune_panel(p, "--metric", "mase"),
             "metric = mase is undefined on series 'S1': its training part repeats itself "
             "exactly every 12 point(s)", "use --metric smape")


def test_a_zero_in_a_validation_window_under_mape_names_its_point(here, capsys):
    rng = np.random.default_rng(1)
    y = 50 + rng.normal(0, 1, N)
    y[33] = 0.0  # 0-based 33: the second of the validation points 33..36 (1-based 34)
    p = _panel(here / "p.csv", {1: y})
    _refused(capsys, here, _tune_panel(p, "--metric", "mape"),
             "series 'S1': its validation window holds a 0 (point 34)", "--metric smape")


def test_a_constant_series_with_a_space_of_two_scalers(here, capsys):
    p = _panel(here / "p.csv", {2: np.full(N, 5.0)})
    (here / "s.toml").write_text(f'[data]\ntask = "panel"\nsource = "{p}"\n[model]\n'
                                 f'horizon = {H}\n[space]\nscaler = {{ choice = ["minmax", '
                                 '"standard"] }\nunits = { int = [2, 4] }\n')
    _refused(capsys, here, ["tune", "s.toml", "--out", "out"],
             "series 'S2' is constant at 5.0", "scaler = minmax, standard cannot scale")


def test_a_constant_series_is_accepted_where_a_configuration_can_take_it(here):
    """The refusal is about the data and the space together: without a scaler the same
    panel passes every check (under sMAPE, defined on a constant series)."""
    from lstmtune.search import check_panel, read_panel, study_from_dict

    p = _panel(here / "p.csv", {2: np.full(N, 5.0)})
    cfg = study_from_dict({"data": {"task": "panel", "source": p}, "model": {"horizon": H},
                           "space": {"scaler": {"choice": ["none", "standard"]}}})
    assert check_panel(read_panel(cfg), cfg).task.metric == "smape"


# -- panels: lengths ---------------------------------------------------------------------------
def test_a_series_shorter_than_its_windows(here, capsys):
    table = pd.read_csv(_panel(here / "p.csv"))
    short = pd.concat([table[table.unique_id != "S1"], table[table.unique_id == "S1"].head(9)])
    short.to_csv(here / "short.csv", index=False)
    _refused(capsys, here, _tune_panel("short.csv"),
             "series 'S1' has 9 points: too short for the test window (horizon 4)",
             "(need 12)", "drop the series")


def test_every_series_too_short_for_the_space_s_lags(here, capsys):
    p = _panel(here / "p.csv")
    (here / "s.toml").write_text(f'[data]\ntask = "panel"\nsource = "{p}"\n[model]\n'
                                 f'horizon = {H}\n[space]\ntimesteps = {{ int = [36, 40] }}\n')
    _refused(capsys, here, ["tune", "s.toml", "--out", "out"],
             "no configuration of the space can be prepared")


# -- classification ------------------------------------------------------------------------------
def _tune_items(path, *more: str) -> list[str]:
    return ["tune", str(path), "--task", "classify", "--out", "out", *more]


def _ts(path, rows: list[str], classes="a b"):
    head = ["@problemName x", "@timeStamps false", "@univariate true",
            f"@classLabel true {classes}", "@data"]
    path.write_text("\n".join(head + rows) + "\n")
    return path


def test_an_npz_of_padding_only(here, capsys):
    np.savez(here / "pad.npz", x=np.zeros((40, 10), int), y=np.array([0, 1] * 20))
    _refused(capsys, here, _tune_items("pad.npz"),
             "'pad.npz' has 40 sequence(s) of padding only (no token id but 0; first: item 0)",
             "drop them or give them tokens")


def test_an_npz_of_empty_sequences(here, capsys):
    np.savez(here / "e.npz", x=np.arange(1, 4), lengths=np.array([0, 3] + [0] * 38),
             y=np.array([0, 1] * 20))
    _refused(capsys, here, _tune_items("e.npz"), "'e.npz' has 39 sequence(s) of padding only",
             "first: item 0")


def test_an_npz_with_ids_beyond_int32(here, capsys):
    x = np.random.default_rng(0).integers(1, 20, (40, 10)) * 2**40
    np.savez(here / "big.npz", x=x, y=np.array([0, 1] * 20))
    _refused(capsys, here, _tune_items("big.npz"), "'x' holds token ids beyond 2,147,483,647",
             "number the tokens 0 (padding), 1, 2")


def test_padding_only_items_given_to_tune_directly(here):
    """The loader refuses them; items made in Python are refused by the study's own check,
    before its storage exists."""
    from lstmtune.data import LabelledSequences
    from lstmtune.errors import DataError
    from lstmtune.search import study_from_dict, tune

    items = LabelledSequences(name="mine", labels=np.array([0, 1] * 20), classes=("a", "b"),
                              sequences=tuple(np.zeros(5, int) for _ in range(40)))
    cfg = study_from_dict({"data": {"task": "classify", "source": "mine"}})
    with pytest.raises(DataError, match=r"every sequence of the 32 training items of 'mine' "
                                         r"is padding"):
        tune(items, cfg, storage=f"sqlite:///{here / 's.db'}")
    assert list(here.iterdir()) == []


def test_an_npz_without_items(here, capsys):
    np.savez(here / "z.npz", x=np.zeros((0, 10), int), y=np.zeros(0, int))
    _refused(capsys, here, _tune_items("z.npz"), "'z.npz' holds no items")


def test_an_npz_of_one_class(here, capsys):
    x = np.random.default_rng(0).integers(1, 20, (40, 10))
    np.savez(here / "one.npz", x=x, y=np.zeros(40, int))
    _refused(capsys, here, _tune_items("one.npz"), "'one.npz' has a single class ('0')")


def test_texts_of_punctuation_give_no_vocabulary(here, capsys):
    pd.DataFrame({"text": ["!!! ???", "... ,,, <br />"] * 20, "label": ["a", "b"] * 20}
                 ).to_csv(here / "t.csv", index=False)
    _refused(capsys, here, _tune_items("t.csv"),
             "the 32 training items of 't.csv' hold no words (e.g. '!!! ???')",
             "vocabulary would be empty", "letters a-z or the digits 0-9", "--text-col")


def test_texts_in_another_script_give_no_vocabulary(here, capsys):
    pd.DataFrame({"text": ["привет мир", "добрый день"] * 20, "label": ["a", "b"] * 20}
                 ).to_csv(here / "t.csv", index=False)
    _refused(capsys, here, _tune_items("t.csv"), "hold no words (e.g. 'привет мир')",
             "other scripts hold none")


def test_a_long_wordless_text_is_cut_in_the_message(here, capsys):
    pd.DataFrame({"text": ["-" * 5000, "+" * 300] * 20, "label": ["a", "b"] * 20}
                 ).to_csv(here / "t.csv", index=False)
    err = _refused(capsys, here, _tune_items("t.csv"), "-" * 39 + "…'")
    assert "-" * 41 not in err


def test_texts_all_empty(here, capsys):
    pd.DataFrame({"text": [" ", ""] * 20, "label": ["a", "b"] * 20}
                 ).to_csv(here / "t.csv", index=False)
    _refused(capsys, here, _tune_items("t.csv"), "'t.csv' has 40 empty text(s)")


def test_a_class_of_one_item(here, capsys):
    pd.DataFrame({"text": [f"word{i} common" for i in range(31)],
                  "label": ["a"] * 30 + ["b"]}).to_csv(here / "t.csv", index=False)
    _refused(capsys, here, _tune_items("t.csv"), "no item of class(es) ['b']",
             "every class needs at least two training items")


def test_a_ts_file_of_missing_values(here, capsys):
    _ts(here / "n_TRAIN.ts", [",".join("?" * 8) + (":a" if i % 2 else ":b") for i in range(20)])
    _refused(capsys, here, _tune_items("n_TRAIN.ts"),
             "'n_TRAIN.ts' has 20 series with no value (every one missing, '?'; first: item 0)")


@pytest.mark.parametrize("value, what", [("inf", "infinite"), ("-Infinity", "infinite"),
                                         ("NaN", "not a number")])
def test_a_ts_value_written_out_as_nan_or_infinity(here, capsys, value, what):
    rng = np.random.default_rng(0)
    rows = [",".join(f"{v:.3f}" for v in rng.normal(size=8)) + (":a" if i % 2 else ":b")
            for i in range(20)]
    rows[4] = f"1.0,{value},2.0,3,4,5,6,7:a"
    _ts(here / "v_TRAIN.ts", rows)
    _refused(capsys, here, _tune_items("v_TRAIN.ts"),
             f"'v_TRAIN.ts' line 10: the value '{value}' is {what}", "missing value as '?'")


def test_a_text_column_for_a_ts_file(here, capsys):
    rng = np.random.default_rng(0)
    _ts(here / "t_TRAIN.ts", [",".join(f"{v:.3f}" for v in rng.normal(size=8)) +
                              (":a" if i % 2 else ":b") for i in range(20)])
    _refused(capsys, here, _tune_items("t_TRAIN.ts", "--text-col", "review"),
             "--text-col 'review' (or [data] text_col) names a column of a table of texts",
             "'t_TRAIN.ts' is not one: drop it")


def test_a_ts_channel_of_missing_values(here, capsys):
    rng = np.random.default_rng(0)
    rows = [",".join(f"{v:.3f}" for v in rng.normal(size=8)) + ":" + ",".join("?" * 8) +
            (":a" if i % 2 else ":b") for i in range(20)]
    _ts(here / "m_TRAIN.ts", rows)
    _refused(capsys, here, _tune_items("m_TRAIN.ts"), "channel(s) [2] of the 16 training items",
             "drop the channel")


def test_a_ts_file_of_one_class(here, capsys):
    rng = np.random.default_rng(0)
    _ts(here / "o_TRAIN.ts", [",".join(f"{v:.3f}" for v in rng.normal(size=8)) + ":a"
                              for _ in range(20)])
    _refused(capsys, here, _tune_items("o_TRAIN.ts"), "has a single class ('a')")


# -- storages ----------------------------------------------------------------------------------
def _study_db(path):
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    optuna.create_study(storage=f"sqlite:///{path}", study_name="other")
    for extra in ("-wal", "-shm"):
        assert not os.path.exists(f"{path}{extra}")
    return path


def _tune_on(storage: str) -> list[str]:
    return ["tune", "shampoo", "--storage", storage, "--out", "out"]


def test_a_read_only_sqlite_file(here, capsys, monkeypatch):
    """As root every file is writable, so the user's view is simulated: os.access says no,
    as it does for a file without write permission."""
    import lstmtune.search._storage as st

    db = _study_db(here / "ro.db")
    real = os.access
    monkeypatch.setattr(st.os, "access", lambda p, mode, **k: False if str(p) == str(db)
                        else real(p, mode, **k))
    _refused(capsys, here, _tune_on(f"sqlite:///{db}"),
             f"'{db}' is read-only", "make it writable (e.g. chmod u+w)", "--storage")


def test_an_immutable_sqlite_file(here, capsys, monkeypatch):
    """A file the operating system really refuses to write, even to root (chattr +i); the
    check that SQLite can write it is reached too (os.access is made to say yes)."""
    import lstmtune.search._storage as st

    db = _study_db(here / "ro.db")
    if subprocess.run(["chattr", "+i", str(db)], capture_output=True).returncode:
        pytest.skip("chattr +i is not available here")
    try:
        _refused(capsys, here, _tune_on(f"sqlite:///{db}"), f"'{db}' is read-only")
        monkeypatch.setattr(st.os, "access", lambda *a, **k: True)
        _refused(capsys, here, _tune_on(f"sqlite:///{db}"), f"'{db}' is read-only")
    finally:
        subprocess.run(["chattr", "-i", str(db)], check=True)


def _failing_open(message: str):
    def _open(url, shown, heartbeat_s, grace_s):  # as SQLite leaves a file it could not use
        path = url.removeprefix("sqlite:///")
        sqlite3.connect(path).execute("CREATE TABLE x (y INTEGER)").connection.close()
        for extra in ("-wal", "-shm"):
            open(path + extra, "wb").close()
        raise optuna.exceptions.StorageInternalError(message)
    return _open


def test_a_storage_failing_on_creation_as_read_only_leaves_nothing(here, capsys, monkeypatch):
    import lstmtune.search._storage as st

    monkeypatch.setattr(st, "_open", _failing_open(
        "An exception is raised during the commit. (sqlite3.OperationalError) attempt to "
        "write a readonly database"))
    _refused(capsys, here, _tune_on(f"sqlite:///{here / 'new.db'}"),
             f"'{here / 'new.db'}' is read-only")
    assert not (here / "new.db").exists() and not (here / ".new.db.claim.lock").exists()


def test_a_storage_failing_on_creation_otherwise_leaves_nothing(here, capsys, monkeypatch):
    import lstmtune.search._storage as st

    monkeypatch.setattr(st, "_open", _failing_open("(sqlite3.OperationalError) disk I/O error"))
    _refused(capsys, here, _tune_on(f"sqlite:///{here / 'new.db'}"),
             "cannot be opened (StorageInternalError: (sqlite3.OperationalError) disk I/O "
             "error)")


def test_a_sqlite_uri_opened_read_only(here, capsys):
    _study_db(here / "s.db")
    _refused(capsys, here, _tune_on("sqlite:///file:s.db?mode=ro&uri=true"),
             "opens 'file:s.db' read-only (mode=ro)", "drop mode=ro from the URL")


def test_a_storage_in_a_missing_folder(here, capsys):
    _refused(capsys, here, _tune_on(f"sqlite:///{here / 'nope' / 's.db'}"),
             f"folder '{here / 'nope'}' does not exist", "create it first")


def test_a_storage_that_is_a_folder(here, capsys):
    (here / "d.db").mkdir()
    _refused(capsys, here, _tune_on(f"sqlite:///{here / 'd.db'}"),
             "exists but is not a regular file")


def test_a_storage_that_is_not_sqlite(here, capsys):
    (here / "notes.db").write_text("hello, this is text\n")
    _refused(capsys, here, _tune_on(f"sqlite:///{here / 'notes.db'}"),
             f"'{here / 'notes.db'}' is not a SQLite database (it starts with 'hello, this is t…')",
             "or at a new path")


def test_a_journal_url_on_a_sqlite_file(here, capsys):
    db = _study_db(here / "s.db")
    _refused(capsys, here, _tune_on(f"journal://{db}"),
             "is a SQLite database, not a journal file", f"sqlite:///{db}")


def test_a_journal_that_is_not_one(here, capsys):
    (here / "j.log").write_text("not a journal {\n")
    _refused(capsys, here, _tune_on(f"journal://{here / 'j.log'}"),
             "is not an Optuna journal file (it starts with 'not a journal {", "a new path")


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:"])
def test_a_sqlite_url_without_a_file(here, capsys, url):
    _refused(capsys, here, _tune_on(url), f"storage '{url}' names no SQLite file",
             "memory:// for a study of this process only")


def test_an_empty_storage(here, capsys):
    _refused(capsys, here, _tune_on(""), "--storage is empty")


def test_the_default_study_file_when_it_is_not_sqlite(here, capsys):
    from lstmtune.cli._tune import study_folder

    folder = study_folder(str(here / "out"), "shampoo")
    folder.mkdir(parents=True)
    (folder / "study.db").write_bytes(b"\x00\x01\x02garbage")
    _refused(capsys, here, ["tune", "shampoo", "--out", str(here / "out")],
             "is not a SQLite database (it starts with the bytes 00 01 02")


def test_a_writable_storage_passes_and_keeps_its_study(here):
    from lstmtune.search import check_storage

    db = _study_db(here / "ok.db")
    check_storage(f"sqlite:///{db}")
    names = [s.study_name for s in optuna.get_all_study_summaries(f"sqlite:///{db}")]
    tables = sqlite3.connect(db).execute("SELECT name FROM sqlite_master").fetchall()
    assert names == ["other"] and ("lstmtune_write_check",) not in tables


@pytest.mark.parametrize("which, expected", [
    ("constant", "metric = owa is undefined on series 'S2', which is constant at 5.0"),
    ("naive2", "metric = owa is undefined on series 'S2': Naive2 forecasts its validation "
               "window exactly")])
def test_owa_where_it_cannot_be_scored(here, which, expected):
    """OWA divides by Naive2's sMAPE and MASE on each validation window (checked here
    directly: the study file's [search] metric does not offer owa yet)."""
    from lstmtune.data import load_panel
    from lstmtune.errors import DataError
    from lstmtune.search import study_from_dict
    from lstmtune.search._panel import check_metric, panel_folds

    y = np.full(N, 5.0)
    if which == "naive2":  # a varying training part, then its last value four times over
        y = 50 + np.random.default_rng(2).normal(0, 1, N)
        y[32:36] = y[31]
    p = _panel(here / "p.csv", {2: y})
    cfg = study_from_dict({"data": {"task": "panel", "source": p}, "model": {"horizon": H}})
    _, folds = panel_folds(load_panel(p), cfg)
    check_metric(folds, "smape")
    with pytest.raises(DataError) as info:
        check_metric(folds, "owa")
    assert expected in str(info.value)
