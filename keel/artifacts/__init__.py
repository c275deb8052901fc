"""Artifact storage: the port, its value objects, and path safety."""

from keel.artifacts.models import ArtifactInfo
from keel.artifacts.store import ArtifactStore

__all__ = ["ArtifactInfo", "ArtifactStore"]
