"""Schema migrations, applied on open under a lock.

Opening a store first reads ``alembic_version`` and compares it with :data:`SCHEMA_REVISION`;
when they match (the common case) Alembic is never imported. Otherwise the upgrade runs in one
transaction that also serializes concurrent openers: ``BEGIN IMMEDIATE`` on SQLite (whose DDL is
transactional), ``pg_advisory_xact_lock`` on PostgreSQL. The second opener waits, re-reads the
revision inside the lock and finds nothing left to do.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keel.backends.sql._engine import Database
from keel.errors import BackendUnavailable

SCHEMA_REVISION = "0004"
"""The Alembic head this version of keel expects (a test checks they agree)."""

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
_PG_MIGRATION_LOCK = 0x6B65656C  # "keel": one advisory lock key for all keel migrations


def current_revision(conn: Connection) -> str | None:
    """The revision stamped in the database, or None for a database without keel's schema."""
    if not sa.inspect(conn).has_table("alembic_version"):
        return None
    row = conn.exec_driver_sql("SELECT version_num FROM alembic_version").first()
    return None if row is None else str(row[0])


def ensure_schema(db: Database) -> None:
    """Bring the database to :data:`SCHEMA_REVISION`, importing Alembic only when needed."""
    if db.read(current_revision) == SCHEMA_REVISION:
        return
    db.write(_upgrade_locked)


def _upgrade_locked(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
    revision = current_revision(conn)
    if revision == SCHEMA_REVISION:
        return
    _run_alembic_upgrade(conn, revision)


def _run_alembic_upgrade(conn: Connection, revision: str | None) -> None:
    from alembic import command
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    script = ScriptDirectory.from_config(config)
    known = {rev.revision for rev in script.walk_revisions()}
    if revision is not None and revision not in known:
        raise BackendUnavailable(
            f"the metadata database is at schema revision {revision!r}, which this version of "
            f"keel does not know (it expects {SCHEMA_REVISION!r}); upgrade keel",
            details={"revision": revision, "expected": SCHEMA_REVISION},
        )
    config.attributes["connection"] = conn
    command.upgrade(config, "head")


def alembic_head() -> str:
    """The head revision of the shipped migration scripts (imports Alembic)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    head = ScriptDirectory.from_config(config).get_current_head()
    if head is None:  # pragma: no cover - the package always ships a revision
        raise RuntimeError("no migration scripts found")
    return head


def upgrade(url: str, *, busy_timeout: float = 60.0) -> str:
    """Apply pending migrations to the database at ``url`` (``keel db upgrade``); returns the
    revision the database is at afterwards."""
    db = Database(url, busy_timeout=busy_timeout)
    try:
        ensure_schema(db)
        revision = db.read(current_revision)
    finally:
        db.dispose()
    return revision or ""
