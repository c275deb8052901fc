"""The SQL metadata backend: SQLite (WAL) by default, PostgreSQL (psycopg 3) at scale.

``open_sql_store(url)`` opens a database by URL (``sqlite:///path/keel.db``,
``postgresql+psycopg://user@host/db``), applying migrations when needed; ``upgrade(url)`` is the
``keel db upgrade`` entry point. Neither Alembic nor psycopg is imported until needed.
"""

from keel.backends.sql._datasets import SqlDatasetStore
from keel.backends.sql._engine import KNOWN_SCHEMES
from keel.backends.sql._experiments import SqlExperimentStore
from keel.backends.sql._migrate import SCHEMA_REVISION, upgrade
from keel.backends.sql._runs import SqlRunStore
from keel.backends.sql._store import SqlMetadataStore, open_sql_store

__all__ = [
    "KNOWN_SCHEMES",
    "SCHEMA_REVISION",
    "SqlDatasetStore",
    "SqlExperimentStore",
    "SqlMetadataStore",
    "SqlRunStore",
    "open_sql_store",
    "upgrade",
]
