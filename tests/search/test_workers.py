"""Several processes on one study: who runs a trial, what is stale, an exact budget, and real
`lstmtune tune` processes on one SQLite file and on one journal file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import optuna
import pytest
from optuna.distributions import IntDistribution
from optuna.trial import TrialState

from lstmtune.search._storage import (
    INTERRUPTED,
    WORKER,
    claim_trials,
    counted,
    is_stale,
    recover_stale,
    storage_from_url,
    study_lock,
    worker_session,
)

SPACE = {"units": IntDistribution(1, 4)}


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _running(study: optuna.Study, worker: dict | None) -> optuna.trial.FrozenTrial:
    t = study.ask(SPACE)
    if worker is not None:
        study._storage.set_trial_system_attr(t._trial_id, WORKER, worker)
    return study._storage.get_trial(t._trial_id)


def test_only_trials_of_gone_workers_are_stale():
    import socket

    study = optuna.create_study()
    host = socket.gethostname()
    with worker_session() as session:
        mine = study.ask(SPACE)
        claim_trials(study, [mine], session)
        assert not is_stale(study._storage.get_trial(mine._trial_id))
        alive = _running(study, {"host": host, "pid": os.getppid(), "start": None})
        elsewhere = _running(study, {"host": host + "-other", "pid": 1, "start": None})
        dead = _running(study, {"host": host, "pid": _dead_pid(), "start": None})
        legacy = _running(study, None)
        reused = _running(study, {"host": host, "pid": os.getppid(), "start": "-1"})
        assert [is_stale(t) for t in (alive, elsewhere, dead, legacy)] == \
            [False, False, True, True]
        if os.path.exists(f"/proc/{os.getppid()}/stat"):  # a start time tells a reused pid
            assert is_stale(reused)
        n = recover_stale(study)
    assert n == 2 + os.path.exists(f"/proc/{os.getppid()}/stat")
    states = {t.number: t.state for t in study.trials}
    assert states[mine.number] == states[alive.number] == TrialState.RUNNING
    assert states[dead.number] == states[legacy.number] == TrialState.FAIL
    assert study._storage.get_trial(dead._trial_id).system_attrs[INTERRUPTED]
    waiting = study.get_trials(states=(TrialState.WAITING,))  # queued again, same params
    assert sorted(t.system_attrs["fixed_params"]["units"] for t in waiting) == sorted(
        t.params["units"] for t in (dead, legacy, reused)[:n])
    # once the session ends, this process's own trials are stale too (an aborted call)
    assert is_stale(study._storage.get_trial(mine._trial_id))


def test_the_budget_counts_running_trials_but_not_interrupted_ones():
    study = optuna.create_study()
    done = study.ask(SPACE)
    study.tell(done, 1.0)
    failed = study.ask(SPACE)
    study.tell(failed, state=TrialState.FAIL)
    interrupted = study.ask(SPACE)
    study._storage.set_trial_system_attr(interrupted._trial_id, INTERRUPTED, True)
    study.tell(interrupted, state=TrialState.FAIL)
    study.ask(SPACE)  # running
    study.enqueue_trial({"units": 2})  # waiting: not claimed by anyone yet
    assert counted(study) == 3


def _claimer(url: str, budget: int, out: str) -> None:
    """A worker that claims one trial at a time under the lock and finishes it."""
    study = optuna.load_study(study_name="s", storage=storage_from_url(url))
    mine = []
    with worker_session() as session:
        while True:
            with study_lock(url, "claim"):
                recover_stale(study)
                if counted(study) >= budget:
                    break
                t = study.ask(SPACE)
                claim_trials(study, [t], session)
            time.sleep(0.01)
            study.tell(t, float(t.params["units"]))
            mine.append(t.number)
    with open(out, "w") as f:
        json.dump(mine, f)


@pytest.mark.parametrize("kind", ["sqlite", "journal"])
def test_claims_under_the_lock_give_an_exact_budget(kind, tmp_path):
    """Four processes claim trials as fast as they can: exactly the budget is run."""
    url = (f"sqlite:///{tmp_path / 's.db'}" if kind == "sqlite"
           else f"journal:///{tmp_path / 's.log'}")
    optuna.create_study(study_name="s", storage=storage_from_url(url))
    code = ("import sys; from tests.search.test_workers import _claimer; "
            "_claimer(sys.argv[1], int(sys.argv[2]), sys.argv[3])")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    procs = [subprocess.Popen([sys.executable, "-c", code, url, "30",
                               str(tmp_path / f"w{k}.json")], cwd=root) for k in range(4)]
    assert [p.wait(timeout=300) for p in procs] == [0] * 4
    study = optuna.load_study(study_name="s", storage=storage_from_url(url))
    assert len(study.trials) == 30
    assert all(t.state == TrialState.COMPLETE for t in study.trials)
    by_worker = [json.loads((tmp_path / f"w{k}.json").read_text()) for k in range(4)]
    assert sorted(n for w in by_worker for n in w) == list(range(30))


STUDY = """
[data]
source = "shampoo"
test_size = 6
val_size = 6
[training]
epochs = EPOCHS
batch_size = 4
[search]
strategy = "tpe"
trials = TRIALS
repeats = 1
batch = 2
final_repeats = 2
[space]
units = { int = [1, 2] }
learning_rate = { float = [1e-3, 1e-1], log = true }
"""


def run_workers(tmp_path, n: int, stagger: float, journal: bool, *, trials: int = 10,
                epochs: int = 4) -> dict:
    """``n`` `lstmtune tune` processes on one study, started ``stagger`` s apart; what they
    printed and what the study holds afterwards."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    text = STUDY.replace("TRIALS", str(trials)).replace("EPOCHS", str(epochs))
    (tmp_path / "study.toml").write_text(text)
    root = tmp_path / "out"
    out = root / "study"  # the study's own folder under --out
    cmd = [sys.executable, "-m", "lstmtune", "tune", str(tmp_path / "study.toml"), "--out",
           str(root), "--json"]
    if journal:
        cmd += ["--storage", f"journal:///{tmp_path / 'study.log'}"]
    procs = []
    t0 = time.perf_counter()
    for k in range(n):
        if k:
            time.sleep(stagger)
        procs.append(subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      text=True))
    outputs = [p.communicate(timeout=900) for p in procs]
    seconds = time.perf_counter() - t0
    url = (f"journal:///{tmp_path / 'study.log'}" if journal
           else f"sqlite:///{out / 'study.db'}")
    if not (out / "model" / "model.json").is_file():  # every process failed: say how
        raise AssertionError(f"exit codes {[p.returncode for p in procs]}: "
                             + " | ".join(e.strip()[-600:] for _, e in outputs))
    study = optuna.load_study(study_name="study", storage=storage_from_url(url))
    model = json.loads((out / "model" / "model.json").read_text())
    return {"codes": [p.returncode for p in procs], "stderr": [e for _, e in outputs],
            "seconds": seconds,
            "workers": len({t.system_attrs[WORKER]["pid"] for t in study.trials
                            if WORKER in t.system_attrs}),
            "study": study, "model_trial": model["info"]["trial"],
            "final_trial": study.user_attrs["lstmtune:final"]["best_trial"],
            "leaderboard_first": (out / "leaderboard.csv").read_text().splitlines()[1],
            "leftovers": sorted(p.name for p in out.iterdir() if p.name.endswith((".tmp",
                                                                                 ".old")))}


@pytest.mark.slow
@pytest.mark.parametrize("n,stagger,journal", [(2, 0.0, False), (3, 3.0, True)],
                         ids=["2-together-sqlite", "3-staggered-journal"])
def test_tune_processes_on_one_study_share_it(tmp_path, n, stagger, journal):
    r = run_workers(tmp_path, n, stagger, journal)
    assert r["codes"] == [0] * n, r["stderr"]
    assert not any("Traceback" in e for e in r["stderr"])
    trials = r["study"].trials
    assert not [t for t in trials if t.state == TrialState.RUNNING]
    assert not [t for t in trials if t.system_attrs.get(INTERRUPTED)]  # no live trial failed
    assert counted(r["study"]) == 10 and len(trials) == 10  # the exact budget
    best = r["study"].best_trial.number
    assert r["model_trial"] == r["final_trial"] == best
    assert r["leaderboard_first"].split(",")[:2] == ["1", str(best)]
    assert r["leftovers"] == []
