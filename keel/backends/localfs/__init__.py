"""Artifacts on the local filesystem: atomic writes, sha256 digests, symlink-safe paths."""

from keel.backends.localfs._store import LocalArtifactStore

__all__ = ["LocalArtifactStore"]
