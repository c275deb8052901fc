"""Migration 0003 (auth) on top of an existing 0002 database, and back."""

from __future__ import annotations

import sqlalchemy as sa

from keel.auth import AuthService
from keel.backends.sql import SCHEMA_REVISION, open_sql_store
from keel.backends.sql._auth_schema import AUTH_TABLES
from keel.backends.sql._engine import Database
from keel.backends.sql._migrate import MIGRATIONS_DIR, alembic_head
from keel.testing._registry_contract_base import new_model


def _migrate(url: str, revision: str, *, down: bool = False) -> None:
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


def _tables(url: str) -> set[str]:
    db = Database(url)
    try:
        return set(db.read(lambda conn: sa.inspect(conn).get_table_names()))
    finally:
        db.dispose()


def test_the_schema_revision_is_the_alembic_head_at_or_after_0003() -> None:
    assert SCHEMA_REVISION == alembic_head() >= "0003"


def test_a_0002_database_is_upgraded_keeping_its_registry_and_chain(any_url: str) -> None:
    _migrate(any_url, "0002")
    assert not set(AUTH_TABLES) & _tables(any_url)
    with open_sql_store(any_url) as store:
        assert store.schema_revision == SCHEMA_REVISION
        model = new_model(store.registry)
        AuthService(store.auth).create_account("alice", actor="root")
        assert store.registry.audit.verify_audit_chain().ok
    with open_sql_store(any_url) as store:
        assert store.registry.models.get_registered_model(model.name) == model
        assert [a.name for a in store.auth.list_accounts()] == ["alice"]


def test_downgrading_0003_drops_only_the_auth_tables(any_url: str) -> None:
    with open_sql_store(any_url) as store:
        model = new_model(store.registry)
        AuthService(store.auth).create_account("alice", actor="root")
    _migrate(any_url, "0002", down=True)
    tables = _tables(any_url)
    assert not set(AUTH_TABLES) & tables and "registered_models" in tables
    with open_sql_store(any_url) as store:  # upgraded again on open
        assert store.registry.models.get_registered_model(model.name) == model
        assert store.auth.list_accounts() == []
        assert store.registry.audit.verify_audit_chain().ok  # the audit records stay
