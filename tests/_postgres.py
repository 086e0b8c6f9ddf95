"""A small real-PostgreSQL harness for lstmtune's database-backed tests.

Starts one throwaway PostgreSQL server per test session: ``initdb`` into a temporary
directory, then ``pg_ctl start``, listening only on 127.0.0.1 on a free port (its Unix socket
inside the temporary directory, never the system's /var/run/postgresql). TCP logins need the
superuser's password (``scram-sha-256``, so a wrong password really is refused); local
socket logins are trusted. The server runs with ``fsync=off``: its data is disposable.

PostgreSQL refuses to run as root, and CI runs as root: then initdb and pg_ctl run as the
unprivileged ``postgres`` system user Debian's package creates (``nobody`` without it), and
the temporary directory belongs to that user. Otherwise they run as the current user.

The binaries are Debian's, from the highest ``/usr/lib/postgresql/<major>/bin`` (or
``$LSTMTUNE_PG_BIN``, or ``pg_ctl`` on PATH with ``initdb`` and ``postgres`` beside it);
nothing here downloads a server. Install it with ``.ci/install-postgres``. Without it (or
without the drivers from the ``postgres`` extra), PostgreSQL tests skip --
unless ``LSTMTUNE_REQUIRE_POSTGRES=1`` (set by ``.ci/run``), where they fail instead, with
the reason and the tail of the server's log. The harness connects with psycopg2; a plain
``postgresql://`` URL in SQLAlchemy 2.1+ needs psycopg (3): the ``postgres`` extra has both.

Fixtures (registered for every test by tests/conftest.py; no import needed):

* ``postgres_server`` (session): the shared :class:`PostgresServer`, started on first use.
* ``postgres_url`` (function): a fresh, empty database for this test, as a SQLAlchemy URL;
  it also starts the server again should an earlier test have left it stopped.

Use::

    @pytest.mark.postgres
    def test_tune_on_postgres(postgres_url, postgres_server):
        run_something(storage=postgres_url)   # postgresql://lstmtune:...@127.0.0.1:PORT/...
        postgres_server.restart()             # workers must survive this
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

__all__ = [
    "DB_USER",
    "DEFAULT_DATABASE",
    "PG_BIN_ENV",
    "REQUIRE_ENV",
    "PostgresError",
    "PostgresServer",
    "close_shared_postgres",
    "pg_bin_dir",
    "postgres_missing_reason",
    "postgres_or_skip",
    "postgres_server",
    "postgres_url",
    "shared_postgres",
]

PG_BIN_ENV = "LSTMTUNE_PG_BIN"
REQUIRE_ENV = "LSTMTUNE_REQUIRE_POSTGRES"
DEBIAN_PG_ROOT = Path("/usr/lib/postgresql")
DB_USER = "lstmtune"  # the cluster's superuser (initdb -U); not an operating-system user
DEFAULT_DATABASE = "lstmtune"  # created at start; url() names it unless told otherwise
UNPRIVILEGED_USERS = ("postgres", "nobody")  # who runs the server when the tests run as root
_BINARIES = ("initdb", "pg_ctl", "postgres")

# Appended to postgresql.conf after initdb. Durability is not wanted from a test server.
_SERVER_CONF = """
# --- tests/_postgres.py ---
listen_addresses = '127.0.0.1'
port = {port}
unix_socket_directories = '{socket_dir}'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
log_min_messages = warning
log_connections = off
"""


class PostgresError(RuntimeError):
    """The server could not be set up, started or stopped; the message has the log's tail."""


# --------------------------------------------------------------------------- availability


def _executable(p: Path) -> bool:
    return p.is_file() and os.access(p, os.X_OK)


def _has_binaries(d: Path) -> bool:
    return all(_executable(d / b) for b in _BINARIES)


def _version_key(d: Path) -> tuple[int, ...]:
    # /usr/lib/postgresql/<major>/bin; "9.6" sorts below "15"
    return tuple(int(x) for x in re.findall(r"\d+", d.parent.name)) or (0,)


def pg_bin_dir() -> Path | None:
    """The directory with the server's real ``initdb``, ``pg_ctl`` and ``postgres``, or None:
    ``$LSTMTUNE_PG_BIN``; else the highest ``/usr/lib/postgresql/<major>/bin``; else where
    ``pg_ctl`` on PATH really lives (symlinks resolved) when ``initdb`` and ``postgres`` are
    there too (Debian's /usr/bin holds wrappers such as pg_ctlcluster, never these three)."""
    env = os.environ.get(PG_BIN_ENV)
    if env:
        d = Path(env)
        return d if _has_binaries(d) else None
    candidates = sorted(DEBIAN_PG_ROOT.glob("*/bin"), key=_version_key, reverse=True)
    for d in candidates:
        if _has_binaries(d):
            return d
    found = shutil.which("pg_ctl")
    if found:
        d = Path(found).resolve().parent
        if _has_binaries(d):
            return d
    return None


_INSTALL_DRIVERS = "pip install -e '.[postgres]'; `make test` installs it with the dev extra"


def _sqlalchemy_driver_missing() -> str | None:
    """Why SQLAlchemy cannot open a plain ``postgresql://`` URL here, or None. Its default
    driver is psycopg (3) from SQLAlchemy 2.1 on, psycopg2 before."""
    try:
        import sqlalchemy
        from sqlalchemy.engine import make_url
    except ImportError:
        return None  # the harness itself does not need SQLAlchemy
    dialect = make_url("postgresql://").get_dialect()
    load = getattr(dialect, "import_dbapi", None) or dialect.dbapi  # 2.0+ / 1.4
    try:
        load()
    except ImportError as exc:
        return (
            f"SQLAlchemy {sqlalchemy.__version__} opens postgresql:// URLs with the "
            f"'{dialect.driver}' driver, which is not installed ({exc}; {_INSTALL_DRIVERS})"
        )
    return None


def postgres_missing_reason() -> str | None:
    """Why PostgreSQL tests cannot run here (before trying to start a server), or None."""
    try:
        import psycopg2  # noqa: F401  (the harness's own connections)
    except ImportError:
        return f"the 'psycopg2' driver is not installed ({_INSTALL_DRIVERS})"
    reason = _sqlalchemy_driver_missing()
    if reason is not None:
        return reason
    if pg_bin_dir() is None:
        where = os.environ.get(PG_BIN_ENV) or f"{DEBIAN_PG_ROOT}/*/bin"
        return (
            f"PostgreSQL server binaries (initdb, pg_ctl, postgres) not found in {where}; "
            "install Debian's postgresql with `.ci/install-postgres`"
        )
    return None


def _required() -> bool:
    return os.environ.get(REQUIRE_ENV, "").strip().lower() not in ("", "0", "false", "no")


def _unprivileged_user() -> pwd.struct_passwd | None:
    """Who runs initdb and the server: None (this process's user) unless we are root."""
    if os.geteuid() != 0:
        return None
    for name in UNPRIVILEGED_USERS:
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise PostgresError(
        f"running as root and none of the users {', '.join(UNPRIVILEGED_USERS)} exists to run "
        "PostgreSQL as (it refuses to run as root); install Debian's postgresql package, "
        "which creates the 'postgres' user"
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _searchable_by_all(d: Path) -> bool:
    """Can another user reach entries of ``d``? (every ancestor has the o+x bit)"""
    d = d.resolve()
    return all(p.stat().st_mode & 0o001 for p in (d, *d.parents))


# --------------------------------------------------------------------------- server


class PostgresServer:
    """One throwaway PostgreSQL server in a temporary directory (see the module docstring).

    ``start()`` creates it on first call (initdb) and starts it; ``stop()``, ``start()`` and
    ``restart()`` keep its data and port; ``close()`` stops it and removes the directory.
    Also a context manager.
    """

    def __init__(
        self,
        bin_dir: Path | None = None,
        *,
        base_dir: str | os.PathLike[str] | None = None,
        timeout_s: int = 60,
    ) -> None:
        self.bin_dir = bin_dir
        self.base_dir = base_dir
        self.timeout_s = timeout_s
        self.user = DB_USER
        self.password = secrets.token_urlsafe(18)  # URL-safe: no quoting surprises
        self.host = "127.0.0.1"
        self.port: int | None = None
        self.root: Path | None = None  # the temporary directory; everything lives in it
        self._os_user: pwd.struct_passwd | None = None
        self._initialised = False
        self._running = False
        self._default_db_made = False
        self._databases = itertools.count(1)

    # -- paths

    def _path(self, name: str) -> Path:
        if self.root is None:
            raise PostgresError("the server has no directory yet: call start() first")
        return self.root / name

    @property
    def data_dir(self) -> Path:
        return self._path("data")

    @property
    def socket_dir(self) -> Path:
        return self._path("socket")

    @property
    def log_file(self) -> Path:
        return self._path("server.log")

    @property
    def os_user(self) -> str:
        """The operating-system user the server runs as."""
        return self._os_user.pw_name if self._os_user else pwd.getpwuid(os.geteuid()).pw_name

    @property
    def running(self) -> bool:
        return self._running

    # -- commands

    def _bin(self, name: str) -> str:
        assert self.bin_dir is not None
        return str(self.bin_dir / name)

    def _run(self, args: Sequence[str], *, check: bool = True) -> subprocess.CompletedProcess:
        """Run a PostgreSQL program, as the unprivileged user when we are root."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env.update(LC_ALL="C", LANG="C")
        kwargs: dict[str, Any] = {}
        if self._os_user is not None:
            kwargs.update(user=self._os_user.pw_uid, group=self._os_user.pw_gid,
                          extra_groups=[])
            env.update(HOME=str(self.root), USER=self._os_user.pw_name,
                       LOGNAME=self._os_user.pw_name)
        proc = subprocess.run(
            list(args), cwd=self.root, env=env, stdin=subprocess.DEVNULL,
            capture_output=True, text=True, timeout=self.timeout_s + 30, **kwargs,
        )
        if check and proc.returncode != 0:
            raise PostgresError(
                f"{' '.join(args)} exited {proc.returncode}:\n{proc.stdout}{proc.stderr}"
                + self._log_section()
            )
        return proc

    def _pg_ctl(self, action: str, *extra: str, check: bool = True) -> subprocess.CompletedProcess:
        return self._run(
            [self._bin("pg_ctl"), action, "-D", str(self.data_dir), *extra], check=check
        )

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of the server's log ("" when there is none yet)."""
        try:
            text = self.log_file.read_text(encoding="utf-8", errors="replace")
        except (OSError, PostgresError):
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def _log_section(self) -> str:
        tail = self.log_tail()
        return f"\n--- server log ({self.log_file}), last lines ---\n{tail}" if tail else ""

    # -- lifecycle

    def initdb(self) -> PostgresServer:
        """Create the temporary directory and the cluster in it (``initdb``), without starting
        the server; e.g. to change its postgresql.conf first. Does nothing the second time."""
        if self._initialised:
            return self
        self.bin_dir = self.bin_dir or pg_bin_dir()
        if self.bin_dir is None:
            raise PostgresError(postgres_missing_reason() or "PostgreSQL binaries not found")
        self._os_user = _unprivileged_user()
        base = Path(self.base_dir) if self.base_dir is not None else None
        if self._os_user is not None and not _searchable_by_all(
            base or Path(tempfile.gettempdir())
        ):
            base = Path("/tmp")  # e.g. TMPDIR under /root, which 'postgres' cannot enter
        self.root = Path(tempfile.mkdtemp(prefix="lstmtune-pg-", dir=base))
        sock = self.socket_dir / ".s.PGSQL.65535"
        if len(str(sock).encode()) > 100:  # sun_path holds 107 bytes
            raise PostgresError(f"temporary directory too deep for a Unix socket: {sock}")
        self.socket_dir.mkdir()
        pwfile = self._path("pwfile")
        pwfile.write_text(self.password + "\n", encoding="utf-8")
        pwfile.chmod(0o600)
        if self._os_user is not None:
            for p in (self.root, self.socket_dir, pwfile):
                os.chown(p, self._os_user.pw_uid, self._os_user.pw_gid)
        self._run([
            self._bin("initdb"), "-D", str(self.data_dir), "-U", self.user,
            f"--pwfile={pwfile}", "--auth-host=scram-sha-256", "--auth-local=trust",
            "--encoding=UTF8", "--locale=C", "--no-sync", "--no-instructions",
        ])
        pwfile.unlink()
        self.port = _free_port()
        self._write_conf()
        self._initialised = True
        return self

    def _write_conf(self) -> None:
        conf = self.data_dir / "postgresql.conf"
        text = conf.read_text(encoding="utf-8")
        text = text.split("\n# --- tests/_postgres.py ---\n")[0]
        conf.write_text(
            text + _SERVER_CONF.format(port=self.port, socket_dir=self.socket_dir),
            encoding="utf-8",
        )

    def start(self) -> PostgresServer:
        """Create the cluster on first call, then start the server and wait until it accepts
        connections. Starting a running server does nothing."""
        if self._running:
            return self
        self.initdb()
        for attempt in range(3):
            proc = self._pg_ctl(
                "start", "-w", "-t", str(self.timeout_s), "-l", str(self.log_file), check=False
            )
            if proc.returncode == 0:
                break
            # Someone took the free port between our probe and the server's bind: new port.
            if attempt < 2 and "could not bind" in self.log_tail(20):
                self.port = _free_port()
                self._write_conf()
                continue
            raise PostgresError(
                f"pg_ctl start exited {proc.returncode}:\n{proc.stdout}{proc.stderr}"
                + self._log_section()
            )
        self._running = True
        if not self._default_db_made:
            self.create_database(DEFAULT_DATABASE)
            self._default_db_made = True
        return self

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``pg_ctl stop -m MODE -w``); its data and port are kept."""
        if not self._initialised:
            return
        proc = self._pg_ctl("stop", "-w", "-t", str(self.timeout_s), "-m", mode, check=False)
        # "PID file ... does not exist / Is server running?" means it already was stopped.
        if proc.returncode != 0 and self._server_alive():
            raise PostgresError(
                f"pg_ctl stop exited {proc.returncode}:\n{proc.stdout}{proc.stderr}"
                + self._log_section()
            )
        self._running = False

    def restart(self) -> None:
        """Restart the server (``pg_ctl restart -w -m fast``): every connection is cut, the
        data stays. For testing that clients reconnect."""
        if not self._running:
            self.start()
            return
        self._pg_ctl(
            "restart", "-w", "-t", str(self.timeout_s), "-m", "fast", "-l", str(self.log_file)
        )

    def ensure_running(self) -> PostgresServer:
        """Start the server again if it is not running (e.g. a test stopped it and failed)."""
        if self._initialised and self._running and not self._server_alive():
            self._running = False
        return self.start()

    def _server_alive(self) -> bool:
        return self._initialised and self._pg_ctl("status", check=False).returncode == 0

    def close(self) -> None:
        """Stop the server (immediately if a fast stop fails) and remove its directory."""
        try:
            if self._initialised:
                try:
                    self.stop("fast")
                except PostgresError:
                    self.stop("immediate")
        finally:
            if self.root is not None:
                shutil.rmtree(self.root, ignore_errors=True)
            self.root = None
            self._initialised = self._running = False

    def __enter__(self) -> PostgresServer:
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- clients

    def url(
        self,
        database: str = DEFAULT_DATABASE,
        password: str | None = None,
        *,
        driver: str | None = None,
    ) -> str:
        """``postgresql://lstmtune:PASSWORD@127.0.0.1:PORT/DATABASE``, a SQLAlchemy URL (and a
        libpq one). ``password`` replaces the right one, e.g. to test a refused login;
        ``driver`` names SQLAlchemy's driver (``postgresql+DRIVER://``, e.g. "psycopg2")."""
        if self.port is None:
            raise PostgresError("the server has no port yet: call start() first")
        pw = self.password if password is None else password
        scheme = f"postgresql+{driver}" if driver else "postgresql"
        return (f"{scheme}://{quote(self.user, safe='')}:{quote(pw, safe='')}"
                f"@{self.host}:{self.port}/{quote(database, safe='')}")

    def connect(self, database: str = DEFAULT_DATABASE, **kwargs: Any) -> Any:
        """A psycopg2 connection over TCP as the superuser (the caller closes it)."""
        import psycopg2

        params: dict[str, Any] = dict(
            host=self.host, port=self.port, user=self.user, password=self.password,
            dbname=database, connect_timeout=10,
        )
        params.update(kwargs)
        return psycopg2.connect(**params)

    @contextlib.contextmanager
    def _admin(self) -> Iterator[Any]:
        conn = self.connect("postgres")
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                yield cur
        finally:
            conn.close()

    def create_database(self, name: str | None = None) -> str:
        """A fresh, empty database ``name`` (an existing one is dropped first, its connections
        cut), or a new uniquely named one; returns its URL."""
        if name is None:
            name = f"db_{os.getpid()}_{next(self._databases)}"
        quoted = '"' + name.replace('"', '""') + '"'
        with self._admin() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")
            cur.execute(f"CREATE DATABASE {quoted}")
        return self.url(name)

    def drop_database(self, name: str) -> None:
        quoted = '"' + name.replace('"', '""') + '"'
        with self._admin() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")

    @property
    def version(self) -> str:
        with self._admin() as cur:
            cur.execute("SHOW server_version")
            return cur.fetchone()[0]


# --------------------------------------------------------------------------- shared server

_shared: PostgresServer | None = None
_shared_error: str | None = None  # why the shared server could not start (not retried)


def shared_postgres() -> PostgresServer:
    """The process-wide server (started on first use; closed at session end / exit). A
    failure to start is remembered, so that later tests do not each wait for it again."""
    global _shared, _shared_error
    if _shared_error is not None:
        raise PostgresError(_shared_error)
    if _shared is None:
        _shared = PostgresServer()
        atexit.register(close_shared_postgres)
    try:
        return _shared.ensure_running()
    except Exception as exc:
        _shared_error = f"{type(exc).__name__}: {exc}"
        raise


def close_shared_postgres() -> None:
    global _shared
    if _shared is not None:
        s, _shared = _shared, None
        s.close()


def postgres_or_skip() -> PostgresServer:
    """The shared, running server; otherwise skip the test, or fail it when
    ``LSTMTUNE_REQUIRE_POSTGRES`` is set (as ``.ci/run`` does, so CI never silently skips
    the PostgreSQL tests)."""
    reason = postgres_missing_reason()
    if reason is None:
        try:
            return shared_postgres()
        except (PostgresError, OSError, subprocess.SubprocessError) as exc:
            reason = f"the PostgreSQL server could not start: {exc}"
    if _required():
        pytest.fail(f"{REQUIRE_ENV} is set but PostgreSQL cannot run: {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL test: {reason}")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """Fixture ``postgres_server``: the session's shared :class:`PostgresServer`, running.
    Skips (or fails under LSTMTUNE_REQUIRE_POSTGRES) without PostgreSQL. A test that stops
    the server should start it again (or use ``postgres_url``, which does)."""
    yield postgres_or_skip()
    close_shared_postgres()


_DB_NAME_BAD = re.compile(r"[^a-z0-9_]+")
_test_databases = itertools.count(1)


@pytest.fixture
def postgres_url(postgres_server: PostgresServer, request: pytest.FixtureRequest) -> str:
    """Fixture ``postgres_url``: a fresh, empty database named after the test, as a
    ``postgresql://`` URL with the right password; the server is running."""
    try:
        postgres_server.ensure_running()
    except PostgresError as exc:
        pytest.fail(f"the PostgreSQL server could not be started again: {exc}", pytrace=False)
    stem = _DB_NAME_BAD.sub("_", request.node.name.lower()).strip("_")[:40] or "test"
    return postgres_server.create_database(f"t_{stem}_{next(_test_databases)}")
