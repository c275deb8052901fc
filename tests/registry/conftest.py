import pytest


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_url(request: pytest.FixtureRequest) -> str:
    """A fresh SQLite file or PostgreSQL schema, one test per backend."""
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url
