"""SqlMetadataStore: one opened metadata database exposing the three tracking ports."""

from __future__ import annotations

from keel.backends.sql._auth_store import SqlAuthStore
from keel.backends.sql._datasets import SqlDatasetStore
from keel.backends.sql._engine import Database, describe_url
from keel.backends.sql._experiments import SqlExperimentStore
from keel.backends.sql._migrate import current_revision, ensure_schema
from keel.backends.sql._mlflow_models import SqlLoggedModelStore
from keel.backends.sql._registry_store import SqlRegistryStore
from keel.backends.sql._runs import SqlRunStore


class SqlMetadataStore:
    """The MetadataStore port on SQLite or PostgreSQL. Open it with :func:`open_sql_store`."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._experiments = SqlExperimentStore(db)
        self._runs = SqlRunStore(db)
        self._datasets = SqlDatasetStore(db)
        self._registry = SqlRegistryStore(db)
        self._auth = SqlAuthStore(db)

    @property
    def experiments(self) -> SqlExperimentStore:
        return self._experiments

    @property
    def runs(self) -> SqlRunStore:
        return self._runs

    @property
    def datasets(self) -> SqlDatasetStore:
        return self._datasets

    @property
    def registry(self) -> SqlRegistryStore:
        """The model registry's ports (keel.registry.store.RegistryStore)."""
        return self._registry

    @property
    def auth(self) -> SqlAuthStore:
        """Accounts, API tokens and grants (keel.auth.store.AuthStore)."""
        return self._auth

    @property
    def mlflow_models(self) -> SqlLoggedModelStore:
        """MLflow 3 logged models (keel.tracking.logged_models.LoggedModelStore)."""
        return SqlLoggedModelStore(self._db)

    @property
    def url(self) -> str:
        """The URL the store was opened with, password hidden."""
        return describe_url(self._db.sa_url) if self._db.dialect == "postgresql" else self._db.url

    @property
    def schema_revision(self) -> str:
        """The schema revision the database is at (read from ``alembic_version``)."""
        return self._db.read(current_revision) or ""

    @property
    def dialect(self) -> str:
        """'sqlite' or 'postgresql'."""
        return self._db.dialect

    def close(self) -> None:
        """Close every pooled connection (the store is unusable afterwards)."""
        self._db.dispose()

    def __enter__(self) -> SqlMetadataStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SqlMetadataStore({self.url!r})"


def open_sql_store(url: str, *, busy_timeout: float = 60.0) -> SqlMetadataStore:
    """Open (creating and migrating as needed) the metadata database at ``url``:
    ``sqlite:///path/keel.db`` or ``postgresql+psycopg://user@host/db``.

    ``busy_timeout`` is how many seconds a SQLite writer waits for the write lock.
    InvalidArgument for an unknown scheme, MissingDependency without psycopg for PostgreSQL,
    BackendUnavailable when the database cannot be reached.
    """
    db = Database(url, busy_timeout=busy_timeout)
    try:
        ensure_schema(db)
    except BaseException:
        db.dispose()
        raise
    return SqlMetadataStore(db)
