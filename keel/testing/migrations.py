"""Helpers for tests of schema migrations: move a metadata database to a revision (up or down)
with keel's own Alembic scripts, and list its tables."""

from __future__ import annotations

import sqlalchemy as sa

from keel.backends.sql._engine import Database
from keel.backends.sql._migrate import MIGRATIONS_DIR

__all__ = ["migrate_to", "table_names"]


def migrate_to(url: str, revision: str, *, down: bool = False) -> None:
    """Upgrade (or with ``down``, downgrade) the database at ``url`` to ``revision``."""
    from alembic import command
    from alembic.config import Config

    db = Database(url)
    try:
        def run(conn: sa.Connection) -> None:
            config = Config()
            config.set_main_option("script_location", str(MIGRATIONS_DIR))
            config.attributes["connection"] = conn
            (command.downgrade if down else command.upgrade)(config, revision)

        db.write(run)
    finally:
        db.dispose()


def table_names(url: str) -> set[str]:
    db = Database(url)
    try:
        return set(db.read(lambda conn: sa.inspect(conn).get_table_names()))
    finally:
        db.dispose()
