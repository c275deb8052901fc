"""AuthService: accounts, API tokens, authentication and per-resource authorization.

There is no default admin and no default password: the first admin is created with
``keel users create NAME --admin`` by someone with access to the metadata database. Every
change goes to keel's hash-chained audit log in the same transaction (see keel.auth.store).
"""

from __future__ import annotations

import datetime
import enum
from collections.abc import Callable
from typing import TypeVar

from keel.auth._secrets import (
    MAX_PASSWORD_LENGTH,
    check_password,
    hash_password,
    hash_token,
    looks_like_token,
    needs_rehash,
    new_token,
    new_token_id,
    parse_token,
    token_matches,
    verify_password,
)
from keel.auth.models import (
    Account,
    AccountKind,
    Grant,
    Principal,
    ResourceKind,
    Role,
    TokenInfo,
    format_ms,
)
from keel.auth.store import AuthStore
from keel.core.clock import now_ms
from keel.core.ids import new_id
from keel.core.naming import validate_name
from keel.errors import InvalidArgument, PermissionDenied, Unauthenticated
from keel.registry.models import AuditContext

TOKEN_USE_INTERVAL_MS = 60_000
"""``last_used_at`` is written at most this often per token."""
DEFAULT_TOKEN_LIFETIME = datetime.timedelta(days=90)
_INVALID = "invalid credentials"
_RESERVED_NAMES = frozenset({Principal.ANONYMOUS_NAME})


def _invalid() -> Unauthenticated:
    return Unauthenticated(_INVALID)


E = TypeVar("E", bound=enum.Enum)


def _member(cls: type[E], value: object, what: str) -> E:
    try:
        return cls(value)
    except ValueError:
        known = ", ".join(str(m.value) for m in cls)
        raise InvalidArgument(f"unknown {what} {value!r}; known: {known}",
                              details={"field": what}) from None


def check_account_name(name: object) -> str:
    """A name (keel.core.naming) without ``:`` (HTTP basic auth splits on it), without
    surrounding whitespace, and not ``anonymous``."""
    text = validate_name(name, "account name")
    if ":" in text or text != text.strip():
        raise InvalidArgument(
            f"invalid account name {text!r}: no ':' and no leading or trailing whitespace",
            details={"field": "account name"},
        )
    if text.casefold() in _RESERVED_NAMES:
        raise InvalidArgument(f"{text!r} is reserved and cannot name an account",
                              details={"field": "account name"})
    return text


class AuthService:
    """Use cases over an :class:`~keel.auth.store.AuthStore`.

    ``default_role`` is the role every authenticated account holds on a resource it has no
    grant for (None: no access without a grant); an explicit grant always wins over it, also
    when it is lower. Admins are managers of everything. ``clock`` gives epoch milliseconds.
    """

    def __init__(
        self,
        store: AuthStore,
        *,
        default_role: Role | None = Role.READER,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self._store = store
        self._default_role = None if default_role is None else _member(
            Role, default_role, "role")
        self._clock = clock

    @property
    def store(self) -> AuthStore:
        return self._store

    @property
    def default_role(self) -> Role | None:
        return self._default_role

    def _ctx(self, actor: str, reason: str | None) -> AuditContext:
        return AuditContext(actor, reason, self._clock())

    # -- accounts --------------------------------------------------------------------------

    def create_account(
        self,
        name: str,
        *,
        kind: AccountKind = AccountKind.USER,
        password: str | None = None,
        admin: bool = False,
        actor: str,
        reason: str | None = None,
    ) -> Account:
        """A new account. Users may have a password (else they use tokens only); service
        accounts never do (InvalidArgument)."""
        check_account_name(name)
        kind = _member(AccountKind, kind, "account kind")
        ctx = self._ctx(actor, reason)
        password_hash = None
        if password is not None:
            if kind is AccountKind.SERVICE:
                raise InvalidArgument(
                    f"service account {name!r} cannot have a password: service accounts use "
                    "API tokens", details={"account": name},
                )
            password_hash = hash_password(check_password(password, name))
        return self._store.create_account(
            new_id(), name, kind, ctx, is_admin=bool(admin), password_hash=password_hash
        )

    def set_password(
        self, name: str, password: str | None, *, actor: str, reason: str | None = None
    ) -> Account:
        """Set (None: remove) the account's password; its tokens keep working."""
        ctx = self._ctx(actor, reason)
        if password is None:
            return self._store.set_password_hash(name, None, ctx)
        account = self._store.get_account(name)
        if account.kind is AccountKind.SERVICE:
            raise InvalidArgument(
                f"service account {name!r} cannot have a password: service accounts use "
                "API tokens", details={"account": name},
            )
        return self._store.set_password_hash(
            name, hash_password(check_password(password, name)), ctx
        )

    def set_admin(
        self, name: str, admin: bool, *, actor: str, reason: str | None = None
    ) -> Account:
        return self._store.set_admin(name, bool(admin), self._ctx(actor, reason))

    def disable_account(self, name: str, *, actor: str, reason: str | None = None) -> Account:
        """The account can no longer authenticate (password or token); reversible."""
        return self._store.set_disabled(name, True, self._ctx(actor, reason))

    def enable_account(self, name: str, *, actor: str, reason: str | None = None) -> Account:
        return self._store.set_disabled(name, False, self._ctx(actor, reason))

    def delete_account(self, name: str, *, actor: str, reason: str | None = None) -> None:
        """Delete the account, revoking its tokens and grants (all audited)."""
        self._store.delete_account(name, self._ctx(actor, reason))

    def get_account(self, name: str) -> Account:
        return self._store.get_account(name)

    def list_accounts(self) -> list[Account]:
        return self._store.list_accounts()

    # -- tokens ----------------------------------------------------------------------------

    def create_token(
        self,
        account: str,
        *,
        name: str,
        expires_in: datetime.timedelta | None = DEFAULT_TOKEN_LIFETIME,
        actor: str,
        reason: str | None = None,
    ) -> tuple[TokenInfo, str]:
        """A new API token for ``account`` and its secret, which is returned only here (only
        its SHA-256 is stored). ``expires_in=None`` makes a token that never expires: allowed
        for automation that cannot rotate, but prefer an expiry."""
        validate_name(name, "token name")
        expires_at = None
        if expires_in is not None:
            if not isinstance(expires_in, datetime.timedelta):
                raise InvalidArgument("expires_in is a datetime.timedelta or None")
            lifetime_ms = expires_in // datetime.timedelta(milliseconds=1)
            if lifetime_ms <= 0:
                raise InvalidArgument("expires_in must be positive (None: never expires)")
        ctx = self._ctx(actor, reason)
        if expires_in is not None:
            expires_at = ctx.at + lifetime_ms
        token_id = new_token_id()
        secret = new_token(token_id)
        info = self._store.create_token(
            token_id, account, name, hash_token(secret), ctx, expires_at=expires_at
        )
        return info, secret

    def revoke_token(
        self, token_id: str, *, actor: str, reason: str | None = None
    ) -> TokenInfo:
        return self._store.revoke_token(token_id, self._ctx(actor, reason))

    def get_token(self, token_id: str) -> TokenInfo:
        return self._store.get_token(token_id)

    def list_tokens(self, account: str | None = None) -> list[TokenInfo]:
        return self._store.list_tokens(account)

    # -- authentication --------------------------------------------------------------------

    def authenticate_token(self, secret: str) -> Principal:
        """The principal a token stands for. Unauthenticated when the token is malformed,
        unknown or wrong ("invalid credentials"), expired, revoked, or its account disabled
        (those three say so: only the token's holder gets that far)."""
        parsed = parse_token(secret)
        credential = self._store.find_token_credential(parsed.token_id)
        if credential is None or not token_matches(parsed.secret, credential.secret_hash):
            raise _invalid()
        token, account = credential.token, credential.account
        now = self._clock()
        if token.revoked_at is not None:
            raise Unauthenticated(
                f"token {token.token_id} was revoked at {format_ms(token.revoked_at)}",
                details={"token_id": token.token_id},
            )
        if token.expires_at is not None and now >= token.expires_at:
            raise Unauthenticated(
                f"token {token.token_id} expired at {format_ms(token.expires_at)}",
                details={"token_id": token.token_id},
            )
        self._refuse_disabled(account)
        if token.last_used_at is None or now - token.last_used_at >= TOKEN_USE_INTERVAL_MS:
            self._store.record_token_use(
                token.token_id, now, min_interval_ms=TOKEN_USE_INTERVAL_MS
            )
        return Principal(account.name, account.is_admin, True, "token", token.token_id)

    def authenticate_password(self, name: str, password: str) -> Principal:
        """The principal for a name and password; Unauthenticated "invalid credentials" for an
        unknown name, a wrong password or an account without one (indistinguishable, also by
        timing), and "account ... is disabled" for a disabled account's right password."""
        if not isinstance(password, str) or len(password) > MAX_PASSWORD_LENGTH:
            raise _invalid()
        try:
            validate_name(name, "account name")
            if "\x00" in password:
                # Never in a stored password; and HMAC (inside scrypt) would take trailing
                # NULs as equal to none.
                raise InvalidArgument("NUL in a password")
        except InvalidArgument:  # e.g. a NUL byte, which PostgreSQL cannot even compare
            verify_password(password, None)
            raise _invalid() from None
        record = self._store.find_password(name)
        stored = None if record is None else record.password_hash
        if not verify_password(password, stored) or record is None:
            raise _invalid()
        account = record.account
        self._refuse_disabled(account)
        if stored is not None and needs_rehash(stored):
            self._store.set_password_hash(
                name, hash_password(password),
                AuditContext(name, "password rehashed with stronger parameters", self._clock()),
            )
        return Principal(account.name, account.is_admin, True, "password")

    def authenticate_basic(self, name: str, password_or_token: str) -> Principal:
        """HTTP basic auth: the password field holds the account's password or one of its API
        tokens (a token of another account is refused)."""
        if isinstance(password_or_token, str) and looks_like_token(password_or_token):
            principal = self.authenticate_token(password_or_token)
            if principal.name != name:
                raise _invalid()
            return principal
        return self.authenticate_password(name, password_or_token)

    @staticmethod
    def _refuse_disabled(account: Account) -> None:
        if account.disabled:
            raise Unauthenticated(f"account {account.name!r} is disabled",
                                  details={"account": account.name})

    # -- authorization ---------------------------------------------------------------------

    def grant(
        self,
        account: str,
        kind: ResourceKind,
        resource_id: str,
        role: Role,
        *,
        actor: str,
        reason: str | None = None,
    ) -> Grant:
        """Give ``account`` ``role`` on one experiment (by id) or registered model (by name),
        replacing the role it had there."""
        return self._store.set_grant(
            account, _member(ResourceKind, kind, "resource kind"), resource_id,
            _member(Role, role, "role"), self._ctx(actor, reason),
        )

    def revoke_grant(
        self,
        account: str,
        kind: ResourceKind,
        resource_id: str,
        *,
        actor: str,
        reason: str | None = None,
    ) -> Grant:
        """Remove the grant (the account falls back to the default role); NotFound if none."""
        return self._store.delete_grant(
            account, _member(ResourceKind, kind, "resource kind"), resource_id,
            self._ctx(actor, reason),
        )

    def list_grants(
        self,
        account: str | None = None,
        kind: ResourceKind | None = None,
        resource_id: str | None = None,
    ) -> list[Grant]:
        return self._store.list_grants(account, kind, resource_id)

    def role_for(self, principal: Principal, kind: ResourceKind, resource_id: str) -> Role | None:
        """MANAGER for admins; else the account's grant on the resource; else the default
        role. None for unauthenticated principals (the HTTP layer decides what anonymous
        requests may do when auth is off)."""
        return self._resolve(principal, kind, resource_id)[0]

    def _resolve(
        self, principal: Principal, kind: ResourceKind, resource_id: str
    ) -> tuple[Role | None, str]:
        if not principal.authenticated:
            return None, "anonymous"
        if principal.is_admin:
            return Role.MANAGER, "admin"
        grant = self._store.find_grant(
            principal.name, _member(ResourceKind, kind, "resource kind"), resource_id
        )
        if grant is not None:
            return grant.role, "granted"
        return self._default_role, "default"

    def check(
        self, principal: Principal, kind: ResourceKind, resource_id: str, needed: Role
    ) -> None:
        """PermissionDenied unless the principal's role on the resource includes ``needed``;
        Unauthenticated for an unauthenticated principal."""
        kind = _member(ResourceKind, kind, "resource kind")
        needed = _member(Role, needed, "role")
        if not principal.authenticated:
            raise Unauthenticated("authentication required")
        role, source = self._resolve(principal, kind, resource_id)
        if role is not None and role.allows(needed):
            return
        held = "no role" if role is None else role.value
        why = "no grant, no default role" if role is None else source
        raise PermissionDenied(
            f"{principal.name} has {held} on {kind.label} {resource_id} ({why}); "
            f"{needed.verb} it needs {needed.value}",
            details={"account": principal.name, "kind": kind.value,
                     "resource_id": resource_id,
                     "role": None if role is None else role.value, "needed": needed.value},
        )

    def require_admin(self, principal: Principal) -> None:
        """PermissionDenied unless the principal is an admin (Unauthenticated when it is not
        authenticated at all)."""
        if not principal.authenticated:
            raise Unauthenticated("authentication required")
        if not principal.is_admin:
            raise PermissionDenied(f"this needs an admin; {principal.name} is not one",
                                   details={"account": principal.name})
