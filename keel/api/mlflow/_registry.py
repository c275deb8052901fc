"""``/api/2.0/mlflow/registered-models/*``: MLflow's registered models and aliases, through
keel's RegistryService, so every change is audited under the caller's name
(:func:`keel.api._state.actor_of`) and keel's governance applies: a protected alias needs
manager on the model and a version approved for its target (keel's NotApproved is answered
PERMISSION_DENIED with the unmet gates). MLflow stages do not exist in keel: aliases replace
them.
"""

from __future__ import annotations

import re
from functools import partial
from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from keel.api._authz import AUTHENTICATED, KeelRoute, needs, permission
from keel.api._json import respond_raw
from keel.api._state import ServerState, actor_of, state_of
from keel.api.mlflow import _shapes
from keel.api.mlflow._body import Fields, mlflow_fields
from keel.api.mlflow._common import check_length, model_field
from keel.api.mlflow._errors import RESPONSES, invalid
from keel.api.mlflow._search import (
    STRING_OPS,
    Clause,
    check_clause,
    evaluate,
    page,
    parse_clauses,
    parse_order,
    sort_key,
)
from keel.auth import ResourceKind, Role
from keel.core.naming import validate_name
from keel.registry import ModelVersion, RegisteredModel, RegistryStore
from keel.tracking.experiments import validate_tags

router = APIRouter(prefix="/api/2.0/mlflow/registered-models", tags=["mlflow"],
                   route_class=KeelRoute, responses=RESPONSES)

MODEL = ResourceKind.REGISTERED_MODEL
_read = needs(Role.READER, MODEL, model_field())
_edit = needs(Role.EDITOR, MODEL, model_field())
_manage = needs(Role.MANAGER, MODEL, model_field())
_ALIAS = re.compile(r"[\w\-]{1,255}")
_ENTITIES = {"tag": "tag", "tags": "tag", "attribute": "attribute", "attributes": "attribute"}
_ORDER = {"name": "name", "timestamp": "created_at", "creation_timestamp": "created_at",
          "last_updated_timestamp": "updated_at"}
MAX_TAG_VALUE = 100_000


def registry_store(state: ServerState) -> RegistryStore:
    store: RegistryStore | None = getattr(state.keel.metadata, "registry", None)
    if store is None:
        raise invalid("this server's metadata store has no model registry")
    return store


def model_name(fields: Fields) -> str:
    return validate_name(fields.need("name"), "registered model name")


def tags_of(fields: Fields) -> dict[str, str]:
    tags = fields.key_values("tags")
    for key, value in tags.items():
        check_length(key, 250, "tag key")
        check_length(value, MAX_TAG_VALUE, f"tag '{key}' value")
    return validate_tags(tags)


def latest(state: ServerState, name: str) -> list[ModelVersion]:
    return list(state.keel.registry.list_model_versions(name, max_results=1).items)


def model_json(state: ServerState, model: RegisteredModel) -> dict[str, Any]:
    return _shapes.registered_model(model, latest(state, model.name))


def check_alias(alias: str) -> str:
    if not _ALIAS.fullmatch(alias) or re.fullmatch(r"[vV]\d+", alias) or (
            alias.lower() == "latest") or alias.isdigit():
        raise invalid(f"Invalid alias name: '{alias}'. Aliases may only contain alphanumerics, "
                      "underscores (_) and dashes (-), and cannot be 'latest', a number or "
                      "look like a version ('v1').")
    return alias


def protected(state: ServerState, name: str, alias: str) -> bool:
    policy = state.keel.approvals.get_policy(name)
    return policy is not None and alias in policy.protected_aliases


@router.post("/create")
@permission(AUTHENTICATED)
def create_registered_model(request: Request, fields: Fields = Depends(mlflow_fields)) -> Response:
    state = state_of(request)
    model = state.keel.registry.create_registered_model(
        model_name(fields), description=fields.text("description") or None,
        tags=tags_of(fields), actor=actor_of(request))
    state.grant_creator(request, MODEL, model.name)
    return respond_raw({"registered_model": _shapes.registered_model(model)})


@router.get("/get")
@permission(_read)
def get_registered_model(request: Request, fields: Fields = Depends(mlflow_fields)) -> Response:
    state = state_of(request)
    model = state.keel.registry.get_registered_model(model_name(fields))
    return respond_raw({"registered_model": model_json(state, model)})


@router.patch("/update")
@permission(_edit)
def update_registered_model(request: Request, fields: Fields = Depends(mlflow_fields)) -> Response:
    state = state_of(request)
    model = state.keel.registry.describe_registered_model(
        model_name(fields), fields.text("description") or None, actor=actor_of(request))
    return respond_raw({"registered_model": model_json(state, model)})


@router.post("/rename")
@permission(_manage)
def rename_registered_model(request: Request, fields: Fields = Depends(mlflow_fields)) -> Response:
    state = state_of(request)
    new_name = validate_name(fields.need("new_name"), "registered model name")
    model = state.keel.registry.rename_registered_model(model_name(fields), new_name,
                                                        actor=actor_of(request))
    state.grant_creator(request, MODEL, model.name)
    return respond_raw({"registered_model": model_json(state, model)})


@router.delete("/delete")
@permission(_manage)
def delete_registered_model(request: Request, fields: Fields = Depends(mlflow_fields)) -> Response:
    state_of(request).keel.registry.delete_registered_model(model_name(fields),
                                                            actor=actor_of(request))
    return respond_raw({})


def _all_models(state: ServerState) -> list[RegisteredModel]:
    out: list[RegisteredModel] = []
    token: str | None = None
    while True:
        found = state.keel.registry.search_registered_models(max_results=1000, page_token=token)
        out.extend(found.items)
        token = found.next_page_token
        if token is None:
            return out


def _model_field(model: RegisteredModel, clause: Clause) -> Any:
    return model.tags.get(clause.key) if clause.entity == "tag" else model.name


def _check_model_clause(clause: Clause) -> Clause:
    if clause.entity == "attribute" and clause.key != "name":
        raise invalid(f"Invalid attribute key '{clause.key}': registered models are filtered "
                      "by name and tags")
    check_clause(clause, STRING_OPS, numeric=False)
    return clause


@router.get("/search")
@permission(AUTHENTICATED)
def search_registered_models(request: Request,
                             fields: Fields = Depends(mlflow_fields)) -> Response:
    state = state_of(request)
    clauses = [_check_model_clause(c)
               for c in parse_clauses(fields.text("filter"), _ENTITIES, "attribute")]
    order = [*parse_order(fields.texts("order_by"), _ORDER), ("name", False)]
    found = [m for m in _all_models(state)
             if evaluate(clauses, partial(_model_field, m))
             and state.can(request, Role.READER, MODEL, m.name)]
    ordered = sorted(found, key=sort_key(order, getattr))
    items, token = page(ordered, fields.integer("max_results"), fields.text("page_token"),
                        default=100, limit=1000)
    body: dict[str, Any] = {"registered_models": [model_json(state, m) for m in items]}
    if token:
        body["next_page_token"] = token
    return respond_raw(body)


@router.post("/get-latest-versions")
@permission(_read)
def get_latest_versions(request: Request, fields: Fields = Depends(mlflow_fields)) -> Response:
    """keel has no stages: the latest version is in stage "None", no version in any other."""
    state = state_of(request)
    name = model_name(fields)
    state.keel.registry.get_registered_model(name)
    stages = {s.lower() for s in fields.texts("stages")}
    versions = latest(state, name) if not stages or "none" in stages else []
    return respond_raw({"model_versions": [_shapes.model_version(v) for v in versions]})


@router.post("/set-tag")
@permission(_edit)
def set_registered_model_tag(request: Request,
                             fields: Fields = Depends(mlflow_fields)) -> Response:
    key = check_length(fields.need("key"), 250, "tag key")
    value = check_length(fields.text("value") or "", MAX_TAG_VALUE, "tag value")
    state_of(request).keel.registry.set_registered_model_tags(
        model_name(fields), validate_tags({key: value}), actor=actor_of(request))
    return respond_raw({})


@router.delete("/delete-tag")
@permission(_manage)
def delete_registered_model_tag(request: Request,
                                fields: Fields = Depends(mlflow_fields)) -> Response:
    state = state_of(request)
    ctx = state.keel.registry.ctx(actor_of(request))
    registry_store(state).models.delete_registered_model_tag(model_name(fields),
                                                             fields.need("key"), ctx)
    return respond_raw({})


@router.post("/alias")
@permission(_edit)
def set_alias(request: Request, fields: Fields = Depends(mlflow_fields)) -> Response:
    state = state_of(request)
    name, alias = model_name(fields), check_alias(fields.need("alias"))
    version = fields.integer("version", required=True)
    assert version is not None
    if protected(state, name, alias):
        state.check(request, Role.MANAGER, MODEL, name)
    state.keel.registry.set_alias(name, alias, version, actor=actor_of(request))
    return respond_raw({})


@router.delete("/alias")
@permission(_edit)
def delete_alias(request: Request, fields: Fields = Depends(mlflow_fields)) -> Response:
    state = state_of(request)
    name, alias = model_name(fields), fields.need("alias")
    if protected(state, name, alias):
        state.check(request, Role.MANAGER, MODEL, name)
    state.keel.registry.delete_alias(name, alias, actor=actor_of(request))
    return respond_raw({})


@router.get("/alias")
@permission(_read)
def get_version_by_alias(request: Request, fields: Fields = Depends(mlflow_fields)) -> Response:
    version = state_of(request).keel.registry.get_version_by_alias(model_name(fields),
                                                                  fields.need("alias"))
    return respond_raw({"model_version": _shapes.model_version(version)})
