"""The artifact store port.

Keys are relative '/'-separated paths, checked by ``keel.artifacts.paths.safe_key`` before they
reach the storage (no '..', no absolute paths, no NUL, no encoded traversal). Writes are atomic:
a reader sees the whole new file or the old one, never a partial file, even if the writer is
killed. ``keel.testing`` holds the contract suite.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO, Protocol

from keel.artifacts.models import ArtifactInfo


class ArtifactStore(Protocol):
    @property
    def url(self) -> str:
        """Where the store's root is, e.g. '/home/me/.keel/artifacts' or 's3://bucket/prefix'."""
        ...

    def put_file(self, local_path: Path, key: str) -> ArtifactInfo:
        """Copy a local file to ``key`` atomically; returns its size and sha256."""
        ...

    def put_bytes(self, data: bytes, key: str) -> ArtifactInfo: ...

    def put_stream(self, stream: BinaryIO, key: str) -> ArtifactInfo:
        """Store what ``stream`` yields (read in chunks, never whole in memory)."""
        ...

    def open(self, key: str) -> BinaryIO:
        """A binary, seekable reader. ArtifactNotFound when absent."""
        ...

    def get_file(self, key: str, local_path: Path) -> None:
        """Download ``key`` to ``local_path`` (parents created). ArtifactNotFound when absent."""
        ...

    def list(self, prefix: str = "", recursive: bool = False) -> list[ArtifactInfo]:
        """Entries below ``prefix`` ('' is the root), sorted by path; direct children only unless
        ``recursive`` (then files only). A missing prefix lists nothing."""
        ...

    def info(self, key: str) -> ArtifactInfo:
        """ArtifactNotFound when absent."""
        ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None:
        """Delete a file, or a directory and everything below it. Missing keys are ignored."""
        ...
