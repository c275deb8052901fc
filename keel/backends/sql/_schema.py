"""The metadata schema as SQLAlchemy Core tables.

The migrations in ``migrations/versions`` create exactly these tables (a test compares them), and
the stores build their queries from them. Design notes:

- Timestamps are integer epoch milliseconds (``BigInteger``).
- A metric value is stored as ``value`` plus an ``is_nan`` flag: SQLite turns NaN into NULL, so
  NaN is written as ``value NULL, is_nan true`` on every dialect, which also makes NaN fail every
  SQL comparison, as the search semantics require. +-inf are stored as they are.
- Metric history is stored in blocks, as time-series stores do: ``metric_blocks`` has one row per
  (run, key) and logged batch, holding that batch's points of the series as three packed
  little-endian arrays (int64 steps, float64 values, int64 timestamps; ``size`` points each).
  A batch of 100,000 points over 10 keys is 10 rows, not 100,000, so writing it costs about a
  tenth of a row-per-point table with its index, and NaN, +-inf and every other double are kept
  bit for bit. ``seq`` (an auto-increment key) orders the blocks; within a block the points keep
  the order they were logged in. No query filters on single points (the search semantics
  compare latest values only), so nothing is lost by not indexing them. On PostgreSQL the three
  arrays use ``STORAGE EXTERNAL`` (set by the migration): TOAST compression of packed doubles
  costs more than it saves.
  ``latest_metrics`` holds each run's current value per key, kept up to date on every batch so a
  search never reads the history.
- ``params``, ``tags`` and ``latest_metrics`` are read by (run_id, key), so on SQLite they are
  ``WITHOUT ROWID`` tables clustered on that key: a probe is one B-tree descent instead of an
  index descent plus a table lookup, and a search probes them for every run it filters.
- ``params.num`` is the numeric value of int/float params (NULL for NaN and for other types), so
  numeric filters need no CAST (SQLite's CAST reads 'inf' and 'nan' as 0.0).
- Dataset ``columns`` and ``profile`` are JSON text: profiles may hold NaN, which PostgreSQL's
  JSON types reject.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

_ms = sa.BigInteger
# BIGSERIAL on PostgreSQL; INTEGER PRIMARY KEY (the rowid itself, the fastest insert) on SQLite.
_seq = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

experiments = sa.Table(
    "experiments",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(500), nullable=False),
    sa.Column("artifact_location", sa.Text, nullable=False),
    sa.Column("lifecycle_stage", sa.String(16), nullable=False),
    sa.Column("created_at", _ms, nullable=False),
    sa.Column("updated_at", _ms, nullable=False),
    sa.UniqueConstraint("name", name="uq_experiments_name"),
    sa.Index("ix_experiments_created_at", "created_at"),
)

experiment_tags = sa.Table(
    "experiment_tags",
    metadata,
    sa.Column(
        "experiment_id",
        sa.String(64),
        sa.ForeignKey("experiments.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("key", sa.String(250), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

runs = sa.Table(
    "runs",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column(
        "experiment_id",
        sa.String(64),
        sa.ForeignKey("experiments.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("name", sa.String(500), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("start_time", _ms, nullable=False),
    sa.Column("end_time", _ms, nullable=True),
    sa.Column("lifecycle_stage", sa.String(16), nullable=False),
    sa.Column("artifact_location", sa.Text, nullable=False),
    sa.Column("parent_run_id", sa.String(64), sa.ForeignKey("runs.id"), nullable=True),
    sa.Column("user", sa.String(250), nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("note", sa.Text, nullable=True),
    sa.Index("ix_runs_experiment_stage_start", "experiment_id", "lifecycle_stage", "start_time"),
    sa.Index("ix_runs_parent_run_id", "parent_run_id"),
)

params = sa.Table(
    "params",
    metadata,
    sa.Column("run_id", sa.String(64), sa.ForeignKey("runs.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("key", sa.String(250), primary_key=True),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("type", sa.String(16), nullable=False),
    sa.Column("num", sa.Double, nullable=True),
    sqlite_with_rowid=False,
)

tags = sa.Table(
    "tags",
    metadata,
    sa.Column("run_id", sa.String(64), sa.ForeignKey("runs.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("key", sa.String(250), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
    sqlite_with_rowid=False,
)

metric_blocks = sa.Table(
    "metric_blocks",
    metadata,
    sa.Column("seq", _seq, primary_key=True, autoincrement=True),
    # No foreign key: log_metrics checks the run ids in the same transaction and runs are never
    # hard-deleted.
    sa.Column("run_id", sa.String(64), nullable=False),
    sa.Column("key", sa.String(250), nullable=False),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("steps", sa.LargeBinary, nullable=False),
    sa.Column("values", sa.LargeBinary, nullable=False),
    sa.Column("timestamps", sa.LargeBinary, nullable=False),
    sa.Index("ix_metric_blocks_run_key", "run_id", "key"),
)

latest_metrics = sa.Table(
    "latest_metrics",
    metadata,
    sa.Column("run_id", sa.String(64), sa.ForeignKey("runs.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("key", sa.String(250), primary_key=True),
    sa.Column("value", sa.Double, nullable=True),
    sa.Column("is_nan", sa.Boolean(create_constraint=False), nullable=False),
    sa.Column("step", sa.BigInteger, nullable=False),
    sa.Column("timestamp", _ms, nullable=False),
    sa.Index("ix_latest_metrics_key_value", "key", "value"),
    sqlite_with_rowid=False,
)

dataset_versions = sa.Table(
    "dataset_versions",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(500), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("digest", sa.String(128), nullable=False),
    sa.Column("num_rows", sa.BigInteger, nullable=False),
    sa.Column("columns", sa.Text, nullable=False),
    sa.Column("profile", sa.Text, nullable=False),
    sa.Column("source", sa.Text, nullable=True),
    sa.Column("created_at", _ms, nullable=False),
    sa.UniqueConstraint("name", "digest", name="uq_dataset_versions_name_digest"),
    sa.UniqueConstraint("name", "version", name="uq_dataset_versions_name_version"),
    sa.Index("ix_dataset_versions_created_at", "created_at"),
)

run_inputs = sa.Table(
    "run_inputs",
    metadata,
    sa.Column("run_id", sa.String(64), sa.ForeignKey("runs.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column(
        "dataset_version_id",
        sa.String(64),
        sa.ForeignKey("dataset_versions.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("context", sa.String(250), primary_key=True),
    sa.Index("ix_run_inputs_dataset_version_id", "dataset_version_id"),
)

artifact_records = sa.Table(
    "artifact_records",
    metadata,
    sa.Column("run_id", sa.String(64), sa.ForeignKey("runs.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("path", sa.String(1024), primary_key=True),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("created_at", _ms, nullable=False),
)
