"""Initial metadata schema: experiments, runs, params, tags, metrics, datasets, artifacts.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_seq = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_bool = sa.Boolean(create_constraint=False)


def _run_fk(**kwargs: object) -> sa.Column[str]:
    return sa.Column(
        "run_id",
        sa.String(64),
        sa.ForeignKey("runs.id", ondelete="CASCADE"),
        **kwargs,  # type: ignore[arg-type]
    )


def upgrade() -> None:
    op.create_table(
        "experiments",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("artifact_location", sa.Text, nullable=False),
        sa.Column("lifecycle_stage", sa.String(16), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("name", name="uq_experiments_name"),
    )
    op.create_index("ix_experiments_created_at", "experiments", ["created_at"])

    op.create_table(
        "experiment_tags",
        sa.Column(
            "experiment_id",
            sa.String(64),
            sa.ForeignKey("experiments.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("key", sa.String(250), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )

    op.create_table(
        "runs",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column(
            "experiment_id",
            sa.String(64),
            sa.ForeignKey("experiments.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("start_time", sa.BigInteger, nullable=False),
        sa.Column("end_time", sa.BigInteger, nullable=True),
        sa.Column("lifecycle_stage", sa.String(16), nullable=False),
        sa.Column("artifact_location", sa.Text, nullable=False),
        sa.Column("parent_run_id", sa.String(64), sa.ForeignKey("runs.id"), nullable=True),
        sa.Column("user", sa.String(250), nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("note", sa.Text, nullable=True),
    )
    op.create_index(
        "ix_runs_experiment_stage_start",
        "runs",
        ["experiment_id", "lifecycle_stage", "start_time"],
    )
    op.create_index("ix_runs_parent_run_id", "runs", ["parent_run_id"])

    op.create_table(
        "params",
        _run_fk(primary_key=True),
        sa.Column("key", sa.String(250), primary_key=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("num", sa.Double, nullable=True),
        sqlite_with_rowid=False,
    )

    op.create_table(
        "tags",
        _run_fk(primary_key=True),
        sa.Column("key", sa.String(250), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
        sqlite_with_rowid=False,
    )

    op.create_table(
        "metric_blocks",
        sa.Column("seq", _seq, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(64), nullable=False),  # checked by log_metrics
        sa.Column("key", sa.String(250), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("steps", sa.LargeBinary, nullable=False),
        sa.Column("values", sa.LargeBinary, nullable=False),
        sa.Column("timestamps", sa.LargeBinary, nullable=False),
    )
    op.create_index("ix_metric_blocks_run_key", "metric_blocks", ["run_id", "key"])
    if op.get_bind().dialect.name == "postgresql":
        # Packed doubles hardly compress: storing them out of line but uncompressed (instead of
        # the default EXTENDED) halves the cost of writing a batch.
        for column in ("steps", "values", "timestamps"):
            op.execute(f'ALTER TABLE metric_blocks ALTER COLUMN "{column}" SET STORAGE EXTERNAL')

    op.create_table(
        "latest_metrics",
        _run_fk(primary_key=True),
        sa.Column("key", sa.String(250), primary_key=True),
        sa.Column("value", sa.Double, nullable=True),
        sa.Column("is_nan", _bool, nullable=False),
        sa.Column("step", sa.BigInteger, nullable=False),
        sa.Column("timestamp", sa.BigInteger, nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_latest_metrics_key_value", "latest_metrics", ["key", "value"])

    op.create_table(
        "dataset_versions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("digest", sa.String(128), nullable=False),
        sa.Column("num_rows", sa.BigInteger, nullable=False),
        sa.Column("columns", sa.Text, nullable=False),
        sa.Column("profile", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("name", "digest", name="uq_dataset_versions_name_digest"),
        sa.UniqueConstraint("name", "version", name="uq_dataset_versions_name_version"),
    )
    op.create_index("ix_dataset_versions_created_at", "dataset_versions", ["created_at"])

    op.create_table(
        "run_inputs",
        _run_fk(primary_key=True),
        sa.Column(
            "dataset_version_id",
            sa.String(64),
            sa.ForeignKey("dataset_versions.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("context", sa.String(250), primary_key=True),
    )
    op.create_index(
        "ix_run_inputs_dataset_version_id", "run_inputs", ["dataset_version_id"]
    )

    op.create_table(
        "artifact_records",
        _run_fk(primary_key=True),
        sa.Column("path", sa.String(1024), primary_key=True),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "artifact_records",
        "run_inputs",
        "dataset_versions",
        "latest_metrics",
        "metric_blocks",
        "tags",
        "params",
        "runs",
        "experiment_tags",
        "experiments",
    ):
        op.drop_table(table)
