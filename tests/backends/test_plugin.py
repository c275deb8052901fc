"""The keel pytest plugin's database fixtures."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from keel import Keel
from keel.backends.sql import open_sql_store

PROBE = """
def test_probe(postgres_url):
    pass
"""


def _run_probe(tmp_path: Path, *, require_services: bool) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_probe.py").write_text(PROBE)
    env = {
        **os.environ,
        "KEEL_TEST_POSTGRES_URL": "postgresql+psycopg://postgres@127.0.0.1:1/nowhere",
        "KEEL_REQUIRE_SERVICES": "1" if require_services else "0",
    }
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "keel.testing.plugin", "-p", "no:cacheprovider",
         "-rs", "-q", str(tmp_path / "test_probe.py")],
        capture_output=True, text=True, env=env, cwd=tmp_path, check=False,
    )


def test_unreachable_postgres_skips_the_test_naming_the_server(tmp_path: Path) -> None:
    result = _run_probe(tmp_path, require_services=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 skipped" in result.stdout
    assert "127.0.0.1:1/nowhere" in result.stdout


def test_unreachable_postgres_fails_the_test_when_services_are_required(
    tmp_path: Path,
) -> None:
    result = _run_probe(tmp_path, require_services=True)
    assert result.returncode == 1
    assert "KEEL_REQUIRE_SERVICES" in result.stdout
    assert "127.0.0.1:1/nowhere" in result.stdout


def test_sqlite_url_points_into_the_test_directory(sqlite_url: str, tmp_path: Path) -> None:
    assert sqlite_url == f"sqlite:///{tmp_path / 'keel.db'}"
    assert not (tmp_path / "keel.db").exists()


@pytest.mark.postgres
def test_postgres_url_is_a_fresh_schema_of_its_own(postgres_url: str) -> None:
    with open_sql_store(postgres_url) as store:
        assert store.experiments.list_experiments().items == []
    engine = sa.create_engine(postgres_url)
    try:
        with engine.connect() as conn:
            schema = conn.exec_driver_sql("SELECT current_schema()").scalar()
            tables = set(sa.inspect(conn).get_table_names())
    finally:
        engine.dispose()
    assert str(schema).startswith("keel_test_")
    assert "runs" in tables


def test_keel_client_fixture_gives_an_isolated_embedded_store(keel_client: Keel) -> None:
    run = keel_client.create_run("fixture", capture=False)
    keel_client.runs.log_metric(run.run_id, "x", 1.0, synchronous=True)
    assert keel_client.metadata.url.startswith("sqlite:///")
    assert keel_client.runs.get_run(run.run_id).metrics["x"].value == 1.0
