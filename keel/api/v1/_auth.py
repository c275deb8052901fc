"""``/api/v1/auth``: accounts, API tokens and grants over HTTP (what ``keel users`` and
``keel tokens`` do on the server's machine).

Admins manage accounts; anyone signed in manages their own tokens and password; a resource's
managers grant and revoke roles on it (as MLflow's MANAGE permission does). Every change is
audited with the caller as the actor. Bodies must be JSON (``application/json``), so a
cross-site form cannot create an account with a signed-in admin's browser.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from fastapi import APIRouter, Depends, Request, Response

from keel.api._authz import ADMIN, AUTHENTICATED, KeelRoute, permission
from keel.api._json import body_of, body_spec, respond, returns
from keel.api._state import actor_of, principal_of, state_of
from keel.auth import (
    Account,
    AccountKind,
    AuthService,
    Grant,
    ResourceKind,
    Role,
    TokenInfo,
)
from keel.errors import InvalidArgument, PermissionDenied

router = APIRouter(prefix="/api/v1/auth", tags=["auth"], route_class=KeelRoute)

MAX_TOKEN_DAYS = 3650


@dataclass(frozen=True)
class Whoami:
    name: str
    is_admin: bool
    authenticated: bool
    via: str


@dataclass(frozen=True)
class CreateAccount:
    name: str
    kind: AccountKind = AccountKind.USER
    password: str | None = None
    admin: bool = False
    reason: str | None = None


@dataclass(frozen=True)
class SetPassword:
    password: str


@dataclass(frozen=True)
class CreateToken:
    name: str
    account: str | None = None
    expires_in_days: int | None = 90
    """None: the token never expires."""


@dataclass(frozen=True)
class CreatedToken:
    token: TokenInfo
    secret: str
    """Shown once; the server keeps only its hash."""


@dataclass(frozen=True)
class GrantRole:
    account: str
    kind: ResourceKind
    resource_id: str
    role: Role
    reason: str | None = None


@dataclass(frozen=True)
class RevokeRole:
    account: str
    kind: ResourceKind
    resource_id: str
    reason: str | None = None


def _auth(request: Request) -> AuthService:
    """The server's auth service; with authentication off, the store's accounts still exist
    (and a loopback caller, an anonymous admin, may manage them)."""
    state = state_of(request)
    return state.auth if state.auth is not None else state.keel.auth


def _self_or_admin(request: Request, account: str) -> None:
    principal = principal_of(request)
    if principal.name != account and not principal.is_admin:
        raise PermissionDenied(f"{principal.name} may manage only their own tokens and "
                               f"password, not {account}'s", details={"account": account})


def _manager_of(request: Request, kind: ResourceKind, resource_id: str) -> None:
    state_of(request).check(request, Role.MANAGER, kind, resource_id)


@router.get("/whoami", responses=returns(Whoami))
@permission(AUTHENTICATED)
def whoami(request: Request) -> Response:
    p = principal_of(request)
    return respond(Whoami(p.name, p.is_admin, p.authenticated, p.via))


@router.post("/accounts", openapi_extra=body_spec(CreateAccount),
             responses=returns(Account, 201), status_code=201)
@permission(ADMIN)
def create_account(request: Request,
                   body: CreateAccount = Depends(body_of(CreateAccount))) -> Response:
    account = _auth(request).create_account(
        body.name, kind=body.kind, password=body.password, admin=body.admin,
        actor=actor_of(request), reason=body.reason,
    )
    return respond(account, 201)


@router.get("/accounts", responses=returns(list[Account]))
@permission(ADMIN)
def list_accounts(request: Request) -> Response:
    return respond(_auth(request).list_accounts())


@router.post("/accounts/{name}/disable", responses=returns(Account))
@permission(ADMIN)
def disable_account(request: Request, name: str) -> Response:
    return respond(_auth(request).disable_account(name, actor=actor_of(request)))


@router.post("/accounts/{name}/enable", responses=returns(Account))
@permission(ADMIN)
def enable_account(request: Request, name: str) -> Response:
    return respond(_auth(request).enable_account(name, actor=actor_of(request)))


@router.delete("/accounts/{name}", status_code=204)
@permission(ADMIN)
def delete_account(request: Request, name: str) -> Response:
    _auth(request).delete_account(name, actor=actor_of(request))
    return Response(status_code=204)


@router.put("/accounts/{name}/password", openapi_extra=body_spec(SetPassword),
            responses=returns(Account))
@permission(AUTHENTICATED)
def set_password(request: Request, name: str,
                 body: SetPassword = Depends(body_of(SetPassword))) -> Response:
    _self_or_admin(request, name)
    return respond(_auth(request).set_password(name, body.password, actor=actor_of(request)))


@router.post("/tokens", openapi_extra=body_spec(CreateToken),
             responses=returns(CreatedToken, 201), status_code=201)
@permission(AUTHENTICATED)
def create_token(request: Request,
                 body: CreateToken = Depends(body_of(CreateToken))) -> Response:
    """A token for the caller (or, for an admin, for any account); the secret is in this
    answer only."""
    account = body.account or principal_of(request).name
    _self_or_admin(request, account)
    days = body.expires_in_days
    if days is not None and not 1 <= days <= MAX_TOKEN_DAYS:
        raise InvalidArgument(f"expires_in_days must be between 1 and {MAX_TOKEN_DAYS} "
                              "(or null for a token that never expires)")
    info, secret = _auth(request).create_token(
        account, name=body.name, actor=actor_of(request),
        expires_in=None if days is None else timedelta(days=days),
    )
    return respond(CreatedToken(info, secret), 201)


@router.get("/tokens", responses=returns(list[TokenInfo]))
@permission(AUTHENTICATED)
def list_tokens(request: Request, account: str | None = None) -> Response:
    principal = principal_of(request)
    if account is None and not principal.is_admin:
        account = principal.name
    if account is not None:
        _self_or_admin(request, account)
    return respond(_auth(request).list_tokens(account))


@router.post("/tokens/{token_id}/revoke", responses=returns(TokenInfo))
@permission(AUTHENTICATED)
def revoke_token(request: Request, token_id: str) -> Response:
    auth = _auth(request)
    _self_or_admin(request, auth.get_token(token_id).account)
    return respond(auth.revoke_token(token_id, actor=actor_of(request)))


@router.put("/grants", openapi_extra=body_spec(GrantRole), responses=returns(Grant))
@permission(AUTHENTICATED)
def grant(request: Request, body: GrantRole = Depends(body_of(GrantRole))) -> Response:
    """Give ``account`` a role on one experiment or registered model (its managers may)."""
    _manager_of(request, body.kind, body.resource_id)
    return respond(_auth(request).grant(body.account, body.kind, body.resource_id, body.role,
                                        actor=actor_of(request), reason=body.reason))


@router.post("/grants/revoke", openapi_extra=body_spec(RevokeRole), responses=returns(Grant))
@permission(AUTHENTICATED)
def revoke_grant(request: Request, body: RevokeRole = Depends(body_of(RevokeRole))) -> Response:
    _manager_of(request, body.kind, body.resource_id)
    return respond(_auth(request).revoke_grant(body.account, body.kind, body.resource_id,
                                               actor=actor_of(request), reason=body.reason))


@router.get("/grants", responses=returns(list[Grant]))
@permission(AUTHENTICATED)
def list_grants(request: Request, kind: ResourceKind | None = None,
                resource_id: str | None = None, account: str | None = None) -> Response:
    """A resource's grants (its managers), an account's (itself), or all (admins)."""
    principal = principal_of(request)
    if kind is not None and resource_id is not None:
        _manager_of(request, kind, resource_id)
    elif account is not None:
        _self_or_admin(request, account)
    elif not principal.is_admin:
        account = principal.name
    return respond(_auth(request).list_grants(account, kind, resource_id))
