"""Artifacts in S3-compatible object storage (s3fs is imported only when a store is created)."""

from keel.backends.s3._store import S3ArtifactStore

__all__ = ["S3ArtifactStore"]
