"""Migration 0003 (auth) on top of an existing 0002 database, and back."""

from __future__ import annotations

from keel.auth import AuthService
from keel.backends.sql import SCHEMA_REVISION, open_sql_store
from keel.backends.sql._auth_schema import AUTH_TABLES
from keel.backends.sql._migrate import alembic_head
from keel.testing._registry_contract_base import new_model
from keel.testing.migrations import migrate_to, table_names


def test_the_schema_revision_is_the_alembic_head_at_or_after_0003() -> None:
    assert SCHEMA_REVISION == alembic_head() >= "0003"


def test_a_0002_database_is_upgraded_keeping_its_registry_and_chain(any_url: str) -> None:
    migrate_to(any_url, "0002")
    assert not set(AUTH_TABLES) & table_names(any_url)
    with open_sql_store(any_url) as store:
        assert store.schema_revision == SCHEMA_REVISION
        model = new_model(store.registry)
        AuthService(store.auth).create_account("alice", actor="root")
        assert store.registry.audit.verify_audit_chain().ok
    with open_sql_store(any_url) as store:
        assert store.registry.models.get_registered_model(model.name) == model
        assert [a.name for a in store.auth.list_accounts()] == ["alice"]


def test_downgrading_0003_drops_only_the_authtable_names(any_url: str) -> None:
    with open_sql_store(any_url) as store:
        model = new_model(store.registry)
        AuthService(store.auth).create_account("alice", actor="root")
    migrate_to(any_url, "0002", down=True)
    tables = table_names(any_url)
    assert not set(AUTH_TABLES) & tables and "registered_models" in tables
    with open_sql_store(any_url) as store:  # upgraded again on open
        assert store.registry.models.get_registered_model(model.name) == model
        assert store.auth.list_accounts() == []
        assert store.registry.audit.verify_audit_chain().ok  # the audit records stay
