"""Fixtures: every core test runs on a real DuckDB file and on a real PostgreSQL server.

PostgreSQL comes from TEST_POSTGRES_URL (a server URL; the tests create their own databases on it) or a
throwaway cluster the tests start. Without a server the PostgreSQL tests skip, except under CI=true,
where a skip of them is a failure.
"""

from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import create_engine, text

from core.config import DatabaseTarget
from core.db import create_engine_for, ensure_schema
from tests.support.postgres import Cluster

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def skip_or_fail(reason: str) -> None:
    """Skip a test whose real dependency is missing; under CI=true that is a failure."""
    if IN_CI:
        pytest.fail(f"CI=true and {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_server():
    url = os.environ.get("TEST_POSTGRES_URL")
    if url:
        yield url
        return
    cluster = Cluster()
    reason = cluster.unavailable_reason()
    if reason:
        yield None, reason
        return
    try:
        yield cluster.start()
    except Exception as exc:  # the reason is reported by every PostgreSQL test
        yield None, f"could not start PostgreSQL: {exc}"
    finally:
        cluster.stop()


def _postgres_database(server: str) -> str:
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return f"{server}/{name}"


@pytest.fixture(params=["duckdb", "postgresql"])
def db_url(request, tmp_path, postgres_server):
    """A URL of an empty database of each kind (schema not yet created)."""
    if request.param == "duckdb":
        return f"duckdb:///{tmp_path / 'incidents.duckdb'}"
    if isinstance(postgres_server, tuple):
        skip_or_fail(postgres_server[1])
    return _postgres_database(postgres_server)


@pytest.fixture
def engine(db_url):
    """An engine on a fresh database of each kind, with the schema created."""
    engine = create_engine_for(DatabaseTarget(db_url, "argument"))
    ensure_schema(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def second_engine(request, db_url, tmp_path, postgres_server):
    """Another fresh, empty database of the same kind as `engine` (e.g. to import an export into)."""
    url = (
        f"duckdb:///{tmp_path / 'second.duckdb'}"
        if db_url.startswith("duckdb")
        else _postgres_database(postgres_server)
    )
    engine = create_engine_for(DatabaseTarget(url, "argument"))
    ensure_schema(engine)
    yield engine
    engine.dispose()
