"""The ArtifactStore port through a keel server's artifact proxy: uploads stream from the file,
downloads stream to a temporary file that is renamed into place once its digest is checked."""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import tempfile
import time
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote

from keel.artifacts import ArtifactInfo
from keel.artifacts.paths import safe_key, safe_prefix
from keel.core.wire import from_wire
from keel.errors import ArtifactNotFound, BackendUnavailable, KeelError, ModelIntegrityError
from keel.remote._http import API, HttpTransport

CHUNK = 1024 * 1024
PART_SIZE = 32 * CHUNK
"""Uploads larger than this go in parts of this size."""
PART_ATTEMPTS = 4


def _key_path(key: str) -> str:
    return quote(safe_key(key), safe="/")


class HttpArtifactStore:
    def __init__(self, http: HttpTransport, *, part_size: int = PART_SIZE) -> None:
        self._http = http
        self.part_size = part_size

    @property
    def url(self) -> str:
        return f"{self._http.base_url}{API}/artifacts"

    def put_file(self, local_path: Path, key: str) -> ArtifactInfo:
        with open(local_path, "rb") as handle:
            return self.put_stream(handle, key)

    def put_bytes(self, data: bytes, key: str) -> ArtifactInfo:
        return self.put_stream(io.BytesIO(data), key)

    def put_stream(self, stream: BinaryIO, key: str) -> ArtifactInfo:
        """One request for up to ``part_size`` bytes; beyond, an upload in parts, each part
        retried on its own after a network error."""
        first = self._read_part(stream)
        following = self._read_part(stream) if len(first) == self.part_size else b""
        if not following:
            response = self._http.send(
                "PUT", f"{API}/artifacts/{_key_path(key)}", content=first,
                headers={"Content-Type": "application/octet-stream"},
            )
            return from_wire(ArtifactInfo, response.json())
        return self._put_in_parts(stream, key, [first, following])

    def _put_in_parts(self, stream: BinaryIO, key: str, head: list[bytes]) -> ArtifactInfo:
        upload = self._http.request("POST", f"{API}/artifact-uploads", json={"key": safe_key(key)})
        upload_id = str(upload["upload_id"])
        base = f"{API}/artifact-uploads/{upload_id}"
        numbers: list[int] = []
        try:
            pending = list(head)
            while True:
                chunk = pending.pop(0) if pending else self._read_part(stream)
                if not chunk:
                    break
                numbers.append(len(numbers) + 1)
                self._send_part(f"{base}/parts/{numbers[-1]}", chunk)
            data = self._http.request("POST", f"{base}/complete", json={"parts": numbers})
        except BaseException:
            with contextlib.suppress(KeelError):
                self._http.request("DELETE", base)
            raise
        return from_wire(ArtifactInfo, data)

    def _read_part(self, stream: BinaryIO) -> bytes:
        """Up to ``part_size`` bytes, read 1 MiB at a time (streams may return short reads)."""
        pieces: list[bytes] = []
        size = 0
        while size < self.part_size:
            piece = stream.read(min(CHUNK, self.part_size - size))
            if not piece:
                break
            pieces.append(piece)
            size += len(piece)
        return b"".join(pieces)

    def _send_part(self, path: str, chunk: bytes) -> None:
        for attempt in range(PART_ATTEMPTS):
            try:
                self._http.send("PUT", path, content=chunk,
                                headers={"Content-Type": "application/octet-stream"})
                return
            except BackendUnavailable:
                if attempt == PART_ATTEMPTS - 1:
                    raise
                time.sleep(0.2 * 2**attempt)

    def open(self, key: str) -> BinaryIO:
        """The whole file, spooled to a temporary file (memory up to 8 MiB), seekable."""
        spool = tempfile.SpooledTemporaryFile(max_size=8 * CHUNK)  # noqa: SIM115
        try:
            self._download(key, spool)  # type: ignore[arg-type]
            spool.seek(0)
        except BaseException:
            spool.close()
            raise
        return spool  # type: ignore[return-value]

    def get_file(self, key: str, local_path: Path) -> None:
        local_path = Path(local_path)
        safe_key(key)
        local_path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=local_path.parent, prefix=f".{local_path.name}.")
        try:
            with os.fdopen(fd, "wb") as handle:
                self._download(key, handle)
            os.replace(tmp, local_path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _download(self, key: str, sink: BinaryIO) -> None:
        digest = hashlib.sha256()
        with self._http.stream("GET", f"{API}/artifacts/{_key_path(key)}") as response:
            expected = response.headers.get("x-keel-sha256")
            for chunk in response.iter_bytes(CHUNK):
                digest.update(chunk)
                sink.write(chunk)
        if expected and digest.hexdigest() != expected:
            raise ModelIntegrityError(
                f"artifact {key!r} arrived with sha256 {digest.hexdigest()}, the server "
                f"announced {expected}", details={"key": key},
            )

    def list(self, prefix: str = "", recursive: bool = False) -> list[ArtifactInfo]:
        data = self._http.request("GET", f"{API}/artifacts", params={
            "prefix": safe_prefix(prefix), "recursive": "true" if recursive else "false"})
        return [from_wire(ArtifactInfo, item) for item in data]

    def info(self, key: str) -> ArtifactInfo:
        return from_wire(ArtifactInfo, self._http.request(
            "GET", f"{API}/artifact-info/{_key_path(key)}"))

    def exists(self, key: str) -> bool:
        try:
            self.info(key)
        except ArtifactNotFound:
            return False
        return True

    def delete(self, key: str) -> None:
        self._http.request("DELETE", f"{API}/artifacts/{_key_path(key)}")
