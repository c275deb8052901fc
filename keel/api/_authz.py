"""The one authorization layer every route goes through.

Each endpoint declares what it needs with :func:`permission` (a role on the resource the request
names, admin, any authenticated caller, or public). :class:`KeelRoute` refuses to build a route
whose endpoint declares nothing, and checks the declaration before the endpoint runs, so a route
added later cannot slip past authentication: it either declares a permission or the app does
not start. ``tests/api/test_route_table.py`` walks the route table as a second line.

With authentication off (loopback only), every caller is an anonymous admin whose audit name is
what it claims in ``X-Keel-Actor``.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson
from fastapi import Request, Response
from fastapi.routing import APIRoute

from keel.api._state import ServerState, state_of
from keel.auth import Principal, ResourceKind, Role
from keel.core.naming import validate_name
from keel.errors import InvalidArgument, KeelError, Unauthenticated

F = TypeVar("F", bound=Callable[..., Any])

Locator = Callable[[Request, ServerState], Awaitable[Sequence[str]]]
"""Finds the ids of the resources (experiments or registered models) a request touches."""


@dataclass(frozen=True)
class Permission:
    """What a route needs. ``role`` on every resource ``locate`` finds (of ``kind``); or
    ``admin``; or just an authenticated caller (``role`` None); or nothing (``public``)."""

    role: Role | None = None
    kind: ResourceKind | None = None
    locate: Locator | None = None
    admin: bool = False
    public: bool = False

    def describe(self) -> str:
        if self.public:
            return "public"
        if self.admin:
            return "admin"
        if self.role is None or self.kind is None:
            return "authenticated"
        return f"{self.role.value} on {self.kind.value}"


ERROR_RESPONSE: dict[str, Any] = {
    "description": "The request was refused: see error.code and error.message",
    "content": {"application/json": {"schema": {
        "type": "object", "required": ["error"],
        "properties": {"error": {
            "type": "object", "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                           "details": {"type": "object"}},
        }},
    }}},
}
"""Every route may refuse with a 4xx in this shape (MLflow routes say so in their own)."""

PUBLIC = Permission(public=True)
AUTHENTICATED = Permission()
ADMIN = Permission(admin=True)


def permission(declared: Permission) -> Callable[[F], F]:
    """Declare what an endpoint needs (the route table refuses endpoints without it)."""

    def mark(fn: F) -> F:
        fn.__keel_permission__ = declared  # type: ignore[attr-defined]
        return fn

    return mark


def needs(role: Role, kind: ResourceKind, locate: Locator) -> Permission:
    return Permission(role=role, kind=kind, locate=locate)


def declared_permission(endpoint: Callable[..., Any]) -> Permission | None:
    found: Permission | None = getattr(endpoint, "__keel_permission__", None)
    return found


class KeelRoute(APIRoute):
    """An APIRoute that authenticates and authorizes before its endpoint runs."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        declared = declared_permission(endpoint)
        if declared is None:
            raise RuntimeError(
                f"route {path} ({endpoint.__name__}) declares no permission; decorate it with "
                "keel.api._authz.permission(...)"
            )
        self.permission = declared
        extra = dict(kwargs.pop("openapi_extra", None) or {})
        extra["x-keel-permission"] = declared.describe()
        responses = dict(kwargs.pop("responses", None) or {})
        responses.setdefault("4XX", ERROR_RESPONSE)
        super().__init__(path, endpoint, openapi_extra=extra, responses=responses, **kwargs)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        declared = self.permission

        async def guarded(request: Request) -> Response:
            await authorize(request, declared)
            return await handler(request)

        return guarded


async def authorize(request: Request, declared: Permission) -> None:
    state = state_of(request)
    if state.auth is None:
        request.state.principal = _anonymous(request, state)
        return
    principal = _authenticate(request, state)
    request.state.principal = principal
    if principal is None:
        if declared.public:
            return
        raise Unauthenticated(
            "authentication required: send 'Authorization: Bearer <token>' or HTTP basic "
            "credentials (MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD)"
        )
    if declared.public:
        return
    if declared.admin:
        state.auth.require_admin(principal)
        return
    if declared.role is None or declared.kind is None or declared.locate is None:
        return
    for resource_id in await declared.locate(request, state):
        if resource_id == ADMIN_ONLY:
            state.auth.require_admin(principal)
        else:
            state.auth.check(principal, declared.kind, resource_id, declared.role)


def _anonymous(request: Request, state: ServerState) -> Principal:
    claimed = request.headers.get("x-keel-actor")
    name = state.config.anonymous_actor
    if claimed:
        try:
            name = validate_name(claimed, "X-Keel-Actor")
        except InvalidArgument:
            name = state.config.anonymous_actor
    return Principal(name=name, is_admin=True, authenticated=False, via="anonymous")


def _authenticate(request: Request, state: ServerState) -> Principal | None:
    assert state.auth is not None
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    scheme = scheme.lower()
    value = value.strip()
    if scheme == "bearer" and value:
        return state.auth.authenticate_token(value)
    if scheme == "basic" and value:
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise Unauthenticated("malformed basic credentials") from None
        name, sep, secret = decoded.partition(":")
        if not sep or not name:
            raise Unauthenticated("malformed basic credentials: expected 'user:password'")
        return state.auth.authenticate_basic(name, secret)
    raise Unauthenticated(
        f"unsupported authorization scheme {scheme!r}: use Bearer <token> or Basic"
    )


# -- locators: where a request names its resource -------------------------------------------


async def _field(request: Request, name: str, source: str) -> list[str]:
    if source == "path":
        value = request.path_params.get(name)
        return [] if value is None else [str(value)]
    if source == "query":
        return [v for v in request.query_params.getlist(name) if v]
    body = await json_body(request)
    if not isinstance(body, dict):
        return []
    found = body.get(name)
    if found is None:
        return []
    if isinstance(found, list):
        return [str(v) for v in found if isinstance(v, str | int) and not isinstance(v, bool)]
    if isinstance(found, str | int) and not isinstance(found, bool):
        return [str(found)]
    return []


async def json_body(request: Request) -> Any:
    cached = getattr(request.state, "json_body", _MISSING)
    if cached is not _MISSING:
        return cached
    raw = await request.body()
    try:
        body = orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError:
        body = None  # the endpoint reports the malformed body
    request.state.json_body = body
    return body


_MISSING = object()

ADMIN_ONLY = "\x00admin-only"
"""A locator's answer for a resource that belongs to nobody: only an admin may touch it."""


def experiment_in(name: str, source: str = "path") -> Locator:
    async def locate(request: Request, state: ServerState) -> Sequence[str]:
        return await _field(request, name, source)

    return locate


def run_in(name: str, source: str = "path") -> Locator:
    """The experiments owning the runs named by ``name``; an unknown run is a 404 now, so a
    caller learns nothing more than the endpoint itself would tell."""

    async def locate(request: Request, state: ServerState) -> Sequence[str]:
        run_ids = await _field(request, name, source)
        return sorted({state.run_owner(run_id)[0] for run_id in run_ids})

    return locate


def model_in(name: str, source: str = "path") -> Locator:
    async def locate(request: Request, state: ServerState) -> Sequence[str]:
        return await _field(request, name, source)

    return locate


def artifact_key_in(name: str = "key") -> Locator:
    """The experiment owning an artifact store key ``<experiment location>/<run id>/artifacts/…``:
    the run is read and its artifact location must really prefix the key. Keys outside any run
    belong to no experiment and need an admin."""

    async def locate(request: Request, state: ServerState) -> Sequence[str]:
        keys = await _field(request, name, "path") or await _field(request, "prefix", "query")
        owners: set[str] = set()
        for key in keys:
            owners.add(owner_of_key(state, key))
        return sorted(owners)

    return locate


def owner_of_key(state: ServerState, key: str) -> str:
    parts = key.strip("/").split("/")
    for i in range(len(parts) - 1):
        if parts[i + 1] != "artifacts":
            continue
        try:
            experiment_id, location = state.run_owner(parts[i])
        except KeelError:
            continue
        if key.strip("/").startswith(location.rstrip("/")):
            return experiment_id
    return ADMIN_ONLY
