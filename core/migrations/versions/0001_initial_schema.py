"""initial schema

Revision ID: 0001
Revises: 
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def _postgres() -> bool:
    """Secondary indexes and the events foreign key exist on PostgreSQL only (see core/models.py)."""
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    op.create_table('incidents',
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('description', sa.Text(), server_default='', nullable=False),
    sa.Column('severity', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('mitre_tactic', sa.String(length=64), nullable=True),
    sa.Column('mitre_technique', sa.String(length=16), nullable=True),
    sa.Column('source_siem', sa.String(length=100), nullable=True),
    sa.Column('assigned_to', sa.String(length=100), nullable=True),
    sa.Column('resolution', sa.Text(), nullable=True),
    sa.Column('classification', sa.String(length=20), nullable=True),
    sa.Column('affected_assets', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('iocs', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('source_system', sa.String(length=100), nullable=True),
    sa.Column('source_ref', sa.String(length=200), nullable=True),
    sa.Column('search_text', sa.Text(), server_default='', nullable=False),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('updated_by', sa.String(length=100), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("classification IS NULL OR classification IN ('true_positive', 'benign_positive', 'false_positive', 'undetermined', 'duplicate')", name='ck_classification'),
    sa.CheckConstraint("severity IN ('critical', 'high', 'medium', 'low', 'informational')", name='ck_severity'),
    sa.CheckConstraint("status IN ('new', 'investigating', 'containment', 'eradication', 'resolved', 'closed')", name='ck_status'),
    sa.PrimaryKeyConstraint('tenant_id', 'id'),
    sa.UniqueConstraint('tenant_id', 'source_system', 'source_ref', name='uq_incident_source')
    )
    if _postgres():
        op.create_index('ix_incidents_tenant_created', 'incidents', ['tenant_id', 'created_at'], unique=False)
        op.create_index(
            'ix_incidents_tenant_status_created', 'incidents', ['tenant_id', 'status', 'created_at'], unique=False
        )
    op.create_table('tenants',
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('tenant_id')
    )
    op.create_table('users',
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('username', sa.String(length=100), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('role', sa.String(length=20), server_default='analyst', nullable=False),
    sa.Column('active', sa.Boolean(), server_default='true', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("role IN ('viewer', 'analyst', 'manager', 'admin')", name='ck_role'),
    sa.PrimaryKeyConstraint('tenant_id', 'username')
    )
    op.create_table('incident_events',
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('incident_id', sa.String(length=36), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('field', sa.String(length=64), nullable=True),
    sa.Column('old_value', sa.Text(), nullable=True),
    sa.Column('new_value', sa.Text(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=True),
    *([sa.ForeignKeyConstraint(['tenant_id', 'incident_id'], ['incidents.tenant_id', 'incidents.id'])]
      if _postgres() else []),
    sa.PrimaryKeyConstraint('tenant_id', 'id')
    )
    if _postgres():
        op.create_index('ix_events_tenant_incident_at', 'incident_events', ['tenant_id', 'incident_id', 'at'])


def downgrade() -> None:
    op.drop_table('incident_events')
    op.drop_table('users')
    op.drop_table('tenants')
    op.drop_table('incidents')
