"""Artifact value objects."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ArtifactInfo:
    """A file or directory in an artifact store. ``path`` is relative, '/'-separated.
    ``sha256`` is known for files that were just written; listings may leave it None."""

    path: str
    is_dir: bool
    size: int | None = None
    sha256: str | None = None
