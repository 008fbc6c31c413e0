"""lookups at scale: DuckDB key indexes instead of the timeline's primary key

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


def upgrade() -> None:
    if op.get_bind().dialect.name != "duckdb":
        return
    _rebuild_events()
    op.create_index("ix_incidents_id", "incidents", ["id"])
    op.create_index("ix_events_incident", "incident_events", ["incident_id"])


def downgrade() -> None:
    if op.get_bind().dialect.name != "duckdb":
        return
    op.drop_index("ix_incidents_id", "incidents")
    _rebuild_events(sa.PrimaryKeyConstraint("tenant_id", "id"))
