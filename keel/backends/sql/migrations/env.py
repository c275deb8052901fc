"""Alembic environment for keel's metadata schema.

keel runs migrations programmatically (see ``keel.backends.sql._migrate``): the caller opens a
connection, starts the transaction (holding the migration lock) and passes the connection in
``config.attributes["connection"]``. Alembic then runs inside that transaction.
"""

from __future__ import annotations

from alembic import context

from keel.backends.sql._schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reachable through a hand-written alembic.ini
    raise RuntimeError(
        "keel migrations run through keel.backends.sql.upgrade(url) or `keel db upgrade`"
    )

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
