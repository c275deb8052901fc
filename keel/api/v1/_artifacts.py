"""``/api/v1/artifacts``: the artifact proxy. Clients read and write the artifact store through
the server and never hold credentials for it.

Keys are store keys (``<experiment location>/<run id>/artifacts/<path>``); the path is decoded
once by the server (Starlette), then checked by :func:`keel.artifacts.paths.safe_key`, which
refuses traversal in every spelling (``..``, backslashes, absolute and drive paths, encoded and
double-encoded dots, URL syntax). Uploads are spooled to disk past 8 MiB and streamed into the
store; downloads stream in 1 MiB chunks and honour a single ``Range``. Large files can also be
sent in parts (``/api/v1/artifact-uploads``), each part retried on its own.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from typing import BinaryIO

from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from keel.api._authz import KeelRoute, artifact_key_in, needs, permission
from keel.api._errors import HttpError
from keel.api._json import respond, returns
from keel.api._state import state_of
from keel.artifacts import ArtifactInfo
from keel.artifacts.paths import safe_key, safe_prefix
from keel.auth import ResourceKind, Role
from keel.errors import RequestTooLarge

router = APIRouter(prefix="/api/v1", tags=["artifacts"], route_class=KeelRoute)

CHUNK = 1024 * 1024
SPOOL_IN_MEMORY = 8 * 1024 * 1024
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")

_read = needs(Role.READER, ResourceKind.EXPERIMENT, artifact_key_in("key"))
_write = needs(Role.EDITOR, ResourceKind.EXPERIMENT, artifact_key_in("key"))
_delete = needs(Role.MANAGER, ResourceKind.EXPERIMENT, artifact_key_in("key"))
_list = needs(Role.READER, ResourceKind.EXPERIMENT, artifact_key_in("prefix"))


async def spool_body(request: Request, limit: int) -> BinaryIO:
    """The request body in a temporary file (memory up to 8 MiB), rewound; RequestTooLarge past
    ``limit`` bytes."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise RequestTooLarge(f"artifact upload exceeds the {limit}-byte limit")
            await run_in_threadpool(spool.write, chunk)
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    return spool  # type: ignore[return-value]


@router.put("/artifacts/{key:path}", responses=returns(ArtifactInfo, 201), status_code=201,
            openapi_extra={"requestBody": {"required": True, "content": {
                "application/octet-stream": {"schema": {"type": "string",
                                                        "format": "binary"}}}}})
@permission(_write)
async def put_artifact(request: Request, key: str) -> Response:
    """Store the body at ``key`` (atomically: a failed upload leaves nothing behind)."""
    state = state_of(request)
    checked = safe_key(key)
    spool = await spool_body(request, state.config.max_artifact_bytes)
    try:
        info = await run_in_threadpool(state.keel.artifact_store.put_stream, spool, checked)
    finally:
        spool.close()
    return respond(info, 201)


_BYTES = {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}


@router.get("/artifacts/{key:path}", responses={
    200: {"description": "The file", "content": _BYTES},
    206: {"description": "The requested range", "content": _BYTES}})
@permission(_read)
def get_artifact(request: Request, key: str) -> Response:
    """The file's bytes, streamed; ``Range: bytes=a-b`` answers 206 with that slice."""
    store = state_of(request).keel.artifact_store
    checked = safe_key(key)
    info = store.info(checked)
    size = info.size or 0
    start, end = 0, size - 1
    status = 200
    header = request.headers.get("range")
    if header:
        start, end = _parse_range(header, size)
        status = 206
    handle = store.open(checked)
    if start:
        handle.seek(start)
    headers = {"Accept-Ranges": "bytes", "Content-Length": str(max(end - start + 1, 0))}
    if status == 206:
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    if info.sha256:
        headers["X-Keel-Sha256"] = info.sha256
    return StreamingResponse(_chunks(handle, end - start + 1), status_code=status,
                             media_type="application/octet-stream", headers=headers)


def _chunks(handle: BinaryIO, remaining: int) -> Iterator[bytes]:
    try:
        while remaining > 0:
            chunk = handle.read(min(CHUNK, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk
    finally:
        handle.close()


def _parse_range(header: str, size: int) -> tuple[int, int]:
    match = _RANGE.fullmatch(header.strip())
    if match is None or (not match.group(1) and not match.group(2)):
        raise HttpError(416, "RANGE_NOT_SATISFIABLE",
                        f"unsupported Range {header!r}: one 'bytes=a-b' range is supported")
    first, last = match.group(1), match.group(2)
    if not first:
        start, end = max(size - int(last), 0), size - 1
    else:
        start = int(first)
        end = min(int(last), size - 1) if last else size - 1
    if start >= size or start > end:
        raise HttpError(416, "RANGE_NOT_SATISFIABLE",
                        f"Range {header!r} is outside the file's {size} bytes", size=size)
    return start, end


@router.get("/artifact-info/{key:path}", responses=returns(ArtifactInfo))
@permission(_read)
def artifact_info(request: Request, key: str) -> Response:
    return respond(state_of(request).keel.artifact_store.info(safe_key(key)))


@router.delete("/artifacts/{key:path}", status_code=204)
@permission(_delete)
def delete_artifact(request: Request, key: str) -> Response:
    state_of(request).keel.artifact_store.delete(safe_key(key))
    return Response(status_code=204)


@router.get("/artifacts", responses=returns(list[ArtifactInfo]))
@permission(_list)
def list_artifacts(request: Request, prefix: str = "", recursive: bool = False) -> Response:
    """Entries under ``prefix`` (paths relative to the store root)."""
    store = state_of(request).keel.artifact_store
    return respond(store.list(safe_prefix(prefix), recursive=recursive))
