"""``/api/v1/runs`` and ``/api/v1/metrics``: runs, params, tags, metrics, search and artifact
records. Metric points travel column-wise (one array per field), which is what makes logging
100,000 points one small request instead of 100,000 objects.

These routes keep the tracking port's contract exactly (keel's client implements the port with
them and passes the same contract suite as the SQL store). Lifecycle rules that sit above the
port, such as refusing to log to a deleted run, are the services' (which keel's client runs);
the MLflow-compatible routes apply MLflow's rules themselves."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import APIRouter, Depends, Request, Response

from keel.api._authz import KeelRoute, experiment_in, json_body, needs, permission, run_in
from keel.api._json import body_of, body_spec, respond, respond_raw, returns
from keel.api._state import ServerState, state_of
from keel.api.v1._checks import check_id, check_time, page_args, time_or_now
from keel.auth import ResourceKind, Role
from keel.core.ids import new_id
from keel.core.naming import validate_key, validate_name
from keel.core.pagination import Page
from keel.tracking._filter_parser import parse_filter, parse_order_by
from keel.tracking._wire import (
    MetricColumns,
    decode_expr,
    decode_metric_columns,
    decode_order,
    metric_history_columns,
)
from keel.tracking.experiments import validate_tags
from keel.tracking.models import ArtifactRecord, LifecycleStage, Run, RunStatus, ViewType
from keel.tracking.runs import checked_records

router = APIRouter(prefix="/api/v1", tags=["runs"], route_class=KeelRoute)

EXPERIMENT = ResourceKind.EXPERIMENT
_read = needs(Role.READER, EXPERIMENT, run_in("run_id"))
_edit = needs(Role.EDITOR, EXPERIMENT, run_in("run_id"))
_manage = needs(Role.MANAGER, EXPERIMENT, run_in("run_id"))


@dataclass(frozen=True)
class CreateRun:
    experiment_id: str
    name: str
    run_id: str | None = None
    start_time: int | None = None
    parent_run_id: str | None = None
    user: str | None = None
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class UpdateRun:
    status: RunStatus | None = None
    end_time: int | None = None
    name: str | None = None
    error: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class SetStage:
    stage: LifecycleStage


@dataclass(frozen=True)
class LogParams:
    params: list[tuple[str, str, str]]
    """(key, text, type) triples, as keel.core.values.encode_value makes them."""


@dataclass(frozen=True)
class SetTags:
    tags: dict[str, str]


@dataclass(frozen=True)
class SearchRuns:
    experiment_ids: list[str]
    filter: str | None = None
    filter_tree: dict[str, object] | None = None
    order_by: list[str] = field(default_factory=list)
    order_tree: list[tuple[str, str, bool]] | None = None
    view: ViewType = ViewType.ACTIVE_ONLY
    max_results: int = 1000
    page_token: str | None = None


@dataclass(frozen=True)
class ArtifactRecords:
    records: list[ArtifactRecord]


@router.post("/runs", openapi_extra=body_spec(CreateRun), responses=returns(Run, 201),
             status_code=201)
@permission(needs(Role.EDITOR, EXPERIMENT, experiment_in("experiment_id", "body")))
def create_run(request: Request, body: CreateRun = Depends(body_of(CreateRun))) -> Response:
    state = state_of(request)
    experiment = state.keel.metadata.experiments.get_experiment(body.experiment_id)
    run_id = check_id(body.run_id, "run_id") or new_id()
    run = state.keel.metadata.runs.create_run(
        run_id,
        experiment.experiment_id,
        validate_name(body.name, "run name"),
        time_or_now(body.start_time, "start_time"),
        f"{experiment.artifact_location}/{run_id}/artifacts",
        check_id(body.parent_run_id, "parent_run_id"),
        _user(request, body.user),
        validate_tags(body.tags),
    )
    return respond(run, 201)


def _user(request: Request, claimed: str | None) -> str | None:
    """With authentication on, a run belongs to the caller, whatever the body claims."""
    state = state_of(request)
    if state.auth is not None:
        return str(request.state.principal.name)
    return validate_name(claimed, "user") if claimed is not None else None


@router.get("/runs/{run_id}", responses=returns(Run))
@permission(_read)
def get_run(request: Request, run_id: str) -> Response:
    return respond(state_of(request).keel.metadata.runs.get_run(run_id))


@router.patch("/runs/{run_id}", openapi_extra=body_spec(UpdateRun), responses=returns(Run))
@permission(_edit)
def update_run(request: Request, run_id: str,
               body: UpdateRun = Depends(body_of(UpdateRun))) -> Response:
    store = state_of(request).keel.metadata.runs
    return respond(store.update_run(
        run_id,
        status=body.status,
        end_time=check_time(body.end_time, "end_time"),
        name=validate_name(body.name, "run name") if body.name is not None else None,
        error=body.error,
        note=body.note,
    ))


@router.post("/runs/{run_id}/stage", openapi_extra=body_spec(SetStage), responses=returns(Run))
@permission(_manage)
def set_run_stage(request: Request, run_id: str,
                  body: SetStage = Depends(body_of(SetStage))) -> Response:
    return respond(state_of(request).keel.metadata.runs.set_run_stage(run_id, body.stage))


@router.post("/runs/{run_id}/params", openapi_extra=body_spec(LogParams), status_code=204)
@permission(_edit)
def log_params(request: Request, run_id: str,
               body: LogParams = Depends(body_of(LogParams))) -> Response:
    from keel.core.values import decode_value

    for key, text, kind in body.params:
        validate_key(key, "param key")
        decode_value(text, kind)  # refuses unknown types and text that does not parse
    state_of(request).keel.metadata.runs.log_params(run_id, body.params)
    return Response(status_code=204)


@router.put("/runs/{run_id}/tags", openapi_extra=body_spec(SetTags), status_code=204)
@permission(_edit)
def set_tags(request: Request, run_id: str, body: SetTags = Depends(body_of(SetTags))) -> Response:
    tags = validate_tags(body.tags)
    state_of(request).keel.metadata.runs.set_tags(run_id, tags)
    return Response(status_code=204)


@router.delete("/runs/{run_id}/tags/{key}", status_code=204)
@permission(_edit)
def delete_tag(request: Request, run_id: str, key: str) -> Response:
    state_of(request).keel.metadata.runs.delete_tag(run_id, key)
    return Response(status_code=204)


@router.post("/metrics", openapi_extra=body_spec(MetricColumns), status_code=204)
@permission(needs(Role.EDITOR, EXPERIMENT, run_in("run_id", "body")))
def log_metrics(request: Request,
                body: MetricColumns = Depends(body_of(MetricColumns))) -> Response:
    """Points for any runs, column-wise: ``run_id`` (one id, or one per point), ``key``,
    ``value`` (numbers, or "NaN"/"Infinity"/"-Infinity"), ``step``, ``timestamp``."""
    records = checked_records(decode_metric_columns(body))
    state_of(request).keel.metadata.runs.log_metrics(records)
    return Response(status_code=204)


@router.get("/runs/{run_id}/metrics/{key}/history")
@permission(_read)
def get_metric_history(request: Request, run_id: str, key: str) -> Response:
    """``{"step": [...], "value": [...], "timestamp": [...]}`` ordered by step."""
    history = state_of(request).keel.metadata.runs.get_metric_history(run_id, key)
    return respond_raw(metric_history_columns(history))


@router.get("/runs/{run_id}/metric-steps", responses=returns(dict[str, int]))
@permission(_read)
def max_metric_steps(request: Request, run_id: str) -> Response:
    return respond(state_of(request).keel.metadata.runs.max_metric_steps(run_id))


@router.post("/runs/search", openapi_extra=body_spec(SearchRuns), responses=returns(Page[Run]))
@permission(needs(Role.READER, EXPERIMENT,
                  lambda request, state: _experiment_ids(request)))
def search_runs(request: Request, body: SearchRuns = Depends(body_of(SearchRuns))) -> Response:
    """Runs of the given experiments matching ``filter`` (keel's search language, or the
    parsed ``filter_tree`` keel's client sends), ordered by ``order_by``."""
    limit, offset = page_args(body.max_results, body.page_token)
    expr = decode_expr(body.filter_tree) if body.filter_tree is not None else parse_filter(
        body.filter
    )
    if body.order_tree is not None:
        order = decode_order(body.order_tree)
    else:
        order = parse_order_by(body.order_by)
    page = state_of(request).keel.metadata.runs.search_runs(
        body.experiment_ids, expr, order, body.view, limit, offset
    )
    return respond(page)


async def _experiment_ids(request: Request) -> list[str]:
    body = await json_body(request)
    ids = body.get("experiment_ids") if isinstance(body, dict) else None
    return [str(i) for i in ids] if isinstance(ids, list) else []


async def _record_owners(request: Request, state: ServerState) -> list[str]:
    body = await json_body(request)
    records = body.get("records") if isinstance(body, dict) else None
    run_ids = {r.get("run_id") for r in records or [] if isinstance(r, dict)}
    return sorted({state.run_owner(r)[0] for r in run_ids if isinstance(r, str)})


@router.post("/artifact-records", openapi_extra=body_spec(ArtifactRecords), status_code=204)
@permission(needs(Role.EDITOR, EXPERIMENT, _record_owners))
def log_artifact_records(request: Request,
                         body: ArtifactRecords = Depends(body_of(ArtifactRecords))) -> Response:
    """Size and sha256 of artifact files (any runs; all or nothing)."""
    from keel.artifacts.paths import safe_key

    for record in body.records:
        safe_key(record.path)
    state_of(request).keel.metadata.runs.log_artifact_records(body.records)
    return Response(status_code=204)


@router.get("/runs/{run_id}/artifact-records", responses=returns(list[ArtifactRecord]))
@permission(_read)
def list_artifact_records(request: Request, run_id: str, prefix: str = "") -> Response:
    return respond(state_of(request).keel.metadata.runs.list_artifact_records(run_id, prefix))

