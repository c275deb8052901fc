"""``/api/v1/registered-models``: registered models, versions and aliases, through keel's
RegistryService (not the store), so the server applies the same rules as an embedded client:
protected aliases take only approved versions, versions are registered from logged models the
server reads itself, and every change is audited under the caller's name
(:func:`keel.api._state.actor_of`, never a field of the body). Card fields and decisions are in
``_governance``, approvals in ``_approvals``, versions across models in ``_lineage``.

Permissions (registered models are addressed by name): reader to read, editor
to change (register versions, tags, descriptions, card fields, decisions, non-protected aliases),
manager to delete, rename, and to move or delete a protected alias. Anyone authenticated may
create a model and becomes its manager; registering the first version of a new name creates it
the same way. Registering a version from a run also needs reader on the run's experiment.

Names may contain ``/`` (``validate_name`` allows it), so ``{name:path}`` matches across
slashes and routes are tried in order: a longer suffix before a shorter one that would capture
it (version tags before model tags), and the routes on the bare model
(``GET|PATCH|DELETE /registered-models/{name}``), which match every path below
``/registered-models/``, after all the others (see ``keel.api.v1.routers``; a test walks them).
Tag keys travel as a query parameter for the same reason.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field

from fastapi import APIRouter, Depends, Request, Response

from keel.api._authz import (
    AUTHENTICATED,
    KeelRoute,
    Locator,
    Permission,
    model_in,
    needs,
    permission,
)
from keel.api._json import body_of, body_spec, respond, returns
from keel.api._state import ServerState, actor_of, state_of
from keel.api.v1._checks import page_args, parse_tag_filters
from keel.auth import ResourceKind, Role
from keel.core.naming import validate_key, validate_name
from keel.core.pagination import Page
from keel.errors import AlreadyExists, InvalidArgument, KeelError, RegisteredModelNotFound
from keel.models.uri import RunModelURI, parse_model_uri
from keel.registry import (
    AliasMove,
    ModelVersion,
    RegisteredModel,
    RegistryStore,
)
from keel.tracking.experiments import validate_tags

router = APIRouter(prefix="/api/v1", tags=["registry"], route_class=KeelRoute)

MODEL = ResourceKind.REGISTERED_MODEL
INT64_MAX = 2**63 - 1
MODELS = "/registered-models/{name:path}"
VERSION = MODELS + "/versions/{version}"


def model_name(name: str) -> str:
    return validate_name(name, "model name")


def version_number(version: int, what: str = "version") -> int:
    """A version number as the path or body gives it: 1 .. 2**63-1."""
    if not 1 <= version <= INT64_MAX:
        raise InvalidArgument(f"{what} must be a positive integer, got {version}",
                              details={"field": what})
    return version


def _checked(locate: Locator) -> Locator:
    async def checked(request: Request, state: ServerState) -> Sequence[str]:
        return [model_name(name) for name in await locate(request, state)]

    return checked


def on_model(role: Role) -> Permission:
    """``role`` on the registered model named by the ``name`` path parameter."""
    return needs(role, MODEL, _checked(model_in("name")))


_read, _edit, _manage = on_model(Role.READER), on_model(Role.EDITOR), on_model(Role.MANAGER)


def registry_store(state: ServerState) -> RegistryStore:
    store: RegistryStore | None = getattr(state.keel.metadata, "registry", None)
    if store is None:
        raise InvalidArgument("this server's metadata store has no model registry")
    return store


def protected(state: ServerState, name: str, alias: str) -> bool:
    policy = state.keel.approvals.get_policy(name)
    return policy is not None and alias in policy.protected_aliases


@dataclass(frozen=True)
class CreateModel:
    name: str
    description: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    reason: str | None = None


@dataclass(frozen=True)
class Rename:
    new_name: str
    reason: str | None = None


@dataclass(frozen=True)
class Describe:
    description: str | None


@dataclass(frozen=True)
class SetTags:
    tags: dict[str, str]


@dataclass(frozen=True)
class RegisterVersion:
    source: str
    description: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    reason: str | None = None


@dataclass(frozen=True)
class SetAlias:
    version: int
    expected_version: int | None = None
    reason: str | None = None


# -- registered models -------------------------------------------------------------------------


@router.post("/registered-models", openapi_extra=body_spec(CreateModel),
             responses=returns(RegisteredModel, 201), status_code=201)
@permission(AUTHENTICATED)
def create_registered_model(request: Request,
                            body: CreateModel = Depends(body_of(CreateModel))) -> Response:
    """A new registered model; its creator becomes its manager."""
    state = state_of(request)
    model = state.keel.registry.create_registered_model(
        model_name(body.name), description=body.description, tags=validate_tags(body.tags),
        actor=actor_of(request), reason=body.reason,
    )
    state.grant_creator(request, MODEL, model.name)
    return respond(model, 201)


@router.get("/registered-models", responses=returns(Page[RegisteredModel]))
@permission(AUTHENTICATED)
def search_registered_models(request: Request, name_like: str | None = None,
                             max_results: int = 100, page_token: str | None = None) -> Response:
    """By name; ``name_like`` is a LIKE pattern, ``tag.<key>=<value>`` parameters must all
    match. Models the caller may not read are left out of the page."""
    limit, _ = page_args(max_results, page_token)
    state = state_of(request)
    page = state.keel.registry.search_registered_models(
        name_like, parse_tag_filters(request) or None, max_results=limit, page_token=page_token)
    return respond(state.readable(request, page, MODEL, "name"))


@router.post(MODELS + "/rename", openapi_extra=body_spec(Rename),
             responses=returns(RegisteredModel))
@permission(_manage)
def rename_registered_model(request: Request, name: str,
                            body: Rename = Depends(body_of(Rename))) -> Response:
    """Grants follow names: the caller becomes manager of the new name; others' grants stay
    on the old one (grant again)."""
    state = state_of(request)
    model = state.keel.registry.rename_registered_model(
        model_name(name), model_name(body.new_name), actor=actor_of(request), reason=body.reason)
    state.grant_creator(request, MODEL, model.name)
    return respond(model)


# -- versions ----------------------------------------------------------------------------------


@router.post(MODELS + "/versions", openapi_extra=body_spec(RegisterVersion),
             responses=returns(ModelVersion, 201), status_code=201)
@permission(AUTHENTICATED)
def register_model_version(request: Request, name: str,
                           body: RegisterVersion = Depends(body_of(RegisterVersion))) -> Response:
    """A new version from a logged model (``runs:/<run_id>/<path>``), read by the server.
    Needs editor on the model (a new name is created, and its creator becomes its manager)
    and reader on the run's experiment."""
    state = state_of(request)
    name, actor = model_name(name), actor_of(request)
    source = parse_model_uri(body.source)
    if not isinstance(source, RunModelURI):
        raise InvalidArgument(f"a version is registered from a logged model "
                              f"(runs:/<run_id>/<path>), got {body.source!r}",
                              details={"source": body.source})
    state.check(request, Role.READER, ResourceKind.EXPERIMENT, state.run_owner(source.run_id)[0])
    registry = state.keel.registry
    created = False
    try:
        registry.get_registered_model(name)
    except RegisteredModelNotFound:
        try:
            registry.create_registered_model(name, actor=actor, reason=body.reason)
            created = True
            state.grant_creator(request, MODEL, name)
        except AlreadyExists:
            pass  # created by someone else meanwhile: their model, so editor is checked below
    if not created:
        state.check(request, Role.EDITOR, MODEL, name)
    try:
        version = registry.register_model(
            str(source), name, description=body.description, tags=validate_tags(body.tags),
            actor=actor, reason=body.reason)
    except KeelError:
        if created:  # as embedded: a failed first registration leaves no model behind
            with contextlib.suppress(KeelError):
                registry.delete_registered_model(name, actor=actor, reason="registration failed")
        raise
    return respond(version, 201)


@router.get(MODELS + "/versions", responses=returns(Page[ModelVersion]))
@permission(_read)
def list_model_versions(request: Request, name: str, run_id: str | None = None,
                        dataset_version_id: str | None = None, max_results: int = 100,
                        page_token: str | None = None) -> Response:
    """Newest first."""
    limit, _ = page_args(max_results, page_token)
    return respond(state_of(request).keel.registry.list_model_versions(
        model_name(name), run_id=run_id, dataset_version_id=dataset_version_id,
        max_results=limit, page_token=page_token))


@router.get(VERSION, responses=returns(ModelVersion))
@permission(_read)
def get_model_version(request: Request, name: str, version: int) -> Response:
    return respond(state_of(request).keel.registry.get_model_version(
        model_name(name), version_number(version)))


@router.patch(VERSION, openapi_extra=body_spec(Describe), responses=returns(ModelVersion))
@permission(_edit)
def describe_model_version(request: Request, name: str, version: int,
                           body: Describe = Depends(body_of(Describe))) -> Response:
    return respond(state_of(request).keel.registry.describe_model_version(
        model_name(name), version_number(version), body.description, actor=actor_of(request)))


@router.put(VERSION + "/tags", openapi_extra=body_spec(SetTags), responses=returns(ModelVersion))
@permission(_edit)
def set_model_version_tags(request: Request, name: str, version: int,
                           body: SetTags = Depends(body_of(SetTags))) -> Response:
    return respond(state_of(request).keel.registry.set_model_version_tags(
        model_name(name), version_number(version), validate_tags(body.tags),
        actor=actor_of(request)))


@router.delete(VERSION + "/tags", responses=returns(ModelVersion))
@permission(_edit)
def delete_model_version_tag(request: Request, name: str, version: int, key: str) -> Response:
    state = state_of(request)
    ctx = state.keel.registry.ctx(actor_of(request))
    return respond(registry_store(state).versions.delete_model_version_tag(
        model_name(name), version_number(version), validate_key(key, "tag key"), ctx))


@router.delete(VERSION, status_code=204)
@permission(_manage)
def delete_model_version(request: Request, name: str, version: int,
                         reason: str | None = None) -> Response:
    state_of(request).keel.registry.delete_model_version(
        model_name(name), version_number(version), actor=actor_of(request), reason=reason)
    return Response(status_code=204)


# -- model tags: after the version routes, as '{name:path}/tags' would match theirs too ---


@router.put(MODELS + "/tags", openapi_extra=body_spec(SetTags),
            responses=returns(RegisteredModel))
@permission(_edit)
def set_registered_model_tags(request: Request, name: str,
                              body: SetTags = Depends(body_of(SetTags))) -> Response:
    return respond(state_of(request).keel.registry.set_registered_model_tags(
        model_name(name), validate_tags(body.tags), actor=actor_of(request)))


@router.delete(MODELS + "/tags", responses=returns(RegisteredModel))
@permission(_edit)
def delete_registered_model_tag(request: Request, name: str, key: str) -> Response:
    state = state_of(request)
    ctx = state.keel.registry.ctx(actor_of(request))
    return respond(registry_store(state).models.delete_registered_model_tag(
        model_name(name), validate_key(key, "tag key"), ctx))


# -- aliases -----------------------------------------------------------------------------------


@router.get(MODELS + "/aliases/{alias}", responses=returns(ModelVersion))
@permission(_read)
def get_version_by_alias(request: Request, name: str, alias: str) -> Response:
    return respond(state_of(request).keel.registry.get_version_by_alias(
        model_name(name), validate_key(alias, "alias")))


@router.put(MODELS + "/aliases/{alias}", openapi_extra=body_spec(SetAlias),
            responses=returns(AliasMove))
@permission(_edit)
def set_alias(request: Request, name: str, alias: str,
              body: SetAlias = Depends(body_of(SetAlias))) -> Response:
    """Point the alias at a version (compare-and-set with ``expected_version``; 0: the alias
    must not exist yet). A protected alias needs manager, and a version approved for its
    target (NotApproved lists every unmet gate)."""
    state = state_of(request)
    name, alias = model_name(name), validate_key(alias, "alias")
    if protected(state, name, alias):
        state.check(request, Role.MANAGER, MODEL, name)
    expected = body.expected_version
    if expected is not None and expected != 0:
        version_number(expected, "expected_version")
    return respond(state.keel.registry.set_alias(
        name, alias, version_number(body.version), expected_version=expected,
        actor=actor_of(request), reason=body.reason))


@router.delete(MODELS + "/aliases/{alias}", responses=returns(AliasMove))
@permission(_edit)
def delete_alias(request: Request, name: str, alias: str, reason: str | None = None) -> Response:
    state = state_of(request)
    name, alias = model_name(name), validate_key(alias, "alias")
    if protected(state, name, alias):
        state.check(request, Role.MANAGER, MODEL, name)
    return respond(state.keel.registry.delete_alias(name, alias, actor=actor_of(request),
                                                    reason=reason))


@router.get(MODELS + "/alias-history", responses=returns(list[AliasMove]))
@permission(_read)
def alias_history(request: Request, name: str, alias: str | None = None) -> Response:
    return respond(state_of(request).keel.registry.alias_history(
        model_name(name), None if alias is None else validate_key(alias, "alias")))


@router.get(MODELS + "/resolve", responses=returns(ModelVersion))
@permission(_read)
def resolve(request: Request, name: str, version: int | None = None,
            alias: str | None = None) -> Response:
    """The version ``models:/<name>/<version>`` or ``models:/<name>@<alias>`` names."""
    return respond(state_of(request).keel.registry.resolve(
        model_name(name), version=None if version is None else version_number(version),
        alias=None if alias is None else validate_key(alias, "alias")))


# -- the bare model: these match every path below /registered-models/, so they come last -------


@router.get(MODELS, responses=returns(RegisteredModel))
@permission(_read)
def get_registered_model(request: Request, name: str) -> Response:
    return respond(state_of(request).keel.registry.get_registered_model(model_name(name)))


@router.patch(MODELS, openapi_extra=body_spec(Describe), responses=returns(RegisteredModel))
@permission(_edit)
def describe_registered_model(request: Request, name: str,
                              body: Describe = Depends(body_of(Describe))) -> Response:
    return respond(state_of(request).keel.registry.describe_registered_model(
        model_name(name), body.description, actor=actor_of(request)))


@router.delete(MODELS, status_code=204)
@permission(_manage)
def delete_registered_model(request: Request, name: str, reason: str | None = None) -> Response:
    """The model with every version, alias, approval, card and decision it owns (the audit
    log keeps their history)."""
    state_of(request).keel.registry.delete_registered_model(
        model_name(name), actor=actor_of(request), reason=reason)
    return Response(status_code=204)
