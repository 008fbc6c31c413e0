"""The Alembic migrations build exactly the schema the models describe, on both databases."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, Index, text

from core.config import DatabaseTarget
from core.db import create_engine_for, ensure_schema
from core.errors import DatabaseUnavailableError
from core.models import metadata


def _made_elsewhere(difference, dialect: str) -> bool:
    """A model index that core/models.py creates on another database only (`ddl_if`; Alembic compares
    copies of the indexes, which do not carry it, so they are found by name)."""
    if difference[0] != "add_index":
        return False
    only_on = {
        index.name: getattr(index, "_ddl_if", None) for table in metadata.tables.values() for index in table.indexes
    }
    condition = only_on.get(difference[1].name)
    return condition is not None and condition.dialect not in (None, dialect)


def _expression_indexes() -> dict:
    """The model's indexes on an expression, by name (Alembic cannot compare those: see below)."""
    return {
        index.name: index
        for table in metadata.tables.values()
        for index in table.indexes
        if any(not isinstance(e, Column) for e in index.expressions)
    }


def test_migrated_schema_matches_the_models(engine):
    dialect = engine.dialect.name
    with engine.connect() as conn:  # DuckDB reflects TEXT as VARCHAR (the same type there): compare types on PG
        options = {"compare_type": dialect == "postgresql"}
        differences = compare_metadata(MigrationContext.configure(conn, opts=options), metadata)
    if dialect == "duckdb":  # DuckDB does not reflect foreign keys (there are none there)
        differences = [d for d in differences if d[0] != "add_fk"]
    expressions = _expression_indexes()
    differences = [d for d in differences if not (d[0] in ("add_index", "remove_index") and d[1].name in expressions)]
    assert [d for d in differences if not _made_elsewhere(d, dialect)] == []
    ensure_schema(engine)  # a second run is a no-op


def test_indexes_on_expressions_are_the_models(engine):
    """PostgreSQL's own account of each expression index the migrations made is the same as of the model's
    index built beside it (Alembic compares expressions as text, which PostgreSQL rewrites)."""
    if engine.dialect.name == "duckdb":  # made on PostgreSQL only
        with engine.connect() as conn:
            names = set(conn.execute(text("SELECT index_name FROM duckdb_indexes()")).scalars())
        duckdb_only = {
            index.name
            for table in metadata.tables.values()
            for index in table.indexes
            if getattr(index, "_ddl_if", None) and index._ddl_if.dialect == "duckdb"
        }
        assert names == duckdb_only and "ix_events_incident" in names
        return
    definition = "SELECT regexp_replace(pg_get_indexdef(CAST(:name AS regclass)), '^CREATE INDEX \\S+', '')"
    with engine.begin() as conn:
        for name, index in _expression_indexes().items():
            migrated = conn.execute(text(definition), {"name": name}).scalar()
            twin = Index(f"twin_{name}"[:63], *index.expressions, **index.kwargs)
            twin.create(conn)
            assert conn.execute(text(definition), {"name": twin.name}).scalar() == migrated, name
            twin.drop(conn)


def test_a_database_from_a_newer_release_is_refused(db_url):
    engine = create_engine_for(DatabaseTarget(db_url, "argument"))
    ensure_schema(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(DatabaseUnavailableError, match="newer release"):
        ensure_schema(engine)
    engine.dispose()


def test_a_database_of_an_older_release_is_upgraded_with_its_data(db_url):
    from alembic import command
    from alembic.config import Config

    from core import incidents as svc
    from core.db import MIGRATIONS

    engine = create_engine_for(DatabaseTarget(db_url, "argument"))
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0001")  # the first release's schema
    plan = svc.plan_create(tenant="t", actor="a", data={"title": "from 0001", "severity": "low"})
    with engine.begin() as conn:  # written as the first release wrote it (its columns only)
        row = {k: v for k, v in plan.row().items() if k != "source_record"}
        conn.execute(
            text(f"INSERT INTO incidents ({', '.join(row)}) VALUES ({', '.join(':' + k for k in row)})"),
            {**row, "affected_assets": "[]", "iocs": "[]"},
        )
        event = plan.events[0]
        columns = ", ".join(f'"{k}"' for k in event)  # "at" is a keyword on DuckDB
        values = ", ".join(f":{k}" for k in event)
        conn.execute(text(f"INSERT INTO incident_events ({columns}) VALUES ({values})"), event)
    ensure_schema(engine)
    assert svc.get_incident(engine, tenant="t", incident_id=plan.incident.id).title == "from 0001"
    assert [e.kind for e in svc.get_timeline(engine, tenant="t", incident_id=plan.incident.id)] == ["created"]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() != "0001"
    engine.dispose()
