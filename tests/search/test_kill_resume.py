"""SIGKILL a study at 20 random moments and re-run it each time: the count of completed trials
never decreases, the study finishes its budget, nothing stays RUNNING and no temporary file of
a killed save is left behind."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time

import optuna
import pytest
from optuna.trial import TrialState

KILLS = 20
STUDY = """
[data]
source = "shampoo"
test_size = 6
val_size = 6
[training]
epochs = 8
batch_size = 4
[search]
strategy = "tpe"
trials = 14
repeats = 2
batch = 2
final_repeats = 2
[space]
units = { int = [1, 2] }
learning_rate = { float = [1e-3, 1e-1], log = true }
"""


def _setup(tmp_path) -> tuple[list[str], str]:
    """The `lstmtune tune` command of a small study, and its storage URL."""
    (tmp_path / "study.toml").write_text(STUDY)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "lstmtune", "tune", str(tmp_path / "study.toml"),
           "--out", str(out), "--json"]
    return cmd, f"sqlite:///{out / 'study' / 'study.db'}"  # the study's folder under --out


def _complete(storage: str) -> int:
    """Completed trials, read without Optuna: opening an RDB storage may create or migrate
    the schema, which would race with the study process doing the same."""
    path = storage.removeprefix("sqlite:///")
    if not os.path.exists(path):
        return 0
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30) as con:
            return con.execute("SELECT count(*) FROM trials WHERE state = 'COMPLETE'"
                               ).fetchone()[0]
    except sqlite3.OperationalError:  # schema not created yet
        return 0


@pytest.mark.slow
def test_sigkill_at_random_moments_then_resume(tmp_path):
    cmd, storage = _setup(tmp_path)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    rng = random.Random(0)
    counts = [0]
    for k in range(KILLS):
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                env=env)
        if k == 0:  # on a cold compile cache (a fresh CI machine) the first kill comes
            deadline = time.time() + 180  # right after the first trial lands, so that the
            while _complete(storage) == 0 and time.time() < deadline:  # programs are cached
                time.sleep(0.1)  # and the random kills below fall inside the study
        else:
            time.sleep(rng.uniform(1.0, 5.0))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        counts.append(_complete(storage))
        assert counts[-1] >= counts[-2], counts
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    study = optuna.load_study(study_name="study", storage=storage)
    finished = [t for t in study.trials if t.state == TrialState.COMPLETE]
    assert len(finished) == 14
    assert not study.get_trials(states=(TrialState.RUNNING,))
    assert counts[-1] > 0, f"no trial finished between kills: {counts}"
    out = tmp_path / "out" / "study"
    assert [p.name for p in out.iterdir() if p.name.endswith((".tmp", ".old"))] == []


@pytest.mark.slow
def test_ctrl_c_stops_cleanly_and_the_rerun_finishes(tmp_path):
    cmd, storage = _setup(tmp_path)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while _complete(storage) < 2 and time.time() < deadline:  # let a few trials finish
        time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err[-2000:]
    assert "interrupted" in err and "Traceback" not in err
    assert "finishing the current chunk" in err and "Ctrl-C again to stop now" in err
    study = optuna.load_study(study_name="study", storage=storage)
    assert not study.get_trials(states=(TrialState.RUNNING,))  # nothing left half-done
    saved = _complete(storage)
    assert saved >= 2
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert _complete(storage) == 14
