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
    ensure_schema(engine)
    assert svc.get_incident(engine, tenant="t", incident_id=plan.incident.id).title == "from 0001"
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() != "0001"
    engine.dispose()
