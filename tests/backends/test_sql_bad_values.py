"""Values a database cannot hold or compare (a NUL in PostgreSQL text, an integer beyond 64
bits) are the caller's mistake: InvalidArgument, never a raw driver error (which a server
would answer with 500)."""

from __future__ import annotations

import pytest

from keel.backends.sql import open_sql_store
from keel.errors import InvalidArgument, NotFound


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest) -> str:
    name = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    return str(request.getfixturevalue(name))


@pytest.mark.parametrize("lookup", ["run", "experiment", "dataset_version"])
def test_lookups_with_unstorable_values_are_invalid_arguments(url: str, lookup: str) -> None:
    with open_sql_store(url) as store:
        calls = {
            "run": lambda: store.runs.get_run("bad\x00id"),
            "experiment": lambda: store.experiments.find_experiment_by_name("bad\x00name"),
            "dataset_version": lambda: store.datasets.find_dataset_version("x", 2**70),
        }
        # SQLite stores NUL fine and simply finds nothing; PostgreSQL refuses the value.
        with pytest.raises((InvalidArgument, NotFound)):
            result = calls[lookup]()
            if result is None:
                raise NotFound("nothing")
