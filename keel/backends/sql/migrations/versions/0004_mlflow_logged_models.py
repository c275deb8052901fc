"""MLflow 3 logged models: the models MLflow clients log through keel's server, their tags,
params and latest metrics, and the links between runs and the models they used or produced.

Revision ID: 0004
Revises: 0003
Create Date: 2025-02-15
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_bool = sa.Boolean(create_constraint=False)

_TABLES = ("mlflow_logged_models", "mlflow_logged_model_tags", "mlflow_logged_model_params",
           "mlflow_logged_model_metrics", "mlflow_run_models")


def _model_fk() -> sa.Column[str]:
    return sa.Column("model_id", sa.String(64),
                     sa.ForeignKey("mlflow_logged_models.id", ondelete="CASCADE"),
                     primary_key=True, nullable=False)


def upgrade() -> None:
    op.create_table(
        "mlflow_logged_models",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("experiment_id", sa.String(64),
                  sa.ForeignKey("experiments.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("artifact_location", sa.Text, nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("status_message", sa.Text, nullable=True),
        sa.Column("source_run_id", sa.String(64), nullable=True),
        sa.Column("model_type", sa.String(500), nullable=True),
        sa.Column("creator", sa.String(500), nullable=True),
        sa.Column("deleted", _bool, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_mlflow_logged_models_experiment", "mlflow_logged_models",
                    ["experiment_id", "created_at"])
    op.create_index("ix_mlflow_logged_models_source_run", "mlflow_logged_models",
                    ["source_run_id"])
    for name in ("mlflow_logged_model_tags", "mlflow_logged_model_params"):
        op.create_table(
            name,
            _model_fk(),
            sa.Column("key", sa.String(250), primary_key=True),
            sa.Column("value", sa.Text, nullable=False),
        )
    op.create_table(
        "mlflow_logged_model_metrics",
        _model_fk(),
        sa.Column("key", sa.String(250), primary_key=True),
        sa.Column("value", sa.Double, nullable=True),
        sa.Column("is_nan", _bool, nullable=False),
        sa.Column("step", sa.BigInteger, nullable=False),
        sa.Column("timestamp", sa.BigInteger, nullable=False),
        sa.Column("run_id", sa.String(64), nullable=True),
        sa.Column("dataset_name", sa.String(500), nullable=True),
        sa.Column("dataset_digest", sa.String(128), nullable=True),
    )
    op.create_table(
        "mlflow_run_models",
        sa.Column("run_id", sa.String(64), sa.ForeignKey("runs.id", ondelete="CASCADE"),
                  primary_key=True),
        _model_fk(),
        sa.Column("direction", sa.String(8), primary_key=True),
        sa.Column("step", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_mlflow_run_models_model", "mlflow_run_models", ["model_id"])


def downgrade() -> None:
    for table in reversed(_TABLES):
        op.drop_table(table)
