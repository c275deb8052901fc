"""Streaming copies that measure what they copy: size and sha256, in fixed-size chunks.

Artifact stores use :func:`copy_with_digest` so a file of any size is copied with one chunk in
memory at a time, and :func:`save_to_local_file` to download atomically to a local path.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
from pathlib import Path
from typing import Protocol

__all__ = [
    "CHUNK_SIZE",
    "copy_with_digest",
    "create_temp_file",
    "save_to_local_file",
    "sha256_file",
]

CHUNK_SIZE = 1024 * 1024
"""Bytes read and written per step (1 MiB)."""


class Readable(Protocol):
    def read(self, size: int = ..., /) -> bytes: ...


class Writable(Protocol):
    def write(self, data: bytes, /) -> object: ...


def copy_with_digest(
    source: Readable, target: Writable, *, chunk_size: int = CHUNK_SIZE
) -> tuple[int, str]:
    """Copy ``source`` to ``target`` until EOF; return ``(size, sha256 hex digest)``.

    Short reads are fine: only an empty read ends the copy.
    """
    digest = hashlib.sha256()
    size = 0
    while True:
        chunk = source.read(chunk_size)
        if not chunk:
            break
        digest.update(chunk)
        target.write(chunk)
        size += len(chunk)
    return size, digest.hexdigest()


def sha256_file(path: Path, *, chunk_size: int = CHUNK_SIZE) -> tuple[int, str]:
    """``(size, sha256 hex digest)`` of a local file, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as f:
        while chunk := f.read(chunk_size):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def create_temp_file(directory: Path, prefix: str, suffix: str = ".part") -> tuple[int, str]:
    """A new file with a random name in ``directory``, opened for writing: ``(fd, path)``.

    Unlike ``tempfile.mkstemp`` (mode 0600) the file gets the usual permissions (0666 less the
    umask), because it is renamed into place as the final file.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        path = os.path.join(directory, f"{prefix}{secrets.token_hex(8)}{suffix}")
        try:
            return os.open(path, flags, 0o666), path
        except FileExistsError:
            continue
    raise FileExistsError(f"could not create a temporary file in {directory}")


def save_to_local_file(source: Readable, local_path: Path) -> tuple[int, str]:
    """Write ``source`` to ``local_path`` atomically (a temporary file next to it, fsynced, then
    renamed over it); parents are created. Returns ``(size, sha256)``."""
    local_path = Path(local_path)
    local_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = create_temp_file(local_path.parent, prefix=f".{local_path.name[:64]}.")
    try:
        with os.fdopen(fd, "wb") as out:
            result = copy_with_digest(source, out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp_name, local_path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
    return result
