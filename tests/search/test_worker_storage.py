"""The worker's storage: what it writes equals what Optuna's own storage holds after the same
calls, in few transactions; other workers' trials are read at a refresh; on a database server,
heartbeats find a dead machine's trials, a lost connection is waited for, and bad URLs are one
line."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import threading
import time

import optuna
import pytest
from optuna.distributions import FloatDistribution, IntDistribution
from optuna.trial import TrialState

from lstmtune.search._storage import (
    INTERRUPTED,
    WORKER,
    ask_trials,
    batch,
    claim_trials,
    recover_stale,
    storage_from_url,
    worker_session,
)
from lstmtune.search._worker_storage import WorkerStorage, is_unreachable, retrying

SPACE = {"units": IntDistribution(1, 8), "lr": FloatDistribution(1e-4, 1e-1, log=True)}


def _script(study: optuna.Study, session: str | None) -> None:
    """One worker's calls: a queued trial and a batch of three asked together, suggested,
    claimed, reported, told (complete, pruned, failed), then a second batch."""
    study.enqueue_trial({"units": 3, "lr": 0.01})
    for b in range(2):
        with batch(study):  # as the search claims: written together at the end
            trials = ask_trials(study, 3) if session else [study.ask() for _ in range(3)]
            for t in trials:
                t.suggest_int("units", 1, 8)
                t.suggest_float("lr", 1e-4, 1e-1, log=True)
            if session:
                claim_trials(study, trials, session)
        with batch(study):
            for k, t in enumerate(trials):
                for step in (10, 20):
                    t.report(float(k + step + b), step)
                t.set_user_attr("members", {"score": [1.0 * k, 2.0 + b]})
                state = [TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL][k]
                study.tell(t, 1.0 + k + b if state == TrialState.COMPLETE else None,
                           state=state)


def _table(trials: list[optuna.trial.FrozenTrial]) -> list[dict]:
    return [{"number": t.number, "state": t.state.name, "values": t.values, "params": t.params,
             "distributions": {k: repr(v) for k, v in t.distributions.items()},
             "user_attrs": t.user_attrs, "intermediate": t.intermediate_values,
             "system_attrs": {k: v for k, v in t.system_attrs.items() if k != WORKER}}
            for t in trials]


@pytest.mark.parametrize("kind", ["sqlite", "journal"])
def test_the_stored_study_equals_optunas_own_storage_after_the_same_calls(tmp_path, kind):
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    sampler = lambda: optuna.samplers.RandomSampler(seed=3)  # noqa: E731
    reference = optuna.create_study(sampler=sampler())  # Optuna's in-memory storage
    _script(reference, None)
    url = (f"sqlite:///{tmp_path / 's.db'}" if kind == "sqlite"
           else f"journal:///{tmp_path / 's.log'}")
    study = optuna.create_study(storage=storage_from_url(url), study_name="s",
                                sampler=sampler())
    with worker_session() as session:
        _script(study, session)
    # read back by plain Optuna, nothing of lstmtune's in between
    raw = storage_from_url(url).backend
    stored = optuna.load_study(study_name="s", storage=raw).get_trials(deepcopy=False)
    assert _table(stored) == _table(reference.get_trials(deepcopy=False))
    assert _table(study.get_trials(deepcopy=False)) == _table(stored)  # what the worker saw
    assert all(WORKER in t.system_attrs for t in stored)


def test_a_batch_costs_a_few_transactions_and_is_written_when_it_ends(tmp_path):
    from sqlalchemy import event

    url = f"sqlite:///{tmp_path / 's.db'}"
    storage = storage_from_url(url)
    study = optuna.create_study(storage=storage, study_name="s")
    commits = []  # transactions that wrote something
    wrote = []
    engine = storage.backend._backend.engine
    event.listen(engine, "before_cursor_execute",
                 lambda conn, cur, sql, *a: wrote.append(1) if sql.lstrip().upper().startswith(
                     ("INSERT", "UPDATE", "DELETE")) else None)

    def on_commit(conn):
        if wrote:
            commits.append(1)
            wrote.clear()

    event.listen(engine, "commit", on_commit)
    reader = storage_from_url(url).backend
    with worker_session() as session:
        with batch(study):  # as the search claims
            trials = ask_trials(study, 8)
            for t in trials:
                t.suggest_int("units", 1, 8)
                t.suggest_float("lr", 1e-4, 1e-1, log=True)
            claim_trials(study, trials, session)
        claimed = len(commits)
        seen = optuna.load_study(study_name="s", storage=reader).get_trials(deepcopy=False)
        assert [set(t.params) for t in seen] == [{"units", "lr"}] * 8  # run again if killed
        assert all(t.state == TrialState.RUNNING and WORKER in t.system_attrs for t in seen)
        with batch(study):
            for t in trials:
                t.report(0.5, 1)
                t.set_user_attr("members", {"score": [1.0]})
                study.tell(t, 1.0)
            assert study.get_trials(deepcopy=False)[0].state == TrialState.COMPLETE  # here
            assert reader.get_trial(trials[0]._trial_id).state == TrialState.RUNNING  # there
        done = reader.get_trial(trials[0]._trial_id)
    assert done.state == TrialState.COMPLETE and done.value == 1.0
    assert done.intermediate_values == {1: 0.5} and done.user_attrs["members"]["score"] == [1.0]
    # made (1), claimed with parameters and workers (1), finished (1): not one per write
    assert claimed == 2 and len(commits) == 3


def test_other_workers_trials_are_read_at_a_refresh(tmp_path):
    url = f"sqlite:///{tmp_path / 's.db'}"
    mine = optuna.create_study(storage=storage_from_url(url), study_name="s")
    other = optuna.load_study(study_name="s", storage=storage_from_url(url))
    assert mine.get_trials() == []
    other.tell(other.ask(SPACE), 1.0)
    assert len(mine.get_trials()) == 0  # as at the last refresh
    mine._storage.refresh(mine._study_id)
    assert [t.value for t in mine.get_trials()] == [1.0]


def test_a_trial_failed_elsewhere_keeps_its_failure(tmp_path):
    url = f"sqlite:///{tmp_path / 's.db'}"
    study = optuna.create_study(storage=storage_from_url(url), study_name="s")
    t = study.ask(SPACE)
    storage_from_url(url).backend.set_trial_state_values(t._trial_id, TrialState.FAIL)
    with pytest.raises(optuna.exceptions.UpdateFinishedTrialError):
        study.tell(t, 1.0)
    study._storage.refresh(study._study_id)
    assert study.trials[0].state == TrialState.FAIL


def test_only_lost_connections_are_retried():
    from sqlalchemy import exc as sa

    lost = sa.OperationalError("SELECT 1", {}, Exception("server closed the connection"))
    locked = sa.OperationalError("SELECT 1", {}, Exception("database is locked"))
    wrapped = optuna.exceptions.StorageInternalError("commit failed")
    wrapped.__cause__ = lost
    assert is_unreachable(lost) and is_unreachable(wrapped)
    assert not is_unreachable(locked) and not is_unreachable(ValueError("no"))
    calls, said = [], []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise lost
        return "ok"

    assert retrying(flaky, "db", say=said.append, every=0.01) == "ok"
    assert len(calls) == 3 and len(said) == 2  # said once when lost, once when back
    assert "cannot be reached" in said[0] and "reachable again" in said[1]
    with pytest.raises(sa.OperationalError):
        retrying(lambda: (_ for _ in ()).throw(lost), "db", say=said.append, every=0.01,
                 limit=0.05)
    with pytest.raises(ValueError):
        retrying(lambda: (_ for _ in ()).throw(ValueError("bad")), "db", say=said.append)


@pytest.mark.postgres
def test_postgres_heartbeat_fails_only_a_silent_machines_trials(postgres_url):
    storage = storage_from_url(postgres_url, heartbeat_s=1, grace_s=2)
    assert isinstance(storage, WorkerStorage) and storage.heartbeat_interval == 1
    study = optuna.create_study(storage=storage, study_name="s")
    # a trial of a worker on another machine that beat once and then went silent
    gone = optuna.load_study(study_name="s", storage=storage_from_url(postgres_url))
    t = gone.ask(SPACE)
    gone._storage.set_trial_system_attr(t._trial_id, WORKER,
                                        {"host": "elsewhere", "pid": 1, "start": None,
                                         "session": "x"})
    gone._storage.flush()
    gone._storage.record_heartbeats([t._trial_id])
    # another machine's live worker: beats on
    alive = optuna.load_study(study_name="s", storage=storage_from_url(postgres_url))
    u = alive.ask(SPACE)
    alive._storage.set_trial_system_attr(u._trial_id, WORKER,
                                         {"host": "elsewhere-2", "pid": 1, "start": None,
                                          "session": "y"})
    alive._storage.flush()
    stop = threading.Event()

    def beat():
        while not stop.wait(0.5):
            alive._storage.record_heartbeats([u._trial_id])

    thread = threading.Thread(target=beat, daemon=True)
    thread.start()
    try:
        assert recover_stale(study) == 0  # within the grace period: nobody is stale
        time.sleep(3.5)
        assert recover_stale(study) == 1
    finally:
        stop.set()
        thread.join()
    trials = {x.number: x for x in study.get_trials()}
    assert trials[t.number].state == TrialState.FAIL
    assert trials[t.number].system_attrs[INTERRUPTED]
    assert trials[u.number].state == TrialState.RUNNING
    queued = [x for x in trials.values() if x.state == TrialState.WAITING]
    assert [x.system_attrs["fixed_params"] for x in queued] == [trials[t.number].params]


@pytest.mark.postgres
def test_a_stopped_postgres_server_is_waited_for(postgres_server, postgres_url, capsys):
    study = optuna.create_study(storage=storage_from_url(postgres_url), study_name="s")
    study.tell(study.ask(SPACE), 1.0)
    postgres_server.stop()
    threading.Timer(2.0, postgres_server.start).start()
    t0 = time.perf_counter()
    study._storage.refresh(study._study_id)  # waits for the server, then reads
    waited = time.perf_counter() - t0
    t = study.ask(SPACE)
    study.tell(t, 2.0)
    assert waited >= 1.5
    assert [x.value for x in study.get_trials()] == [1.0, 2.0]
    err = capsys.readouterr().err
    assert err.count("cannot be reached") == 1 and "reachable again" in err
    assert "lstmtune:" in err and postgres_server.password not in err


@pytest.mark.postgres
def test_workers_creating_one_study_at_once_take_turns(postgres_url, tmp_path):
    code = ("import sys, optuna; from lstmtune.search._storage import storage_from_url, "
            "study_lock\nurl = sys.argv[1]\nwith study_lock(url, 'claim'):\n"
            "    optuna.create_study(storage=storage_from_url(url), study_name='s', "
            "load_if_exists=True)\nprint('ok')")
    for url in (postgres_url, f"sqlite:///{tmp_path / 'fresh.db'}"):
        procs = [subprocess.Popen([sys.executable, "-c", code, url], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(4)]
        outs = [p.communicate(timeout=120) for p in procs]
        assert [o.strip() for o, _ in outs] == ["ok"] * 4, [e[-500:] for _, e in outs]
        assert len(optuna.get_all_study_summaries(storage_from_url(url).backend)) == 1


@pytest.mark.postgres
@pytest.mark.parametrize("which", ["wrong-password", "unreachable", "unknown-scheme",
                                   "other-config"])
def test_bad_database_urls_are_one_line(postgres_server, postgres_url, which, tmp_path,
                                        capsys):
    from lstmtune.cli import main

    url = {"wrong-password": postgres_server.url(postgres_url.rsplit("/", 1)[1],
                                                 password="wrong"),
           "unreachable": f"postgresql://u:secret@127.0.0.1:{_free_port()}/db",
           "unknown-scheme": "nosuchdb://u:secret@host/db",
           "other-config": postgres_url}[which]
    args = ["tune", "shampoo", "--trials", "1", "--repeats", "1", "--final-repeats", "1",
            "--storage", url, "--study-name", "s", "--out", str(tmp_path / "out")]
    if which == "other-config":
        optuna.create_study(storage=storage_from_url(url), study_name="s").set_user_attr(
            "lstmtune:config", json.dumps({"another": "study"}))
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    errors = [line for line in err.splitlines() if line.startswith("lstmtune: error: ")]
    assert len(errors) == 1 and err.endswith(errors[0]) and "Traceback" not in err, err
    assert "secret" not in err and postgres_server.password not in err
    expect = {"wrong-password": "password authentication failed",
              "unreachable": "cannot be opened", "unknown-scheme": "unknown database scheme",
              "other-config": "different study configuration"}[which]
    assert expect in err
    assert not (tmp_path / "out" / "s" / "model").exists()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_reads_between_refreshes_cost_no_query(tmp_path):
    """Samplers and pruners read the study many times per trial: between refreshes those
    reads come from memory, without a query."""
    from sqlalchemy import event

    url = f"sqlite:///{tmp_path / 's.db'}"
    storage = storage_from_url(url)
    study = optuna.create_study(storage=storage, study_name="s")
    with worker_session() as session:
        for _ in range(5):
            with batch(study):
                trials = ask_trials(study, 10)
                for t in trials:
                    t.suggest_int("units", 1, 8)
                claim_trials(study, trials, session)
            with batch(study):
                for t in trials:
                    study.tell(t, 1.0)
    queries = []
    event.listen(storage.backend._backend.engine, "before_cursor_execute",
                 lambda *a: queries.append(1))
    for _ in range(200):
        study.get_trials(deepcopy=False)
        study.best_trial  # noqa: B018
    assert queries == [] and len(study.trials) == 50 and not math.isnan(study.best_value)


def test_outside_a_batch_every_write_goes_to_the_database_at_once(tmp_path):
    """A process killed after suggesting outside lstmtune's loop leaves its trial's
    parameters stored (what Optuna's own storage would do)."""
    url = f"sqlite:///{tmp_path / 's.db'}"
    study = optuna.create_study(storage=storage_from_url(url), study_name="s")
    t = study.ask()
    t.suggest_int("units", 1, 8)
    t.report(0.5, 1)
    t.set_user_attr("a", 1)
    stored = storage_from_url(url).backend.get_trial(t._trial_id)
    assert stored.params == t.params and stored.intermediate_values == {1: 0.5}
    assert stored.user_attrs == {"a": 1} and stored.state == TrialState.RUNNING


def test_a_write_made_twice_replaces_its_rows(tmp_path):
    """An attribute set again, and a batch written twice (a retry after a lost connection
    whose commit went through), leave one row each with the last value."""
    from lstmtune.search._worker_storage import _Pending

    url = f"sqlite:///{tmp_path / 's.db'}"
    storage = storage_from_url(url)
    study = optuna.create_study(storage=storage, study_name="s")
    t = study.ask()
    t.suggest_int("units", 1, 8)
    t.set_user_attr("a", 1)  # written at once
    with batch(study):
        t.set_user_attr("a", 2)
        t.report(0.25, 3)
    again = _Pending(t._trial_id)
    again.params = [("units", float(t.params["units"]), SPACE["units"])]
    again.user_attrs = {"a": 3}
    again.intermediate = {3: 0.5}
    storage.backend._backend.write_trials([again])
    storage.backend._backend.write_trials([again])
    stored = storage_from_url(url).backend.get_trial(t._trial_id)
    assert stored.user_attrs == {"a": 3} and stored.intermediate_values == {3: 0.5}
    assert stored.params == t.params


@pytest.mark.postgres
def test_a_dead_machines_trial_is_run_again_even_when_the_budget_is_met(postgres_url,
                                                                      monkeypatch):
    """The budget counts another machine's running trial; when that machine is gone (its
    heartbeat stops), the worker stays until the grace period says so, then runs its
    parameters again."""
    import lstmtune.search._storage as storage_mod
    import lstmtune.search._tune as tune_mod
    from lstmtune.data import load
    from lstmtune.search import open_study, study_from_dict, tune

    monkeypatch.setattr(storage_mod, "HEARTBEAT_S", 1)
    monkeypatch.setattr(storage_mod, "GRACE_S", 2)
    monkeypatch.setattr(tune_mod, "WAIT_S", 0.5)
    cfg = study_from_dict({
        "data": {"source": "shampoo", "test_size": 6, "val_size": 6},
        "training": {"epochs": 4, "batch_size": 4},
        "search": {"strategy": "random", "trials": 2, "repeats": 1, "batch": 1,
                   "final_repeats": 1},
        "space": {"units": {"int": [1, 2]},
                  "learning_rate": {"float": [1e-3, 1e-1], "log": True}}})
    study = open_study(cfg, postgres_url, "s")
    gone = study.ask({"units": IntDistribution(1, 2),
                      "learning_rate": FloatDistribution(1e-3, 1e-1, log=True)})
    study._storage.set_trial_system_attr(gone._trial_id, WORKER,
                                         {"host": "elsewhere", "pid": 1, "start": None,
                                          "session": "x"})
    study._storage.record_heartbeats([gone._trial_id])  # beat once, then the machine died
    t0 = time.perf_counter()
    r = tune(load("shampoo"), cfg, storage=postgres_url, study_name="s")
    trials = {t.number: t for t in r.study.get_trials()}
    assert trials[gone.number].state == TrialState.FAIL
    assert trials[gone.number].system_attrs[INTERRUPTED]
    again = [t for t in trials.values() if t.system_attrs.get("lstmtune:retry_of") == gone.number]
    assert len(again) == 1 and again[0].state == TrialState.COMPLETE
    assert again[0].params == gone.params
    assert r.n_trials_complete == 2 and time.perf_counter() - t0 >= 2.0


def test_another_machines_trial_in_a_file_does_not_hold_a_finished_worker(tmp_path):
    """Without heartbeats (a SQLite file, e.g. copied from another machine) a RUNNING trial
    of another host is not waited for: the worker ends when its budget is counted."""
    from lstmtune.search._storage import running_elsewhere

    url = f"sqlite:///{tmp_path / 's.db'}"
    study = optuna.create_study(storage=storage_from_url(url), study_name="s")
    t = study.ask(SPACE)
    study._storage.set_trial_system_attr(t._trial_id, WORKER, {"host": "elsewhere", "pid": 1,
                                                               "start": None, "session": "x"})
    assert running_elsewhere(study) == 0
