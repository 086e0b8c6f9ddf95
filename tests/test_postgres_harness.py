"""The PostgreSQL harness (tests/_postgres.py) gives tests a real, private server.

Data written through SQLAlchemy survives a restart (which really cuts connections), a wrong
password is refused, the server listens on 127.0.0.1 only, and under root it runs as an
unprivileged user that owns its data.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import socket
from pathlib import Path

import pytest

from tests._postgres import (
    DB_USER,
    PostgresError,
    PostgresServer,
    postgres_missing_reason,
    postgres_or_skip,
)

pytestmark = pytest.mark.postgres


def _refused(host: str, port: int, family: int = socket.AF_INET) -> bool:
    """Nothing accepts TCP connections at host:port (refused, or the address is unusable)."""
    try:
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.settimeout(2)
            s.connect((host, port))
    except OSError:
        return True
    return False


def _non_loopback_ipv4() -> set[str]:
    """This machine's IPv4 addresses other than 127/8 (empty on a machine without any)."""
    found: set[str] = set()
    with_route = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        with_route.connect(("10.255.255.255", 1))  # UDP: picks a source address, sends nothing
        found.add(with_route.getsockname()[0])
    except OSError:
        pass
    finally:
        with_route.close()
    with contextlib.suppress(OSError):
        found.update(socket.gethostbyname_ex(socket.gethostname())[2])
    return {a for a in found if not a.startswith("127.") and a != "0.0.0.0"}


def test_table_survives_restart(postgres_server, postgres_url):
    sa = pytest.importorskip("sqlalchemy")
    engine = sa.create_engine(postgres_url, pool_pre_ping=True)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE trials (id serial PRIMARY KEY, value float)"))
            conn.execute(sa.text("INSERT INTO trials (value) VALUES (0.5), (1.5)"))
            started = conn.execute(sa.text("SELECT pg_postmaster_start_time()")).scalar_one()
        old = postgres_server.connect(postgres_url.rsplit("/", 1)[1])

        postgres_server.restart()

        # The restart was real: the old connection is gone and the postmaster is new ...
        import psycopg2

        with pytest.raises(psycopg2.Error), old.cursor() as cur:
            cur.execute("SELECT 1")
        old.close()
        # ... and the data is not: a pooled engine reconnects (pre-ping) and reads it back.
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT value FROM trials ORDER BY id")).scalars().all()
            restarted = conn.execute(sa.text("SELECT pg_postmaster_start_time()")).scalar_one()
        assert rows == [0.5, 1.5]
        assert restarted > started
    finally:
        engine.dispose()


def test_fresh_database_per_test(postgres_server, postgres_url):
    sa = pytest.importorskip("sqlalchemy")
    assert postgres_url.startswith(f"postgresql://{DB_USER}:")
    assert f"@127.0.0.1:{postgres_server.port}/t_test_fresh_database_per_test_" in postgres_url
    engine = sa.create_engine(postgres_url)
    try:
        assert sa.inspect(engine).get_table_names() == []
    finally:
        engine.dispose()
    # create_database() on an existing name gives it back empty
    url = postgres_server.create_database("harness_again")
    with postgres_server.connect("harness_again") as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE t (x int)")
    conn.close()
    assert postgres_server.create_database("harness_again") == url
    with postgres_server.connect("harness_again") as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        assert cur.fetchone()[0] == 0
    conn.close()
    postgres_server.drop_database("harness_again")


def test_wrong_password_refused(postgres_server):
    import psycopg2

    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        psycopg2.connect(postgres_server.url(password="not-the-password"), connect_timeout=5)
    # the same through SQLAlchemy, as lstmtune opens a postgresql:// storage
    sa = pytest.importorskip("sqlalchemy")
    engine = sa.create_engine(postgres_server.url(password="not-the-password"))
    try:
        with pytest.raises(sa.exc.OperationalError, match="authentication"):
            engine.connect()
    finally:
        engine.dispose()
    # and the right one (the default) is accepted, by both drivers SQLAlchemy may pick
    conn = psycopg2.connect(postgres_server.url(), connect_timeout=5)
    conn.close()
    for driver in (None, "psycopg2"):
        engine = sa.create_engine(postgres_server.url(driver=driver))
        try:
            with engine.connect() as c:
                assert c.execute(sa.text("SELECT current_user")).scalar_one() == DB_USER
        finally:
            engine.dispose()


def test_listens_on_127_0_0_1_only(postgres_server):
    port = postgres_server.port
    with postgres_server.connect() as conn, conn.cursor() as cur:
        cur.execute("SHOW listen_addresses")
        assert cur.fetchone()[0] == "127.0.0.1"
        cur.execute("SHOW port")
        assert int(cur.fetchone()[0]) == port
        cur.execute("SHOW unix_socket_directories")
        assert Path(cur.fetchone()[0]) == postgres_server.socket_dir  # not /var/run/postgresql
    conn.close()
    assert not _refused("127.0.0.1", port)
    assert _refused("127.0.0.2", port)  # the rest of 127/8 reaches lo but not this server
    if socket.has_ipv6:
        assert _refused("::1", port, socket.AF_INET6)
    for addr in _non_loopback_ipv4():
        assert _refused(addr, port), f"server reachable on {addr}:{port}"


def test_runs_as_unprivileged_owner_of_its_data(postgres_server):
    data = postgres_server.data_dir
    owner = data.stat().st_uid
    pid = int((data / "postmaster.pid").read_text().split()[0])
    status = Path(f"/proc/{pid}/status").read_text()
    server_uid = int(next(ln for ln in status.splitlines() if ln.startswith("Uid:")).split()[1])
    if os.geteuid() == 0:
        user = pwd.getpwnam(postgres_server.os_user)
        assert postgres_server.os_user in ("postgres", "nobody")
        assert owner == user.pw_uid != 0
        assert server_uid == user.pw_uid
        assert postgres_server.root.stat().st_uid == user.pw_uid
    else:
        assert owner == server_uid == os.geteuid()
    assert data.stat().st_mode & 0o077 == 0  # initdb's 0700: nobody else reads it


def test_stop_then_start_keeps_data_and_port(postgres_server, postgres_url):
    db = postgres_url.rsplit("/", 1)[1]
    port = postgres_server.port
    with postgres_server.connect(db) as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE kept (x int); INSERT INTO kept VALUES (7)")
    conn.close()
    try:
        postgres_server.stop()
        assert not postgres_server.running
        assert _refused("127.0.0.1", port)
    finally:
        postgres_server.start()
    assert postgres_server.port == port
    with postgres_server.connect(db) as conn, conn.cursor() as cur:
        cur.execute("SELECT x FROM kept")
        assert cur.fetchone()[0] == 7
    conn.close()


def test_start_failure_reports_log_tail(tmp_path):
    """A server that cannot start raises PostgresError with the server log's last lines."""
    if postgres_missing_reason() is not None:
        postgres_or_skip()
    server = PostgresServer(timeout_s=20)
    try:
        server.initdb()
        conf = server.data_dir / "postgresql.conf"
        conf.write_text(conf.read_text() + "\nno_such_setting_here = 1\n")
        with pytest.raises(PostgresError) as err:
            server.start()
        message = str(err.value)
        assert "server log" in message and "no_such_setting_here" in message
        assert not server.running
        root = server.root
    finally:
        server.close()
    assert root is not None and not root.exists()


def test_missing_postgres_skips_locally_and_fails_when_required(monkeypatch, tmp_path):
    """The skip/require rule, exercised by pointing at a bin directory without PostgreSQL."""
    monkeypatch.setenv("LSTMTUNE_PG_BIN", str(tmp_path))
    reason = postgres_missing_reason()
    assert reason is not None
    if "psycopg2" not in reason:
        assert ".ci/install-postgres" in reason

    monkeypatch.delenv("LSTMTUNE_REQUIRE_POSTGRES", raising=False)
    with pytest.raises(pytest.skip.Exception, match="PostgreSQL test"):
        postgres_or_skip()
    monkeypatch.setenv("LSTMTUNE_REQUIRE_POSTGRES", "1")
    with pytest.raises(pytest.fail.Exception, match="LSTMTUNE_REQUIRE_POSTGRES"):
        postgres_or_skip()
    monkeypatch.setenv("LSTMTUNE_REQUIRE_POSTGRES", "0")
    with pytest.raises(pytest.skip.Exception):
        postgres_or_skip()
