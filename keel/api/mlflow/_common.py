"""What the MLflow routes share: experiment "0", artifact URIs, MLflow's key rules, the
active-run rule, the logged-model port, and the permission locators.

Locators name the experiment (or registered model) a request touches, for
:mod:`keel.api._authz`; MLflow clients name runs ``run_id`` (older ones ``run_uuid``), in the
JSON body or, for GET requests, the query string.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence
from typing import cast

from fastapi import Request

from keel.api._authz import ADMIN_ONLY, Locator, json_body, owner_of_key
from keel.api._state import ServerState
from keel.api.mlflow._errors import invalid, not_implemented
from keel.artifacts.paths import safe_key
from keel.core.naming import validate_key
from keel.errors import KeelError, NotFound
from keel.tracking.experiments import DEFAULT_EXPERIMENT
from keel.tracking.logged_models import LoggedModel, LoggedModelStore
from keel.tracking.models import LifecycleStage, Run

DEFAULT_EXPERIMENT_ID = "0"
"""MLflow's default experiment: keel's "Default" experiment, created on first use."""
SCHEME = "mlflow-artifacts:"
MODEL_ID = re.compile(r"m-[0-9a-f]{32}")
_KEY_CHARS = re.compile(r"[/\w.\- :]*")


# -- experiments, runs, models ---------------------------------------------------------------


def experiment_id_of(state: ServerState, experiment_id: str) -> str:
    """keel's id for an MLflow experiment id ("0" is the Default experiment)."""
    if experiment_id == DEFAULT_EXPERIMENT_ID:
        return state.keel.experiments.get_or_create_experiment(DEFAULT_EXPERIMENT).experiment_id
    return experiment_id


def require_active(run: Run) -> Run:
    if run.lifecycle_stage is not LifecycleStage.ACTIVE:
        raise invalid(f"The run {run.run_id} must be in the 'active' state. Current state is "
                      f"{run.lifecycle_stage.value}.", run_id=run.run_id)
    return run


def active_run(state: ServerState, run_id: str) -> Run:
    return require_active(state.keel.metadata.runs.get_run(run_id))


def models_store(state: ServerState) -> LoggedModelStore:
    store = getattr(state.keel.metadata, "mlflow_models", None)
    if store is None:
        raise not_implemented(f"the metadata store at {state.keel.metadata.url!r} does not keep "
                              "MLflow logged models")
    return cast(LoggedModelStore, store)


def get_model(state: ServerState, model_id: str, *, allow_deleted: bool = False) -> LoggedModel:
    if not MODEL_ID.fullmatch(model_id):
        raise NotFound(f"Logged model with ID '{model_id}' not found.",
                       details={"model_id": model_id})
    model = models_store(state).get_logged_model(model_id)
    if model.deleted and not allow_deleted:
        raise NotFound(f"Logged model with ID '{model_id}' not found (it was deleted).",
                       details={"model_id": model_id})
    return model


# -- names and keys --------------------------------------------------------------------------


def check_key(key: str, what: str) -> str:
    """MLflow's rule for metric, param and tag names (letters, digits, ``_ - . / : space``;
    nothing that normalizes as a path to something else), and keel's."""
    if not _KEY_CHARS.fullmatch(key):
        raise invalid(f"Invalid {what} name: '{key}'. Names may only contain alphanumerics, "
                      "underscores (_), dashes (-), periods (.), spaces ( ), colon(:) and "
                      "slashes (/).", key=key)
    normal = posixpath.normpath(key)
    if normal != key or normal == "." or normal.startswith(("..", "/")):
        raise invalid(f"Invalid {what} name: '{key}'. Names may be treated as files in certain "
                      f"cases, and must not resolve to other names when treated as such. This "
                      f"name would resolve to '{normal}'", key=key)
    return validate_key(key, f"{what} name")


def check_length(value: str, limit: int, what: str) -> str:
    if len(value) > limit:
        raise invalid(f"{what} exceeds the maximum length of {limit} characters ("
                      f"{len(value)} given)")
    return value


# -- artifact locations ----------------------------------------------------------------------


def artifact_uri(key: str) -> str:
    """The URI MLflow clients reach a store key through: keel's artifact proxy."""
    return f"{SCHEME}/{key}"


def key_of_uri(uri: str) -> str:
    """The store key of ``mlflow-artifacts:/<key>``: never another host, never a way out."""
    if not uri.startswith(f"{SCHEME}/") or uri.startswith(f"{SCHEME}//"):
        raise invalid(f"{uri!r} is not an mlflow-artifacts:/ location of this server")
    return safe_key(uri[len(SCHEME) + 1:])


def model_owner(state: ServerState, parts: Sequence[str], key: str) -> str | None:
    """The experiment of a logged model owning ``key`` (``…/models/<id>/artifacts/…``)."""
    for i in range(len(parts) - 2):
        if parts[i] != "models" or parts[i + 2] != "artifacts" or not MODEL_ID.fullmatch(
                parts[i + 1]):
            continue
        try:
            model = models_store(state).get_logged_model(parts[i + 1])
        except KeelError:
            continue
        if key == model.artifact_location or key.startswith(model.artifact_location + "/"):
            return model.experiment_id
    return None


def key_owner(state: ServerState, key: str) -> str:
    """The experiment owning a store key: a run's artifacts or a logged model's; else nobody
    (ADMIN_ONLY)."""
    checked = safe_key(key) if key.strip("/") else ""
    if not checked:
        return ADMIN_ONLY
    owner = owner_of_key(state, checked)
    if owner != ADMIN_ONLY:
        return owner
    return model_owner(state, checked.split("/"), checked) or ADMIN_ONLY


def run_of_key(state: ServerState, key: str) -> tuple[str, str] | None:
    """(run id, path inside the run's artifacts) when ``key`` is a run's artifact file."""
    parts = key.split("/")
    for i in range(len(parts) - 2):
        if parts[i + 1] != "artifacts":
            continue
        try:
            _, location = state.run_owner(parts[i])
        except KeelError:
            continue
        location = location.rstrip("/")
        if key.startswith(location + "/"):
            return parts[i], key[len(location) + 1:]
    return None


# -- locators --------------------------------------------------------------------------------


async def _values(request: Request, names: Sequence[str]) -> list[str]:
    """The first of ``names`` present in the JSON body, else in the query string."""
    body = await json_body(request) if request.method != "GET" else None
    for name in names:
        value = body.get(name) if isinstance(body, dict) else None
        if value is None:
            value = request.query_params.get(name)
        if isinstance(value, list):
            return [str(v) for v in value if isinstance(v, str | int) and not isinstance(v, bool)]
        if isinstance(value, str | int) and not isinstance(value, bool) and value != "":
            return [str(value)]
    return []


def run_field(*names: str) -> Locator:
    """The experiment of the run named by the first of ``names`` (default run_id, run_uuid)."""
    fields = names or ("run_id", "run_uuid")

    async def locate(request: Request, state: ServerState) -> Sequence[str]:
        return sorted({state.run_owner(r)[0] for r in await _values(request, fields)})

    return locate


def experiment_field(name: str = "experiment_id", default: str | None = None) -> Locator:
    """The experiments named by ``name`` (``default`` when the request names none)."""

    async def locate(request: Request, state: ServerState) -> Sequence[str]:
        ids = await _values(request, [name]) or ([default] if default is not None else [])
        return sorted({experiment_id_of(state, e) for e in ids})

    return locate


def model_path() -> Locator:
    """The experiment of the logged model named by the ``model_id`` path parameter."""

    async def locate(request: Request, state: ServerState) -> Sequence[str]:
        model_id = str(request.path_params.get("model_id", ""))
        return [get_model(state, model_id, allow_deleted=True).experiment_id]

    return locate


def artifact_path(name: str = "artifact_path") -> Locator:
    """The experiment owning the artifact key in the path parameter ``name``."""

    async def locate(request: Request, state: ServerState) -> Sequence[str]:
        return [key_owner(state, str(request.path_params.get(name, "")))]

    return locate


def artifact_query(name: str = "path") -> Locator:
    async def locate(request: Request, state: ServerState) -> Sequence[str]:
        return [key_owner(state, request.query_params.get(name, ""))]

    return locate


def model_field(name: str = "name") -> Locator:
    """The registered model named by ``name`` (JSON body, or the query string of a GET)."""

    async def locate(request: Request, state: ServerState) -> Sequence[str]:
        return await _values(request, [name])

    return locate
