"""pytest plugin with keel fixtures (registered by tests/conftest.py; usable by plugins too).

- ``keel_client``: a ``Keel`` client on a fresh embedded store in the test's temporary directory.
- ``keel_server`` / ``remote_client``: a live keel server and a client talking to it over HTTP;
  ``keel_any``: either client, one test per transport.
- ``sqlite_url``: a SQLite URL in the test's temporary directory (the file does not exist yet).
- ``postgres_url``: a URL pointing at a fresh, empty PostgreSQL schema created for the test and
  dropped after it. The server comes from the ``test_postgres_url`` setting
  (``KEEL_TEST_POSTGRES_URL``, default ``postgresql+psycopg://postgres@127.0.0.1:5432/test``).
  When it cannot be reached the test is skipped, or fails when the ``require_services`` setting
  is true (CI sets ``KEEL_REQUIRE_SERVICES=1``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from keel.app import Keel
from keel.config import load_settings

DEFAULT_TEST_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """``sqlite:///<tmp_path>/keel.db``."""
    return f"sqlite:///{tmp_path / 'keel.db'}"


def _unavailable(message: str) -> None:
    if load_settings().require_services:
        pytest.fail(f"{message} (KEEL_REQUIRE_SERVICES is set, so this is a failure)")
    pytest.skip(message)


def _with_search_path(url: Any, schema: str) -> Any:
    options = url.query.get("options")
    extra = f"-csearch_path={schema}"
    if isinstance(options, str) and options:
        extra = f"{options} {extra}"
    return url.update_query_dict({"options": extra})


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A PostgreSQL URL whose ``search_path`` is a schema of its own, dropped after the test."""
    try:
        import psycopg  # noqa: F401
        import sqlalchemy as sa
        from sqlalchemy.engine import make_url
        from sqlalchemy.pool import NullPool
    except ImportError:
        _unavailable("psycopg is not installed (pip install 'keelml[postgres]')")
        raise  # unreachable: _unavailable raises

    raw = load_settings().test_postgres_url or DEFAULT_TEST_POSTGRES_URL
    base = make_url(raw)
    if base.drivername in ("postgresql", "postgres"):
        base = base.set(drivername="postgresql+psycopg")
    where = f"{base.host or 'localhost'}:{base.port or 5432}/{base.database or ''}"
    schema = f"keel_test_{uuid.uuid4().hex[:16]}"
    engine = sa.create_engine(
        base.update_query_dict({"connect_timeout": "5"}), poolclass=NullPool
    )
    try:
        try:
            with engine.begin() as conn:
                conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        except sa.exc.OperationalError as error:
            first_line = (str(error.orig or error).strip().splitlines() or ["?"])[0]
            _unavailable(f"PostgreSQL at {where} is unreachable: {first_line}")
        try:
            yield _with_search_path(base, schema).render_as_string(hide_password=False)
        finally:
            with engine.begin() as conn:
                conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        engine.dispose()


@pytest.fixture
def keel_client(tmp_path: Path) -> Iterator[Keel]:
    """A ``Keel`` client on a fresh embedded store (SQLite + local files) in the test's temporary
    directory, independent of any ``KEEL_*`` variables; closed after the test."""
    settings = load_settings(
        {}, home=str(tmp_path / ".keel"), capture_packages=False, metric_flush_interval=0.05
    )
    with Keel(settings) as client:
        yield client


@pytest.fixture
def keel_server(tmp_path: Path) -> Iterator[str]:
    """The base URL of a live keel server (authentication off) on loopback, over a fresh
    embedded store of its own in the test's temporary directory."""
    from keel.api import create_app
    from keel.api._serve import serve_in_thread

    settings = load_settings({}, home=str(tmp_path / "server"), capture_packages=False)
    with Keel(settings) as server_keel, serve_in_thread(create_app(server_keel)) as url:
        yield url


@pytest.fixture
def remote_client(keel_server: str, tmp_path: Path) -> Iterator[Keel]:
    """A ``Keel`` client talking to :func:`keel_server` over HTTP."""
    settings = load_settings(
        {}, tracking_url=keel_server, home=str(tmp_path / "client"), capture_packages=False,
        metric_flush_interval=0.05, user="tester",
    )
    with Keel(settings) as client:
        yield client


@pytest.fixture(params=["embedded", "http"])
def keel_any(request: pytest.FixtureRequest) -> Keel:
    """A ``Keel`` client on either transport, one test per transport: ``embedded`` is
    :func:`keel_client`, ``http`` is :func:`remote_client` (a live server over its own store).
    For tests of the Python API that must behave the same through a server."""
    fixture = "keel_client" if request.param == "embedded" else "remote_client"
    client: Keel = request.getfixturevalue(fixture)
    return client
