"""Artifacts in an S3 bucket (AWS, MinIO, Ceph, moto) through fsspec/s3fs.

``s3fs`` is imported by the constructor, not by this module, so ``import keel`` never pulls in
botocore. An S3 PUT is atomic, so readers see the old object or the whole new one; uploads are
streamed (multipart above the block size) and an upload that fails half-way is aborted, so no
partial object appears. Readers pin the object's ETag, so an overwrite during a read fails the
read instead of mixing two versions. "Directories" are key prefixes: they exist while something
is below them.
"""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, cast

from keel.artifacts.digest import copy_with_digest, save_to_local_file
from keel.artifacts.models import ArtifactInfo
from keel.artifacts.paths import safe_key, safe_prefix
from keel.errors import (
    ArtifactNotFound,
    BackendUnavailable,
    InvalidArgument,
    InvalidArtifactPath,
    MissingDependency,
)

__all__ = ["DEFAULT_BLOCK_SIZE", "S3ArtifactStore"]

DEFAULT_BLOCK_SIZE = 16 * 1024 * 1024
"""Multipart part size and read-ahead size (memory held per open upload or reader)."""

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")


def _parse_url(url: str) -> tuple[str, str]:
    if not isinstance(url, str) or not url.startswith("s3://"):
        raise InvalidArgument(
            f"not an S3 URL: {url!r}; expected s3://bucket/prefix", details={"url": repr(url)}
        )
    bucket, _, prefix = url[len("s3://") :].partition("/")
    if not _BUCKET.match(bucket):
        raise InvalidArgument(f"invalid S3 bucket name {bucket!r} in {url!r}", details={"url": url})
    try:
        return bucket, safe_prefix(prefix)
    except InvalidArtifactPath as exc:
        raise InvalidArgument(
            f"invalid prefix in S3 URL {url!r}: {exc.details['reason']}", details={"url": url}
        ) from None


class S3ArtifactStore:
    """The :class:`~keel.artifacts.ArtifactStore` on ``s3://bucket/prefix``.

    ``endpoint_url`` points at an S3-compatible service; ``storage_options`` go to
    ``s3fs.S3FileSystem`` (credentials, ``client_kwargs``, ``default_block_size``...).
    """

    def __init__(
        self,
        url: str,
        *,
        endpoint_url: str | None = None,
        storage_options: dict[str, Any] | None = None,
    ) -> None:
        self._bucket, self._prefix = _parse_url(url)
        try:
            import botocore.exceptions  # type: ignore[import-untyped]
            import s3fs
        except ImportError:
            raise MissingDependency("s3fs", extra="s3") from None
        options: dict[str, Any] = {
            "skip_instance_cache": True,  # no state shared with other stores
            "use_listings_cache": False,  # other writers change the bucket
            "default_block_size": DEFAULT_BLOCK_SIZE,
        }
        options.update(storage_options or {})
        if endpoint_url is not None:
            options["endpoint_url"] = endpoint_url
        self._fs: Any = s3fs.S3FileSystem(**options)
        self._client_errors: tuple[type[Exception], ...] = (
            OSError,
            botocore.exceptions.BotoCoreError,
        )
        self._base = f"{self._bucket}/{self._prefix}" if self._prefix else self._bucket

    @property
    def url(self) -> str:
        return f"s3://{self._base}"

    # -- writing ---------------------------------------------------------------------------

    def put_file(self, local_path: Path, key: str) -> ArtifactInfo:
        key = safe_key(key)
        with Path(local_path).open("rb") as source:
            return self.put_stream(source, key)

    def put_bytes(self, data: bytes, key: str) -> ArtifactInfo:
        return self.put_stream(io.BytesIO(data), key)

    def put_stream(self, stream: BinaryIO, key: str) -> ArtifactInfo:
        key = safe_key(key)
        with self._errors(key, writing=True):
            target = self._fs.open(self._path(key), "wb")
        try:
            size, sha256 = copy_with_digest(stream, _Translated(target, self, key, writing=True))
        except BaseException:
            try:
                target.discard()  # aborts the multipart upload: nothing appears
            finally:
                target.closed = True  # or the file object would commit when collected
            raise
        with self._errors(key, writing=True):
            try:
                target.close()  # the PUT, or completing the multipart upload
            except BaseException:
                with contextlib.suppress(Exception):
                    target.discard()
                target.closed = True
                raise
        return ArtifactInfo(path=key, is_dir=False, size=size, sha256=sha256)

    # -- reading ---------------------------------------------------------------------------

    def open(self, key: str) -> BinaryIO:
        key = safe_key(key)
        with self._errors(key):
            reader = self._fs.open(self._path(key), "rb")
        if reader.details.get("type") != "file":
            reader.close()
            raise ArtifactNotFound(
                f"no artifact at {key!r} (it is a directory)", details={"path": key}
            )
        return cast(BinaryIO, reader)

    def get_file(self, key: str, local_path: Path) -> None:
        with self.open(key) as source:
            save_to_local_file(_Translated(source, self, key), Path(local_path))

    def info(self, key: str) -> ArtifactInfo:
        key = safe_key(key)
        with self._errors(key):
            details = self._fs.info(self._path(key))
        if details.get("type") == "directory":
            return ArtifactInfo(path=key, is_dir=True)
        return ArtifactInfo(path=key, is_dir=False, size=int(details["size"]))

    def exists(self, key: str) -> bool:
        try:
            self.info(key)
        except ArtifactNotFound:
            return False
        return True

    def list(self, prefix: str = "", recursive: bool = False) -> list[ArtifactInfo]:
        prefix = safe_prefix(prefix)
        path = self._path(prefix) if prefix else self._base
        with self._errors(prefix):
            try:
                if recursive:
                    found = self._fs.find(path, detail=True).values()
                else:
                    found = self._fs.ls(path, detail=True)
            except FileNotFoundError:
                return []
        entries = []
        for item in found:
            name = item["name"]
            if name.endswith("/"):
                continue  # a "folder" marker object, not an artifact
            if not name.startswith(path + "/"):
                continue  # the prefix itself is a file: it has no children
            rel = name[len(self._base) + 1 :]
            if not _is_listable(rel):
                continue
            if item.get("type") == "directory":
                entries.append(ArtifactInfo(path=rel, is_dir=True))
            else:
                entries.append(ArtifactInfo(path=rel, is_dir=False, size=int(item["size"])))
        return sorted(entries, key=lambda entry: (entry.path, entry.is_dir))

    # -- deleting --------------------------------------------------------------------------

    def delete(self, key: str) -> None:
        key = safe_key(key)
        path = self._path(key)
        with self._errors(key, writing=True):
            below = [name for name in self._fs.find(path) if name.startswith(path + "/")]
            if below:
                self._fs.rm(below)
            with contextlib.suppress(FileNotFoundError):
                self._fs.rm_file(path)  # S3 ignores deleting a missing object

    # -- helpers ---------------------------------------------------------------------------

    def _path(self, key: str) -> str:
        return f"{self._base}/{key}"

    @contextlib.contextmanager
    def _errors(self, key: str, *, writing: bool = False) -> Iterator[None]:
        """Turn s3fs/botocore errors into keel's: a missing object is ArtifactNotFound when
        reading; anything else (no bucket, no connection, access denied) BackendUnavailable."""
        try:
            yield
        except FileNotFoundError as exc:
            if not writing:
                raise ArtifactNotFound(f"no artifact at {key!r}", details={"path": key}) from None
            raise self._unavailable(key, exc) from exc
        except self._client_errors as exc:
            raise self._unavailable(key, exc) from exc

    def _unavailable(self, key: str, exc: Exception) -> BackendUnavailable:
        return BackendUnavailable(
            f"S3 request for {key!r} in {self.url} failed: {exc}",
            details={"url": self.url, "path": key},
        )


class _Translated:
    """A reader or writer whose S3 errors become keel's (local errors pass through as they are)."""

    def __init__(self, file: Any, store: S3ArtifactStore, key: str, *, writing: bool = False):
        self._file = file
        self._store = store
        self._key = key
        self._writing = writing

    def read(self, size: int = -1, /) -> bytes:
        with self._store._errors(self._key, writing=self._writing):
            return cast(bytes, self._file.read(size))

    def write(self, data: bytes, /) -> object:
        with self._store._errors(self._key, writing=self._writing):
            return self._file.write(data)


def _is_listable(rel: str) -> bool:
    try:
        return safe_key(rel) == rel
    except InvalidArtifactPath:
        return False
