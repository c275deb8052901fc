"""MLflow 3 logged models, ``/api/2.0/mlflow/logged-models`` (what current clients call) and
``/api/3.0/mlflow/logged-models``: create, get, finalize, delete, tags, params, search, and the
listing and download of a model's files.

A logged model belongs to an experiment; its files live in keel's artifact store under
``<experiment location>/models/<model id>/artifacts`` and travel through the artifact proxy
(``mlflow-artifacts:/…``). Ids are ``m-`` and 32 hex characters.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from keel.api._authz import KeelRoute, Permission, json_body, needs, permission
from keel.api._json import respond_raw
from keel.api._state import ServerState, actor_of, state_of
from keel.api.mlflow import _shapes
from keel.api.mlflow._body import Fields, mlflow_fields
from keel.api.mlflow._common import (
    artifact_uri,
    check_key,
    check_length,
    experiment_field,
    experiment_id_of,
    get_model,
    model_path,
    models_store,
)
from keel.api.mlflow._errors import RESPONSES, invalid
from keel.api.mlflow._search import (
    NULL_OPS,
    NUMERIC_OPS,
    SET_OPS,
    STRING_OPS,
    Clause,
    check_clause,
    evaluate,
    page,
    parse_clauses,
    sort_key,
)
from keel.api.v1._artifacts import get_artifact
from keel.artifacts.paths import safe_key, safe_prefix
from keel.auth import ResourceKind, Role
from keel.core.clock import now_ms
from keel.core.ids import new_id
from keel.core.naming import validate_name
from keel.tracking._names import generate_run_name
from keel.tracking.logged_models import FAILED, PENDING, READY, STATUSES, LoggedModel
from keel.tracking.models import LifecycleStage

EXPERIMENT = ResourceKind.EXPERIMENT
_read = needs(Role.READER, EXPERIMENT, model_path())
_edit = needs(Role.EDITOR, EXPERIMENT, model_path())
_manage = needs(Role.MANAGER, EXPERIMENT, model_path())
MAX_TAG_VALUE, MAX_PARAM_VALUE = 8000, 6000
_STATUS_NAMES = {"1": PENDING, "2": READY, "3": FAILED, "PENDING": PENDING, "READY": READY}
_ENTITIES = {"metrics": "metric", "metric": "metric", "params": "param", "param": "param",
             "tags": "tag", "tag": "tag", "attributes": "attribute", "attribute": "attribute"}
_ATTRIBUTES = {"name": "name", "model_id": "model_id", "model_type": "model_type",
               "status": "status", "source_run_id": "source_run_id",
               "creation_timestamp": "created_at", "creation_time": "created_at",
               "last_updated_timestamp": "updated_at", "experiment_id": "experiment_id"}


def _tags(fields: Fields) -> dict[str, str]:
    tags = fields.key_values("tags")
    for key, value in tags.items():
        check_key(key, "tag")
        check_length(value, MAX_TAG_VALUE, f"Tag '{key}' value")
    return tags


def _params(fields: Fields) -> dict[str, str]:
    params = fields.key_values("params")
    for key, value in params.items():
        check_key(key, "param")
        check_length(value, MAX_PARAM_VALUE, f"Param '{key}' value")
    return params


def _answer(model: LoggedModel) -> Response:
    return respond_raw({"model": _shapes.logged_model(model)})


def create_logged_model(request: Request, fields: Fields = Depends(mlflow_fields)) -> Response:
    state = state_of(request)
    experiment_id = experiment_id_of(state, fields.need("experiment_id"))
    experiment = state.keel.metadata.experiments.get_experiment(experiment_id)
    if experiment.lifecycle_stage is not LifecycleStage.ACTIVE:
        raise invalid(f"The experiment {experiment_id} must be in the 'active' state.")
    source_run_id = fields.text("source_run_id") or None
    if source_run_id is not None:
        run = state.keel.metadata.runs.get_run(source_run_id)
        state.check(request, Role.READER, EXPERIMENT, run.experiment_id)
    model_id = f"m-{new_id()}"
    now = now_ms()
    model = LoggedModel(
        model_id=model_id, experiment_id=experiment_id,
        name=validate_name(fields.text("name") or generate_run_name(), "model name"),
        artifact_location=f"{experiment.artifact_location}/models/{model_id}/artifacts",
        status=PENDING, created_at=now, updated_at=now, source_run_id=source_run_id,
        model_type=fields.text("model_type") or None, creator=actor_of(request),
        tags=_tags(fields), params=_params(fields))
    return _answer(models_store(state).create_logged_model(model))


def get_logged_model(request: Request, model_id: str,
                     fields: Fields = Depends(mlflow_fields)) -> Response:
    model = get_model(state_of(request), model_id,
                      allow_deleted=fields.flag("allow_deleted"))
    return _answer(model)


def finalize_logged_model(request: Request, model_id: str,
                          fields: Fields = Depends(mlflow_fields)) -> Response:
    state = state_of(request)
    get_model(state, model_id)
    raw = fields.raw("status")
    status = _STATUS_NAMES.get(str(raw), str(raw)) if raw is not None else None
    if status not in STATUSES:
        raise invalid(f"Invalid logged model status {raw!r}; expected one of "
                      f"{', '.join(STATUSES)}")
    return _answer(models_store(state).update_logged_model(model_id, now_ms(), status=status))


def delete_logged_model(request: Request, model_id: str) -> Response:
    state = state_of(request)
    get_model(state, model_id)
    models_store(state).update_logged_model(model_id, now_ms(), deleted=True)
    return respond_raw({})


def set_logged_model_tags(request: Request, model_id: str,
                          fields: Fields = Depends(mlflow_fields)) -> Response:
    state = state_of(request)
    get_model(state, model_id)
    models_store(state).set_logged_model_tags(model_id, _tags(fields), now_ms())
    return respond_raw({})


def delete_logged_model_tag(request: Request, model_id: str, tag_key: str) -> Response:
    state = state_of(request)
    get_model(state, model_id)
    models_store(state).delete_logged_model_tag(model_id, tag_key, now_ms())
    return respond_raw({})


def log_logged_model_params(request: Request, model_id: str,
                            fields: Fields = Depends(mlflow_fields)) -> Response:
    state = state_of(request)
    get_model(state, model_id)
    models_store(state).log_logged_model_params(model_id, _params(fields), now_ms())
    return respond_raw({})


async def _search_experiments(request: Request, state: ServerState) -> list[str]:
    body = await json_body(request)
    ids = body.get("experiment_ids") if isinstance(body, dict) else None
    if not isinstance(ids, list):
        return []
    return sorted({experiment_id_of(state, str(i)) for i in ids if isinstance(i, str | int)})


def _get(model: LoggedModel, entity: str, key: str) -> Any:
    if entity == "tag":
        return model.tags.get(key)
    if entity == "param":
        return model.params.get(key)
    if entity == "metric":
        return next((m.value for m in model.metrics if m.key == key), None)
    return getattr(model, _ATTRIBUTES[key])


def _clause_value(model: LoggedModel, clause: Clause) -> Any:
    return _get(model, clause.entity, clause.key)


def _check(clause: Clause) -> Clause:
    if clause.entity == "attribute" and clause.key not in _ATTRIBUTES:
        raise invalid(f"Invalid attribute key '{clause.key}'; expected one of "
                      f"{', '.join(sorted(_ATTRIBUTES))}")
    numeric = clause.entity == "metric" or clause.key.endswith(("timestamp", "time"))
    ops = NUMERIC_OPS if numeric else STRING_OPS | SET_OPS | NULL_OPS
    check_clause(clause, ops, numeric)
    return clause


def _order(fields: Fields) -> list[tuple[str, bool]]:
    order = []
    for item in fields.records("order_by"):
        name = item.need("field_name")
        entity, dot, key = name.partition(".")
        if not dot:
            entity, key = "attributes", name
        if entity not in _ENTITIES or (_ENTITIES[entity] == "attribute"
                                       and key not in _ATTRIBUTES):
            raise invalid(f"Invalid order_by field {name!r}")
        order.append((f"{_ENTITIES[entity]}:{key}", not item.flag("ascending", True)))
    return order or [("attribute:creation_timestamp", True)]


def search_logged_models(request: Request, fields: Fields = Depends(mlflow_fields)) -> Response:
    state = state_of(request)
    experiment_ids = [experiment_id_of(state, e) for e in fields.texts("experiment_ids")]
    clauses = [_check(c) for c in parse_clauses(fields.text("filter"), _ENTITIES, "attribute")]
    models = [m for m in models_store(state).list_logged_models(experiment_ids)
              if evaluate(clauses, partial(_clause_value, m))]
    order = [*_order(fields), ("attribute:model_id", False)]
    ordered = sorted(models, key=sort_key(
        order, lambda m, name: _get(m, *name.split(":", 1))))
    items, token = page(ordered, fields.integer("max_results"), fields.text("page_token"),
                        default=100, limit=1000)
    body: dict[str, Any] = {"models": [_shapes.logged_model(m) for m in items]}
    if token:
        body["next_page_token"] = token
    return respond_raw(body)


def list_logged_model_artifacts(request: Request, model_id: str,
                                fields: Fields = Depends(mlflow_fields)) -> Response:
    state = state_of(request)
    model = get_model(state, model_id)
    rel = safe_prefix(fields.text("artifact_directory_path") or "")
    root = model.artifact_location
    files = []
    for entry in state.keel.artifact_store.list(f"{root}/{rel}" if rel else root):
        path = entry.path[len(root):].lstrip("/")
        files.append(_shapes.file_info(path, entry.is_dir, entry.size))
    return respond_raw({"root_uri": artifact_uri(root), "files": files})


def download_logged_model_artifact(request: Request, model_id: str,
                                   fields: Fields = Depends(mlflow_fields)) -> Response:
    model = get_model(state_of(request), model_id)
    rel = safe_key(fields.need("artifact_file_path"))
    return get_artifact(request, f"{model.artifact_location}/{rel}")


def routers() -> list[APIRouter]:
    """The same routes under ``/api/2.0/mlflow`` and ``/api/3.0/mlflow``."""
    out = []
    for version in ("2.0", "3.0"):
        router = APIRouter(prefix=f"/api/{version}/mlflow/logged-models", tags=["mlflow"],
                           route_class=KeelRoute, responses=RESPONSES)
        add = router.add_api_route
        add("", _declared(create_logged_model, needs(Role.EDITOR, EXPERIMENT,
                                                     experiment_field())), methods=["POST"])
        add("/search", _declared(search_logged_models,
                                 needs(Role.READER, EXPERIMENT, _search_experiments)),
            methods=["POST"])
        add("/{model_id}", _declared(get_logged_model, _read), methods=["GET"])
        add("/{model_id}", _declared(finalize_logged_model, _edit), methods=["PATCH"])
        add("/{model_id}", _declared(delete_logged_model, _manage), methods=["DELETE"])
        add("/{model_id}/tags", _declared(set_logged_model_tags, _edit), methods=["PATCH"])
        add("/{model_id}/tags/{tag_key:path}", _declared(delete_logged_model_tag, _manage),
            methods=["DELETE"])
        add("/{model_id}/params", _declared(log_logged_model_params, _edit), methods=["POST"])
        add("/{model_id}/artifacts/directories",
            _declared(list_logged_model_artifacts, _read), methods=["GET"])
        add("/{model_id}/artifacts/files",
            _declared(download_logged_model_artifact, _read), methods=["GET"])
        out.append(router)
    return out


def _declared(endpoint: Callable[..., Response], needed: Permission) -> Callable[..., Response]:
    return permission(needed)(endpoint)
