"""Storages that several processes share: opening a URL (one line when it cannot be opened),
a lock per storage file, and which process runs each trial.

Several ``lstmtune tune`` processes on one study are workers of that study:

- **Claims are serialised.**  Asking the next batch of trials happens under the storage's
  *claim lock* (``flock`` on ``.NAME.claim.lock`` beside a SQLite or journal file): stale
  trials are recovered, the budget is counted (finished trials plus every live worker's
  running ones) and only what is left is asked, so the budget is exact across processes.
- **Each running trial names its worker** (system attribute ``lstmtune:worker``: host, process
  id and that process's start time).  A RUNNING trial is *stale* when its worker is on this
  machine and no longer running; only stale trials are failed and queued again, never a live
  worker's.  This is immediate (no grace period), where Optuna's heartbeat would need one.
  A trial without the attribute was left by an lstmtune older than this rule, or asked
  through Optuna directly, and is treated as stale.  Trials of workers on other machines
  are left to them (a server database for many machines is the subject of its own issue).
- **Finishing is serialised** under the *final lock* (``.NAME.final.lock``): the best trial is
  read, retrained and published (model, report) by one process at a time, so whatever the
  last worker to finish writes describes the study's best trial at that moment.

Server databases (PostgreSQL, MySQL) have no file to lock: their claims and finishing are not
serialised here, so several workers there may overshoot the budget by a batch.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import TrialState

from lstmtune._files import pid_alive
from lstmtune.errors import ConfigError

try:  # POSIX; elsewhere the locks are no-ops
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

__all__ = ["storage_from_url", "storage_file", "describe_url", "study_lock", "WORKER",
           "INTERRUPTED", "this_worker", "is_stale", "recover_stale", "claim_trials",
           "release_trials", "counted"]

WORKER = "lstmtune:worker"
INTERRUPTED = "lstmtune:interrupted"
JOURNAL = "journal:///"
MEMORY = "memory://"  # this process only: Optuna's in-memory storage, one per URL
# kept while a study uses it (the study holds its storage), then let go
_MEMORY: weakref.WeakValueDictionary[str, optuna.storages.BaseStorage] = \
    weakref.WeakValueDictionary()
SQLITE_TIMEOUT_S = 120  # a writer waits this long for another's transaction


def describe_url(url: str) -> str:
    """The URL as it may be printed: a password is replaced by ***."""
    if url.startswith(JOURNAL) or "://" not in url:
        return url
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # unparseable: nothing to hide reliably, show the scheme only
        return url.split("://", 1)[0] + "://…"


def storage_file(url: str) -> Path | None:
    """The local file behind a SQLite or journal URL (None for servers and :memory:)."""
    if url.startswith(JOURNAL):
        return Path(url[len(JOURNAL) - 1:])
    if url.startswith("sqlite:"):
        from sqlalchemy.engine import make_url

        try:
            db = make_url(url).database
        except Exception:
            return None
        return Path(db) if db and db != ":memory:" else None
    return None


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL + synchronous=NORMAL: every commit still survives a killed process (SIGKILL), only
    # a power loss may lose the last few; about 10x fewer milliseconds per trial than the
    # default rollback journal with a full sync on every commit
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _check_url(url: str) -> None:
    shown = describe_url(url)
    if not isinstance(url, str) or "://" not in url:
        raise ConfigError(f"storage '{shown}' is not a storage URL: write e.g. "
                          "sqlite:///path/study.db, journal:///abs/path/study.log, "
                          "postgresql://user@host/db or memory:// (this process only).")
    path = storage_file(url)
    if url.startswith(("sqlite:", JOURNAL)) and path is not None:
        if path.exists() and not path.is_file():
            raise ConfigError(f"storage '{shown}': '{path}' exists but is not a regular file; "
                              "point the URL at a study file (or a new path).")
        if not path.parent.is_dir():
            raise ConfigError(f"storage '{shown}': folder '{path.parent}' does not exist; "
                              "create it first or choose another path.")
        if not os.access(path.parent, os.W_OK | os.X_OK):
            raise ConfigError(f"storage '{shown}': this user cannot write in "
                              f"'{path.parent}' (permission denied); choose a folder you can "
                              "write to.")


def storage_from_url(url: str) -> optuna.storages.BaseStorage:
    """An RDB storage (SQLite files get WAL journaling and a long busy timeout, so several
    workers wait for each other instead of failing), or Optuna's append-only journal file for
    ``journal:///path/file.log``.  A URL that is malformed, names an unknown database or
    driver, or cannot be reached is one :class:`ConfigError` line."""
    _check_url(url)
    shown = describe_url(url)
    if url.startswith(MEMORY):  # e.g. memory://name: nothing on disk
        storage = _MEMORY.get(url)
        if storage is None:
            storage = _MEMORY[url] = optuna.storages.InMemoryStorage()
        return storage
    try:
        with study_lock(url, "claim"):  # two workers creating one schema take turns
            return _open(url)
    except ConfigError:
        raise
    except ModuleNotFoundError as exc:
        raise ConfigError(f"storage '{shown}' needs the Python package '{exc.name}', which is "
                          f"not installed: pip install {exc.name} (or use a sqlite:/// or "
                          "journal:/// URL).") from None
    except Exception as exc:  # SQLAlchemy/driver/journal errors: every one means "cannot open"
        missing = _missing_driver(exc)
        if missing:
            raise ConfigError(f"storage '{shown}' needs the Python package '{missing}', which "
                              f"is not installed: pip install {missing} (or use a sqlite:/// "
                              "or journal:/// URL).") from None
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        raise ConfigError(f"storage '{shown}' cannot be opened ({type(exc).__name__}: "
                          f"{first}); check the URL, that the database server is running and "
                          "reachable, and the credentials.") from None


def _missing_driver(exc: BaseException) -> str | None:
    """The driver package a SQLAlchemy error says is missing (also when it is wrapped)."""
    while exc is not None:
        if isinstance(exc, ModuleNotFoundError) and exc.name:
            return exc.name.split(".")[0]
        exc = exc.__cause__ or exc.__context__
    return None


def _open(url: str) -> optuna.storages.BaseStorage:
    if url.startswith(JOURNAL):
        from optuna.storages.journal import JournalFileBackend

        return optuna.storages.JournalStorage(JournalFileBackend(str(storage_file(url))))
    if not url.startswith("sqlite"):
        return optuna.storages.RDBStorage(url)
    from sqlalchemy import event

    storage = optuna.storages.RDBStorage(
        url, engine_kwargs={"connect_args": {"timeout": SQLITE_TIMEOUT_S}})
    event.listen(storage.engine, "connect", _sqlite_pragmas)
    storage.engine.dispose()  # pooled connections made before the listener are dropped
    return storage


class _FileLock:
    """An exclusive ``flock`` on ``path`` (created if missing); re-entrant in one process."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._fd: int | None = None
        self._depth = 0

    def __enter__(self) -> _FileLock:
        if self.path is None or fcntl is None:
            return self
        if self._depth == 0:
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
            except OSError:  # e.g. reading a study in someone else's read-only folder
                return self
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
            except BaseException:
                os.close(fd)
                raise
            self._fd = fd
        self._depth += 1
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._fd is None:
            return
        self._depth -= 1
        if self._depth == 0:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


_LOCKS: dict[tuple[str, str], _FileLock] = {}


def study_lock(url: str, kind: str) -> _FileLock:
    """The storage's ``claim`` or ``final`` lock (a no-op for server databases)."""
    path = storage_file(url)
    lock_path = None if path is None else path.with_name(f".{path.name}.{kind}.lock")
    key = (str(lock_path), kind)
    if key not in _LOCKS:
        _LOCKS[key] = _FileLock(lock_path)
    return _LOCKS[key]


def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux), to tell a reused pid."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[19].decode()
    except (OSError, IndexError):
        return None


_HOST = socket.gethostname()
_SESSIONS: set[str] = set()  # this process's live `search` calls


def this_worker(session: str) -> dict[str, Any]:
    """The ``lstmtune:worker`` attribute of trials this process runs in ``session``."""
    return {"host": _HOST, "pid": os.getpid(), "start": _start_time(os.getpid()),
            "session": session}


@contextlib.contextmanager
def worker_session() -> Iterator[str]:
    """A token naming one `search` call of this process while it runs."""
    token = f"{time.time_ns():x}"
    _SESSIONS.add(token)
    try:
        yield token
    finally:
        _SESSIONS.discard(token)


def is_stale(trial: optuna.trial.FrozenTrial) -> bool:
    """A RUNNING trial whose worker is gone (see the module docstring)."""
    w = trial.system_attrs.get(WORKER)
    if not isinstance(w, dict):
        return True  # left by an older lstmtune or asked outside it
    if w.get("host") != _HOST:
        return False  # another machine's worker: not ours to judge
    pid = int(w.get("pid", -1))
    if pid == os.getpid():
        return w.get("session") not in _SESSIONS
    if not pid_alive(pid):
        return True
    start = w.get("start")
    return start is not None and _start_time(pid) not in (None, start)  # pid reused


def _interrupt(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> bool:
    """Fail ``trial`` as interrupted (not counted) and queue its parameters again."""
    storage = study._storage
    try:
        storage.set_trial_system_attr(trial._trial_id, INTERRUPTED, True)
        storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)
    except optuna.exceptions.UpdateFinishedTrialError:
        return False  # someone else finished it meanwhile
    if trial.params:
        study.enqueue_trial(trial.params, skip_if_exists=False)
    return True


def recover_stale(study: optuna.Study) -> int:
    """Stale RUNNING trials failed as interrupted and queued again; returns how many."""
    return sum(_interrupt(study, t) for t in study.get_trials(deepcopy=False,
                                                              states=(TrialState.RUNNING,))
               if is_stale(t))


def release_trials(study: optuna.Study, trials: list[optuna.Trial]) -> None:
    """This process's still-running ``trials`` given back (e.g. on a hard stop): failed as
    interrupted and queued again, so nothing is lost or counted twice."""
    for t in trials:
        frozen = study._storage.get_trial(t._trial_id)
        if frozen.state == TrialState.RUNNING:
            _interrupt(study, frozen)


def counted(study: optuna.Study) -> int:
    """Trials that use the budget: finished ones (interrupted ones excepted: they are run
    again) and every live worker's running ones."""
    return sum(1 for t in study.get_trials(deepcopy=False)
               if t.state in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING)
               or (t.state == TrialState.FAIL and not t.system_attrs.get(INTERRUPTED)))


def claim_trials(study: optuna.Study, trials: list[optuna.Trial], session: str) -> None:
    """Mark freshly asked ``trials`` as this worker's (call under the claim lock)."""
    tag = this_worker(session)
    for t in trials:
        study._storage.set_trial_system_attr(t._trial_id, WORKER, tag)
