"""Entry-point factories for keel's built-in backends: ``(url, settings) -> store``.

These are what pyproject.toml registers under ``keel.metadata_stores`` and
``keel.artifact_stores``; a plugin registers its own the same way.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from keel.artifacts import ArtifactStore
from keel.config import Settings
from keel.errors import InvalidArgument
from keel.tracking.store import MetadataStore


def open_sql_metadata(url: str, settings: Settings) -> MetadataStore:
    from keel.backends.sql import open_sql_store

    return open_sql_store(url, busy_timeout=settings.sqlite_busy_timeout)


def open_local_artifacts(url: str, settings: Settings) -> ArtifactStore:
    from keel.backends.localfs import LocalArtifactStore

    if "://" in url:
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost"):
            raise InvalidArgument(f"file URL {url!r} names a host; only local paths are allowed")
        path = Path(unquote(parts.path))
    else:
        path = Path(url)
    return LocalArtifactStore(path.expanduser().absolute())


def open_s3_artifacts(url: str, settings: Settings) -> ArtifactStore:
    from keel.backends.s3 import S3ArtifactStore

    return S3ArtifactStore(url, endpoint_url=settings.s3_endpoint_url)
