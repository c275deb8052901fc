"""SqlAuthStore: accounts, API tokens and grants, audited in the registry's hash chain."""

from __future__ import annotations

import dataclasses
import enum
import re
from collections.abc import Callable
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import exc
from sqlalchemy.engine import Connection

from keel.auth.models import (
    Account,
    AccountKind,
    AuthAction,
    AuthEntityType,
    Grant,
    PasswordRecord,
    ResourceKind,
    Role,
    TokenCredential,
    TokenInfo,
    grant_entity_id,
)
from keel.backends.sql._auth_schema import (
    GRANT_COLUMNS,
    GRANT_JOIN,
    TOKEN_COLUMNS,
    TOKEN_JOIN,
    account_from_row,
    account_row,
    auth_accounts,
    auth_grants,
    auth_tokens,
    find_grant_row,
    get_token_row,
    grant_from_row,
    token_from_row,
)
from keel.backends.sql._engine import Database
from keel.backends.sql._registry_tx import RegistryTx, check_id, registry_write
from keel.backends.sql._search import binary
from keel.core.naming import validate_name
from keel.errors import AlreadyExists, Conflict, InvalidArgument, NotFound
from keel.registry.models import AuditContext

E = TypeVar("E", bound=enum.Enum)

_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
_A, _T, _G = auth_accounts.c, auth_tokens.c, auth_grants.c


def _enum(cls: type[E], value: object, what: str) -> E:
    try:
        return cls(value)
    except ValueError:
        known = ", ".join(str(m.value) for m in cls)
        raise InvalidArgument(
            f"unknown {what} {value!r}; known: {known}", details={"field": what}
        ) from None


def _no_service_password(name: str) -> InvalidArgument:
    return InvalidArgument(
        f"service account {name!r} cannot have a password: service accounts use API tokens",
        details={"account": name},
    )


def _check_resource(kind: object, resource_id: object) -> tuple[ResourceKind, str]:
    return _enum(ResourceKind, kind, "resource kind"), validate_name(resource_id, "resource id")


class SqlAuthStore:
    """The AuthStore port on a SQL database (the registry's audit chain records every change)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # -- accounts --------------------------------------------------------------------------

    def create_account(
        self,
        account_id: str,
        name: str,
        kind: AccountKind,
        ctx: AuditContext,
        *,
        is_admin: bool = False,
        password_hash: str | None = None,
    ) -> Account:
        check_id(account_id, "account_id")
        validate_name(name, "account name")
        kind = _enum(AccountKind, kind, "account kind")
        if kind is AccountKind.SERVICE and password_hash is not None:
            raise _no_service_password(name)

        def create(tx: RegistryTx) -> Account:
            taken = tx.conn.execute(
                sa.select(_A.id, _A.name).where(sa.or_(_A.name == name, _A.id == account_id))
            ).first()
            if taken is not None:
                what = f"named {name!r}" if taken.name == name else f"with id {account_id!r}"
                raise AlreadyExists(f"an account {what} already exists",
                                    details={"account": name})
            tx.conn.execute(sa.insert(auth_accounts).values(
                id=account_id, name=name, kind=kind.value, is_admin=bool(is_admin),
                disabled=False, password_hash=password_hash, created_at=ctx.at,
                created_by=ctx.actor,
            ))
            account = account_from_row(account_row(tx.conn, name))
            tx.record(AuthAction.ACCOUNT_CREATED, AuthEntityType.ACCOUNT, account_id, None,
                      account.to_dict(), {"account": name, "kind": kind.value})
            return account

        try:
            return registry_write(self._db, ctx, create)
        except exc.IntegrityError:  # a concurrent writer outside keel's serialization
            raise AlreadyExists(f"an account named {name!r} already exists",
                                details={"account": name}) from None

    def get_account(self, name: str) -> Account:
        return self._db.read(lambda conn: account_from_row(account_row(conn, name)))

    def find_account(self, name: str) -> Account | None:
        row = self._db.read(
            lambda conn: conn.execute(sa.select(auth_accounts).where(_A.name == name)).first()
        )
        return None if row is None else account_from_row(row)

    def list_accounts(self) -> list[Account]:
        query = sa.select(auth_accounts).order_by(binary(_A.name, self._db.dialect))
        return self._db.read(lambda conn: [account_from_row(r) for r in conn.execute(query)])

    def _update_account(
        self, name: str, ctx: AuditContext, action: AuthAction, values: dict[str, Any],
        check: Callable[[Account], None] | None = None,
    ) -> Account:
        def update(tx: RegistryTx) -> Account:
            row = account_row(tx.conn, name)
            before = account_from_row(row)
            if check is not None:
                check(before)
            tx.conn.execute(sa.update(auth_accounts).where(_A.id == row.id).values(**values))
            after = account_from_row(account_row(tx.conn, name))
            tx.record(action, AuthEntityType.ACCOUNT, row.id, before.to_dict(),
                      after.to_dict(), {"account": name})
            return after

        return registry_write(self._db, ctx, update)

    def set_password_hash(
        self, name: str, password_hash: str | None, ctx: AuditContext
    ) -> Account:
        if password_hash is not None and not isinstance(password_hash, str):
            raise InvalidArgument("a password hash is a string")

        def check(account: Account) -> None:
            if account.kind is AccountKind.SERVICE and password_hash is not None:
                raise _no_service_password(name)

        return self._update_account(name, ctx, AuthAction.PASSWORD_SET,
                                    {"password_hash": password_hash}, check)

    def set_admin(self, name: str, is_admin: bool, ctx: AuditContext) -> Account:
        return self._update_account(name, ctx, AuthAction.ACCOUNT_ADMIN_SET,
                                    {"is_admin": bool(is_admin)})

    def set_disabled(self, name: str, disabled: bool, ctx: AuditContext) -> Account:
        action = AuthAction.ACCOUNT_DISABLED if disabled else AuthAction.ACCOUNT_ENABLED
        return self._update_account(name, ctx, action, {"disabled": bool(disabled)})

    def delete_account(self, name: str, ctx: AuditContext) -> None:
        def delete(tx: RegistryTx) -> None:
            row = account_row(tx.conn, name)
            account = account_from_row(row)
            tokens = tx.conn.execute(
                sa.select(*TOKEN_COLUMNS).select_from(TOKEN_JOIN)
                .where(_T.account_id == row.id).order_by(_T.created_at, _T.id)
            ).all()
            for token in map(token_from_row, tokens):
                if token.revoked_at is None:
                    revoked = dataclasses.replace(token, revoked_at=ctx.at)
                    tx.record(AuthAction.TOKEN_REVOKED, AuthEntityType.TOKEN, token.token_id,
                              token.to_dict(), revoked.to_dict(),
                              {"account": name, "token_id": token.token_id})
            grants = tx.conn.execute(
                sa.select(*GRANT_COLUMNS).select_from(GRANT_JOIN)
                .where(_G.account_id == row.id).order_by(_G.kind, _G.resource_id)
            ).all()
            for grant in map(grant_from_row, grants):
                tx.record(AuthAction.GRANT_REVOKED, AuthEntityType.GRANT,
                          grant_entity_id(row.id, grant.kind, grant.resource_id),
                          grant.to_dict(), None, _grant_payload(grant))
            tx.conn.execute(sa.delete(auth_tokens).where(_T.account_id == row.id))
            tx.conn.execute(sa.delete(auth_grants).where(_G.account_id == row.id))
            tx.conn.execute(sa.delete(auth_accounts).where(_A.id == row.id))
            tx.record(AuthAction.ACCOUNT_DELETED, AuthEntityType.ACCOUNT, row.id,
                      account.to_dict(), None, {"account": name})

        registry_write(self._db, ctx, delete)

    def find_password(self, name: str) -> PasswordRecord | None:
        row = self._db.read(
            lambda conn: conn.execute(sa.select(auth_accounts).where(_A.name == name)).first()
        )
        return None if row is None else PasswordRecord(account_from_row(row), row.password_hash)

    # -- tokens ----------------------------------------------------------------------------

    def create_token(
        self,
        token_id: str,
        account: str,
        name: str,
        secret_hash: str,
        ctx: AuditContext,
        *,
        expires_at: int | None,
    ) -> TokenInfo:
        check_id(token_id, "token_id")
        validate_name(name, "token name")
        if not isinstance(secret_hash, str) or not _SHA256_HEX.fullmatch(secret_hash):
            raise InvalidArgument("a token's secret hash is 64 lowercase hex digits (SHA-256)")
        if expires_at is not None and (isinstance(expires_at, bool)
                                       or not isinstance(expires_at, int)):
            raise InvalidArgument("expires_at is epoch milliseconds or None")

        def create(tx: RegistryTx) -> TokenInfo:
            row = account_row(tx.conn, account)
            if row.disabled:
                raise Conflict(f"account {account!r} is disabled; enable it first",
                               details={"account": account})
            if tx.conn.execute(sa.select(_T.id).where(_T.id == token_id)).first() is not None:
                raise AlreadyExists(f"a token with id {token_id!r} already exists",
                                    details={"token_id": token_id})
            tx.conn.execute(sa.insert(auth_tokens).values(
                id=token_id, account_id=row.id, name=name, secret_hash=secret_hash,
                created_at=ctx.at, expires_at=expires_at,
            ))
            token = get_token_row(tx.conn, token_id)
            tx.record(AuthAction.TOKEN_CREATED, AuthEntityType.TOKEN, token_id, None,
                      token.to_dict(), {"account": account, "token_id": token_id})
            return token

        return registry_write(self._db, ctx, create)

    def get_token(self, token_id: str) -> TokenInfo:
        return self._db.read(lambda conn: get_token_row(conn, token_id))

    def list_tokens(self, account: str | None = None) -> list[TokenInfo]:
        def list_(conn: Connection) -> list[TokenInfo]:
            query = sa.select(*TOKEN_COLUMNS).select_from(TOKEN_JOIN)
            if account is not None:
                query = query.where(_T.account_id == account_row(conn, account).id)
            query = query.order_by(_T.created_at, _T.id)
            return [token_from_row(r) for r in conn.execute(query)]

        return self._db.read(list_)

    def revoke_token(self, token_id: str, ctx: AuditContext) -> TokenInfo:
        def revoke(tx: RegistryTx) -> TokenInfo:
            before = get_token_row(tx.conn, token_id)
            if before.revoked_at is not None:
                raise Conflict(f"token {token_id} was already revoked",
                               details={"token_id": token_id})
            tx.conn.execute(
                sa.update(auth_tokens).where(_T.id == token_id).values(revoked_at=ctx.at)
            )
            after = get_token_row(tx.conn, token_id)
            tx.record(AuthAction.TOKEN_REVOKED, AuthEntityType.TOKEN, token_id,
                      before.to_dict(), after.to_dict(),
                      {"account": after.account, "token_id": token_id})
            return after

        return registry_write(self._db, ctx, revoke)

    def find_token_credential(self, token_id: str) -> TokenCredential | None:
        if not isinstance(token_id, str):
            return None
        query = (
            sa.select(*TOKEN_COLUMNS, _T.secret_hash, _T.account_id)
            .select_from(TOKEN_JOIN).where(_T.id == token_id)
        )

        def find(conn: Connection) -> TokenCredential | None:
            row = conn.execute(query).first()
            if row is None:
                return None
            owner = conn.execute(
                sa.select(auth_accounts).where(_A.id == row.account_id)
            ).one()
            return TokenCredential(token_from_row(row), account_from_row(owner), row.secret_hash)

        return self._db.read(find)

    def record_token_use(self, token_id: str, at: int, *, min_interval_ms: int) -> bool:
        stmt = (
            sa.update(auth_tokens)
            .where(_T.id == token_id)
            .where(sa.or_(_T.last_used_at.is_(None), _T.last_used_at <= at - min_interval_ms))
            .values(last_used_at=at)
        )
        return bool(self._db.write(lambda conn: conn.execute(stmt).rowcount))

    # -- grants ----------------------------------------------------------------------------

    def set_grant(
        self,
        account: str,
        kind: ResourceKind,
        resource_id: str,
        role: Role,
        ctx: AuditContext,
    ) -> Grant:
        kind, resource_id = _check_resource(kind, resource_id)
        role = _enum(Role, role, "role")

        def grant(tx: RegistryTx) -> Grant:
            account_id = account_row(tx.conn, account).id
            before = find_grant_row(tx.conn, account, kind, resource_id)
            where = (_G.account_id == account_id, _G.kind == kind.value,
                     _G.resource_id == resource_id)
            tx.conn.execute(sa.delete(auth_grants).where(*where))
            tx.conn.execute(sa.insert(auth_grants).values(
                account_id=account_id, kind=kind.value, resource_id=resource_id,
                role=role.value, granted_by=ctx.actor, granted_at=ctx.at,
            ))
            after = find_grant_row(tx.conn, account, kind, resource_id)
            assert after is not None
            tx.record(AuthAction.GRANT_SET, AuthEntityType.GRANT,
                      grant_entity_id(account_id, kind, resource_id),
                      None if before is None else before.to_dict(), after.to_dict(),
                      _grant_payload(after))
            return after

        return registry_write(self._db, ctx, grant)

    def delete_grant(
        self, account: str, kind: ResourceKind, resource_id: str, ctx: AuditContext
    ) -> Grant:
        kind, resource_id = _check_resource(kind, resource_id)

        def delete(tx: RegistryTx) -> Grant:
            account_id = account_row(tx.conn, account).id
            before = find_grant_row(tx.conn, account, kind, resource_id)
            if before is None:
                raise NotFound(
                    f"{account} has no grant on {kind.label} {resource_id}",
                    details={"account": account, "kind": kind.value,
                             "resource_id": resource_id},
                )
            tx.conn.execute(sa.delete(auth_grants).where(
                _G.account_id == account_id, _G.kind == kind.value,
                _G.resource_id == resource_id,
            ))
            tx.record(AuthAction.GRANT_REVOKED, AuthEntityType.GRANT,
                      grant_entity_id(account_id, kind, resource_id), before.to_dict(), None,
                      _grant_payload(before))
            return before

        return registry_write(self._db, ctx, delete)

    def find_grant(self, account: str, kind: ResourceKind, resource_id: str) -> Grant | None:
        kind, resource_id = _check_resource(kind, resource_id)
        return self._db.read(lambda conn: find_grant_row(conn, account, kind, resource_id))

    def list_grants(
        self,
        account: str | None = None,
        kind: ResourceKind | None = None,
        resource_id: str | None = None,
    ) -> list[Grant]:
        checked_kind = None if kind is None else _enum(ResourceKind, kind, "resource kind")

        def list_(conn: Connection) -> list[Grant]:
            query = sa.select(*GRANT_COLUMNS).select_from(GRANT_JOIN)
            if account is not None:
                query = query.where(_G.account_id == account_row(conn, account).id)
            if checked_kind is not None:
                query = query.where(_G.kind == checked_kind.value)
            if resource_id is not None:
                query = query.where(_G.resource_id == resource_id)
            dialect = self._db.dialect
            query = query.order_by(binary(_A.name, dialect), _G.kind,
                                   binary(_G.resource_id, dialect))
            return [grant_from_row(r) for r in conn.execute(query)]

        return self._db.read(list_)


def _grant_payload(grant: Grant) -> dict[str, Any]:
    return {"account": grant.account, "kind": grant.kind.value,
            "resource_id": grant.resource_id, "role": grant.role.value}
