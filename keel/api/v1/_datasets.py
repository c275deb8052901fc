"""``/api/v1/datasets``: dataset versions (content-addressed, profiled by the client, which
holds the data) and the runs that used them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response

from keel.api._authz import AUTHENTICATED, KeelRoute, needs, permission, run_in
from keel.api._json import body_of, body_spec, respond, returns
from keel.api._state import state_of
from keel.api.v1._checks import check_id, page_args, time_or_now
from keel.auth import ResourceKind, Role
from keel.core.ids import new_id
from keel.core.naming import validate_key, validate_name
from keel.core.pagination import Page
from keel.errors import DatasetNotFound, InvalidArgument
from keel.tracking.models import DatasetDescription, DatasetVersion, RunInput

router = APIRouter(prefix="/api/v1", tags=["datasets"], route_class=KeelRoute)

MAX_DIGEST_CHARS = 128
MAX_VERSION = 2**31 - 1


@dataclass(frozen=True)
class CreateDatasetVersion:
    name: str
    description: DatasetDescription
    dataset_version_id: str | None = None
    created_at: int | None = None


@dataclass(frozen=True)
class DatasetVersionCreated:
    version: DatasetVersion
    created: bool


@dataclass(frozen=True)
class RunInputs:
    inputs: list[tuple[str, str]]
    """(dataset_version_id, context) pairs."""


@router.post("/datasets/versions", openapi_extra=body_spec(CreateDatasetVersion),
             responses=returns(DatasetVersionCreated))
@permission(AUTHENTICATED)
def get_or_create_dataset_version(
    request: Request, body: CreateDatasetVersion = Depends(body_of(CreateDatasetVersion))
) -> Response:
    """The version of ``name`` with this content digest, created when new."""
    description = body.description
    if not description.digest or len(description.digest) > MAX_DIGEST_CHARS:
        raise InvalidArgument("a dataset digest is 1 to 128 characters")
    if description.num_rows < 0:
        raise InvalidArgument("num_rows cannot be negative")
    if description.source is not None:
        from keel.api.v1._sources import check_dataset_source

        check_dataset_source(description.source)
    version, created = state_of(request).keel.metadata.datasets.get_or_create_dataset_version(
        check_id(body.dataset_version_id, "dataset_version_id") or new_id(),
        validate_name(body.name, "dataset name"),
        description,
        time_or_now(body.created_at, "created_at"),
    )
    return respond(DatasetVersionCreated(version, created))


@router.get("/datasets/versions", responses=returns(Page[DatasetVersion]))
@permission(AUTHENTICATED)
def list_dataset_versions(request: Request, name: str | None = None, max_results: int = 1000,
                          page_token: str | None = None) -> Response:
    limit, offset = page_args(max_results, page_token)
    store = state_of(request).keel.metadata.datasets
    return respond(store.list_dataset_versions(name, limit, offset))


@router.get("/datasets/versions/{dataset_version_id}", responses=returns(DatasetVersion))
@permission(AUTHENTICATED)
def get_dataset_version(request: Request, dataset_version_id: str) -> Response:
    store = state_of(request).keel.metadata.datasets
    return respond(store.get_dataset_version(dataset_version_id))


@router.get("/datasets/{name}/versions/{version}", responses=returns(DatasetVersion))
@permission(AUTHENTICATED)
def find_dataset_version(request: Request, name: str,
                         version: Annotated[int, Path(ge=1, le=MAX_VERSION)]) -> Response:
    found = state_of(request).keel.metadata.datasets.find_dataset_version(name, version)
    if found is None:
        raise DatasetNotFound(f"no dataset version {name} v{version}",
                              details={"name": name, "version": version})
    return respond(found)


@router.get("/datasets/versions/{dataset_version_id}/runs", responses=returns(list[RunInput]))
@permission(AUTHENTICATED)
def list_dataset_runs(request: Request, dataset_version_id: str) -> Response:
    state = state_of(request)
    inputs = state.keel.metadata.datasets.list_dataset_runs(dataset_version_id)
    visible = [i for i in inputs
               if state.auth is None
               or state.can(request, Role.READER, ResourceKind.EXPERIMENT,
                            state.run_owner(i.run_id)[0])]
    return respond(visible)


@router.post("/runs/{run_id}/inputs", openapi_extra=body_spec(RunInputs), status_code=204)
@permission(needs(Role.EDITOR, ResourceKind.EXPERIMENT, run_in("run_id")))
def log_run_inputs(request: Request, run_id: str,
                   body: RunInputs = Depends(body_of(RunInputs))) -> Response:
    for dataset_version_id, context in body.inputs:
        check_id(dataset_version_id, "dataset_version_id")
        validate_key(context, "dataset context")
    state_of(request).keel.metadata.datasets.log_run_inputs(run_id, body.inputs)
    return Response(status_code=204)


@router.get("/runs/{run_id}/inputs", responses=returns(list[RunInput]))
@permission(needs(Role.READER, ResourceKind.EXPERIMENT, run_in("run_id")))
def list_run_inputs(request: Request, run_id: str) -> Response:
    return respond(state_of(request).keel.metadata.datasets.list_run_inputs(run_id))
