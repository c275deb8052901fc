"""Auth tables (migration 0003), on the same MetaData as the tracking and registry schemas.

- ``auth_accounts.id`` is the caller's ``account_id``; ``name`` is unique. ``password_hash``
  holds a PHC-format scrypt hash or NULL (service accounts, users who only use tokens).
- ``auth_tokens.secret_hash`` is the SHA-256 (hex) of the whole token; the token itself is
  never stored. Tokens and grants go with their account (``ON DELETE CASCADE``).
- ``auth_grants`` has one row per (account, resource kind, resource id).
- Changes are recorded in the registry's ``audit_log`` (one hash chain for the database).

Below the tables: the joins and row readers the store builds its models with.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from keel.auth.models import Account, AccountKind, Grant, ResourceKind, Role, TokenInfo
from keel.backends.sql._schema import metadata
from keel.errors import NotFound

_ms = sa.BigInteger
_bool = sa.Boolean(create_constraint=False)


def _account_fk(primary_key: bool = False) -> sa.Column[str]:
    return sa.Column(
        "account_id",
        sa.String(64),
        sa.ForeignKey("auth_accounts.id", ondelete="CASCADE"),
        primary_key=primary_key,
        nullable=False,
    )


auth_accounts = sa.Table(
    "auth_accounts",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(500), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("is_admin", _bool, nullable=False),
    sa.Column("disabled", _bool, nullable=False),
    sa.Column("password_hash", sa.Text, nullable=True),
    sa.Column("created_at", _ms, nullable=False),
    sa.Column("created_by", sa.String(500), nullable=False),
    sa.UniqueConstraint("name", name="uq_auth_accounts_name"),
)

auth_tokens = sa.Table(
    "auth_tokens",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    _account_fk(),
    sa.Column("name", sa.String(500), nullable=False),
    sa.Column("secret_hash", sa.String(64), nullable=False),
    sa.Column("created_at", _ms, nullable=False),
    sa.Column("expires_at", _ms, nullable=True),
    sa.Column("revoked_at", _ms, nullable=True),
    sa.Column("last_used_at", _ms, nullable=True),
    sa.Index("ix_auth_tokens_account", "account_id"),
)

auth_grants = sa.Table(
    "auth_grants",
    metadata,
    _account_fk(primary_key=True),
    sa.Column("kind", sa.String(32), primary_key=True),
    sa.Column("resource_id", sa.String(500), primary_key=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("granted_by", sa.String(500), nullable=False),
    sa.Column("granted_at", _ms, nullable=False),
    sa.Index("ix_auth_grants_resource", "kind", "resource_id"),
)

AUTH_TABLES = ("auth_accounts", "auth_tokens", "auth_grants")

# -- reading rows back as models ---------------------------------------------------------------

_A, _T, _G = auth_accounts.c, auth_tokens.c, auth_grants.c


def account_not_found(name: str) -> NotFound:
    return NotFound(f"no account named {name!r}", details={"account": name})


def account_from_row(row: Row[Any]) -> Account:
    return Account(
        account_id=row.id, name=row.name, kind=AccountKind(row.kind),
        is_admin=bool(row.is_admin), disabled=bool(row.disabled),
        created_at=int(row.created_at), created_by=row.created_by,
        has_password=row.password_hash is not None,
    )


def account_row(conn: Connection, name: str) -> Row[Any]:
    row = conn.execute(sa.select(auth_accounts).where(_A.name == name)).first()
    if row is None:
        raise account_not_found(name)
    return row


TOKEN_COLUMNS = (
    _T.id, _A.name.label("account"), _T.name, _T.created_at, _T.expires_at, _T.revoked_at,
    _T.last_used_at,
)
TOKEN_JOIN = auth_tokens.join(auth_accounts, _T.account_id == _A.id)


def token_from_row(row: Any) -> TokenInfo:
    def ms(value: Any) -> int | None:
        return None if value is None else int(value)

    return TokenInfo(
        token_id=row.id, account=row.account, name=row.name, created_at=int(row.created_at),
        expires_at=ms(row.expires_at), revoked_at=ms(row.revoked_at),
        last_used_at=ms(row.last_used_at),
    )


def get_token_row(conn: Connection, token_id: str) -> TokenInfo:
    row = conn.execute(
        sa.select(*TOKEN_COLUMNS).select_from(TOKEN_JOIN).where(_T.id == token_id)
    ).first()
    if row is None:
        raise NotFound(f"no token {token_id!r}", details={"token_id": token_id})
    return token_from_row(row)


GRANT_COLUMNS = (
    _A.name.label("account"), _G.kind, _G.resource_id, _G.role, _G.granted_by, _G.granted_at,
)
GRANT_JOIN = auth_grants.join(auth_accounts, _G.account_id == _A.id)


def grant_from_row(row: Any) -> Grant:
    return Grant(
        account=row.account, kind=ResourceKind(row.kind), resource_id=row.resource_id,
        role=Role(row.role), granted_by=row.granted_by, granted_at=int(row.granted_at),
    )


def find_grant_row(
    conn: Connection, account: str, kind: ResourceKind, resource_id: str
) -> Grant | None:
    row = conn.execute(
        sa.select(*GRANT_COLUMNS).select_from(GRANT_JOIN).where(
            _A.name == account, _G.kind == kind.value, _G.resource_id == resource_id
        )
    ).first()
    return None if row is None else grant_from_row(row)
