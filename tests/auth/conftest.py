from collections.abc import Iterator

import pytest

from keel.auth import AuthService
from keel.backends.sql import SqlMetadataStore, open_sql_store
from tests.auth._support import Clock


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_url(request: pytest.FixtureRequest) -> str:
    """A fresh SQLite file or PostgreSQL schema, one test per backend."""
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url


@pytest.fixture
def store(sqlite_url: str) -> Iterator[SqlMetadataStore]:
    """A metadata store on a fresh SQLite file."""
    with open_sql_store(sqlite_url) as store:
        yield store


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def auth(store: SqlMetadataStore, clock: Clock) -> AuthService:
    return AuthService(store.auth, clock=clock)
