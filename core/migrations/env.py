"""Alembic environment: run by core.db.migrate on the connection it passes in (no alembic.ini needed)."""

from alembic import context

from core.models import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, compare_type=True)
with context.begin_transaction():
    context.run_migrations()
