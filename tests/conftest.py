"""Fixtures every test module can use without importing them.

``postgres_server`` (session) and ``postgres_url`` (a fresh database per test): one real
PostgreSQL server per test session, see tests/_postgres.py.
"""

from tests._postgres import postgres_server, postgres_url  # noqa: F401
