"""The registry contract suite on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from keel.backends.sql import SqlMetadataStore, open_sql_store
from keel.registry.store import RegistryStore
from keel.testing.registry_contract import RegistryStoreContract


def _typed(store: SqlMetadataStore) -> RegistryStore:
    return store.registry  # mypy checks here that SqlRegistryStore implements the port


class TestSqliteRegistryStore(RegistryStoreContract):
    @pytest.fixture
    def registry(self, sqlite_url: str) -> Iterator[RegistryStore]:
        store = open_sql_store(sqlite_url)
        yield _typed(store)
        store.close()


@pytest.mark.postgres
class TestPostgresRegistryStore(RegistryStoreContract):
    @pytest.fixture
    def registry(self, postgres_url: str) -> Iterator[RegistryStore]:
        store = open_sql_store(postgres_url)
        yield _typed(store)
        store.close()
