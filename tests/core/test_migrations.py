"""The Alembic migrations build exactly the schema the models describe, on both databases."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from core.config import DatabaseTarget
from core.db import create_engine_for, ensure_schema
from core.errors import DatabaseUnavailableError
from core.models import metadata


def test_migrated_schema_matches_the_models(engine):
    postgres = engine.dialect.name == "postgresql"
    with engine.connect() as conn:  # DuckDB reflects TEXT as VARCHAR (the same type there): compare types on PG
        differences = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": postgres}), metadata)
    pg_only = ("add_index", "remove_index", "add_fk")  # not created on DuckDB (see core/models.py)
    relevant = [d for d in differences if postgres or d[0] not in pg_only]
    assert relevant == []
    ensure_schema(engine)  # a second run is a no-op


def test_a_database_from_a_newer_release_is_refused(db_url):
    engine = create_engine_for(DatabaseTarget(db_url, "argument"))
    ensure_schema(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(DatabaseUnavailableError, match="newer release"):
        ensure_schema(engine)
    engine.dispose()
