"""Schema migrations: applied on open, under a lock, skipped (without Alembic) when current."""

from __future__ import annotations

import multiprocessing
import subprocess
import sys
from typing import Any

import pytest
import sqlalchemy as sa

from keel.backends.sql import SCHEMA_REVISION, open_sql_store, upgrade
from keel.backends.sql._auth_schema import AUTH_TABLES
from keel.backends.sql._migrate import alembic_head
from keel.backends.sql._mlflow_models import MLFLOW_TABLES
from keel.backends.sql._registry_schema import REGISTRY_TABLES
from keel.backends.sql._schema import metadata
from keel.errors import BackendUnavailable
from keel.testing._contract_base import new_experiment

EXPECTED_TABLES = {
    "alembic_version", "experiments", "experiment_tags", "runs", "params", "tags", "metric_blocks",
    "latest_metrics", "dataset_versions", "run_inputs", "artifact_records",
} | set(REGISTRY_TABLES) | set(AUTH_TABLES) | set(MLFLOW_TABLES)


def _engine(url: str) -> sa.Engine:
    return sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))


def test_schema_revision_is_the_alembic_head() -> None:
    assert alembic_head() == SCHEMA_REVISION


def test_opening_a_fresh_sqlite_file_applies_the_schema(sqlite_url: str) -> None:
    open_sql_store(sqlite_url).close()
    engine = _engine(sqlite_url)
    try:
        with engine.connect() as conn:
            assert set(sa.inspect(conn).get_table_names()) == EXPECTED_TABLES
            revision = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
        assert revision == SCHEMA_REVISION
    finally:
        engine.dispose()


def _schema_differences(url: str) -> list[Any]:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    engine = _engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return list(compare_metadata(context, metadata))
    finally:
        engine.dispose()


def test_migrations_build_exactly_the_tables_the_stores_query_on_sqlite(
    sqlite_url: str,
) -> None:
    open_sql_store(sqlite_url).close()
    assert _schema_differences(sqlite_url) == []


@pytest.mark.postgres
def test_migrations_build_exactly_the_tables_the_stores_query_on_postgres(
    postgres_url: str,
) -> None:
    open_sql_store(postgres_url).close()
    assert _schema_differences(postgres_url) == []


def test_reopening_a_current_store_does_not_import_alembic(sqlite_url: str) -> None:
    open_sql_store(sqlite_url).close()
    code = (
        "import sys\n"
        "from keel.backends.sql import open_sql_store\n"
        f"store = open_sql_store({sqlite_url!r})\n"
        "store.experiments.list_experiments()\n"
        "store.close()\n"
        "print('alembic' in sys.modules, 'psycopg' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.split() == ["False", "False"]


def test_upgrade_is_idempotent_and_keeps_data(sqlite_url: str) -> None:
    assert upgrade(sqlite_url) == SCHEMA_REVISION
    with open_sql_store(sqlite_url) as store:
        exp = new_experiment(store, "kept")
    assert upgrade(sqlite_url) == SCHEMA_REVISION
    with open_sql_store(sqlite_url) as store:
        assert store.experiments.get_experiment(exp.experiment_id) == exp


def test_a_database_from_a_newer_keel_is_refused_with_a_clear_message(sqlite_url: str) -> None:
    open_sql_store(sqlite_url).close()
    engine = _engine(sqlite_url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
    finally:
        engine.dispose()
    with pytest.raises(BackendUnavailable) as caught:
        open_sql_store(sqlite_url)
    assert "'9999'" in caught.value.message and "upgrade keel" in caught.value.message


def _open_at_barrier(url: str, barrier: Any, results: Any) -> None:
    barrier.wait()
    try:
        store = open_sql_store(url)
        try:
            new_experiment(store)
        finally:
            store.close()
        results.put("ok")
    except BaseException as error:  # reported to the parent
        results.put(f"{type(error).__name__}: {error}")


def _open_concurrently(url: str, processes: int) -> list[str]:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(processes)
    results = context.Queue()
    workers = [
        context.Process(target=_open_at_barrier, args=(url, barrier, results))
        for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
    results.close()
    results.join_thread()
    return outcomes


@pytest.mark.slow
def test_processes_opening_one_fresh_sqlite_file_at_once_all_succeed(sqlite_url: str) -> None:
    assert _open_concurrently(sqlite_url, 4) == ["ok"] * 4
    with open_sql_store(sqlite_url) as store:
        assert len(store.experiments.list_experiments()) == 4


@pytest.mark.slow
@pytest.mark.postgres
def test_processes_opening_one_fresh_postgres_schema_at_once_all_succeed(
    postgres_url: str,
) -> None:
    assert _open_concurrently(postgres_url, 4) == ["ok"] * 4
    with open_sql_store(postgres_url) as store:
        assert len(store.experiments.list_experiments()) == 4
