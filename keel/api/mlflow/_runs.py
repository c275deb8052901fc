"""``/api/2.0/mlflow/runs/*`` and ``metrics/get-history``: an MLflow run IS a keel run (same id,
same tables), created, read, updated, deleted and searched through keel's run store.

MLflow's system tags become run fields (``mlflow.runName`` the name, ``mlflow.user`` the user,
``mlflow.parentRunId`` the parent, ``mlflow.note.content`` the note); other ``mlflow.*`` tags
(``mlflow.source.*``, ...) stay tags. Searches are translated into keel's query AST
(:mod:`keel.api.mlflow._search`) and run in SQL by the store.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from keel.api._authz import KeelRoute, needs, permission
from keel.api._json import respond_raw
from keel.api._state import ServerState, state_of
from keel.api.mlflow import _shapes
from keel.api.mlflow._body import Fields, mlflow_fields
from keel.api.mlflow._common import (
    DEFAULT_EXPERIMENT_ID,
    active_run,
    check_key,
    check_length,
    experiment_field,
    experiment_id_of,
    run_field,
)
from keel.api.mlflow._errors import RESPONSES, invalid
from keel.api.mlflow._search import page, run_filter, run_order, view_type
from keel.api.v1._checks import check_time
from keel.auth import ResourceKind, Role
from keel.core.clock import now_ms
from keel.core.ids import new_id
from keel.core.naming import validate_name
from keel.tracking._names import generate_run_name
from keel.tracking.experiments import validate_tags
from keel.tracking.logged_models import LoggedModelStore, RunModelLink
from keel.tracking.models import (
    DatasetVersion,
    LifecycleStage,
    Run,
    RunInput,
    RunStatus,
    ViewType,
)
from keel.tracking.query import DEFAULT_ORDER

router = APIRouter(prefix="/api/2.0/mlflow", tags=["mlflow"],
                   route_class=KeelRoute, responses=RESPONSES)

EXPERIMENT = ResourceKind.EXPERIMENT
_read = needs(Role.READER, EXPERIMENT, run_field())
_edit = needs(Role.EDITOR, EXPERIMENT, run_field())
_manage = needs(Role.MANAGER, EXPERIMENT, run_field())
MAX_TAG_VALUE = 8000
RUN_NAME, USER, PARENT, NOTE = ("mlflow.runName", "mlflow.user", "mlflow.parentRunId",
                                "mlflow.note.content")
_FIXED = {USER: "user", PARENT: "parent_run_id"}


def run_id_of(fields: Fields) -> str:
    run_id = fields.text("run_id") or fields.text("run_uuid")
    if not run_id:
        raise invalid("Missing value for required parameter 'run_id'. See the API docs for "
                      "more information about request parameters.", field="run_id")
    return run_id


def checked_tags(tags: dict[str, str]) -> dict[str, str]:
    for key, value in tags.items():
        check_key(key, "tag")
        check_length(value, MAX_TAG_VALUE, f"Tag '{key}' value")
    return validate_tags(tags)


@dataclass(frozen=True)
class TagChange:
    """Checked tags for a run: plain tags, and the name and note MLflow sets as tags."""

    tags: dict[str, str]
    name: str | None
    note: str | None


def tag_change(run: Run, tags: dict[str, str]) -> TagChange:
    tags = checked_tags(tags)
    for tag, attr in _FIXED.items():
        if tag in tags and tags.pop(tag) != (getattr(run, attr) or ""):
            raise invalid(f"tag {tag} cannot be changed after the run is created: keel keeps "
                          f"it as the run's {attr}", key=tag)
    name, note = tags.pop(RUN_NAME, None), tags.pop(NOTE, None)
    return TagChange(tags, validate_name(name, "run name") if name else None, note)


def apply_tags(state: ServerState, run: Run, change: TagChange) -> None:
    """Set tags on an active run, MLflow's system tags onto the run's fields."""
    store = state.keel.metadata.runs
    if change.name is not None or change.note is not None:
        store.update_run(run.run_id, name=change.name, note=change.note)
    if change.tags:
        store.set_tags(run.run_id, change.tags)


class RunReader:
    """Runs in MLflow's JSON shape, with their dataset inputs and logged-model links (dataset
    versions are read once per request)."""

    def __init__(self, state: ServerState) -> None:
        self._state = state
        self._versions: dict[str, DatasetVersion] = {}
        self._links: LoggedModelStore | None = getattr(state.keel.metadata, "mlflow_models",
                                                       None)
        self._inputs: dict[str, list[RunInput]] | None = None
        self._run_links: dict[str, list[RunModelLink]] | None = None

    def prefetch(self, runs: Sequence[Run]) -> None:
        """Read the inputs and model links of a page of runs in one query each (instead of
        two per run)."""
        ids = [run.run_id for run in runs]
        self._inputs = self._state.keel.metadata.datasets.list_inputs_of_runs(ids)
        self._run_links = (self._links.list_model_links_of_runs(ids)
                           if self._links is not None else {})

    def __call__(self, run: Run) -> dict[str, Any]:
        datasets = self._state.keel.metadata.datasets
        inputs = []
        if self._inputs is not None:
            run_inputs = self._inputs.get(run.run_id, [])
        else:
            run_inputs = datasets.list_run_inputs(run.run_id)
        for run_input in run_inputs:
            version = self._versions.get(run_input.dataset_version_id)
            if version is None:
                version = datasets.get_dataset_version(run_input.dataset_version_id)
                self._versions[version.dataset_version_id] = version
            inputs.append((version, run_input.context))
        if self._run_links is not None:
            links = self._run_links.get(run.run_id, [])
        else:
            links = (self._links.list_run_model_links(run.run_id)
                     if self._links is not None else [])
        return _shapes.run(run, inputs, links)


@router.post("/runs/create")
@permission(needs(Role.EDITOR, EXPERIMENT, experiment_field(default=DEFAULT_EXPERIMENT_ID)))
def create_run(request: Request, fields: Fields = Depends(mlflow_fields)) -> Response:
    state = state_of(request)
    experiment_id = experiment_id_of(state, fields.text("experiment_id") or DEFAULT_EXPERIMENT_ID)
    experiment = state.keel.metadata.experiments.get_experiment(experiment_id)
    if experiment.lifecycle_stage is not LifecycleStage.ACTIVE:
        raise invalid(f"The experiment {experiment_id} must be in the 'active' state. Current "
                      f"state is {experiment.lifecycle_stage.value}.")
    tags = checked_tags(fields.key_values("tags"))
    run_name = fields.text("run_name")
    tagged_name = tags.pop(RUN_NAME, None)
    if run_name and tagged_name and run_name != tagged_name:
        raise invalid(f"Both 'run_name' argument and 'mlflow.runName' tag are specified, but "
                      f"with different values (run_name='{run_name}', "
                      f"mlflow.runName='{tagged_name}').")
    name = validate_name(run_name or tagged_name or generate_run_name(), "run name")
    user = tags.pop(USER, None) or fields.text("user_id") or None
    if state.auth is not None:
        user = str(request.state.principal.name)
    parent = tags.pop(PARENT, None) or None
    note = tags.pop(NOTE, None)
    run_id = new_id()
    start = check_time(fields.integer("start_time"), "start_time")
    store = state.keel.metadata.runs
    run = store.create_run(
        run_id, experiment.experiment_id, name, now_ms() if start is None else start,
        f"{experiment.artifact_location}/{run_id}/artifacts", parent,
        validate_name(user, "user") if user else None, tags)
    if note:
        run = store.update_run(run_id, note=note)
    return respond_raw({"run": RunReader(state)(run)})


@router.get("/runs/get")
@permission(_read)
def get_run(request: Request, fields: Fields = Depends(mlflow_fields)) -> Response:
    state = state_of(request)
    run = state.keel.metadata.runs.get_run(run_id_of(fields))
    return respond_raw({"run": RunReader(state)(run)})


@router.post("/runs/update")
@permission(_edit)
def update_run(request: Request, fields: Fields = Depends(mlflow_fields)) -> Response:
    state = state_of(request)
    run = active_run(state, run_id_of(fields))
    raw_status = fields.text("status")
    try:
        status = RunStatus(raw_status.upper()) if raw_status else None
    except ValueError:
        raise invalid(f"Invalid run status {raw_status!r}; expected one of "
                      "RUNNING, FINISHED, FAILED, KILLED") from None
    name = fields.text("run_name")
    updated = state.keel.metadata.runs.update_run(
        run.run_id, status=status, end_time=check_time(fields.integer("end_time"), "end_time"),
        name=validate_name(name, "run name") if name else None)
    return respond_raw({"run_info": _shapes.run_info(updated)})


def _set_stage(request: Request, fields: Fields, stage: LifecycleStage) -> Response:
    state = state_of(request)
    state.keel.metadata.runs.set_run_stage(run_id_of(fields), stage)
    return respond_raw({})


@router.post("/runs/delete")
@permission(_manage)
def delete_run(request: Request, fields: Fields = Depends(mlflow_fields)) -> Response:
    return _set_stage(request, fields, LifecycleStage.DELETED)


@router.post("/runs/restore")
@permission(_manage)
def restore_run(request: Request, fields: Fields = Depends(mlflow_fields)) -> Response:
    return _set_stage(request, fields, LifecycleStage.ACTIVE)


async def _search_experiments(request: Request, state: ServerState) -> list[str]:
    from keel.api._authz import json_body

    body = await json_body(request)
    ids = body.get("experiment_ids") if isinstance(body, dict) else None
    if not isinstance(ids, list):
        return []
    return sorted({experiment_id_of(state, str(i)) for i in ids if isinstance(i, str | int)})


@router.post("/runs/search")
@permission(needs(Role.READER, EXPERIMENT, _search_experiments))
def search_runs(request: Request, fields: Fields = Depends(mlflow_fields)) -> Response:
    state = state_of(request)
    experiment_ids = [experiment_id_of(state, e) for e in fields.texts("experiment_ids")]
    expr = run_filter(fields.text("filter"))
    order = run_order(fields.texts("order_by")) or DEFAULT_ORDER
    view = ViewType(view_type(fields.raw("run_view_type")))
    max_results = fields.integer("max_results")
    size = 1000 if max_results is None else max_results
    if not 1 <= size <= 50_000:
        raise invalid(f"Invalid value {size} for parameter 'max_results' supplied. It must be "
                      "at most 50000")
    from keel.core.pagination import decode_page_token

    found = state.keel.metadata.runs.search_runs(
        experiment_ids, expr, order, view, size, decode_page_token(fields.text("page_token")))
    read = RunReader(state)
    read.prefetch(found.items)
    body: dict[str, Any] = {"runs": [read(run) for run in found.items]}
    if found.next_page_token:
        body["next_page_token"] = found.next_page_token
    return respond_raw(body)


@router.get("/metrics/get-history")
@permission(_read)
def get_metric_history(request: Request, fields: Fields = Depends(mlflow_fields)) -> Response:
    state = state_of(request)
    run_id = run_id_of(fields)
    key = fields.need("metric_key")
    state.keel.metadata.runs.get_run(run_id)
    history = state.keel.metadata.runs.get_metric_history(run_id, key)
    items, token = page(history, fields.integer("max_results") or len(history) or 1,
                        fields.text("page_token"), limit=max(len(history), 25_000))
    body: dict[str, Any] = {"metrics": [_shapes.metric(m) for m in items]}
    if token:
        body["next_page_token"] = token
    return respond_raw(body)

