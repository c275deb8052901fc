"""MLflow's artifact proxy, ``/api/2.0/mlflow-artifacts/artifacts/<key>`` (GET, PUT, DELETE) and
``…/artifacts?path=<prefix>`` (list), plus the run-relative listing
``/api/2.0/mlflow/artifacts/list``.

MLflow clients reach a run's files through its ``artifact_uri``, ``mlflow-artifacts:/<key>``,
where the key is the run's artifact location in keel's artifact store; logged models' files live
under ``<experiment location>/models/<model id>/artifacts``. Keys are decoded once (by
Starlette) and checked by :func:`keel.artifacts.paths.safe_key` before anything else happens;
the permission locator names the experiment owning the key (a key outside every run and model
needs an admin). Uploads into a run's artifacts are recorded (size, sha256) on the run, so keel
sees them as its own. Streaming, spooling and ranges are keel's own artifact routes'.

Multipart uploads are refused (BAD_REQUEST) with the message MLflow clients recognise, so they
fall back to plain uploads; presigned downloads do not exist here (ENDPOINT_NOT_FOUND, from
which clients fall back too), and ``/api/3.0/mlflow/server-info`` tells clients neither is
offered.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from keel.api._authz import AUTHENTICATED, KeelRoute, needs, permission
from keel.api._json import respond_raw
from keel.api._state import state_of
from keel.api.mlflow import _shapes
from keel.api.mlflow._body import Fields, mlflow_fields
from keel.api.mlflow._common import (
    artifact_path,
    artifact_query,
    artifact_uri,
    run_field,
    run_of_key,
)
from keel.api.mlflow._errors import RESPONSES, not_implemented
from keel.api.v1._artifacts import get_artifact, spool_body
from keel.artifacts.paths import safe_key, safe_prefix
from keel.auth import ResourceKind, Role
from keel.core.clock import now_ms
from keel.tracking.models import ArtifactRecord

router = APIRouter(tags=["mlflow"],
                   route_class=KeelRoute, responses=RESPONSES)

PROXY = "/api/2.0/mlflow-artifacts"
EXPERIMENT = ResourceKind.EXPERIMENT
_read = needs(Role.READER, EXPERIMENT, artifact_path())
_write = needs(Role.EDITOR, EXPERIMENT, artifact_path())
_delete = needs(Role.MANAGER, EXPERIMENT, artifact_path())
MULTIPART = ("Multipart upload is not supported for the current artifact repository: keel "
             "server takes each file in one request; unset MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD")


@router.put(PROXY + "/artifacts/{artifact_path:path}")
@permission(_write)
async def upload_artifact(request: Request, artifact_path: str) -> Response:
    state = state_of(request)
    key = safe_key(artifact_path)
    spool = await spool_body(request, state.config.max_artifact_bytes)
    try:
        info = await run_in_threadpool(state.keel.artifact_store.put_stream, spool, key)
    finally:
        spool.close()
    owner = await run_in_threadpool(run_of_key, state, key)
    if owner is not None:
        record = ArtifactRecord(owner[0], owner[1], info.size or 0, info.sha256 or "", now_ms())
        await run_in_threadpool(state.keel.metadata.runs.log_artifact_records, [record])
    return respond_raw({})


FILE: dict[int | str, dict[str, Any]] = {200: {
    "description": "The file's bytes (Range: bytes=a-b answers 206)",
    "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
}}


@router.get(PROXY + "/artifacts/{artifact_path:path}", responses=FILE)
@permission(_read)
def download_artifact(request: Request, artifact_path: str) -> Response:
    return get_artifact(request, safe_key(artifact_path))


@router.delete(PROXY + "/artifacts/{artifact_path:path}")
@permission(_delete)
def delete_artifact(request: Request, artifact_path: str) -> Response:
    state_of(request).keel.artifact_store.delete(safe_key(artifact_path))
    return respond_raw({})


@router.get(PROXY + "/artifacts")
@permission(needs(Role.READER, EXPERIMENT, artifact_query("path")))
def list_artifacts(request: Request, fields: Fields = Depends(mlflow_fields)) -> Response:
    """Direct children of ``path``, named by their last component (as MLflow answers)."""
    store = state_of(request).keel.artifact_store
    prefix = safe_prefix(fields.text("path") or "")
    files = [_shapes.file_info(entry.path.rpartition("/")[2], entry.is_dir, entry.size)
             for entry in store.list(prefix)]
    return respond_raw({"files": files} if files else {})


@router.post(PROXY + "/mpu/{action}/{artifact_path:path}")
@permission(_write)
def multipart_upload(request: Request, action: str, artifact_path: str) -> Response:
    raise not_implemented(MULTIPART)


@router.get("/api/2.0/mlflow/artifacts/list")
@permission(needs(Role.READER, EXPERIMENT, run_field()))
def list_run_artifacts(request: Request, fields: Fields = Depends(mlflow_fields)) -> Response:
    """Direct children of ``path`` in a run's artifacts, with paths relative to the run."""
    from keel.api.mlflow._runs import run_id_of

    state = state_of(request)
    run = state.keel.metadata.runs.get_run(run_id_of(fields))
    rel = safe_prefix(fields.text("path") or "")
    root = run.artifact_location.rstrip("/")
    files = []
    for entry in state.keel.artifact_store.list(f"{root}/{rel}" if rel else root):
        path = entry.path[len(root):].lstrip("/") if entry.path.startswith(root) else entry.path
        files.append(_shapes.file_info(path, entry.is_dir, entry.size))
    body: dict[str, Any] = {"root_uri": artifact_uri(run.artifact_location)}
    if files:
        body["files"] = files
    return respond_raw(body)


@router.get("/api/3.0/mlflow/server-info")
@permission(AUTHENTICATED)
def server_info(request: Request) -> Response:
    return respond_raw({"store_type": "keel", "workspaces_enabled": False,
                        "multipart_uploads_enabled": False,
                        "multipart_downloads_enabled": False})
