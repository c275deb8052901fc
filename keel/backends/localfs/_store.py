"""Artifacts as files below one root directory.

Writes go to a temporary file in ``<root>/.keel-tmp/`` (same filesystem), are fsynced, then
``os.replace``-d into place, so a reader sees the old file or the whole new one, never a part,
even when the writer is killed; the directory entry is fsynced too. Temporary files left by killed
writers are invisible (``.keel-`` names are reserved and never listed) and removed when a store is
opened once they are older than ``stale_temp_seconds``.

Every operation resolves the real path and refuses (InvalidArtifactPath) anything whose real path
leaves the root, so a symlink inside the store cannot be used to read or write elsewhere. Listings
skip such links, and names on disk that are not safe keys. Deleting a symlink removes the link,
never its target.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import stat
import time
from pathlib import Path
from typing import BinaryIO

from keel.artifacts.digest import copy_with_digest, create_temp_file, save_to_local_file
from keel.artifacts.models import ArtifactInfo
from keel.artifacts.paths import safe_key, safe_prefix
from keel.errors import (
    ArtifactNotFound,
    Conflict,
    InvalidArgument,
    InvalidArtifactPath,
)

__all__ = ["TEMP_DIR_NAME", "LocalArtifactStore"]

TEMP_DIR_NAME = ".keel-tmp"
_INSTALL_ATTEMPTS = 5


def _not_found(key: str, why: str = "") -> ArtifactNotFound:
    return ArtifactNotFound(f"no artifact at {key!r}{why}", details={"path": key})


def _is_listable(rel: str) -> bool:
    try:
        return safe_key(rel) == rel
    except InvalidArtifactPath:
        return False


def _fsync_dir(path: Path) -> None:
    """Make a rename in ``path`` durable (POSIX; a no-op where directories cannot be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _entries(root: Path, directory: Path, prefix: str) -> list[tuple[str, Path, os.stat_result]]:
    """(key, real path, stat) of each listable entry of ``directory``."""
    out: list[tuple[str, Path, os.stat_result]] = []
    try:
        scanned = list(os.scandir(directory))
    except (FileNotFoundError, NotADirectoryError):
        return []
    for entry in scanned:
        rel = f"{prefix}/{entry.name}" if prefix else entry.name
        if not _is_listable(rel):
            continue
        real = Path(os.path.realpath(entry.path))
        if not real.is_relative_to(root):
            continue  # a link out of the store is not an artifact of it
        try:
            st = os.stat(real)
        except OSError:
            continue  # dangling link, or deleted meanwhile
        out.append((rel, real, st))
    return out


def _children(root: Path, directory: Path, prefix: str) -> list[ArtifactInfo]:
    out: list[ArtifactInfo] = []
    for rel, _, st in _entries(root, directory, prefix):
        if stat.S_ISDIR(st.st_mode):
            out.append(ArtifactInfo(path=rel, is_dir=True))
        elif stat.S_ISREG(st.st_mode):
            out.append(ArtifactInfo(path=rel, is_dir=False, size=st.st_size))
    return out


def _walk(root: Path, directory: Path, prefix: str) -> list[ArtifactInfo]:
    """Every file below ``directory``. Links to directories inside the root are followed (so an
    aliased directory lists under each name) unless they lead back to a directory on the way
    down, which would loop."""
    out: list[ArtifactInfo] = []
    pending: list[tuple[Path, str, frozenset[Path]]] = [(directory, prefix, frozenset())]
    while pending:
        current, current_prefix, ancestors = pending.pop()
        below = ancestors | {current}
        for rel, real, st in _entries(root, current, current_prefix):
            if stat.S_ISREG(st.st_mode):
                out.append(ArtifactInfo(path=rel, is_dir=False, size=st.st_size))
            elif stat.S_ISDIR(st.st_mode) and real not in below:
                pending.append((real, rel, below))
    return out


class LocalArtifactStore:
    """The :class:`~keel.artifacts.ArtifactStore` on a local directory (created if missing)."""

    def __init__(self, root: Path | str, *, stale_temp_seconds: float = 3600.0) -> None:
        given = Path(root).expanduser()
        try:
            given.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise InvalidArgument(
                f"artifact root {str(given)!r} is not a directory", details={"root": str(given)}
            ) from None
        self._root = given.resolve(strict=True)
        self._tmp = self._root / TEMP_DIR_NAME
        self._tmp.mkdir(exist_ok=True)
        self._check_temp_dir()
        self._remove_stale_temp_files(stale_temp_seconds)

    @property
    def url(self) -> str:
        return str(self._root)

    @property
    def root(self) -> Path:
        return self._root

    # -- writing ---------------------------------------------------------------------------

    def put_file(self, local_path: Path, key: str) -> ArtifactInfo:
        key = safe_key(key)
        with Path(local_path).open("rb") as source:
            return self.put_stream(source, key)

    def put_bytes(self, data: bytes, key: str) -> ArtifactInfo:
        return self.put_stream(io.BytesIO(data), key)

    def put_stream(self, stream: BinaryIO, key: str) -> ArtifactInfo:
        key, target = self._locate(key)
        self._real(target, key)
        self._check_temp_dir()
        fd, tmp_name = create_temp_file(self._tmp, prefix="put-")
        try:
            with os.fdopen(fd, "wb") as out:
                size, sha256 = copy_with_digest(stream, out)
                out.flush()
                os.fsync(out.fileno())
            self._install(tmp_name, target, key)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp_name)
            raise
        return ArtifactInfo(path=key, is_dir=False, size=size, sha256=sha256)

    def _install(self, tmp_name: str, target: Path, key: str) -> None:
        for _ in range(_INSTALL_ATTEMPTS):
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
            except (FileExistsError, NotADirectoryError):
                raise Conflict(
                    f"cannot write {key!r}: a parent of it is a file", details={"path": key}
                ) from None
            self._real(target, key)  # the parents may have been swapped for links meanwhile
            if target.is_dir() and not target.is_symlink():
                raise Conflict(f"cannot write {key!r}: it is a directory", details={"path": key})
            try:
                os.replace(tmp_name, target)
            except FileNotFoundError:
                if not os.path.exists(tmp_name):
                    raise Conflict(
                        f"cannot write {key!r}: the temporary file was removed (the write took "
                        "longer than stale_temp_seconds?)",
                        details={"path": key},
                    ) from None
                continue  # a concurrent delete pruned the fresh parent directory; redo it
            except IsADirectoryError:
                raise Conflict(
                    f"cannot write {key!r}: it is a directory", details={"path": key}
                ) from None
            _fsync_dir(target.parent)
            return
        raise Conflict(
            f"cannot write {key!r}: its directory keeps disappearing", details={"path": key}
        )

    # -- reading ---------------------------------------------------------------------------

    def open(self, key: str) -> BinaryIO:
        key, target = self._locate(key)
        real = self._real(target, key)
        try:
            if not stat.S_ISREG(os.stat(real).st_mode):
                raise _not_found(key, " (it is a directory)")
            return real.open("rb")
        except (FileNotFoundError, NotADirectoryError):
            raise _not_found(key) from None
        except IsADirectoryError:
            raise _not_found(key, " (it is a directory)") from None

    def get_file(self, key: str, local_path: Path) -> None:
        with self.open(key) as source:
            save_to_local_file(source, Path(local_path))

    def info(self, key: str) -> ArtifactInfo:
        key, target = self._locate(key)
        real = self._real(target, key)
        try:
            st = os.stat(real)
        except (FileNotFoundError, NotADirectoryError):
            raise _not_found(key) from None
        if stat.S_ISDIR(st.st_mode):
            return ArtifactInfo(path=key, is_dir=True)
        if stat.S_ISREG(st.st_mode):
            return ArtifactInfo(path=key, is_dir=False, size=st.st_size)
        raise _not_found(key, " (not a regular file)")

    def exists(self, key: str) -> bool:
        try:
            self.info(key)
        except ArtifactNotFound:
            return False
        return True

    def list(self, prefix: str = "", recursive: bool = False) -> list[ArtifactInfo]:
        prefix = safe_prefix(prefix)
        base = self._root.joinpath(*prefix.split("/")) if prefix else self._root
        real = self._real(base, prefix)
        if not real.is_dir():
            return []
        walk = _walk if recursive else _children
        entries = walk(self._root, real, prefix)
        return sorted(entries, key=lambda entry: entry.path)

    # -- deleting --------------------------------------------------------------------------

    def delete(self, key: str) -> None:
        key, target = self._locate(key)
        self._real(target.parent, key)
        try:
            st = os.lstat(target)
        except (FileNotFoundError, NotADirectoryError):
            return
        try:
            if stat.S_ISDIR(st.st_mode):
                shutil.rmtree(target)
            else:
                os.unlink(target)  # a file, or a link (never its target)
        except FileNotFoundError:
            pass
        self._prune_empty_parents(target)

    def _prune_empty_parents(self, target: Path) -> None:
        for parent in target.parents:
            if parent == self._root or not parent.is_relative_to(self._root):
                return
            try:
                os.rmdir(parent)
            except OSError:
                return  # not empty (or not a plain directory): stop here

    # -- helpers ---------------------------------------------------------------------------

    def _locate(self, key: str) -> tuple[str, Path]:
        key = safe_key(key)
        return key, self._root.joinpath(*key.split("/"))

    def _real(self, path: Path, key: str) -> Path:
        """The real path of ``path``; InvalidArtifactPath if it leaves the root."""
        real = Path(os.path.realpath(path))
        if not real.is_relative_to(self._root):
            raise InvalidArtifactPath(
                f"invalid artifact path {key!r}: it resolves outside the artifact root "
                "through a symbolic link",
                details={"path": key, "reason": "symlink leaves the artifact root"},
            )
        return real

    def _check_temp_dir(self) -> None:
        if self._tmp.is_symlink() or not self._tmp.is_dir():
            raise InvalidArgument(
                f"{str(self._tmp)!r} must be a plain directory (keel's temporary files)",
                details={"root": str(self._root)},
            )

    def _remove_stale_temp_files(self, older_than: float) -> None:
        """Remove temporary files of writers that died; live writers keep theirs fresh."""
        cutoff = time.time() - older_than
        try:
            scanned = list(os.scandir(self._tmp))
        except OSError:
            return
        for entry in scanned:
            with contextlib.suppress(OSError):
                if entry.is_file(follow_symlinks=False) and entry.stat().st_mtime <= cutoff:
                    os.unlink(entry.path)
