"""Logging to runs the MLflow way: ``log-metric``, ``log-parameter``, ``set-tag``,
``delete-tag``, ``log-batch``, ``log-model`` (MLflow 2's model history tag), ``log-inputs``
(datasets and models) and ``outputs`` (logged models).

MLflow's rules apply on top of keel's store: the run must be active; names follow MLflow's key
rules; a batch holds at most 1000 metrics, 100 params and 100 tags (1000 items in all); param
values are at most 6000 characters and can never change; tag values at most 8000. Metric points
carrying a ``model_id`` also update the logged model's latest metrics; a point the run already
holds (MLflow 3 logs a run's metrics again for the model it logs) is not appended twice.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from keel.api._authz import KeelRoute, needs, permission
from keel.api._json import respond_raw
from keel.api._state import ServerState, state_of
from keel.api.mlflow._body import Fields, mlflow_fields
from keel.api.mlflow._common import (
    active_run,
    check_key,
    check_length,
    get_model,
    models_store,
    run_field,
)
from keel.api.mlflow._errors import RESPONSES, invalid
from keel.api.mlflow._runs import apply_tags, run_id_of, tag_change
from keel.api.mlflow._shapes import CONTEXT_TAG, MLFLOW_PROFILE_KEY, NO_CONTEXT
from keel.api.v1._sources import check_dataset_source
from keel.auth import ResourceKind, Role
from keel.core.clock import now_ms
from keel.core.ids import new_id
from keel.core.naming import validate_key, validate_name
from keel.tracking.experiments import validate_tags
from keel.tracking.logged_models import INPUT, OUTPUT, LoggedModelMetric, RunModelLink
from keel.tracking.models import DatasetColumn, DatasetDescription, MetricRecord, Run
from keel.tracking.runs import checked_records

router = APIRouter(prefix="/api/2.0/mlflow", tags=["mlflow"],
                   route_class=KeelRoute, responses=RESPONSES)

_edit = needs(Role.EDITOR, ResourceKind.EXPERIMENT, run_field())
_manage = needs(Role.MANAGER, ResourceKind.EXPERIMENT, run_field())
MAX_METRICS, MAX_PARAMS, MAX_TAGS, MAX_ENTITIES = 1000, 100, 100, 1000
MAX_PARAM_VALUE = 6000
MAX_DATASET_FIELD = 1024 * 1024


# -- metrics ---------------------------------------------------------------------------------


def _metric(run: Run, fields: Fields) -> tuple[MetricRecord, dict[str, str | None]]:
    key = check_key(fields.need("key"), "metric")
    value = fields.number("value", required=True)
    assert value is not None
    timestamp = fields.integer("timestamp")
    record = MetricRecord(run.run_id, key, value, fields.integer("step") or 0,
                          now_ms() if timestamp is None else timestamp)
    extra = {name: fields.text(name) for name in ("model_id", "dataset_name", "dataset_digest")}
    return record, extra


def _log_metrics(request: Request, run: Run,
                 points: list[tuple[MetricRecord, dict[str, str | None]]]) -> None:
    """Append the points to the run; those naming a logged model (``model_id``) also update
    its latest metrics, and then points the run holds already are left out (MLflow 3 logs a
    run's metrics again for each model it logs, and MLflow never stores a point twice)."""
    state = state_of(request)
    records = checked_records([record for record, _ in points])
    by_model: dict[str, list[LoggedModelMetric]] = {}
    for record, extra in points:
        model_id = extra["model_id"]
        if model_id:
            if model_id not in by_model:
                model = get_model(state, model_id)
                state.check(request, Role.EDITOR, ResourceKind.EXPERIMENT, model.experiment_id)
            by_model.setdefault(model_id, []).append(LoggedModelMetric(
                record.key, record.value, record.step, record.timestamp, run.run_id,
                extra["dataset_name"], extra["dataset_digest"]))
    if by_model:
        records = _new_points(state, run.run_id, records)
    if records:
        state.keel.metadata.runs.log_metrics(records)
    for model_id, metrics in by_model.items():
        models_store(state).log_logged_model_metrics(model_id, metrics)


def _new_points(state: ServerState, run_id: str, records: list[MetricRecord]) -> list[
        MetricRecord]:
    """``records`` without the points the run already holds."""
    store = state.keel.metadata.runs
    held: dict[str, set[tuple[int, int, str]]] = {}
    out = []
    for record in records:
        if record.key not in held:
            held[record.key] = {(m.step, m.timestamp, repr(m.value))
                                for m in store.get_metric_history(run_id, record.key)}
        point = (record.step, record.timestamp, repr(record.value))
        if point not in held[record.key]:
            held[record.key].add(point)
            out.append(record)
    return out


@router.post("/runs/log-metric")
@permission(_edit)
def log_metric(request: Request, fields: Fields = Depends(mlflow_fields)) -> Response:
    state = state_of(request)
    run = active_run(state, run_id_of(fields))
    _log_metrics(request, run, [_metric(run, fields)])
    return respond_raw({})


# -- params, tags ----------------------------------------------------------------------------


def _params(params: dict[str, str]) -> list[tuple[str, str, str]]:
    out = []
    for key, value in params.items():
        check_key(key, "param")
        check_length(value, MAX_PARAM_VALUE, f"Param '{key}' value")
        out.append((key, value, "str"))
    return out


@router.post("/runs/log-parameter")
@permission(_edit)
def log_param(request: Request, fields: Fields = Depends(mlflow_fields)) -> Response:
    state = state_of(request)
    run = active_run(state, run_id_of(fields))
    params = _params({fields.need("key"): fields.text("value") or ""})
    state.keel.metadata.runs.log_params(run.run_id, params)
    return respond_raw({})


@router.post("/runs/set-tag")
@permission(_edit)
def set_tag(request: Request, fields: Fields = Depends(mlflow_fields)) -> Response:
    state = state_of(request)
    run = active_run(state, run_id_of(fields))
    apply_tags(state, run, tag_change(run, {fields.need("key"): fields.text("value") or ""}))
    return respond_raw({})


@router.post("/runs/delete-tag")
@permission(_manage)
def delete_tag(request: Request, fields: Fields = Depends(mlflow_fields)) -> Response:
    state = state_of(request)
    run = active_run(state, run_id_of(fields))
    key = fields.need("key")
    if key == "mlflow.note.content":
        state.keel.metadata.runs.update_run(run.run_id, note="")
    elif key in ("mlflow.runName", "mlflow.user", "mlflow.parentRunId"):
        raise invalid(f"tag {key} cannot be deleted: keel keeps it as a field of the run")
    else:
        state.keel.metadata.runs.delete_tag(run.run_id, key)
    return respond_raw({})


# -- batches ---------------------------------------------------------------------------------


@router.post("/runs/log-batch")
@permission(_edit)
def log_batch(request: Request, fields: Fields = Depends(mlflow_fields)) -> Response:
    state = state_of(request)
    metrics, params, tags = (fields.records("metrics"), fields.records("params"),
                             fields.records("tags"))
    for items, limit, what in ((metrics, MAX_METRICS, "metrics"), (params, MAX_PARAMS, "params"),
                               (tags, MAX_TAGS, "tags")):
        if len(items) > limit:
            raise invalid(f"A batch logging request can contain at most {limit} {what}. Got "
                          f"{len(items)} {what}. Please split up {what} across multiple "
                          "requests and try again.")
    total = len(metrics) + len(params) + len(tags)
    if total > MAX_ENTITIES:
        raise invalid(f"A batch logging request can contain at most {MAX_ENTITIES} metrics, "
                      f"params, and tags in total. Got {total}.")
    run = active_run(state, run_id_of(fields))
    param_values: dict[str, str] = {}
    for record in params:
        key, value = record.need("key"), record.text("value") or ""
        if param_values.get(key, value) != value:
            raise invalid(f"Duplicate parameter keys have been submitted: {key!r} with values "
                          f"{param_values[key]!r} and {value!r}.")
        param_values[key] = value
    checked_params = _params(param_values)
    points = [_metric(run, record) for record in metrics]
    change = tag_change(run, {record.need("key"): record.text("value") or "" for record in tags})
    if checked_params:
        state.keel.metadata.runs.log_params(run.run_id, checked_params)
    if points:
        _log_metrics(request, run, points)
    apply_tags(state, run, change)
    return respond_raw({})


@router.post("/runs/log-model")
@permission(_edit)
def log_model(request: Request, fields: Fields = Depends(mlflow_fields)) -> Response:
    """MLflow 2's record of a logged model: appended to the run's ``mlflow.log-model.history``
    tag (the files themselves go through the artifact proxy)."""
    state = state_of(request)
    run = active_run(state, run_id_of(fields))
    try:
        model = json.loads(fields.need("model_json"))
    except ValueError:
        raise invalid("model_json is not valid JSON") from None
    if not isinstance(model, dict):
        raise invalid("model_json must be a JSON object")
    history: list[Any] = []
    try:
        history = json.loads(run.tags.get("mlflow.log-model.history", "[]"))
    except ValueError:
        history = []
    history = [*history, model] if isinstance(history, list) else [model]
    # keel's own tag limit (64 KiB), not MLflow's 8000 characters, holds the growing history
    state.keel.metadata.runs.set_tags(
        run.run_id, validate_tags({"mlflow.log-model.history": json.dumps(history)}))
    return respond_raw({})


# -- inputs and outputs ----------------------------------------------------------------------


def _dataset(state: ServerState, fields: Fields) -> str:
    """The keel dataset version of an MLflow dataset (name and digest), created when new."""
    name = validate_name(fields.need("name"), "dataset name")
    digest = check_length(fields.need("digest"), 128, "dataset digest")
    described = {key: check_length(fields.text(key) or "", MAX_DATASET_FIELD, f"dataset {key}")
                 for key in ("source_type", "source", "schema", "profile")}
    uri = None
    if described["source"]:
        check_dataset_source(described["source"])
        try:
            parsed = json.loads(described["source"])
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            found = next((parsed[k] for k in ("uri", "url", "path") if k in parsed), None)
            if isinstance(found, str):
                uri = check_dataset_source(found)
    rows, columns = 0, []
    try:
        profile = json.loads(described["profile"] or "{}")
        rows = int(profile.get("num_rows", 0)) if isinstance(profile, dict) else 0
        schema = json.loads(described["schema"] or "{}")
        specs = schema.get("mlflow_colspec", []) if isinstance(schema, dict) else []
        columns = [DatasetColumn(str(c.get("name", f"_{i}")), str(c.get("type", "unknown")))
                   for i, c in enumerate(specs) if isinstance(c, dict)]
    except (ValueError, TypeError, AttributeError):
        pass
    description = DatasetDescription(digest=digest, num_rows=max(rows, 0), columns=columns,
                                     profile={MLFLOW_PROFILE_KEY: described}, source=uri)
    version, _ = state.keel.metadata.datasets.get_or_create_dataset_version(
        new_id(), name, description, now_ms())
    return version.dataset_version_id


def _readable_model(request: Request, model_id: str) -> str:
    """A logged model a run may link to: one the caller may read."""
    state = state_of(request)
    model = get_model(state, model_id)
    state.check(request, Role.READER, ResourceKind.EXPERIMENT, model.experiment_id)
    return model.model_id


@router.post("/runs/log-inputs")
@permission(_edit)
def log_inputs(request: Request, fields: Fields = Depends(mlflow_fields)) -> Response:
    state = state_of(request)
    run = active_run(state, run_id_of(fields))
    datasets, models = fields.records("datasets"), fields.records("models")
    if len(datasets) > MAX_ENTITIES:
        raise invalid(f"A request can log at most {MAX_ENTITIES} datasets, got {len(datasets)}")
    model_ids = [_readable_model(request, m.need("model_id")) for m in models]
    pairs = []
    for entry in datasets:
        context = entry.key_values("tags").get(CONTEXT_TAG) or NO_CONTEXT
        pairs.append((_dataset(state, entry.record("dataset")),
                      validate_key(context, "dataset context")))
    if pairs:
        state.keel.metadata.datasets.log_run_inputs(run.run_id, pairs)
    for model_id in model_ids:
        models_store(state).link_run_model(RunModelLink(run.run_id, model_id, INPUT, 0))
    return respond_raw({})


@router.post("/runs/outputs")
@permission(_edit)
def log_outputs(request: Request, fields: Fields = Depends(mlflow_fields)) -> Response:
    state = state_of(request)
    run = active_run(state, run_id_of(fields))
    links = [RunModelLink(run.run_id, _readable_model(request, m.need("model_id")), OUTPUT,
                          m.integer("step") or 0) for m in fields.records("models")]
    for link in links:
        models_store(state).link_run_model(link)
    return respond_raw({})
