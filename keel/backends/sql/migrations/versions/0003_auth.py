"""Authentication and authorization: accounts, API tokens (hashes only) and grants.

Revision ID: 0003
Revises: 0002
Create Date: 2025-02-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_bool = sa.Boolean(create_constraint=False)

_TABLES = ("auth_accounts", "auth_tokens", "auth_grants")


def _account_fk(**kwargs: object) -> sa.Column[str]:
    return sa.Column(
        "account_id",
        sa.String(64),
        sa.ForeignKey("auth_accounts.id", ondelete="CASCADE"),
        nullable=False,
        **kwargs,  # type: ignore[arg-type]
    )


def upgrade() -> None:
    op.create_table(
        "auth_accounts",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("is_admin", _bool, nullable=False),
        sa.Column("disabled", _bool, nullable=False),
        sa.Column("password_hash", sa.Text, nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("created_by", sa.String(500), nullable=False),
        sa.UniqueConstraint("name", name="uq_auth_accounts_name"),
    )

    op.create_table(
        "auth_tokens",
        sa.Column("id", sa.String(64), primary_key=True),
        _account_fk(),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("expires_at", sa.BigInteger, nullable=True),
        sa.Column("revoked_at", sa.BigInteger, nullable=True),
        sa.Column("last_used_at", sa.BigInteger, nullable=True),
    )
    op.create_index("ix_auth_tokens_account", "auth_tokens", ["account_id"])

    op.create_table(
        "auth_grants",
        _account_fk(primary_key=True),
        sa.Column("kind", sa.String(32), primary_key=True),
        sa.Column("resource_id", sa.String(500), primary_key=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("granted_by", sa.String(500), nullable=False),
        sa.Column("granted_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_auth_grants_resource", "auth_grants", ["kind", "resource_id"])


def downgrade() -> None:
    for table in reversed(_TABLES):
        op.drop_table(table)
