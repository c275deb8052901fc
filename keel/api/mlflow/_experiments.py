"""``/api/2.0/mlflow/experiments/*``: MLflow's experiment API over keel's experiments.

keel experiment ids are 32 hex characters, which MLflow clients take as they are; MLflow's
experiment "0" is keel's "Default" experiment. An experiment's ``artifact_location`` is a key
inside keel's artifact store (``mlflow-artifacts:/<key>`` or the bare key), never a URL or a
path elsewhere.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from keel.api._authz import AUTHENTICATED, KeelRoute, needs, permission
from keel.api._json import respond_raw
from keel.api._state import ServerState, state_of
from keel.api.mlflow import _shapes
from keel.api.mlflow._body import Fields, mlflow_fields
from keel.api.mlflow._common import (
    SCHEME,
    check_length,
    experiment_field,
    experiment_id_of,
    key_of_uri,
)
from keel.api.mlflow._errors import RESPONSES, invalid, not_implemented
from keel.api.mlflow._search import (
    NUMERIC_OPS,
    STRING_OPS,
    Clause,
    check_clause,
    evaluate,
    page,
    parse_clauses,
    parse_order,
    sort_key,
    view_type,
)
from keel.api.v1._checks import check_location
from keel.auth import ResourceKind, Role
from keel.core.clock import now_ms
from keel.core.ids import new_id
from keel.core.naming import validate_name
from keel.errors import ExperimentNotFound
from keel.tracking.experiments import validate_tags
from keel.tracking.models import Experiment, LifecycleStage, ViewType

router = APIRouter(prefix="/api/2.0/mlflow/experiments", tags=["mlflow"],
                   route_class=KeelRoute, responses=RESPONSES)

EXPERIMENT = ResourceKind.EXPERIMENT
_read = needs(Role.READER, EXPERIMENT, experiment_field())
_edit = needs(Role.EDITOR, EXPERIMENT, experiment_field())
_manage = needs(Role.MANAGER, EXPERIMENT, experiment_field())
MAX_TAG_VALUE = 20_000
_ENTITIES = {"tag": "tag", "tags": "tag", "attribute": "attribute", "attributes": "attribute",
             "attr": "attribute"}
_ATTRIBUTES = {"name": "name", "experiment_id": "experiment_id",
               "creation_time": "creation_time", "last_update_time": "last_update_time"}
_ORDER = {**_ATTRIBUTES, **{f"attribute.{k}": v for k, v in _ATTRIBUTES.items()},
          **{f"attributes.{k}": v for k, v in _ATTRIBUTES.items()}}


def _tags(fields: Fields) -> dict[str, str]:
    tags = fields.key_values("tags")
    for key, value in tags.items():
        check_length(key, 250, "experiment tag key")
        check_length(value, MAX_TAG_VALUE, f"experiment tag '{key}' value")
    return validate_tags(tags)


def location_of(raw: str | None) -> str | None:
    """The store key a client's ``artifact_location`` names (refused unless inside the store)."""
    if raw and raw.startswith(SCHEME):
        return key_of_uri(raw)
    return check_location(raw)


@router.post("/create")
@permission(AUTHENTICATED)
def create_experiment(request: Request, fields: Fields = Depends(mlflow_fields)) -> Response:
    state = state_of(request)
    name = validate_name(fields.need("name"), "experiment name")
    experiment_id = new_id()
    location = location_of(fields.text("artifact_location")) or experiment_id
    experiment = state.keel.metadata.experiments.create_experiment(
        experiment_id, name, location, _tags(fields), now_ms())
    state.grant_creator(request, EXPERIMENT, experiment.experiment_id)
    return respond_raw({"experiment_id": experiment.experiment_id})


@router.get("/get")
@permission(_read)
def get_experiment(request: Request, fields: Fields = Depends(mlflow_fields)) -> Response:
    state = state_of(request)
    experiment_id = experiment_id_of(state, fields.need("experiment_id"))
    found = state.keel.metadata.experiments.get_experiment(experiment_id)
    return respond_raw({"experiment": _shapes.experiment(found)})


@router.get("/get-by-name")
@permission(AUTHENTICATED)
def get_experiment_by_name(request: Request, fields: Fields = Depends(mlflow_fields)) -> Response:
    state = state_of(request)
    name = fields.need("experiment_name")
    found = state.keel.metadata.experiments.find_experiment_by_name(name)
    if found is None:
        raise ExperimentNotFound(f"Could not find experiment with name '{name}'",
                                 details={"name": name})
    state.check(request, Role.READER, EXPERIMENT, found.experiment_id)
    return respond_raw({"experiment": _shapes.experiment(found)})


def _all(state: ServerState, view: ViewType) -> list[Experiment]:
    store = state.keel.metadata.experiments
    out: list[Experiment] = []
    while True:
        got = store.list_experiments(view, None, None, 50_000, len(out)).items
        out.extend(got)
        if len(got) < 50_000:
            return out


def _field(e: Experiment, clause: Clause) -> Any:
    if clause.entity == "tag":
        return e.tags.get(clause.key)
    return _value(e, _ATTRIBUTES[clause.key])


def _value(e: Experiment, name: str) -> Any:
    return {"name": e.name, "experiment_id": e.experiment_id, "creation_time": e.created_at,
            "last_update_time": e.updated_at}[name]


def _check(clause: Clause) -> Clause:
    if clause.entity == "attribute" and clause.key not in _ATTRIBUTES:
        raise invalid(f"Invalid attribute key '{clause.key}' specified. Valid keys are "
                      f"{', '.join(sorted(_ATTRIBUTES))}")
    numeric = clause.entity == "attribute" and clause.key.endswith("_time")
    ops = NUMERIC_OPS if numeric else STRING_OPS | (
        frozenset({"IN", "NOT IN"}) if clause.key == "experiment_id" else frozenset())
    check_clause(clause, ops, numeric)
    return clause


@router.post("/search")
@permission(AUTHENTICATED)
def search_experiments(request: Request, fields: Fields = Depends(mlflow_fields)) -> Response:
    state = state_of(request)
    clauses = [_check(c) for c in parse_clauses(fields.text("filter"), _ENTITIES, "attribute")]
    order = parse_order(fields.texts("order_by"), _ORDER) or [("creation_time", True)]
    view = ViewType(view_type(fields.raw("view_type")))
    found = [e for e in _all(state, view) if evaluate(clauses, partial(_field, e))]
    found = [e for e in found if state.can(request, Role.READER, EXPERIMENT, e.experiment_id)]
    ordered = sorted(found, key=sort_key([*order, ("experiment_id", False)], _value))
    items, token = page(ordered, fields.integer("max_results"), fields.text("page_token"))
    body: dict[str, Any] = {"experiments": [_shapes.experiment(e) for e in items]}
    if token:
        body["next_page_token"] = token
    return respond_raw(body)


def _stage(request: Request, fields: Fields, stage: LifecycleStage) -> Response:
    state = state_of(request)
    experiment_id = experiment_id_of(state, fields.need("experiment_id"))
    state.keel.metadata.experiments.set_experiment_stage(experiment_id, stage, now_ms())
    return respond_raw({})


@router.post("/delete")
@permission(_manage)
def delete_experiment(request: Request, fields: Fields = Depends(mlflow_fields)) -> Response:
    return _stage(request, fields, LifecycleStage.DELETED)


@router.post("/restore")
@permission(_manage)
def restore_experiment(request: Request, fields: Fields = Depends(mlflow_fields)) -> Response:
    return _stage(request, fields, LifecycleStage.ACTIVE)


@router.post("/update")
@permission(_edit)
def rename_experiment(request: Request, fields: Fields = Depends(mlflow_fields)) -> Response:
    state = state_of(request)
    experiment_id = experiment_id_of(state, fields.need("experiment_id"))
    new_name = validate_name(fields.need("new_name"), "experiment name")
    state.keel.metadata.experiments.rename_experiment(experiment_id, new_name, now_ms())
    return respond_raw({})


@router.post("/set-experiment-tag")
@permission(_edit)
def set_experiment_tag(request: Request, fields: Fields = Depends(mlflow_fields)) -> Response:
    state = state_of(request)
    experiment_id = experiment_id_of(state, fields.need("experiment_id"))
    key = check_length(fields.need("key"), 250, "experiment tag key")
    value = check_length(fields.text("value") or "", MAX_TAG_VALUE, "experiment tag value")
    state.keel.metadata.experiments.set_experiment_tags(
        experiment_id, validate_tags({key: value}), now_ms())
    return respond_raw({})


@router.post("/delete-experiment-tag")
@permission(_manage)
def delete_experiment_tag(request: Request, fields: Fields = Depends(mlflow_fields)) -> Response:
    raise not_implemented("deleting an experiment tag is not supported by keel server; set the "
                          "tag to another value instead")
