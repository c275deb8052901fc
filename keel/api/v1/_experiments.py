"""``/api/v1/experiments``: create, read, list, rename, tag, delete and restore experiments.

The request fields mirror the tracking port (keel.tracking.store), so keel's HTTP client can
implement the port over these routes; the server validates every field itself, because any
HTTP client may call them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import APIRouter, Depends, Request, Response

from keel.api._authz import AUTHENTICATED, KeelRoute, experiment_in, needs, permission
from keel.api._json import body_of, body_spec, respond, returns
from keel.api._state import state_of
from keel.api.v1._checks import (
    check_id,
    check_location,
    page_args,
    parse_tag_filters,
    time_or_now,
)
from keel.auth import ResourceKind, Role
from keel.core.ids import new_id
from keel.core.naming import validate_name
from keel.core.pagination import Page
from keel.errors import ExperimentNotFound
from keel.tracking.experiments import validate_tags
from keel.tracking.models import Experiment, LifecycleStage, ViewType

router = APIRouter(prefix="/api/v1/experiments", tags=["experiments"], route_class=KeelRoute)

EXPERIMENT = ResourceKind.EXPERIMENT
_read = needs(Role.READER, EXPERIMENT, experiment_in("experiment_id"))
_edit = needs(Role.EDITOR, EXPERIMENT, experiment_in("experiment_id"))
_manage = needs(Role.MANAGER, EXPERIMENT, experiment_in("experiment_id"))


@dataclass(frozen=True)
class CreateExperiment:
    name: str
    artifact_location: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    experiment_id: str | None = None
    created_at: int | None = None


@dataclass(frozen=True)
class RenameExperiment:
    name: str
    updated_at: int | None = None


@dataclass(frozen=True)
class SetTags:
    tags: dict[str, str]
    updated_at: int | None = None


@dataclass(frozen=True)
class StageChange:
    updated_at: int | None = None


@router.post("", openapi_extra=body_spec(CreateExperiment),
             responses=returns(Experiment, 201), status_code=201)
@permission(AUTHENTICATED)
def create_experiment(
    request: Request, body: CreateExperiment = Depends(body_of(CreateExperiment))
) -> Response:
    """A new experiment; its creator becomes its manager."""
    state = state_of(request)
    experiment_id = check_id(body.experiment_id, "experiment_id") or new_id()
    location = check_location(body.artifact_location) or experiment_id
    experiment = state.keel.metadata.experiments.create_experiment(
        experiment_id,
        validate_name(body.name, "experiment name"),
        location,
        validate_tags(body.tags),
        time_or_now(body.created_at, "created_at"),
    )
    state.grant_creator(request, EXPERIMENT, experiment.experiment_id)
    return respond(experiment, 201)


@router.get("", responses=returns(Page[Experiment]))
@permission(AUTHENTICATED)
def list_experiments(
    request: Request,
    view: ViewType = ViewType.ACTIVE_ONLY,
    name_like: str | None = None,
    max_results: int = 1000,
    page_token: str | None = None,
) -> Response:
    """Newest first. ``tag.<key>=<value>`` query parameters must all match."""
    limit, offset = page_args(max_results, page_token)
    state = state_of(request)
    page = state.keel.metadata.experiments.list_experiments(
        view, name_like, parse_tag_filters(request) or None, limit, offset
    )
    return respond(state.readable(request, page, EXPERIMENT, "experiment_id"))


@router.get("/by-name/{name}", responses=returns(Experiment))
@permission(AUTHENTICATED)
def get_experiment_by_name(request: Request, name: str) -> Response:
    state = state_of(request)
    experiment = state.keel.metadata.experiments.find_experiment_by_name(name)
    if experiment is None:
        raise ExperimentNotFound(f"no experiment named {name!r}", details={"name": name})
    state.check(request, Role.READER, EXPERIMENT, experiment.experiment_id)
    return respond(experiment)


@router.get("/{experiment_id}", responses=returns(Experiment))
@permission(_read)
def get_experiment(request: Request, experiment_id: str) -> Response:
    return respond(state_of(request).keel.metadata.experiments.get_experiment(experiment_id))


@router.patch("/{experiment_id}", openapi_extra=body_spec(RenameExperiment),
              responses=returns(Experiment))
@permission(_edit)
def rename_experiment(
    request: Request, experiment_id: str,
    body: RenameExperiment = Depends(body_of(RenameExperiment)),
) -> Response:
    store = state_of(request).keel.metadata.experiments
    return respond(store.rename_experiment(
        experiment_id, validate_name(body.name, "experiment name"),
        time_or_now(body.updated_at, "updated_at"),
    ))


@router.put("/{experiment_id}/tags", openapi_extra=body_spec(SetTags), status_code=204)
@permission(_edit)
def set_experiment_tags(
    request: Request, experiment_id: str, body: SetTags = Depends(body_of(SetTags))
) -> Response:
    state_of(request).keel.metadata.experiments.set_experiment_tags(
        experiment_id, validate_tags(body.tags), time_or_now(body.updated_at, "updated_at")
    )
    return Response(status_code=204)


@router.post("/{experiment_id}/delete", openapi_extra=body_spec(StageChange, required=False),
             responses=returns(Experiment))
@permission(_manage)
def delete_experiment(request: Request, experiment_id: str,
                      body: StageChange = Depends(body_of(StageChange))) -> Response:
    store = state_of(request).keel.metadata.experiments
    return respond(store.set_experiment_stage(
        experiment_id, LifecycleStage.DELETED, time_or_now(body.updated_at, "updated_at")))


@router.post("/{experiment_id}/restore", openapi_extra=body_spec(StageChange, required=False),
             responses=returns(Experiment))
@permission(_manage)
def restore_experiment(request: Request, experiment_id: str,
                      body: StageChange = Depends(body_of(StageChange))) -> Response:
    store = state_of(request).keel.metadata.experiments
    return respond(store.set_experiment_stage(
        experiment_id, LifecycleStage.ACTIVE, time_or_now(body.updated_at, "updated_at")))

