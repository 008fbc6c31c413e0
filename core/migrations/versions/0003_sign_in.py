"""sign-in: password hashes and failed-attempt lockout for users

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("password_hash", sa.String(length=255)))
    # nullable: DuckDB cannot add a NOT NULL column; NULL reads as 0
    op.add_column("users", sa.Column("failed_logins", sa.Integer(), server_default="0"))
    op.add_column("users", sa.Column("locked_until", sa.DateTime(timezone=True)))


def downgrade() -> None:
    op.drop_column("users", "locked_until")
    op.drop_column("users", "failed_logins")
    op.drop_column("users", "password_hash")
