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

- **A database server** (PostgreSQL) has no file to lock: the claim and final locks are
  PostgreSQL advisory locks held on a connection of their own (released by the server when
  the worker dies), and workers on other machines are judged by **Optuna's heartbeat**:
  each worker records a heartbeat for its running trials every :data:`HEARTBEAT_S` seconds
  (a thread, since lstmtune asks and tells instead of ``optimize``), and a RUNNING trial of
  another machine whose heartbeat is older than :data:`GRACE_S` is stale.  A trial of this
  machine is still judged by its process, at once.  MySQL gets the heartbeat but no claim
  lock (workers there may overshoot the budget by a batch each).

The storage itself is :class:`~lstmtune.search._worker_storage.WorkerStorage`: this
process's running trials in memory, written in a few transactions, and calls retried while
the database cannot be reached.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
import warnings
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import TrialState

from lstmtune._files import pid_alive
from lstmtune.errors import ConfigError
from lstmtune.search._worker_storage import (
    BatchJournalStorage,
    BatchRDBStorage,
    WorkerStorage,
    retrying,
)

try:  # POSIX; elsewhere the locks are no-ops
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

__all__ = ["storage_from_url", "check_storage", "storage_file", "describe_url", "study_lock",
           "WORKER", "INTERRUPTED", "RETRY_OF", "this_worker", "is_stale", "recover_stale",
           "claim_trials", "release_trials", "counted", "heartbeats", "ask_trials", "batch",
           "running_elsewhere",
           "worker_storage", "HEARTBEAT_S", "GRACE_S"]

WORKER = "lstmtune:worker"
INTERRUPTED = "lstmtune:interrupted"
RETRY_OF = "lstmtune:retry_of"  # a queued copy of an interrupted trial: that trial's number
JOURNAL = "journal:///"
MEMORY = "memory://"  # this process only: Optuna's in-memory storage, one per URL
# kept while a study uses it (the study holds its storage), then let go
_MEMORY: weakref.WeakValueDictionary[str, WorkerStorage] = weakref.WeakValueDictionary()
SQLITE_TIMEOUT_S = 120  # a writer waits this long for another's transaction
WRITE_CHECK_S = 5  # the check that a SQLite file can be written waits this long for a writer
HEARTBEAT_S = 10  # a worker on a database server records its trials' heartbeat this often
GRACE_S = 120  # a trial of another machine without a heartbeat for this long is stale
CONNECT_TIMEOUT_S = 10  # a database server that does not answer for this long is unreachable
# libpq: give up connecting after CONNECT_TIMEOUT_S, and find a peer that vanished (a machine
# cut off holds its locks until then) within about a minute instead of TCP's two hours
PG_CONNECT = {"connect_timeout": CONNECT_TIMEOUT_S, "keepalives": 1, "keepalives_idle": 30,
              "keepalives_interval": 10, "keepalives_count": 3, "tcp_user_timeout": 60_000}


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
    if url.startswith("sqlite:") and path is None and _memory_sqlite(url):
        raise ConfigError(f"storage '{url[:200]}' names no SQLite file (an in-memory SQLite "
                          "database is gone with each connection, so a study cannot live "
                          "in it): write sqlite:///path/study.db, or memory:// for a study "
                          "of this process only.")
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
        # read the file's first bytes only before this process has a SQLite connection to
        # it: closing any other descriptor of the file drops every POSIX lock this process
        # holds on it, so another process's last connection would take itself for the last
        # one and fold away the WAL under this process's readers
        head = b"" if path.resolve() in _OPENED_FILES else _head(path)
        if url.startswith("sqlite:") and head and not head.startswith(SQLITE_HEADER):
            raise ConfigError(f"storage '{shown}': '{path}' is not a SQLite database (it "
                              f"starts with {_bytes_text(head)}); point the URL at a study "
                              "file made by lstmtune or Optuna, or at a new path.")
        if url.startswith(JOURNAL) and head.startswith(SQLITE_HEADER):
            raise ConfigError(f"storage '{shown}': '{path}' is a SQLite database, not a "
                              f"journal file; write sqlite:///{path.resolve()} instead.")
        if url.startswith(JOURNAL) and head and not _journal_start(path):
            raise ConfigError(f"storage '{shown}': '{path}' is not an Optuna journal file "
                              f"(it starts with {_bytes_text(head)}, where a journal's every "
                              "line is one JSON operation); point the URL at a journal made by "
                              "lstmtune or Optuna, or at a new path.")


SQLITE_HEADER = b"SQLite format 3\x00"


def _journal_start(path: Path) -> bool:
    """Whether the first line of a journal file is one of Optuna's operations (a JSON
    object with an ``op_code``); a first line still being written passes."""
    import json

    try:
        with open(path, "rb") as f:
            line = f.readline(1 << 20)
    except OSError:
        return True  # unreadable: refused, in one line, when it is opened
    if not line.endswith(b"\n"):
        return line.lstrip().startswith(b"{")
    try:
        op = json.loads(line)
    except ValueError:
        return False
    return isinstance(op, dict) and "op_code" in op


def _memory_sqlite(url: str) -> bool:
    """Whether a SQLite URL names no file (``sqlite://``, ``sqlite:///:memory:``)."""
    from sqlalchemy.engine import make_url

    try:
        db = make_url(url).database
    except Exception:  # unparseable: refused, in one line, when it is opened
        return False
    return not db or db == ":memory:"


def _head(path: Path) -> bytes:
    """The first bytes of ``path`` (b"" when it is missing, empty or unreadable)."""
    try:
        with open(path, "rb") as f:
            return f.read(len(SQLITE_HEADER) + 1)  # one more: whether more follows
    except OSError:
        return b""


def _bytes_text(head: bytes) -> str:
    """The first bytes of a file, for a message: as text when they are, else in hex."""
    n = len(SQLITE_HEADER)
    text = head[:n].decode("utf-8", "replace").rstrip()
    more = "…" if len(head) > n else ""
    readable = all(c.isprintable() or c == "\t" for c in text)
    return repr(text + more) if readable else f"the bytes {head[:8].hex(' ')} …"


def storage_from_url(url: str, *, heartbeat_s: int | None = None,
                     grace_s: int | None = None) -> WorkerStorage:
    """The study's storage as a worker uses it (:class:`WorkerStorage`) in front of Optuna's
    RDB storage (SQLite files get WAL journaling and a long busy timeout, so several workers
    wait for each other instead of failing; servers get Optuna's heartbeat every
    ``heartbeat_s`` s, stale after ``grace_s`` s), or Optuna's append-only journal file for
    ``journal:///path/file.log`` (``heartbeat_s``, ``grace_s``: by default
    :data:`HEARTBEAT_S`, :data:`GRACE_S`).  A URL that is malformed, names an unknown database or
    driver, or cannot be reached is one :class:`ConfigError` line.

    The storage reads other processes' trials when it is first used and at
    :meth:`WorkerStorage.refresh` (lstmtune's search refreshes at every claim); in between
    a study read through it is a snapshot, with this process's own trials as they are."""
    _check_url(url)
    shown = describe_url(url)
    heartbeat_s = HEARTBEAT_S if heartbeat_s is None else heartbeat_s
    grace_s = GRACE_S if grace_s is None else grace_s
    if url.startswith(MEMORY):  # e.g. memory://name: nothing on disk
        storage = _MEMORY.get(url)
        if storage is None:
            storage = _MEMORY[url] = WorkerStorage(optuna.storages.InMemoryStorage(), shown)
        return storage
    try:
        with study_lock(url, "claim"):  # two workers creating one schema take turns
            storage = _open(url, shown, heartbeat_s, grace_s)
        _OPENED.add(url)  # from now on a lost connection is waited for, not refused
        if storage_file(url) is not None:
            _OPENED_FILES.add(storage_file(url).resolve())
        engine = getattr(storage._writer, "engine", None)
        if engine is not None:
            _LIVE.add(engine)
        return storage
    except ConfigError:
        raise
    except ModuleNotFoundError as exc:
        raise ConfigError(f"storage '{shown}' needs the Python package '{exc.name}', which is "
                          f"not installed: pip install {exc.name} (or use a sqlite:/// or "
                          "journal:/// URL).") from None
    except Exception as exc:  # SQLAlchemy/driver/journal errors: every one means "cannot open"
        if type(exc).__name__ == "NoSuchModuleError":  # SQLAlchemy knows no such database
            scheme = url.split("://", 1)[0]
            raise ConfigError(f"storage '{shown}': unknown database scheme '{scheme}'; write "
                              "sqlite:///path/study.db, journal:///abs/path/study.log, "
                              "postgresql://user:password@host/db, mysql://... or memory://."
                              ) from None
        missing = _missing_driver(exc)
        if missing:
            raise ConfigError(f"storage '{shown}' needs the Python package '{missing}', which "
                              f"is not installed: pip install {missing} (or use a sqlite:/// "
                              "or journal:/// URL).") from None
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        if "readonly" in first.replace(" ", "").lower():
            raise ConfigError(_read_only(shown, storage_file(url))) from None
        raise ConfigError(f"storage '{shown}' cannot be opened ({type(exc).__name__}: "
                          f"{first}); check the URL, that the database server is running and "
                          "reachable, and the credentials.") from None


def check_storage(url: str) -> None:
    """Open the storage at ``url`` and let it go: one :class:`ConfigError` line when it
    cannot be opened (see :func:`storage_from_url`) or written (a read-only SQLite or
    journal file, or a database SQLite cannot write to), nothing held when it can.  When it
    is refused, the files this check made (the storage file, its ``-wal``, ``-shm`` and
    ``-journal`` files, the lock files beside it) are removed again."""
    path = storage_file(url) if isinstance(url, str) else None
    made = [] if path is None else [p for p in _beside(path) if not os.path.lexists(p)]
    try:
        if path is not None and os.path.lexists(path) and \
                not os.access(path, os.R_OK | os.W_OK):
            raise ConfigError(_read_only(describe_url(url), path))
        storage = storage_from_url(url)
        try:
            if url.startswith(JOURNAL):
                _try_read(storage, url, path)
        finally:
            storage.close()
        if path is not None and url.startswith("sqlite:"):
            _try_write(url, path)  # path: the file, or SQLite's own URI
    except BaseException:
        _remove_made(made, path)
        raise


def _remove_made(made: list[Path], path: Path | None) -> None:
    """Remove what a refused check made beside the storage file, and only what holds
    nothing another process could need: the file when it holds no study, an empty -wal or
    -journal file, the -shm index when no -wal frames remain, a lock file nobody holds."""
    def size(p: Path) -> int:
        try:
            return p.stat().st_size
        except OSError:
            return 0

    for p in made:
        if not os.path.lexists(p):
            continue
        if p == path:
            keep = not _holds_no_study(p)
        elif p.name.endswith(("-wal", "-journal")):
            keep = size(p) > 0
        elif p.name.endswith("-shm"):
            keep = size(p.with_name(p.name[:-4] + "-wal")) > 0
        else:  # a lock file: removed only while this process can take it
            keep = not _free_lock(p)
        if not keep:
            with contextlib.suppress(OSError):
                p.unlink()


def _free_lock(path: Path) -> bool:
    """Whether nobody holds the ``flock`` on ``path``."""
    if fcntl is None:
        return True
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


def _beside(path: Path) -> list[Path]:
    """The storage file and the files SQLite, Optuna's journal and lstmtune's locks put
    beside it."""
    return [path, *(path.with_name(path.name + x) for x in ("-wal", "-shm", "-journal",
                                                            ".lock")),
            *(path.with_name(f".{path.name}.{k}.lock") for k in ("claim", "final"))]


def _read_only(shown: str, path: Path | None) -> str:
    """The refusal of a storage that cannot be written."""
    where = f"'{path}'" if path is not None else "its database"
    if not shown.startswith("sqlite"):
        return (f"storage '{shown}': {where} is read-only (this user cannot write it, and a "
                "study writes every trial into it): make it writable (e.g. chmod u+w), or "
                "give --storage a path you can write to.")
    if "mode=ro" in shown:
        return (f"storage '{shown}' opens {where} read-only (mode=ro), and a study writes "
                "every trial into it: drop mode=ro from the URL, or give another --storage.")
    return (f"storage '{shown}': {where} is read-only (this user cannot write it, and a study "
            "writes every trial into it; SQLite also writes -wal and -shm files beside it): "
            "make it writable (e.g. chmod u+w), or give --storage a path you can write to.")


def _try_read(storage: WorkerStorage, url: str, path: Path | None) -> None:
    """Read the studies a journal file holds: a file that is not a journal (Optuna reads it
    only when first asked) is refused now, not at the study's creation."""
    try:
        storage._backend.get_all_studies()
    except Exception as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise ConfigError(f"storage '{describe_url(url)}': '{path}' is not an Optuna journal "
                          f"file ({type(exc).__name__}: {first}); point the URL at a journal "
                          "made by lstmtune or Optuna, or at a new path.") from None


def _try_write(url: str, path: Path) -> None:
    """Begin a write on the SQLite file and roll it back: a file the operating system lets
    SQLite open only for reading (or a read-only -wal file) is refused now, not at the
    study's first write."""
    import sqlite3
    from urllib.parse import quote

    from sqlalchemy.engine import make_url

    u = make_url(url)
    query = {k: v for k, v in u.query.items() if isinstance(v, str)}
    if query.get("uri", "").lower() in ("true", "1"):  # SQLite's own URI form, as written
        extra = "&".join(f"{k}={v}" for k, v in query.items()
                         if k not in ("uri", "timeout", "check_same_thread"))
        target = u.database + ((("&" if "?" in u.database else "?") + extra) if extra else "")
    elif path.is_file():
        target = f"file:{quote(str(path.resolve()))}"
    else:
        return
    if "mode=" not in target:  # never creates a file
        target += ("&" if "?" in target else "?") + "mode=rw"
    try:
        con = sqlite3.connect(target, uri=True, timeout=WRITE_CHECK_S, isolation_level=None)
    except sqlite3.Error:
        return  # opened a moment ago by Optuna: nothing new to learn
    try:
        con.execute("BEGIN IMMEDIATE")
        con.execute("CREATE TABLE lstmtune_write_check (x INTEGER)")
    except sqlite3.Error as exc:
        text = str(exc)
        if "readonly" in text.replace(" ", "").lower():
            raise ConfigError(_read_only(describe_url(url), path)) from None
        if "locked" not in text and "busy" not in text:  # another writer is not a fault
            raise ConfigError(f"storage '{describe_url(url)}' cannot be written "
                              f"({type(exc).__name__}: {text[:300]}); check the file and the "
                              "folder it is in.") from None
    finally:
        with contextlib.suppress(sqlite3.Error):
            con.execute("ROLLBACK")
        con.close()


def _holds_no_study(path: Path) -> bool:
    """Whether a SQLite file holds no study (a file this check made and may remove)."""
    import sqlite3

    if not path.is_file() or path.stat().st_size == 0:
        return True
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1)
        try:
            return con.execute("SELECT COUNT(*) FROM studies").fetchone()[0] == 0
        finally:
            con.close()
    except sqlite3.Error as exc:
        return "no such table" in str(exc)


def _missing_driver(exc: BaseException) -> str | None:
    """The driver package a SQLAlchemy error says is missing (also when it is wrapped)."""
    while exc is not None:
        if isinstance(exc, ModuleNotFoundError) and exc.name:
            return exc.name.split(".")[0]
        exc = exc.__cause__ or exc.__context__
    return None


def _open(url: str, shown: str, heartbeat_s: int, grace_s: int) -> WorkerStorage:
    from optuna.storages._cached_storage import _CachedStorage

    if url.startswith(JOURNAL):
        from optuna.storages.journal import JournalFileBackend

        journal = BatchJournalStorage(JournalFileBackend(str(storage_file(url))))
        return WorkerStorage(journal, shown, writer=journal)
    if not url.startswith("sqlite"):
        kwargs: dict[str, Any] = {"pool_pre_ping": True}
        if url.startswith("postgresql"):
            kwargs["connect_args"] = PG_CONNECT
        with warnings.catch_warnings():  # the heartbeat is "experimental" in Optuna
            warnings.simplefilter("ignore")
            rdb = BatchRDBStorage(url, engine_kwargs=kwargs, heartbeat_interval=heartbeat_s,
                                  grace_period=grace_s)
        return WorkerStorage(_CachedStorage(rdb), shown, heartbeat=rdb, writer=rdb)
    from sqlalchemy import event

    rdb = BatchRDBStorage(url, engine_kwargs={"connect_args": {"timeout": SQLITE_TIMEOUT_S}})
    event.listen(rdb.engine, "connect", _sqlite_pragmas)
    rdb.engine.dispose()  # pooled connections made before the listener are dropped
    return WorkerStorage(_CachedStorage(rdb), shown, writer=rdb)


def worker_storage(study: optuna.Study) -> WorkerStorage | None:
    """The study's :class:`WorkerStorage` (None for a study opened on another storage)."""
    storage = study._storage
    return storage if isinstance(storage, WorkerStorage) else None


_OPENED: set[str] = set()  # URLs opened once by this process
_OPENED_FILES: set[Path] = set()  # their files (SQLite, journal), resolved
# the database engines of the storages this process opened (an engine can outlive its
# storage until the garbage collector breaks their cycles)
_LIVE: weakref.WeakSet = weakref.WeakSet()


def close_storages() -> None:
    """Let every database connection this process opened go (a command's last step): a
    SQLite file in WAL mode is checkpointed into its one file now, when the command ends,
    not whenever the garbage collector frees its storage."""
    for engine in list(_LIVE):
        engine.dispose()


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

    def held(self) -> bool:
        return True  # a file lock lives as long as this process

    def __exit__(self, *exc: Any) -> None:
        if self._fd is None:
            return
        self._depth -= 1
        if self._depth == 0:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


class _AdvisoryLock:
    """An exclusive PostgreSQL advisory lock (session level) on a connection of its own,
    taken in turn by every worker of the database; re-entrant in one process.  The server
    lets it go when the connection ends, so a killed worker never holds it."""

    NAMESPACE = 0x6C73746D  # "lstm": lstmtune's locks among a database's advisory locks

    def __init__(self, url: str, kind: str, name: str | None) -> None:
        import zlib

        self.url = url
        crc = zlib.crc32((name or "").encode())  # one lock per study (0: the schema's)
        self.key = (self.NAMESPACE + {"claim": 1, "final": 2}[kind],
                    0 if name is None else crc - 2**31)
        self._engine = None
        self._conn = None
        self._depth = 0

    def _take(self):
        import sqlalchemy

        if self._engine is None:
            self._engine = sqlalchemy.create_engine(
                self.url, poolclass=sqlalchemy.pool.NullPool, isolation_level="AUTOCOMMIT",
                connect_args=PG_CONNECT)
        conn = self._engine.connect()
        try:
            conn.execute(sqlalchemy.text("SELECT pg_advisory_lock(:a, :b)"),
                         {"a": self.key[0], "b": self.key[1]})
        except BaseException:
            conn.close()
            raise
        return conn

    def __enter__(self) -> _AdvisoryLock:
        if self._depth == 0:
            # the first time, an unreachable server is refused by storage_from_url; later
            # (mid-study) it is waited for
            self._conn = (retrying(self._take, describe_url(self.url))
                          if self.url in _OPENED else self._take())
        self._depth += 1
        return self

    def held(self) -> bool:
        """Whether the lock is still this process's: its connection alive (a server that
        restarted, or dropped the connection, let the lock go)."""
        import sqlalchemy

        if self._conn is None:
            return False
        try:
            self._conn.execute(sqlalchemy.text("SELECT 1"))
        except Exception:
            return False
        return True

    def __exit__(self, *exc: Any) -> None:
        self._depth -= 1
        if self._depth == 0 and self._conn is not None:
            import sqlalchemy

            conn, self._conn = self._conn, None
            with contextlib.suppress(Exception):  # a lost connection took the lock with it
                conn.execute(sqlalchemy.text("SELECT pg_advisory_unlock(:a, :b)"),
                             {"a": self.key[0], "b": self.key[1]})
            with contextlib.suppress(Exception):
                conn.close()


_LOCKS: dict[tuple[str, str, str | None], _FileLock | _AdvisoryLock] = {}


def study_lock(url: str, kind: str, name: str | None = None) -> _FileLock | _AdvisoryLock:
    """The storage's ``claim`` or ``final`` lock: a file lock beside a SQLite or journal
    file, an advisory lock on PostgreSQL (one per study ``name``; the schema's without), a
    no-op elsewhere."""
    if url.startswith("postgresql"):
        key = (url, kind, name)
        if key not in _LOCKS:
            _LOCKS[key] = _AdvisoryLock(url, kind, name)
        return _LOCKS[key]
    path = storage_file(url)
    lock_path = None if path is None else path.with_name(f".{path.name}.{kind}.lock")
    key = (str(lock_path), kind, None)
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
    """Queue ``trial``'s parameters again, once (the copy names it: ``lstmtune:retry_of``),
    then fail it as interrupted (not counted).  In this order a worker killed in between
    leaves the trial RUNNING beside its queued copy, and the next recovery only fails it:
    a parameter set is never lost nor queued twice.  Call with the study freshly read (a
    refresh).  False when someone else finished the trial meanwhile (a copy queued for it
    is then failed too)."""
    storage = study._storage
    ws = worker_storage(study)
    if ws is not None and ws.stored_state(trial._trial_id).is_finished():
        ws.forget(trial._trial_id)  # failed as stale elsewhere, or finished: theirs stands
        return False
    params = {**trial.system_attrs.get("fixed_params", {}), **trial.params}  # a queued trial
    # taken but not yet suggested has only its fixed parameters
    copy_id = None
    if params and not any(t.system_attrs.get(RETRY_OF) == trial.number
                          for t in study.get_trials(deepcopy=False)):
        copy_id = storage.create_new_trial(study._study_id, optuna.trial.create_trial(
            state=TrialState.WAITING,
            system_attrs={"fixed_params": params, RETRY_OF: trial.number}))
    try:
        storage.set_trial_system_attr(trial._trial_id, INTERRUPTED, True)
        storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)
    except optuna.exceptions.UpdateFinishedTrialError:  # finished meanwhile: no copy either
        if copy_id is not None:
            with contextlib.suppress(optuna.exceptions.UpdateFinishedTrialError):
                storage.set_trial_system_attr(copy_id, INTERRUPTED, True)
                storage.set_trial_state_values(copy_id, TrialState.FAIL)
        return False
    return True


def recover_stale(study: optuna.Study) -> int:
    """Stale RUNNING trials (their process gone, or, on another machine, their heartbeat)
    failed as interrupted and queued again; returns how many.  Reads the study afresh."""
    storage = worker_storage(study)
    beaten: set[int] = set()
    if storage is not None:
        storage.refresh(study._study_id)
        beaten = storage.stale_trial_ids(study._study_id)
    return sum(_interrupt(study, t) for t in study.get_trials(deepcopy=False,
                                                              states=(TrialState.RUNNING,))
               if is_stale(t) or (t._trial_id in beaten and _elsewhere(t)))


def running_elsewhere(study: optuna.Study) -> int:
    """RUNNING trials of workers on other machines (as of the last refresh) that heartbeats
    judge: 0 on a storage without them (a file moved from another machine is not watched)."""
    ws = worker_storage(study)
    if ws is None or not ws.heartbeat_interval:
        return 0
    return sum(_elsewhere(t) for t in study.get_trials(deepcopy=False,
                                                       states=(TrialState.RUNNING,)))


def _elsewhere(trial: optuna.trial.FrozenTrial) -> bool:
    """A trial of a worker on another machine (this machine's are judged by their process)."""
    w = trial.system_attrs.get(WORKER)
    return isinstance(w, dict) and w.get("host") != _HOST


def release_trials(study: optuna.Study, trials: list[optuna.Trial]) -> None:
    """This process's still-running ``trials`` given back (e.g. on a hard stop): failed as
    interrupted and queued again, so nothing is lost or counted twice."""
    if worker_storage(study) is not None:  # copies another worker may have queued already
        worker_storage(study).refresh(study._study_id)
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
    """Mark freshly asked and suggested ``trials`` as this worker's, with a first heartbeat;
    written with their parameters (so that another worker can run them again if this one
    dies) when the enclosing :func:`batch` ends.  Call under the claim lock."""
    tag = this_worker(session)
    for t in trials:  # made by this worker already named (ask_trials); a queued one taken not
        if study._storage.get_trial(t._trial_id).system_attrs.get(WORKER) != tag:
            study._storage.set_trial_system_attr(t._trial_id, WORKER, tag)
    storage = worker_storage(study)
    if storage is not None:
        storage.record_heartbeats([t._trial_id for t in trials])


def ask_trials(study: optuna.Study, n: int, session: str | None = None
               ) -> list[optuna.Trial]:
    """``n`` trials asked of Optuna: queued ones first, the others made in one transaction,
    named as this worker's (``session``) from the start (call under the claim lock)."""
    storage = worker_storage(study)
    if storage is None:
        return [study.ask() for _ in range(n)]
    waiting = len(study.get_trials(deepcopy=False, states=(TrialState.WAITING,)))
    storage.reserve(study._study_id, n - waiting,
                    None if session is None else {WORKER: this_worker(session)})
    try:
        return [study.ask() for _ in range(n)]
    finally:
        for trial_id in storage.unreserve():  # made ahead, not asked: not a trial at all
            storage.set_trial_system_attr(trial_id, INTERRUPTED, True)
            storage.set_trial_state_values(trial_id, TrialState.FAIL)


def batch(study: optuna.Study) -> contextlib.AbstractContextManager:
    """What this process writes to its running trials inside (parameters, attributes,
    reports, ends) is written together at its end, in one transaction."""
    storage = worker_storage(study)
    return contextlib.nullcontext() if storage is None else storage.batch()


@contextlib.contextmanager
def heartbeats(study: optuna.Study) -> Iterator[None]:
    """While it runs, a thread records the heartbeat of this process's running trials every
    ``heartbeat_interval`` seconds (server databases; nothing elsewhere)."""
    storage = worker_storage(study)
    interval = None if storage is None else storage.heartbeat_interval
    if not interval:
        yield
        return
    done = threading.Event()

    def beat() -> None:
        while not done.wait(interval):
            with contextlib.suppress(Exception):  # a database away: the next beat retries
                storage.record_heartbeats(storage.running_here())

    thread = threading.Thread(target=beat, name="lstmtune-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join(timeout=5)
