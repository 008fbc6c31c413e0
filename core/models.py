"""The tables. Every table carries tenant_id, leading each primary key and unique constraint."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    case,
    literal_column,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.sql.elements import Grouping

from core.lifecycle import CLASSIFICATIONS, OPEN_STATUSES, SEVERITIES, STATUSES

metadata = MetaData()
Json = JSON().with_variant(JSONB(), "postgresql")


def _one_of(column: str, values: tuple[str, ...]) -> CheckConstraint:
    allowed = ", ".join(f"'{v}'" for v in values)
    return CheckConstraint(f"{column} IN ({allowed})", name=f"ck_{column}")


def _pg_index(name: str, *columns, **kwargs) -> Index:
    """Secondary indexes on PostgreSQL only: DuckDB's zone maps serve for filters and sorts."""
    return Index(name, *columns, **kwargs).ddl_if(dialect="postgresql")


def _duckdb_key_index(name: str, column: str) -> Index:
    """DuckDB's one kind of useful secondary index: a single-column key looked up by equality (an incident by
    id, a timeline by incident id), which turns a scan of millions of rows into a lookup (40 ms -> 1 ms at
    seven million events; see `core.incidents.tenant_rows` for the query shape it needs). DuckDB refuses to
    ALTER a column's type on a table with an index: a migration that must do so drops these first."""
    return Index(name, column).ddl_if(dialect="duckdb")


tenants = Table(
    "tenants",
    metadata,
    Column("tenant_id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("tenant_id", String(64), nullable=False),
    Column("username", String(100), nullable=False),
    Column("display_name", String(200), nullable=False),
    Column("email", String(320)),
    Column("role", String(20), nullable=False, server_default="analyst"),
    Column("active", Boolean, nullable=False, server_default="true"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("password_hash", String(255)),  # argon2id; never the password
    Column("failed_logins", Integer, server_default="0"),  # NULL reads as 0 (DuckDB cannot add NOT NULL)
    Column("locked_until", DateTime(timezone=True)),
    PrimaryKeyConstraint("tenant_id", "username"),
    CheckConstraint("role IN ('viewer', 'analyst', 'manager', 'admin')", name="ck_role"),
)

incidents = Table(
    "incidents",
    metadata,
    Column("tenant_id", String(64), nullable=False),
    Column("id", String(36), nullable=False),
    Column("title", String(500), nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("severity", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("mitre_tactic", String(64)),
    Column("mitre_technique", String(16)),
    Column("source_siem", String(100)),
    Column("assigned_to", String(100)),
    Column("resolution", Text),
    Column("classification", String(20)),
    Column("affected_assets", Json, nullable=False),
    Column("iocs", Json, nullable=False),
    Column("source_system", String(100)),
    Column("source_ref", String(200)),
    # The original record an importer read this incident from, kept for audit.
    Column("source_record", Json),
    # Lower-cased title, description, IOC values and asset names: what free-text search reads.
    Column("search_text", Text, nullable=False, server_default=""),
    Column("acknowledged_at", DateTime(timezone=True)),
    Column("resolved_at", DateTime(timezone=True)),
    Column("closed_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(100), nullable=False),
    Column("updated_by", String(100), nullable=False),
    Column("version", Integer, nullable=False),
    PrimaryKeyConstraint("tenant_id", "id"),
    UniqueConstraint("tenant_id", "source_system", "source_ref", name="uq_incident_source"),
    _one_of("severity", SEVERITIES),
    _one_of("status", STATUSES),
    CheckConstraint(
        "classification IS NULL OR classification IN ({})".format(", ".join(f"'{c}'" for c in CLASSIFICATIONS)),
        name="ck_classification",
    ),
    _pg_index("ix_incidents_tenant_status_created", "tenant_id", "status", "created_at"),
    _pg_index("ix_incidents_tenant_updated", "tenant_id", "updated_at"),
    _pg_index("ix_incidents_tenant_resolved", "tenant_id", "resolved_at"),
    # what the statistics read, so that PostgreSQL answers them from the index alone (the rows are wide)
    _pg_index(
        "ix_incidents_tenant_created",
        "tenant_id",
        "created_at",
        postgresql_include=["severity", "status", "mitre_tactic", "source_siem", "acknowledged_at", "resolved_at"],
    ),
    _pg_index(
        "ix_incidents_search",
        "search_text",
        postgresql_using="gin",
        postgresql_ops={"search_text": "gin_trgm_ops"},  # LIKE '%word%' from trigrams (the pg_trgm extension)
    ),
    _duckdb_key_index("ix_incidents_id", "id"),
)


def severity_rank(column=incidents.c.severity):
    """0 for critical .. 4 for informational (5 for anything else): the 'most severe first' order. Rendered
    with literal values, so that PostgreSQL matches it with the indexes built on it below."""
    whens = [(column == literal_column(f"'{name}'"), literal_column(str(n))) for n, name in enumerate(SEVERITIES)]
    return Grouping(case(*whens, else_=literal_column(str(len(SEVERITIES)))))  # indexed, it needs parentheses


# PostgreSQL: each list the pages ask for often, in its default order (most severe, oldest first), read in
# order from an index that also answers the count: the open queue, and the lists of one tactic, analyst or
# source. `status` and `severity` are included so that a status or severity filter, and the count, need no row
# (PostgreSQL reads an index alone only when it holds every column the query names, the rank's too).
_PRIORITY = (severity_rank(), incidents.c.created_at, incidents.c.id)
_pg_index(
    "ix_incidents_open_priority",
    incidents.c.tenant_id,
    *_PRIORITY,
    postgresql_include=["status", "severity", "assigned_to"],  # and the backlog statistics from it alone
    postgresql_where=incidents.c.status.in_(OPEN_STATUSES),
)
_pg_index("ix_incidents_priority", incidents.c.tenant_id, *_PRIORITY, postgresql_include=["status", "severity"])
for _name, _column in (("tactic", "mitre_tactic"), ("assignee", "assigned_to"), ("siem", "source_siem")):
    _pg_index(
        f"ix_incidents_{_name}_priority",
        incidents.c.tenant_id,
        incidents.c[_column],
        *_PRIORITY,
        postgresql_include=["status", "severity"],
    )

events = Table(
    "incident_events",
    metadata,
    Column("tenant_id", String(64), nullable=False),
    Column("id", String(36), nullable=False),
    Column("incident_id", String(36), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(100), nullable=False),
    # created, status_changed, field_changed, assigned, comment
    Column("kind", String(32), nullable=False),
    Column("field", String(64)),
    Column("old_value", Text),
    Column("new_value", Text),
    Column("note", Text),
    # The incident version this event produced (comments produce none): a conflict names who changed what.
    Column("version", Integer),
    # No primary key on DuckDB: nothing is looked up by an event's id (a random UUID), and DuckDB keeps an
    # index in memory while writing to it: at seven million events that is hundreds of megabytes.
    PrimaryKeyConstraint("tenant_id", "id").ddl_if(dialect="postgresql"),
    ForeignKeyConstraint(["tenant_id", "incident_id"], ["incidents.tenant_id", "incidents.id"]).ddl_if(
        dialect="postgresql"
    ),
    _pg_index("ix_events_tenant_incident_at", "tenant_id", "incident_id", "at"),
    _duckdb_key_index("ix_events_incident", "incident_id"),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("tenant_id", String(64), nullable=False),
    Column("id", String(32), nullable=False),  # the public part of the token, which finds it
    Column("username", String(100), nullable=False),  # the user the token acts as (its role applies)
    Column("secret_hash", String(64), nullable=False),  # SHA-256 of the secret part; never the secret
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(100), nullable=False),
    Column("last_used_at", DateTime(timezone=True)),
    Column("revoked_at", DateTime(timezone=True)),
    PrimaryKeyConstraint("tenant_id", "id"),
)

alerts = Table(
    "incident_alerts",
    metadata,
    Column("tenant_id", String(64), nullable=False),
    Column("source", String(100), nullable=False),  # the system that raised the alert (a SIEM, an EDR)
    Column("alert_id", String(200), nullable=False),  # its id there
    Column("incident_id", String(36), nullable=False),
    Column("title", String(500)),
    Column("raised_at", DateTime(timezone=True)),
    Column("linked_at", DateTime(timezone=True), nullable=False),
    Column("linked_by", String(100), nullable=False),
    PrimaryKeyConstraint("tenant_id", "source", "alert_id"),  # an alert belongs to one incident
    ForeignKeyConstraint(["tenant_id", "incident_id"], ["incidents.tenant_id", "incidents.id"]).ddl_if(
        dialect="postgresql"
    ),
    _pg_index("ix_alerts_tenant_incident", "tenant_id", "incident_id"),
    _duckdb_key_index("ix_alerts_incident", "incident_id"),
)
