"""Bulk data for the benchmark: the demo's tenants, people and scenarios, then N history incidents.

The history follows the demo generator exactly: `core.demo.generate_history` plans a pool of prototype
incidents (the demo's distributions of tenant, severity, ATT&CK template, age, lifecycle speed, comments,
reassignments and reopens, through the service's planners), and the database copies that pool N times over
with new ids and every time moved back by a random 0–36 hours, in two INSERT … SELECT statements. No row
passes through Python, so a million incidents (and their seven million timeline events) load in little memory,
a transaction per hundred thousand; the secondary indexes are built after the rows, as pg_restore does.
"""

from __future__ import annotations

import time
from contextlib import contextmanager

from sqlalchemy import Column, Engine, Integer, MetaData, Table, text

from core.db import insert_rows
from core.demo import generate_history, load_demo
from core.models import events, incidents
from core.timeutil import utcnow

POOL = 5_000  # prototype incidents; each copy differs in id and times
BATCH = 100_000  # incidents per transaction
MAX_SHIFT_S = 36 * 3600


def _staged(conn, name: str, source, rows: list[dict]) -> None:
    """A temporary table of `source`'s columns and a prototype number, filled by the app's own bulk insert."""
    table = Table(
        name,
        MetaData(),
        *(Column(column.name, column.type) for column in source.columns),
        Column("proto", Integer),
        prefixes=["TEMPORARY"],
    )
    table.create(conn)
    insert_rows(conn, table, rows)


def _shifted(column: str) -> str:
    return f"p.{column} - c.shift * INTERVAL '1 second'"


def _insert_copies(conn, table, replace: dict[str, str]) -> int:
    """INSERT INTO table SELECT … FROM the copies joined with the table's prototypes; `replace` gives the
    expression of a column (by default the prototype's value)."""
    quote = conn.dialect.identifier_preparer.quote
    columns = [quote(c.name) for c in table.columns]
    values = [replace.get(c.name, f"p.{quote(c.name)}") for c in table.columns]
    source = "bench_proto" if table is incidents else "bench_proto_events"
    return conn.execute(
        text(
            f"INSERT INTO {table.name} ({', '.join(columns)}) SELECT {', '.join(values)} "
            f"FROM bench_copies c JOIN {source} p ON p.proto = c.proto"
        )
    ).rowcount


@contextmanager
def _timed(phases: dict, name: str):
    start = time.perf_counter()
    yield
    phases[name] = round(phases.get(name, 0) + time.perf_counter() - start, 1)


@contextmanager
def _indexes_rebuilt(conn, phases: dict):
    """Drop the secondary indexes (on PostgreSQL the keys too), then build them again after the load, as
    pg_restore does: building an index once is far quicker than updating it row by row."""
    tables = "('incidents', 'incident_events')"
    keys = []
    if conn.dialect.name == "postgresql":
        indexes = conn.execute(
            text(
                f"SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN {tables} "
                "AND indexname NOT IN (SELECT conname FROM pg_constraint)"
            )
        ).all()
        keys = conn.execute(  # foreign keys first: they depend on the primary keys
            text(
                "SELECT conname, conrelid::regclass, pg_get_constraintdef(oid) FROM pg_constraint "
                f"WHERE (contype IN ('p', 'u') AND conrelid::regclass::text IN {tables}) OR (contype = 'f' "
                f"AND (conrelid::regclass::text IN {tables} OR confrelid::regclass::text IN {tables})) "
                "ORDER BY contype = 'f' DESC"
            )
        ).all()
    else:
        indexes = conn.execute(
            text(f"SELECT index_name, sql FROM duckdb_indexes() WHERE table_name IN {tables} AND NOT is_primary")
        ).all()
    for name, table, _ in keys:
        conn.execute(text(f"ALTER TABLE {table} DROP CONSTRAINT {name}"))
    for name, _ in indexes:
        conn.execute(text(f"DROP INDEX {name}"))
    conn.commit()
    yield
    with _timed(phases, "indexes_s"):
        if conn.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL maintenance_work_mem = '512MB'"))
        for _, definition in indexes:
            conn.execute(text(definition))
        for name, table, definition in reversed(keys):
            conn.execute(text(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}"))
        conn.commit()


def load(engine: Engine, rows: int, *, seed: int = 1, pool: int = POOL) -> dict:
    """Load the demo (users, scenarios) and `rows` history incidents, a transaction per batch of BATCH (so
    that the database's memory stays bounded); returns counts and the seconds each phase took."""
    now, phases = utcnow(), {}
    load_demo(engine, now=now, history=0)
    count = 0
    with engine.connect() as conn, _indexes_rebuilt(conn, phases):
        with _timed(phases, "prototypes_s"):
            played = generate_history(conn, now=now, count=pool, seed=seed)
            _staged(conn, "bench_proto", incidents, [{**row, "proto": n} for n, (row, _, _) in enumerate(played)])
            timeline = [{**event, "proto": n} for n, (_, planned, _) in enumerate(played) for event in planned]
            _staged(conn, "bench_proto_events", events, timeline)
            conn.execute(text("SELECT setseed(:s)"), {"s": (seed % 1000) / 1000})
            conn.commit()
        times = ("acknowledged_at", "resolved_at", "closed_at", "created_at", "updated_at")
        for start in range(0, rows, BATCH):
            conn.execute(
                text(
                    "CREATE TEMP TABLE bench_copies AS SELECT CAST(gen_random_uuid() AS VARCHAR(36)) AS id, "
                    "CAST(floor(random() * :pool) AS INTEGER) AS proto, "
                    "CAST(floor(random() * :shift) AS INTEGER) AS shift FROM generate_series(1, :rows) AS g"
                ),
                {"pool": len(played), "shift": MAX_SHIFT_S, "rows": min(BATCH, rows - start)},
            )
            with _timed(phases, "incidents_s"):
                _insert_copies(conn, incidents, {"id": "c.id"} | {name: _shifted(name) for name in times})
            with _timed(phases, "events_s"):
                count += _insert_copies(
                    conn,
                    events,
                    {"id": "CAST(gen_random_uuid() AS VARCHAR(36))", "incident_id": "c.id", "at": _shifted('"at"')},
                )
            conn.execute(text("DROP TABLE bench_copies"))
            conn.commit()
        for name in ("bench_proto", "bench_proto_events"):
            conn.execute(text(f"DROP TABLE {name}"))
    if engine.dialect.name == "postgresql":
        with _timed(phases, "vacuum_analyze_s"), engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(text("VACUUM ANALYZE incidents"))
            c.execute(text("VACUUM ANALYZE incident_events"))
    return {"incidents": rows, "events": count, "pool": len(played), "phases": phases}
