"""``/api/2.0/mlflow/model-versions/*``: MLflow's model versions as keel registry versions.

A version's ``source`` may only name a model in keel's own artifact store: ``runs:/<run id>/
<path>`` (a keel run), ``models:/m-<id>`` (an MLflow 3 logged model) or
``mlflow-artifacts:/<key>``. Anything else (``file:``, ``http(s):``, ``s3://`` elsewhere,
another host's ``mlflow-artifacts://host/…``, traversal in any spelling) is refused with
INVALID_PARAMETER_VALUE; the caller must also be able to read what the source names. keel never
opens the model (MLflow's ``MLmodel`` format): it records the source with the provenance of the
run that produced it, and ``get-download-uri`` answers where MLflow clients fetch it from.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from keel.api._authz import ADMIN_ONLY, AUTHENTICATED, KeelRoute, needs, permission
from keel.api._json import respond_raw
from keel.api._state import ServerState, actor_of, state_of
from keel.api.mlflow import _shapes
from keel.api.mlflow._body import Fields, mlflow_fields
from keel.api.mlflow._common import (
    MODEL_ID,
    SCHEME,
    artifact_uri,
    get_model,
    key_of_uri,
    key_owner,
    model_field,
    run_of_key,
)
from keel.api.mlflow._errors import RESPONSES, invalid, not_implemented
from keel.api.mlflow._registry import model_name, registry_store, tags_of
from keel.api.mlflow._search import (
    NUMERIC_OPS,
    SET_OPS,
    STRING_OPS,
    Clause,
    check_clause,
    evaluate,
    page,
    parse_clauses,
    parse_order,
    sort_key,
)
from keel.artifacts.paths import safe_key
from keel.auth import ResourceKind, Role
from keel.errors import KeelError
from keel.registry import ModelVersion
from keel.tracking.experiments import validate_tags

router = APIRouter(prefix="/api/2.0/mlflow/model-versions", tags=["mlflow"],
                   route_class=KeelRoute, responses=RESPONSES)

MODEL, EXPERIMENT = ResourceKind.REGISTERED_MODEL, ResourceKind.EXPERIMENT
_read = needs(Role.READER, MODEL, model_field())
_edit = needs(Role.EDITOR, MODEL, model_field())
_manage = needs(Role.MANAGER, MODEL, model_field())
_RUN_ID = "0123456789abcdef"
_ORDER = {"name": "name", "version_number": "version", "creation_timestamp": "created_at",
          "timestamp": "created_at", "last_updated_timestamp": "updated_at"}
_ENTITIES = {"tag": "tag", "tags": "tag", "attribute": "attribute", "attributes": "attribute"}


@dataclass(frozen=True)
class Source:
    uri: str
    """As recorded in keel's registry."""
    key: str
    """Where the files are in keel's artifact store."""
    experiment_id: str
    run_id: str | None


def _refused(source: str, reason: str) -> KeelError:
    shown = source if len(source) <= 200 else source[:200] + "..."
    return invalid(f"Invalid model version source {shown!r}: {reason}. A source must be "
                   "runs:/<run_id>/<path>, models:/<model_id> or mlflow-artifacts:/<path> "
                   "inside keel's artifact store", source=shown)


def resolve_source(state: ServerState, source: str) -> Source:
    """Where ``source`` points in keel's store, or INVALID_PARAMETER_VALUE."""
    if source.startswith("runs:/"):
        run_id, _, path = source[len("runs:/"):].partition("/")
        if len(run_id) != 32 or any(c not in _RUN_ID for c in run_id):
            raise _refused(source, f"{run_id!r} is not a keel run id")
        try:
            path = safe_key(path)
        except KeelError as error:
            raise _refused(source, error.message) from None
        run = state.keel.metadata.runs.get_run(run_id)
        return Source(f"runs:/{run_id}/{path}", f"{run.artifact_location}/{path}",
                      run.experiment_id, run_id)
    if source.startswith("models:/"):
        model_id = source[len("models:/"):]
        if not MODEL_ID.fullmatch(model_id):
            raise _refused(source, "models:/ sources name a logged model (models:/m-<id>)")
        model = get_model(state, model_id)
        return Source(f"models:/{model_id}", model.artifact_location, model.experiment_id,
                      model.source_run_id)
    if source.startswith(SCHEME):
        try:
            key = key_of_uri(source)
        except KeelError as error:
            raise _refused(source, error.message) from None
        owner = run_of_key(state, key)
        return Source(artifact_uri(key), key, key_owner(state, key), owner and owner[0])
    raise _refused(source, "not a location in keel's artifact store")


def download_key(state: ServerState, version: ModelVersion) -> str:
    """Where a version's files are (keel's own versions too: their source is runs:/…)."""
    try:
        return resolve_source(state, version.source).key
    except KeelError:
        raise invalid(f"model version {version.name} v{version.version} has source "
                      f"{version.source!r}, which is not in keel's artifact store") from None


def _version(fields: Fields) -> int:
    version = fields.integer("version", required=True)
    assert version is not None
    if version < 1:
        raise invalid(f"Invalid model version {version}: versions start at 1")
    return version


def _answer(version: ModelVersion) -> Response:
    return respond_raw({"model_version": _shapes.model_version(version)})


@router.post("/create")
@permission(_edit)
def create_model_version(request: Request, fields: Fields = Depends(mlflow_fields)) -> Response:
    state = state_of(request)
    name = model_name(fields)
    state.keel.registry.get_registered_model(name)
    source = resolve_source(state, fields.need("source"))
    if source.experiment_id == ADMIN_ONLY:
        state.require_admin(request)
    else:
        state.check(request, Role.READER, EXPERIMENT, source.experiment_id)
    run_id = fields.text("run_id") or source.run_id
    if run_id:
        run = state.keel.metadata.runs.get_run(run_id)
        state.check(request, Role.READER, EXPERIMENT, run.experiment_id)
    version = state.keel.registry.register_model(
        source.uri, name, description=fields.text("description") or None,
        tags=tags_of(fields), actor=actor_of(request), verified_source=True, run_id=run_id)
    return _answer(version)


@router.get("/get")
@permission(_read)
def get_model_version(request: Request, fields: Fields = Depends(mlflow_fields)) -> Response:
    return _answer(state_of(request).keel.registry.get_model_version(model_name(fields),
                                                                      _version(fields)))


@router.patch("/update")
@permission(_edit)
def update_model_version(request: Request, fields: Fields = Depends(mlflow_fields)) -> Response:
    return _answer(state_of(request).keel.registry.describe_model_version(
        model_name(fields), _version(fields), fields.text("description") or None,
        actor=actor_of(request)))


@router.delete("/delete")
@permission(_manage)
def delete_model_version(request: Request, fields: Fields = Depends(mlflow_fields)) -> Response:
    """As in MLflow, the version's aliases go with it (each removal audited)."""
    state = state_of(request)
    name, number = model_name(fields), _version(fields)
    registry, actor = state.keel.registry, actor_of(request)
    for alias in registry.get_model_version(name, number).aliases:
        registry.delete_alias(name, alias, actor=actor, reason="model version deleted")
    registry.delete_model_version(name, number, actor=actor)
    return respond_raw({})


@router.get("/get-download-uri")
@permission(_read)
def get_download_uri(request: Request, fields: Fields = Depends(mlflow_fields)) -> Response:
    state = state_of(request)
    version = state.keel.registry.get_model_version(model_name(fields), _version(fields))
    return respond_raw({"artifact_uri": artifact_uri(download_key(state, version))})


@router.post("/set-tag")
@permission(_edit)
def set_model_version_tag(request: Request, fields: Fields = Depends(mlflow_fields)) -> Response:
    state_of(request).keel.registry.set_model_version_tags(
        model_name(fields), _version(fields),
        validate_tags({fields.need("key"): fields.text("value") or ""}), actor=actor_of(request))
    return respond_raw({})


@router.delete("/delete-tag")
@permission(_manage)
def delete_model_version_tag(request: Request,
                             fields: Fields = Depends(mlflow_fields)) -> Response:
    state = state_of(request)
    ctx = state.keel.registry.ctx(actor_of(request))
    registry_store(state).versions.delete_model_version_tag(
        model_name(fields), _version(fields), fields.need("key"), ctx)
    return respond_raw({})


@router.post("/transition-stage")
@permission(_edit)
def transition_stage(request: Request, fields: Fields = Depends(mlflow_fields)) -> Response:
    raise not_implemented("model version stages are not supported by keel server: use aliases "
                          "(set_registered_model_alias) instead")


def _field(version: ModelVersion, clause: Clause) -> Any:
    if clause.entity == "tag":
        return version.tags.get(clause.key)
    return {"name": version.name, "run_id": version.run_id, "source_path": version.source,
            "version_number": version.version}[clause.key]


def _check(clause: Clause) -> Clause:
    if clause.entity == "attribute" and clause.key not in ("name", "run_id", "source_path",
                                                           "version_number"):
        raise invalid(f"Invalid attribute key '{clause.key}': model versions are filtered by "
                      "name, run_id, source_path, version_number and tags")
    numeric = clause.key == "version_number"
    ops = NUMERIC_OPS if numeric else STRING_OPS | (SET_OPS if clause.key == "run_id" else
                                                    frozenset())
    check_clause(clause, ops | (SET_OPS if numeric else frozenset()), numeric)
    return clause


def _candidates(state: ServerState, clauses: Sequence[Clause]) -> list[ModelVersion]:
    """Versions to filter: one model's or one run's when the filter pins them, else all."""
    registry = state.keel.registry
    name = next((c.value for c in clauses if c.key == "name" and c.op == "="), None)
    run_id = next((c.value for c in clauses if c.key == "run_id" and c.op == "="), None)
    if isinstance(name, str) and registry_store(state).models.find_registered_model(name) is None:
        return []
    out: list[ModelVersion] = []
    token: str | None = None
    while True:
        found = registry.list_model_versions(
            name if isinstance(name, str) else None,
            run_id=run_id if isinstance(run_id, str) else None, max_results=1000,
            page_token=token)
        out.extend(found.items)
        token = found.next_page_token
        if token is None:
            return out


@router.get("/search")
@permission(AUTHENTICATED)
def search_model_versions(request: Request, fields: Fields = Depends(mlflow_fields)) -> Response:
    """Versions the caller may read (reader on their registered model)."""
    state = state_of(request)
    clauses = [_check(c) for c in parse_clauses(fields.text("filter"), _ENTITIES, "attribute")]
    order = [*parse_order(fields.texts("order_by"), _ORDER), ("name", False),
             ("version", True)]
    found = [v for v in _candidates(state, clauses)
             if evaluate(clauses, partial(_field, v))
             and state.can(request, Role.READER, MODEL, v.name)]
    ordered = sorted(found, key=sort_key(order, getattr))
    items, token = page(ordered, fields.integer("max_results"), fields.text("page_token"),
                        default=10_000, limit=200_000)
    body: dict[str, Any] = {"model_versions": [_shapes.model_version(v) for v in items]}
    if token:
        body["next_page_token"] = token
    return respond_raw(body)
