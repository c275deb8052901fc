"""Auth value objects: accounts, API tokens, grants, roles and the authenticated principal.

Everything here is a frozen dataclass or an enum built from the standard library and
``keel.core``. Times are epoch milliseconds, like every keel timestamp. ``to_dict()`` gives the
JSON form an entity takes in an audit record's ``before`` and ``after``: it never holds a
password, a password hash, a token secret or a token hash (those live only in
:class:`PasswordRecord` and :class:`TokenCredential`, which the store hands to the service for
verification and which are never audited or printed).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

__all__ = [
    "ANONYMOUS",
    "Account",
    "AccountKind",
    "AuthAction",
    "AuthEntityType",
    "Grant",
    "PasswordRecord",
    "Principal",
    "ResourceKind",
    "Role",
    "TokenCredential",
    "TokenInfo",
    "format_ms",
    "grant_entity_id",
]


def format_ms(ms: int) -> str:
    """Epoch milliseconds as an ISO 8601 UTC time (``2025-01-15T10:00:00Z``), for messages."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Role(enum.StrEnum):
    """What an account may do with one resource; each role includes the ones below it:
    ``manager`` ⊇ ``editor`` ⊇ ``reader``."""

    READER = "reader"
    EDITOR = "editor"
    MANAGER = "manager"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def allows(self, needed: Role) -> bool:
        """True when this role includes ``needed`` (a manager may do what an editor may)."""
        return _RANK[self] >= _RANK[Role(needed)]

    @property
    def verb(self) -> str:
        """What needing this role means, for messages: reading, updating, managing."""
        return _VERB[self]


_RANK = {Role.READER: 1, Role.EDITOR: 2, Role.MANAGER: 3}
_VERB = {Role.READER: "reading", Role.EDITOR: "updating", Role.MANAGER: "managing"}


class ResourceKind(enum.StrEnum):
    """What a grant is about. Experiments are addressed by experiment id, registered models
    by name."""

    EXPERIMENT = "experiment"
    REGISTERED_MODEL = "registered_model"

    @property
    def label(self) -> str:
        return "model" if self is ResourceKind.REGISTERED_MODEL else "experiment"


class AccountKind(enum.StrEnum):
    """A person (may have a password) or a service (tokens only, never a password)."""

    USER = "user"
    SERVICE = "service"


class AuthEntityType(enum.StrEnum):
    """The ``entity_type`` of auth audit records."""

    ACCOUNT = "account"
    TOKEN = "token"
    GRANT = "grant"


class AuthAction(enum.StrEnum):
    """The ``action`` of auth audit records (also the type of the event written with them)."""

    ACCOUNT_CREATED = "auth.account.create"
    ACCOUNT_ADMIN_SET = "auth.account.admin"
    ACCOUNT_DISABLED = "auth.account.disable"
    ACCOUNT_ENABLED = "auth.account.enable"
    ACCOUNT_DELETED = "auth.account.delete"
    PASSWORD_SET = "auth.account.password"
    TOKEN_CREATED = "auth.token.create"
    TOKEN_REVOKED = "auth.token.revoke"
    GRANT_SET = "auth.grant"
    GRANT_REVOKED = "auth.grant.revoke"


def grant_entity_id(account_id: str, kind: ResourceKind, resource_id: str) -> str:
    """``<account_id>/<kind>/<resource_id>``: the entity id of a grant's audit records."""
    return f"{account_id}/{kind.value}/{resource_id}"


def _plain(obj: object) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields(obj):  # type: ignore[arg-type]
        value = getattr(obj, f.name)
        out[f.name] = value.value if isinstance(value, enum.Enum) else value
    return out


@dataclass(frozen=True)
class Account:
    """A user or service account. ``name`` is what people type (CLI, HTTP basic auth);
    ``account_id`` is the stable identity used in audit entity ids."""

    account_id: str
    name: str
    kind: AccountKind
    is_admin: bool
    disabled: bool
    created_at: int
    created_by: str
    has_password: bool = False
    """Whether a password is set (never the password or its hash)."""

    def to_dict(self) -> dict[str, Any]:
        return _plain(self)


@dataclass(frozen=True)
class TokenInfo:
    """An API token as it may be shown: never the secret, never its hash."""

    token_id: str
    account: str
    """The owning account's name."""
    name: str
    created_at: int
    expires_at: int | None
    """None: the token never expires (allowed, but prefer an expiry and rotate)."""
    revoked_at: int | None
    last_used_at: int | None
    """Updated at most once a minute per token."""

    def expired(self, at: int) -> bool:
        return self.expires_at is not None and at >= self.expires_at

    def status(self, at: int) -> Literal["active", "expired", "revoked"]:
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.expired(at) else "active"

    def to_dict(self) -> dict[str, Any]:
        return _plain(self)


@dataclass(frozen=True)
class Grant:
    """``account`` holds ``role`` on one experiment or registered model."""

    account: str
    kind: ResourceKind
    resource_id: str
    role: Role
    granted_by: str
    granted_at: int

    def to_dict(self) -> dict[str, Any]:
        return _plain(self)


@dataclass(frozen=True)
class PasswordRecord:
    """What password verification needs: the account and its stored hash (None: no password).
    Internal to the service and the store; never printed (``repr`` hides the hash)."""

    account: Account
    password_hash: str | None = field(repr=False)


@dataclass(frozen=True)
class TokenCredential:
    """What token verification needs: the token, its account, and the SHA-256 of its secret.
    Internal to the service and the store; never printed (``repr`` hides the hash)."""

    token: TokenInfo
    account: Account
    secret_hash: str = field(repr=False)


@dataclass(frozen=True)
class Principal:
    """Who is making a request, once authenticated. ``via`` says how: an API token, a
    password, or nothing at all (:data:`ANONYMOUS`, used when the server runs without auth)."""

    name: str
    is_admin: bool
    authenticated: bool
    via: Literal["token", "password", "anonymous"]
    token_id: str | None = None
    """The token used, when ``via`` is ``"token"``."""

    ANONYMOUS_NAME: ClassVar[str] = "anonymous"

    @classmethod
    def anonymous(cls) -> Principal:
        """The principal of a request without credentials (auth off). It holds no roles here;
        the HTTP layer decides what anonymous requests may do when auth is off."""
        return cls(cls.ANONYMOUS_NAME, is_admin=False, authenticated=False, via="anonymous")


ANONYMOUS = Principal.anonymous()
