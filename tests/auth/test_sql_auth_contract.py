"""The auth store contract suite on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from keel.auth.store import AuthStore
from keel.backends.sql import SqlMetadataStore, open_sql_store
from keel.registry.store import AuditStore
from keel.testing.auth_contract import AuthStoreContract


def _typed(store: SqlMetadataStore) -> AuthStore:
    return store.auth  # the port, as a type checker sees it


class _SqlAuth(AuthStoreContract):
    @pytest.fixture
    def auth(self, store: SqlMetadataStore) -> AuthStore:
        return _typed(store)

    @pytest.fixture
    def audit(self, store: SqlMetadataStore) -> AuditStore:
        return store.registry.audit


class TestSqliteAuthStore(_SqlAuth):
    @pytest.fixture
    def store(self, sqlite_url: str) -> Iterator[SqlMetadataStore]:
        with open_sql_store(sqlite_url) as store:
            yield store


@pytest.mark.postgres
class TestPostgresAuthStore(_SqlAuth):
    @pytest.fixture
    def store(self, postgres_url: str) -> Iterator[SqlMetadataStore]:
        with open_sql_store(postgres_url) as store:
            yield store
