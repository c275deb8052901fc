"""``/api/v1/artifact-uploads``: large artifacts in parts. A client opens an upload for a key,
sends numbered parts (each retried on its own after a network error), then completes it; the
server streams the parts, in order, into the artifact store as one atomic write. Parts are
staged on the server's disk under ``<home>/uploads`` (shared by the workers of one machine);
an upload never completed is removed by abort, or by the next upload once a day old.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, BinaryIO

from fastapi import APIRouter, Depends, Request, Response
from fastapi import Path as PathParam
from starlette.concurrency import run_in_threadpool

from keel.api._authz import ADMIN_ONLY, KeelRoute, needs, owner_of_key, permission
from keel.api._json import body_of, body_spec, respond, returns
from keel.api._state import ServerState, state_of
from keel.api.v1._artifacts import spool_body
from keel.artifacts import ArtifactInfo
from keel.artifacts.paths import safe_key
from keel.auth import ResourceKind, Role
from keel.core.ids import new_id
from keel.errors import InvalidArgument, NotFound, RequestTooLarge

router = APIRouter(prefix="/api/v1/artifact-uploads", tags=["artifacts"], route_class=KeelRoute)

MAX_PARTS = 10_000
STALE_SECONDS = 24 * 3600
_UPLOAD_ID = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True)
class StartUpload:
    key: str


@dataclass(frozen=True)
class Upload:
    upload_id: str
    key: str


@dataclass(frozen=True)
class UploadedPart:
    part: int
    size: int
    sha256: str


@dataclass(frozen=True)
class CompleteUpload:
    parts: list[int]


def _root(state: ServerState) -> Path:
    return state.keel.settings.home_path / "uploads"


def _upload_dir(state: ServerState, upload_id: str) -> Path:
    if not _UPLOAD_ID.fullmatch(upload_id):
        raise InvalidArgument(f"invalid upload id {upload_id!r}", details={"field": "upload_id"})
    return _root(state) / upload_id


def _manifest(state: ServerState, upload_id: str) -> Upload:
    path = _upload_dir(state, upload_id) / "upload.json"
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise NotFound(f"no upload {upload_id} (completed, aborted or never started)",
                       details={"upload_id": upload_id}) from None
    return Upload(upload_id, str(data["key"]))


async def _upload_owner(request: Request, state: ServerState) -> Sequence[str]:
    upload_id = str(request.path_params.get("upload_id", ""))
    return [owner_of_key(state, _manifest(state, upload_id).key)]


async def _key_owner(request: Request, state: ServerState) -> Sequence[str]:
    from keel.api._authz import json_body

    body = await json_body(request)
    key = body.get("key") if isinstance(body, dict) else None
    return [owner_of_key(state, key)] if isinstance(key, str) else [ADMIN_ONLY]


_write = needs(Role.EDITOR, ResourceKind.EXPERIMENT, _upload_owner)


def _sweep(root: Path) -> None:
    """Remove uploads abandoned for a day (cheap: one directory listing per new upload)."""
    if not root.is_dir():
        return
    cutoff = time.time() - STALE_SECONDS
    for entry in root.iterdir():
        try:
            if entry.stat().st_mtime < cutoff:
                shutil.rmtree(entry, ignore_errors=True)
        except FileNotFoundError:
            continue


@router.post("", openapi_extra=body_spec(StartUpload), responses=returns(Upload, 201),
             status_code=201)
@permission(needs(Role.EDITOR, ResourceKind.EXPERIMENT, _key_owner))
def start_upload(request: Request,
                 body: StartUpload = Depends(body_of(StartUpload))) -> Response:
    state = state_of(request)
    key = safe_key(body.key)
    _sweep(_root(state))
    upload = Upload(new_id(), key)
    directory = _upload_dir(state, upload.upload_id)
    directory.mkdir(parents=True)
    (directory / "upload.json").write_text(json.dumps({"key": key}))
    return respond(upload, 201)


@router.put("/{upload_id}/parts/{part}", responses=returns(UploadedPart),
            openapi_extra={"requestBody": {"required": True, "content": {
                "application/octet-stream": {"schema": {"type": "string",
                                                        "format": "binary"}}}}})
@permission(_write)
async def upload_part(request: Request, upload_id: str,
                      part: Annotated[int, PathParam(ge=1, le=MAX_PARTS)]) -> Response:
    """Store one part (sending the same part again replaces it)."""
    state = state_of(request)
    directory = _upload_dir(state, upload_id)
    _manifest(state, upload_id)
    spool = await spool_body(request, state.config.max_artifact_bytes)
    try:
        uploaded = await run_in_threadpool(_write_part, spool, directory, part)
    finally:
        spool.close()
    return respond(uploaded)


def _write_part(spool: BinaryIO, directory: Path, part: int) -> UploadedPart:
    digest = hashlib.sha256()
    size = 0
    temporary = directory / f".part-{part}.{new_id()}"
    with temporary.open("wb") as out:
        while chunk := spool.read(1024 * 1024):
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
    temporary.replace(directory / f"part-{part:05d}")
    return UploadedPart(part, size, digest.hexdigest())


@router.post("/{upload_id}/complete", openapi_extra=body_spec(CompleteUpload),
             responses=returns(ArtifactInfo, 201), status_code=201)
@permission(_write)
def complete_upload(request: Request, upload_id: str,
                    body: CompleteUpload = Depends(body_of(CompleteUpload))) -> Response:
    """Join ``parts`` (in this order; each must have arrived) into the artifact, atomically."""
    state = state_of(request)
    upload = _manifest(state, upload_id)
    directory = _upload_dir(state, upload_id)
    if not body.parts or len(set(body.parts)) != len(body.parts):
        raise InvalidArgument("complete needs the list of part numbers, each once")
    files = [directory / f"part-{n:05d}" for n in body.parts
             if 1 <= n <= MAX_PARTS]
    missing = [n for n, f in zip(body.parts, files, strict=False) if not f.is_file()]
    if missing or len(files) != len(body.parts):
        raise InvalidArgument(f"upload {upload_id} is missing parts {missing[:20]}",
                              details={"missing": missing[:100]})
    total = sum(f.stat().st_size for f in files)
    if total > state.config.max_artifact_bytes:
        raise RequestTooLarge(f"the parts add up to {total} bytes, over the "
                              f"{state.config.max_artifact_bytes}-byte limit")
    info = state.keel.artifact_store.put_stream(_Joined(files), upload.key)  # type: ignore[arg-type]
    shutil.rmtree(directory, ignore_errors=True)
    return respond(info, 201)


@router.delete("/{upload_id}", status_code=204)
@permission(_write)
def abort_upload(request: Request, upload_id: str) -> Response:
    state = state_of(request)
    shutil.rmtree(_upload_dir(state, upload_id), ignore_errors=True)
    return Response(status_code=204)


class _Joined:
    """The parts as one readable stream (what ArtifactStore.put_stream reads)."""

    def __init__(self, files: list[Path]) -> None:
        self._files: Iterator[Path] = iter(files)
        self._current: BinaryIO | None = None

    def read(self, size: int = -1) -> bytes:
        while True:
            if self._current is None:
                path = next(self._files, None)
                if path is None:
                    return b""
                self._current = path.open("rb")
            chunk = self._current.read(size if size and size > 0 else 1024 * 1024)
            if chunk:
                return chunk
            self._current.close()
            self._current = None
