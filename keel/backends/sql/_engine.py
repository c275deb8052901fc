"""Opening a metadata database: URL schemes, engines, and the read/write transaction runner.

SQLite: WAL journal, ``busy_timeout``, foreign keys, ``synchronous=NORMAL``. pysqlite's own
transaction handling is turned off and keel emits ``BEGIN IMMEDIATE`` for writes (``BEGIN`` for
reads) from the engine's "begin" event, so a writer takes the write lock before it reads anything
and can never deadlock on a lock upgrade. In one process, writers to the same file queue on a
lock; across processes they queue in SQLite's busy handler; a bounded retry with backoff is the
backstop for the rare ``SQLITE_BUSY`` the busy handler does not cover.

PostgreSQL (psycopg 3, imported only for postgres URLs): a pool with pre-ping; a server that
cannot be reached is a ``BackendUnavailable`` naming the host, never the password.
"""

from __future__ import annotations

import os
import random
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event, exc
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.pool import StaticPool

from keel.errors import BackendUnavailable, InvalidArgument, KeelError, MissingDependency

T = TypeVar("T")

KNOWN_SCHEMES = ("sqlite", "postgresql", "postgresql+psycopg", "postgres")
_SQLITE_DRIVERS = {"sqlite", "sqlite+pysqlite"}
_POSTGRES_DRIVERS = {"postgresql", "postgresql+psycopg", "postgres"}
_WRITE_OPTION = "keel_write"
_BUSY_RETRIES = 5
_MEMORY_DATABASES = ("", ":memory:")

class _WriteLock:
    """A plain lock object that can be held weakly (threading.Lock cannot)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def __enter__(self) -> None:
        self._lock.acquire()

    def __exit__(self, *exc_info: object) -> None:
        self._lock.release()


# One write lock per SQLite file, shared by every store opened on it in this process, so threads
# queue on a real lock instead of polling in SQLite's busy handler. Entries vanish with the last
# store that uses them; nothing here needs resetting.
_FILE_LOCKS: weakref.WeakValueDictionary[str, _WriteLock] = weakref.WeakValueDictionary()
_FILE_LOCKS_GUARD = threading.Lock()


def _file_lock(path: str) -> _WriteLock:
    with _FILE_LOCKS_GUARD:
        lock = _FILE_LOCKS.get(path)
        if lock is None:
            lock = _WriteLock()
            _FILE_LOCKS[path] = lock
        return lock


def _is_busy(error: BaseException) -> bool:
    text = str(getattr(error, "orig", error)).lower()
    return "database is locked" in text or "database table is locked" in text


def normalize_url(url: str) -> URL:
    """The SQLAlchemy URL for a keel metadata URL; InvalidArgument for an unknown scheme."""
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    if scheme not in _SQLITE_DRIVERS | _POSTGRES_DRIVERS:
        raise InvalidArgument(
            f"unknown metadata store URL scheme {scheme or url!r}; known schemes: "
            + ", ".join(f"{s}://" for s in KNOWN_SCHEMES),
            details={"scheme": scheme, "known": list(KNOWN_SCHEMES)},
        )
    try:
        parsed = make_url(url)
    except exc.ArgumentError as error:
        raise InvalidArgument(f"malformed metadata store URL: {error}") from None
    if scheme in _POSTGRES_DRIVERS:
        return parsed.set(drivername="postgresql+psycopg")
    return parsed.set(drivername="sqlite")


def describe_url(url: URL) -> str:
    """The URL with its password hidden, for messages."""
    return url.render_as_string(hide_password=True)


class Database:
    """An engine plus the transaction runner every store method goes through."""

    def __init__(self, url: str, *, busy_timeout: float = 60.0) -> None:
        self.url = url
        self.sa_url = normalize_url(url)
        self.dialect = "postgresql" if self.sa_url.drivername.startswith("postgresql") else "sqlite"
        self._memory = False
        self._inherited: list[Any] = []
        if self.dialect == "sqlite":
            self.engine = self._sqlite_engine(busy_timeout)
        else:
            self.engine = self._postgres_engine()
        self._guard_against_fork(self.engine)

    # -- engines ---------------------------------------------------------------------------

    def _sqlite_engine(self, busy_timeout: float) -> Engine:
        database = self.sa_url.database or ""
        self._memory = database in _MEMORY_DATABASES or database.startswith("file::memory:")
        kwargs: dict[str, Any] = {}
        if self._memory:
            # One connection for everyone; every operation then runs under the lock.
            kwargs["poolclass"] = StaticPool
            self._write_lock = _WriteLock()
        else:
            path = Path(database).expanduser().absolute()
            path.parent.mkdir(parents=True, exist_ok=True)
            self.sa_url = self.sa_url.set(database=str(path))
            self._write_lock = _file_lock(str(path.resolve()))
            kwargs["pool_size"] = 8
            kwargs["max_overflow"] = 24
        engine = sa.create_engine(
            self.sa_url,
            connect_args={"timeout": busy_timeout, "check_same_thread": False},
            **kwargs,
        )
        busy_ms = max(0, int(busy_timeout * 1000))
        memory = self._memory

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # keel emits BEGIN itself
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute(f"PRAGMA busy_timeout = {busy_ms}")
                cursor.execute("PRAGMA foreign_keys = ON")
                if not memory:
                    cursor.execute("PRAGMA journal_mode = WAL")
                cursor.execute("PRAGMA synchronous = NORMAL")
            finally:
                cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(connection: Connection) -> None:
            write = connection.get_execution_options().get(_WRITE_OPTION, False)
            connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        return engine

    def _postgres_engine(self) -> Engine:
        try:
            import psycopg  # noqa: F401 - SQLAlchemy's dialect imports it again
        except ImportError:
            raise MissingDependency("psycopg", extra="postgres") from None
        return sa.create_engine(
            self.sa_url, pool_pre_ping=True, pool_size=5, max_overflow=10, pool_recycle=3600
        )

    def _guard_against_fork(self, engine: Engine) -> None:
        """A forked child never reuses its parent's pooled connections (SQLAlchemy's recipe):
        it opens its own, and leaves the inherited ones untouched (not even closed)."""
        inherited = self._inherited

        @event.listens_for(engine, "connect")
        def _remember_pid(_dbapi_connection: Any, record: Any) -> None:
            record.info["pid"] = os.getpid()

        @event.listens_for(engine, "checkout")
        def _check_pid(_dbapi_connection: Any, record: Any, proxy: Any) -> None:
            owner = record.info.get("pid")
            if owner is not None and owner != os.getpid():
                inherited.append(record.dbapi_connection)
                record.dbapi_connection = proxy.dbapi_connection = None
                raise exc.DisconnectionError(
                    f"connection opened by process {owner}, not {os.getpid()}; reconnecting"
                )

    # -- transactions ----------------------------------------------------------------------

    def read(self, fn: Callable[[Connection], T]) -> T:
        """Run ``fn`` in one read transaction (deferred ``BEGIN`` on SQLite)."""
        if self._memory:
            with self._write_lock:
                return self._run(fn, write=False)
        return self._run(fn, write=False)

    def write(self, fn: Callable[[Connection], T]) -> T:
        """Run ``fn`` in one write transaction; it commits when ``fn`` returns and rolls back
        when it raises. On SQLite the transaction is ``BEGIN IMMEDIATE`` under the file's
        in-process lock, so ``fn`` may be run again after a busy error: keep it pure."""
        if self.dialect == "sqlite":
            with self._write_lock:
                return self._run(fn, write=True)
        return self._run(fn, write=True)

    def _run(self, fn: Callable[[Connection], T], *, write: bool) -> T:
        delay = 0.01
        for attempt in range(_BUSY_RETRIES + 1):
            try:
                with self.connect(write=write) as conn, conn.begin():
                    return fn(conn)
            except exc.OperationalError as error:
                if self.dialect == "sqlite" and _is_busy(error) and attempt < _BUSY_RETRIES:
                    time.sleep(delay * (1 + random.random()))
                    delay = min(delay * 2, 1.0)
                    continue
                raise self.unavailable(error) from error
            except exc.DataError as error:
                # A value the database cannot hold or compare (a NUL in PostgreSQL text, an
                # integer out of range): the caller's input, never a server fault.
                raise _invalid_value(error) from None
            except OverflowError as error:
                raise InvalidArgument(f"a value is out of the database's range: {error}") from None
            except exc.DBAPIError as error:
                if error.connection_invalidated:
                    raise self.unavailable(error) from error
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    @contextmanager
    def connect(self, *, write: bool = False) -> Iterator[Connection]:
        """A pooled connection; failures to connect become BackendUnavailable."""
        try:
            conn = self.engine.connect()
        except exc.DBAPIError as error:
            if self.dialect == "sqlite" and _is_busy(error):
                raise
            raise self.unavailable(error) from error
        try:
            if write:
                conn.execution_options(**{_WRITE_OPTION: True})
            yield conn
        finally:
            conn.close()

    def unavailable(self, error: BaseException) -> KeelError:
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()
        detail = reason[0] if reason else type(error).__name__
        if self.dialect == "postgresql":
            host = self.sa_url.host or "localhost"
            where = f"{host}:{self.sa_url.port or 5432}/{self.sa_url.database or ''}"
            message = f"PostgreSQL at {where} is unavailable: {detail}"
        else:
            where = self.sa_url.database or ":memory:"
            message = f"SQLite database {where} is unavailable: {detail}"
        return BackendUnavailable(message, details={"url": describe_url(self.sa_url)})

    def dispose(self) -> None:
        self.engine.dispose()


def _invalid_value(error: exc.DataError) -> InvalidArgument:
    reason = str(getattr(error, "orig", None) or error).strip().splitlines()
    detail = reason[0] if reason else "invalid value"
    return InvalidArgument(f"the database refused a value: {detail}", details={"reason": detail})
