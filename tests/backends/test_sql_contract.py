"""The metadata contract suite on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from keel.backends.sql import SqlMetadataStore, open_sql_store
from keel.testing.metadata_contract import MetadataStoreContract
from keel.tracking.store import MetadataStore


def _typed(store: SqlMetadataStore) -> MetadataStore:
    return store  # mypy checks here that SqlMetadataStore implements the port


class TestSqliteMetadataStore(MetadataStoreContract):
    @pytest.fixture
    def store(self, sqlite_url: str) -> Iterator[MetadataStore]:
        store = open_sql_store(sqlite_url)
        yield _typed(store)
        store.close()


@pytest.mark.postgres
class TestPostgresMetadataStore(MetadataStoreContract):
    @pytest.fixture
    def store(self, postgres_url: str) -> Iterator[MetadataStore]:
        store = open_sql_store(postgres_url)
        yield _typed(store)
        store.close()
