"""Model registry: registered models, versions, aliases (with history), approvals, policies,
gate evaluations, model cards, decision logs, the hash-chained audit log and the events outbox.

Revision ID: 0002
Revises: 0001
Create Date: 2025-01-15
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_seq = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_bool = sa.Boolean(create_constraint=False)
_GENESIS_HASH = "0" * 64  # keel.registry.audit.GENESIS_HASH, frozen here as migrations are

_TABLES = (
    "registered_models", "registered_model_tags", "model_versions", "model_version_tags",
    "model_version_datasets", "model_aliases", "model_alias_history", "model_approvals",
    "model_approval_decisions", "model_policies", "model_gate_evaluations", "model_cards",
    "model_decisions", "audit_log", "audit_head", "events",
)


def _model_fk(**kwargs: object) -> sa.Column[str]:
    return sa.Column(
        "model_id",
        sa.String(64),
        sa.ForeignKey("registered_models.id", ondelete="CASCADE"),
        **kwargs,  # type: ignore[arg-type]
    )


def upgrade() -> None:
    op.create_table(
        "registered_models",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("latest_version", sa.Integer, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("created_by", sa.String(500), nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.Column("updated_by", sa.String(500), nullable=False),
        sa.UniqueConstraint("name", name="uq_registered_models_name"),
    )

    op.create_table(
        "registered_model_tags",
        _model_fk(primary_key=True),
        sa.Column("key", sa.String(250), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )

    op.create_table(
        "model_versions",
        _model_fk(primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("run_id", sa.String(64), nullable=True),
        sa.Column("model_digest", sa.String(128), nullable=True),
        sa.Column("flavor", sa.String(100), nullable=True),
        sa.Column("signature", sa.Text, nullable=True),
        sa.Column("code_commit", sa.String(100), nullable=True),
        sa.Column("metrics", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("created_by", sa.String(500), nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.Column("updated_by", sa.String(500), nullable=False),
    )
    op.create_index("ix_model_versions_created_at", "model_versions", ["created_at"])
    op.create_index("ix_model_versions_run_id", "model_versions", ["run_id"])

    op.create_table(
        "model_version_tags",
        sa.Column("model_id", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("key", sa.String(250), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
        sa.ForeignKeyConstraint(
            ["model_id", "version"],
            ["model_versions.model_id", "model_versions.version"],
            ondelete="CASCADE",
            name="fk_model_version_tags_version",
        ),
    )

    op.create_table(
        "model_version_datasets",
        sa.Column("model_id", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("dataset_version_id", sa.String(64), primary_key=True),
        sa.Column("position", sa.Integer, nullable=False),
        sa.ForeignKeyConstraint(
            ["model_id", "version"],
            ["model_versions.model_id", "model_versions.version"],
            ondelete="CASCADE",
            name="fk_model_version_datasets_version",
        ),
    )
    op.create_index(
        "ix_model_version_datasets_dataset",
        "model_version_datasets",
        ["dataset_version_id"],
    )

    op.create_table(
        "model_aliases",
        sa.Column("model_id", sa.String(64), primary_key=True),
        sa.Column("alias", sa.String(250), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.ForeignKeyConstraint(
            ["model_id", "version"],
            ["model_versions.model_id", "model_versions.version"],
            ondelete="CASCADE",
            name="fk_model_aliases_version",
        ),
    )

    op.create_table(
        "model_alias_history",
        sa.Column("seq", _seq, primary_key=True, autoincrement=True),
        _model_fk(nullable=False),
        sa.Column("alias", sa.String(250), nullable=False),
        sa.Column("from_version", sa.Integer, nullable=True),
        sa.Column("to_version", sa.Integer, nullable=True),
        sa.Column("actor", sa.String(500), nullable=False),
        sa.Column("at", sa.BigInteger, nullable=False),
        sa.Column("reason", sa.Text, nullable=True),
    )
    op.create_index(
        "ix_model_alias_history_model_alias",
        "model_alias_history",
        ["model_id",
        "alias",
        "seq"],
    )

    op.create_table(
        "model_approvals",
        sa.Column("model_id", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("target", sa.String(250), primary_key=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("round", sa.Integer, nullable=False),
        sa.Column("requested_by", sa.String(500), nullable=False),
        sa.Column("requested_at", sa.BigInteger, nullable=False),
        sa.Column("request_reason", sa.Text, nullable=True),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.ForeignKeyConstraint(
            ["model_id", "version"],
            ["model_versions.model_id", "model_versions.version"],
            ondelete="CASCADE",
            name="fk_model_approvals_version",
        ),
    )

    op.create_table(
        "model_approval_decisions",
        sa.Column("seq", _seq, primary_key=True, autoincrement=True),
        sa.Column("model_id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("target", sa.String(250), nullable=False),
        sa.Column("round", sa.Integer, nullable=False),
        sa.Column("actor", sa.String(500), nullable=False),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("at", sa.BigInteger, nullable=False),
        sa.Column("reason", sa.Text, nullable=True),
        sa.ForeignKeyConstraint(
            ["model_id", "version", "target"],
            ["model_approvals.model_id", "model_approvals.version", "model_approvals.target"],
            ondelete="CASCADE",
            name="fk_model_approval_decisions_approval",
        ),
    )
    op.create_index(
        "ix_model_approval_decisions_approval",
        "model_approval_decisions",
        ["model_id",
        "version",
        "target",
        "round"],
    )

    op.create_table(
        "model_policies",
        _model_fk(primary_key=True),
        sa.Column("policy", sa.Text, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.Column("updated_by", sa.String(500), nullable=False),
    )

    op.create_table(
        "model_gate_evaluations",
        sa.Column("seq", _seq, primary_key=True, autoincrement=True),
        sa.Column("model_id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("target", sa.String(250), nullable=False),
        sa.Column("gate_id", sa.String(500), nullable=False),
        sa.Column("passed", _bool, nullable=False),
        sa.Column("inputs", sa.Text, nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("at", sa.BigInteger, nullable=False),
        sa.Column("evaluated_by", sa.String(500), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_id", "version"],
            ["model_versions.model_id", "model_versions.version"],
            ondelete="CASCADE",
            name="fk_model_gate_evaluations_version",
        ),
    )
    op.create_index(
        "ix_model_gate_evaluations_version",
        "model_gate_evaluations",
        ["model_id",
        "version",
        "target"],
    )

    op.create_table(
        "model_cards",
        _model_fk(primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("intended_use", sa.Text, nullable=True),
        sa.Column("out_of_scope", sa.Text, nullable=True),
        sa.Column("limitations", sa.Text, nullable=True),
        sa.Column("ethical_considerations", sa.Text, nullable=True),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.Column("updated_by", sa.String(500), nullable=False),
    )

    op.create_table(
        "model_decisions",
        sa.Column("seq", _seq, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(64), nullable=False),
        _model_fk(nullable=False),
        sa.Column("version", sa.Integer, nullable=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("context", sa.Text, nullable=False),
        sa.Column("decision", sa.Text, nullable=False),
        sa.Column("consequences", sa.Text, nullable=False),
        sa.Column("author", sa.String(500), nullable=False),
        sa.Column("date", sa.BigInteger, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("created_by", sa.String(500), nullable=False),
        sa.UniqueConstraint("id", name="uq_model_decisions_id"),
    )
    op.create_index("ix_model_decisions_model", "model_decisions", ["model_id", "version"])

    op.create_table(
        "audit_log",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("at", sa.BigInteger, nullable=False),
        sa.Column("actor", sa.String(500), nullable=False),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("entity_type", sa.String(50), nullable=False),
        sa.Column("entity_id", sa.String(600), nullable=False),
        sa.Column("before", sa.Text, nullable=True),
        sa.Column("after", sa.Text, nullable=True),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_audit_log_entity", "audit_log", ["entity_type", "entity_id"])

    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )

    op.create_table(
        "events",
        sa.Column("seq", _seq, primary_key=True, autoincrement=True),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("at", sa.BigInteger, nullable=False),
        sa.Column("audit_seq", sa.BigInteger, nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
    )
    op.create_index("ix_events_type_seq", "events", ["type", "seq"])


    op.bulk_insert(
        sa.table("audit_head", sa.column("id"), sa.column("seq"), sa.column("hash")),
        [{"id": 1, "seq": 0, "hash": _GENESIS_HASH}],
    )


def downgrade() -> None:
    for table in reversed(_TABLES):
        op.drop_table(table)
