"""Opening SQL metadata stores: URL schemes, SQLite settings, locking, unreachable servers."""

from __future__ import annotations

import multiprocessing
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from keel.backends.sql import KNOWN_SCHEMES, open_sql_store
from keel.errors import BackendUnavailable, InvalidArgument
from keel.testing._contract_base import new_experiment, new_run
from keel.tracking.models import MetricRecord
from keel.tracking.store import MetadataStore


@pytest.mark.parametrize(
    "url", ["mysql://root@localhost/keel", "mongodb://x", "keel.db", "postgresql+psycopg2://x/y"]
)
def test_unknown_scheme_raises_invalid_argument_listing_the_known_schemes(url: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        open_sql_store(url)
    for scheme in KNOWN_SCHEMES:
        assert f"{scheme}://" in caught.value.message
    assert caught.value.details["known"] == list(KNOWN_SCHEMES)


def test_sqlite_url_creates_missing_parent_directories(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "keel.db"
    with open_sql_store(f"sqlite:///{path}") as store:
        assert store.url == f"sqlite:///{path}"
        new_experiment(store)
    assert path.is_file()


def test_sqlite_connections_use_wal_foreign_keys_normal_sync_and_busy_timeout(
    sqlite_url: str,
) -> None:
    with open_sql_store(sqlite_url, busy_timeout=12.5) as store:
        pragmas = store._db.read(
            lambda conn: {
                name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "foreign_keys", "synchronous", "busy_timeout")
            }
        )
    assert pragmas == {"journal_mode": "wal", "foreign_keys": 1, "synchronous": 1,
                       "busy_timeout": 12_500}


def test_in_memory_sqlite_works_for_one_process(tmp_path: Path) -> None:
    with open_sql_store("sqlite://") as store:
        run = new_run(store, new_experiment(store).experiment_id)
        store.runs.log_metrics([MetricRecord(run.run_id, "m", 1.0, 0, 0)])
        assert store.runs.get_run(run.run_id).metric_values == {"m": 1.0}
    assert list(tmp_path.iterdir()) == []


def test_a_write_waits_for_the_write_lock_and_fails_as_backend_unavailable(
    sqlite_url: str,
) -> None:
    with open_sql_store(sqlite_url, busy_timeout=0.05) as store:
        exp = new_experiment(store)
        holder = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), isolation_level=None)
        try:
            holder.execute("BEGIN IMMEDIATE")
            with pytest.raises(BackendUnavailable) as caught:
                new_run(store, exp.experiment_id)
            assert "database is locked" in caught.value.message
            assert store.experiments.get_experiment(exp.experiment_id) == exp  # reads go on
            holder.execute("ROLLBACK")
        finally:
            holder.close()
        new_run(store, exp.experiment_id)


def test_readers_see_the_last_commit_while_a_writer_holds_the_lock(sqlite_url: str) -> None:
    with open_sql_store(sqlite_url) as store:
        exp = new_experiment(store, tags={"v": "1"})
        holder = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), isolation_level=None)
        try:
            holder.execute("BEGIN IMMEDIATE")
            holder.execute("UPDATE experiment_tags SET value = '2'")
            assert store.experiments.get_experiment(exp.experiment_id).tags == {"v": "1"}
            holder.execute("COMMIT")
        finally:
            holder.close()
        assert store.experiments.get_experiment(exp.experiment_id).tags == {"v": "2"}


def test_unreachable_postgres_is_backend_unavailable_naming_the_host_not_the_password() -> None:
    with pytest.raises(BackendUnavailable) as caught:
        open_sql_store("postgresql://keel:s3cret-pw@127.0.0.1:1/keel?connect_timeout=2")
    assert "127.0.0.1:1/keel" in caught.value.message
    assert "s3cret-pw" not in caught.value.message
    assert "s3cret-pw" not in str(caught.value.details)


def test_missing_psycopg_raises_missing_dependency_naming_the_extra() -> None:
    code = (
        "import sys; sys.modules['psycopg'] = None\n"
        "from keel.backends.sql import open_sql_store\n"
        "from keel.errors import MissingDependency\n"
        "try:\n"
        "    open_sql_store('postgresql://u@127.0.0.1:1/db')\n"
        "except MissingDependency as e:\n"
        "    print(e.message)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert "pip install 'keelml[postgres]'" in out.stdout


def test_importing_the_backend_imports_neither_psycopg_nor_alembic() -> None:
    code = (
        "import sys, keel.backends.sql\n"
        "print(sorted(m for m in ('psycopg', 'alembic') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.postgres
def test_postgres_url_without_driver_uses_psycopg_and_hides_the_password(
    postgres_url: str,
) -> None:
    plain = postgres_url.replace("postgresql+psycopg://", "postgresql://", 1)
    with open_sql_store(plain) as store:
        assert store.dialect == "postgresql"
        assert store.url.startswith("postgresql+psycopg://")
        new_experiment(store)


def _log_in_child(store: MetadataStore, run_id: str, results: Any) -> None:
    try:
        store.runs.log_metrics([MetricRecord(run_id, "child", 1.0, 0, 0)])
        inherited = len(store._db._inherited)  # type: ignore[attr-defined]
        results.put((store.runs.get_run(run_id).metric_values, inherited))
    except BaseException as error:  # reported to the parent
        results.put(f"{type(error).__name__}: {error}")


@pytest.mark.skipif(sys.platform == "win32", reason="fork is POSIX")
def test_a_forked_child_opens_its_own_connections(sqlite_url: str) -> None:
    with open_sql_store(sqlite_url) as store:
        run = new_run(store, new_experiment(store).experiment_id)
        store.runs.log_metrics([MetricRecord(run.run_id, "parent", 1.0, 0, 0)])
        context = multiprocessing.get_context("fork")
        results = context.Queue()
        child = context.Process(target=_log_in_child, args=(store, run.run_id, results))
        child.start()
        outcome = results.get(timeout=60)
        child.join(timeout=60)
        results.close()
        results.join_thread()
        assert outcome == ({"parent": 1.0, "child": 1.0}, 1)  # the parent's one was set aside
        assert child.exitcode == 0
        store.runs.log_metrics([MetricRecord(run.run_id, "parent", 2.0, 1, 1)])
        assert store.runs.get_run(run.run_id).metric_values == {"parent": 2.0, "child": 1.0}
