"""The model registry's tables (migration 0002), on the same MetaData as the tracking schema.

- A registered model has a surrogate ``id`` (the caller's ``model_id``) so renames touch one
  row; everything it owns references it with ``ON DELETE CASCADE``.
- ``registered_models.latest_version`` is the version counter: bumped in the transaction that
  creates a version, so numbers are never reused.
- JSON (signatures, metrics, policies, gate inputs, audit before/after, event payloads) is Text
  holding canonical JSON; metrics encode non-finite values as "NaN"/"Infinity"/"-Infinity".
- ``audit_log`` rows carry an explicit ``seq`` (1, 2, ... without gaps) and the hash chain;
  ``audit_head`` is a one-row table (id 1, inserted by the migration) holding the last seq and
  hash. Every registry write locks it first (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite
  writes are ``BEGIN IMMEDIATE``), which serializes registry writers, so the chain cannot fork.
- ``events`` is the outbox automation reads with a cursor on ``seq``.
- ``audit_log`` and ``events`` have no foreign keys: they outlive what they describe.
"""

from __future__ import annotations

import sqlalchemy as sa

from keel.backends.sql._schema import metadata

_ms = sa.BigInteger
_seq = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_bool = sa.Boolean(create_constraint=False)


def _model_fk(primary_key: bool = False) -> sa.Column[str]:
    return sa.Column(
        "model_id",
        sa.String(64),
        sa.ForeignKey("registered_models.id", ondelete="CASCADE"),
        primary_key=primary_key,
        nullable=False,
    )


def _version_fk(name: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["model_id", "version"],
        ["model_versions.model_id", "model_versions.version"],
        ondelete="CASCADE",
        name=name,
    )


registered_models = sa.Table(
    "registered_models",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(500), nullable=False),
    sa.Column("description", sa.Text, nullable=True),
    sa.Column("latest_version", sa.Integer, nullable=False),
    sa.Column("created_at", _ms, nullable=False),
    sa.Column("created_by", sa.String(500), nullable=False),
    sa.Column("updated_at", _ms, nullable=False),
    sa.Column("updated_by", sa.String(500), nullable=False),
    sa.UniqueConstraint("name", name="uq_registered_models_name"),
)

registered_model_tags = sa.Table(
    "registered_model_tags",
    metadata,
    _model_fk(primary_key=True),
    sa.Column("key", sa.String(250), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

model_versions = sa.Table(
    "model_versions",
    metadata,
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
    sa.Column("created_at", _ms, nullable=False),
    sa.Column("created_by", sa.String(500), nullable=False),
    sa.Column("updated_at", _ms, nullable=False),
    sa.Column("updated_by", sa.String(500), nullable=False),
    sa.Index("ix_model_versions_run_id", "run_id"),
    sa.Index("ix_model_versions_created_at", "created_at"),
)

model_version_tags = sa.Table(
    "model_version_tags",
    metadata,
    sa.Column("model_id", sa.String(64), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("key", sa.String(250), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
    _version_fk("fk_model_version_tags_version"),
)

model_version_datasets = sa.Table(
    "model_version_datasets",
    metadata,
    sa.Column("model_id", sa.String(64), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("dataset_version_id", sa.String(64), primary_key=True),
    sa.Column("position", sa.Integer, nullable=False),
    _version_fk("fk_model_version_datasets_version"),
    sa.Index("ix_model_version_datasets_dataset", "dataset_version_id"),
)

model_aliases = sa.Table(
    "model_aliases",
    metadata,
    sa.Column("model_id", sa.String(64), primary_key=True),
    sa.Column("alias", sa.String(250), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    _version_fk("fk_model_aliases_version"),
)

model_alias_history = sa.Table(
    "model_alias_history",
    metadata,
    sa.Column("seq", _seq, primary_key=True, autoincrement=True),
    _model_fk(),
    sa.Column("alias", sa.String(250), nullable=False),
    sa.Column("from_version", sa.Integer, nullable=True),
    sa.Column("to_version", sa.Integer, nullable=True),
    sa.Column("actor", sa.String(500), nullable=False),
    sa.Column("at", _ms, nullable=False),
    sa.Column("reason", sa.Text, nullable=True),
    sa.Index("ix_model_alias_history_model_alias", "model_id", "alias", "seq"),
)

model_approvals = sa.Table(
    "model_approvals",
    metadata,
    sa.Column("model_id", sa.String(64), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("target", sa.String(250), primary_key=True),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("round", sa.Integer, nullable=False),
    sa.Column("requested_by", sa.String(500), nullable=False),
    sa.Column("requested_at", _ms, nullable=False),
    sa.Column("request_reason", sa.Text, nullable=True),
    sa.Column("updated_at", _ms, nullable=False),
    _version_fk("fk_model_approvals_version"),
)

model_approval_decisions = sa.Table(
    "model_approval_decisions",
    metadata,
    sa.Column("seq", _seq, primary_key=True, autoincrement=True),
    sa.Column("model_id", sa.String(64), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("target", sa.String(250), nullable=False),
    sa.Column("round", sa.Integer, nullable=False),
    sa.Column("actor", sa.String(500), nullable=False),
    sa.Column("decision", sa.String(16), nullable=False),
    sa.Column("at", _ms, nullable=False),
    sa.Column("reason", sa.Text, nullable=True),
    sa.ForeignKeyConstraint(
        ["model_id", "version", "target"],
        ["model_approvals.model_id", "model_approvals.version", "model_approvals.target"],
        ondelete="CASCADE",
        name="fk_model_approval_decisions_approval",
    ),
    sa.Index("ix_model_approval_decisions_approval", "model_id", "version", "target", "round"),
)

model_policies = sa.Table(
    "model_policies",
    metadata,
    _model_fk(primary_key=True),
    sa.Column("policy", sa.Text, nullable=False),
    sa.Column("updated_at", _ms, nullable=False),
    sa.Column("updated_by", sa.String(500), nullable=False),
)

model_gate_evaluations = sa.Table(
    "model_gate_evaluations",
    metadata,
    sa.Column("seq", _seq, primary_key=True, autoincrement=True),
    sa.Column("model_id", sa.String(64), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("target", sa.String(250), nullable=False),
    sa.Column("gate_id", sa.String(500), nullable=False),
    sa.Column("passed", _bool, nullable=False),
    sa.Column("inputs", sa.Text, nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("at", _ms, nullable=False),
    sa.Column("evaluated_by", sa.String(500), nullable=False),
    _version_fk("fk_model_gate_evaluations_version"),
    sa.Index("ix_model_gate_evaluations_version", "model_id", "version", "target"),
)

model_cards = sa.Table(
    "model_cards",
    metadata,
    _model_fk(primary_key=True),
    # 0 for the registered model's own card, n for version n's overrides.
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("intended_use", sa.Text, nullable=True),
    sa.Column("out_of_scope", sa.Text, nullable=True),
    sa.Column("limitations", sa.Text, nullable=True),
    sa.Column("ethical_considerations", sa.Text, nullable=True),
    sa.Column("updated_at", _ms, nullable=False),
    sa.Column("updated_by", sa.String(500), nullable=False),
)

model_decisions = sa.Table(
    "model_decisions",
    metadata,
    sa.Column("seq", _seq, primary_key=True, autoincrement=True),
    sa.Column("id", sa.String(64), nullable=False),
    _model_fk(),
    sa.Column("version", sa.Integer, nullable=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("context", sa.Text, nullable=False),
    sa.Column("decision", sa.Text, nullable=False),
    sa.Column("consequences", sa.Text, nullable=False),
    sa.Column("author", sa.String(500), nullable=False),
    sa.Column("date", _ms, nullable=False),
    sa.Column("created_at", _ms, nullable=False),
    sa.Column("created_by", sa.String(500), nullable=False),
    sa.UniqueConstraint("id", name="uq_model_decisions_id"),
    sa.Index("ix_model_decisions_model", "model_id", "version"),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("at", _ms, nullable=False),
    sa.Column("actor", sa.String(500), nullable=False),
    sa.Column("action", sa.String(100), nullable=False),
    sa.Column("entity_type", sa.String(50), nullable=False),
    sa.Column("entity_id", sa.String(600), nullable=False),
    sa.Column("before", sa.Text, nullable=True),
    sa.Column("after", sa.Text, nullable=True),
    sa.Column("reason", sa.Text, nullable=True),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Index("ix_audit_log_entity", "entity_type", "entity_id"),
)

audit_head = sa.Table(
    "audit_head",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)

events = sa.Table(
    "events",
    metadata,
    sa.Column("seq", _seq, primary_key=True, autoincrement=True),
    sa.Column("type", sa.String(100), nullable=False),
    sa.Column("at", _ms, nullable=False),
    sa.Column("audit_seq", sa.BigInteger, nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Index("ix_events_type_seq", "type", "seq"),
)

REGISTRY_TABLES = (
    "registered_models", "registered_model_tags", "model_versions", "model_version_tags",
    "model_version_datasets", "model_aliases", "model_alias_history", "model_approvals",
    "model_approval_decisions", "model_policies", "model_gate_evaluations", "model_cards",
    "model_decisions", "audit_log", "audit_head", "events",
)
