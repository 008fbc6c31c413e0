"""indexes for a million incidents: DuckDB key indexes (instead of the timeline's primary key); PostgreSQL
list indexes in the default order, a covering index for the statistics, trigram search

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _events_table(name: str, *constraints) -> None:
    op.create_table(
        name,
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("incident_id", sa.String(length=36), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("field", sa.String(length=64), nullable=True),
        sa.Column("old_value", sa.Text(), nullable=True),
        sa.Column("new_value", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=True),
        *constraints,
    )


def _rebuild_events(*constraints) -> None:
    """DuckDB cannot drop or add a primary key: copy the timeline into a table without (or with) one."""
    _events_table("incident_events_rebuilt", *constraints)
    op.execute("INSERT INTO incident_events_rebuilt SELECT * FROM incident_events")
    op.drop_table("incident_events")
    op.rename_table("incident_events_rebuilt", "incident_events")


# the 'most severe first' rank as this revision defines it (core.models.severity_rank renders the same)
RANK = (  # an expression in an index is written in parentheses
    "(CASE WHEN (severity = 'critical') THEN 0 WHEN (severity = 'high') THEN 1 WHEN (severity = 'medium') THEN 2 "
    "WHEN (severity = 'low') THEN 3 WHEN (severity = 'informational') THEN 4 ELSE 5 END)"
)
OPEN = "status IN ('new', 'investigating', 'containment', 'eradication')"
PRIORITY_INDEXES = {  # name: the columns before the rank
    "ix_incidents_priority": "tenant_id",
    "ix_incidents_tactic_priority": "tenant_id, mitre_tactic",
    "ix_incidents_assignee_priority": "tenant_id, assigned_to",
    "ix_incidents_siem_priority": "tenant_id, source_siem",
}
STATISTICS = ["severity", "status", "mitre_tactic", "source_siem", "acknowledged_at", "resolved_at"]


def upgrade() -> None:
    if op.get_bind().dialect.name == "duckdb":
        _rebuild_events()
        op.create_index("ix_incidents_id", "incidents", ["id"])
        op.create_index("ix_events_incident", "incident_events", ["incident_id"])
        return
    op.execute(
        f"CREATE INDEX ix_incidents_open_priority ON incidents (tenant_id, {RANK}, created_at, id) "
        f"INCLUDE (status, severity, assigned_to) WHERE {OPEN}"
    )
    for name, leading in PRIORITY_INDEXES.items():
        op.execute(f"CREATE INDEX {name} ON incidents ({leading}, {RANK}, created_at, id) INCLUDE (status, severity)")
    op.create_index("ix_incidents_tenant_updated", "incidents", ["tenant_id", "updated_at"])
    op.create_index("ix_incidents_tenant_resolved", "incidents", ["tenant_id", "resolved_at"])
    op.drop_index("ix_incidents_tenant_created", "incidents")
    op.create_index(
        "ix_incidents_tenant_created", "incidents", ["tenant_id", "created_at"], postgresql_include=STATISTICS
    )
    # pg_trgm ships with PostgreSQL (contrib) and is a trusted extension: the database's owner may create it
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_index(
        "ix_incidents_search",
        "incidents",
        ["search_text"],
        postgresql_using="gin",
        postgresql_ops={"search_text": "gin_trgm_ops"},
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "duckdb":
        op.drop_index("ix_incidents_id", "incidents")
        _rebuild_events(sa.PrimaryKeyConstraint("tenant_id", "id"))
        return
    for name in ("ix_incidents_search", "ix_incidents_tenant_updated", "ix_incidents_tenant_resolved",
                 "ix_incidents_open_priority", *PRIORITY_INDEXES):
        op.drop_index(name, "incidents")
    op.drop_index("ix_incidents_tenant_created", "incidents")
    op.create_index("ix_incidents_tenant_created", "incidents", ["tenant_id", "created_at"])
