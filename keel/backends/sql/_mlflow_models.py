"""SqlLoggedModelStore: MLflow 3 "logged models" (migration 0004) in keel's metadata database.

The port and its value objects live in ``keel.tracking.logged_models`` (the MLflow-compatible API is
their only user). They are imported when a row is read, not when this module is, so opening a
SQL store never loads the HTTP server.

- ``mlflow_logged_models`` belongs to an experiment (``ON DELETE CASCADE``); ``source_run_id`` is
  a plain column, as a run is only ever soft-deleted.
- ``mlflow_logged_model_metrics`` keeps the latest value per key (highest step, then latest
  timestamp) with the same ``value``/``is_nan`` encoding as ``latest_metrics``.
- ``mlflow_run_models`` links runs to the models they used (``input``) or produced (``output``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc
from sqlalchemy.engine import Connection, Row

from keel.backends.sql._common import chunked, decode_float, encode_float, upsert
from keel.backends.sql._engine import Database
from keel.backends.sql._schema import experiments, metadata
from keel.errors import AlreadyExists, ExperimentNotFound, NotFound, ParamConflict
from keel.tracking.logged_models import LoggedModel, LoggedModelMetric, RunModelLink

_ms = sa.BigInteger
_bool = sa.Boolean(create_constraint=False)


def _model_fk(primary_key: bool = True) -> sa.Column[str]:
    return sa.Column("model_id", sa.String(64),
                     sa.ForeignKey("mlflow_logged_models.id", ondelete="CASCADE"),
                     primary_key=primary_key, nullable=False)


mlflow_logged_models = sa.Table(
    "mlflow_logged_models",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("experiment_id", sa.String(64), sa.ForeignKey("experiments.id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("name", sa.String(500), nullable=False),
    sa.Column("artifact_location", sa.Text, nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("status_message", sa.Text, nullable=True),
    sa.Column("source_run_id", sa.String(64), nullable=True),
    sa.Column("model_type", sa.String(500), nullable=True),
    sa.Column("creator", sa.String(500), nullable=True),
    sa.Column("deleted", _bool, nullable=False),
    sa.Column("created_at", _ms, nullable=False),
    sa.Column("updated_at", _ms, nullable=False),
    sa.Index("ix_mlflow_logged_models_experiment", "experiment_id", "created_at"),
    sa.Index("ix_mlflow_logged_models_source_run", "source_run_id"),
)

mlflow_logged_model_tags = sa.Table(
    "mlflow_logged_model_tags",
    metadata,
    _model_fk(),
    sa.Column("key", sa.String(250), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

mlflow_logged_model_params = sa.Table(
    "mlflow_logged_model_params",
    metadata,
    _model_fk(),
    sa.Column("key", sa.String(250), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

mlflow_logged_model_metrics = sa.Table(
    "mlflow_logged_model_metrics",
    metadata,
    _model_fk(),
    sa.Column("key", sa.String(250), primary_key=True),
    sa.Column("value", sa.Double, nullable=True),
    sa.Column("is_nan", _bool, nullable=False),
    sa.Column("step", sa.BigInteger, nullable=False),
    sa.Column("timestamp", _ms, nullable=False),
    sa.Column("run_id", sa.String(64), nullable=True),
    sa.Column("dataset_name", sa.String(500), nullable=True),
    sa.Column("dataset_digest", sa.String(128), nullable=True),
)

mlflow_run_models = sa.Table(
    "mlflow_run_models",
    metadata,
    sa.Column("run_id", sa.String(64), sa.ForeignKey("runs.id", ondelete="CASCADE"),
              primary_key=True),
    _model_fk(),
    sa.Column("direction", sa.String(8), primary_key=True),
    sa.Column("step", sa.BigInteger, nullable=False),
    sa.Index("ix_mlflow_run_models_model", "model_id"),
)

MLFLOW_TABLES = ("mlflow_logged_models", "mlflow_logged_model_tags",
                 "mlflow_logged_model_params", "mlflow_logged_model_metrics", "mlflow_run_models")

_M, _T, _P, _X = (mlflow_logged_models.c, mlflow_logged_model_tags.c,
                  mlflow_logged_model_params.c, mlflow_logged_model_metrics.c)


def _not_found(model_id: str) -> NotFound:
    return NotFound(f"logged model {model_id!r} does not exist", details={"model_id": model_id})


def _load(conn: Connection, rows: Sequence[Row[Any]]) -> list[LoggedModel]:
    ids = [row.id for row in rows]
    tags: dict[str, dict[str, str]] = {i: {} for i in ids}
    params: dict[str, dict[str, str]] = {i: {} for i in ids}
    metrics: dict[str, list[LoggedModelMetric]] = {i: [] for i in ids}
    for chunk in chunked(ids):
        for t in conn.execute(sa.select(_T.model_id, _T.key, _T.value)
                              .where(_T.model_id.in_(chunk))):
            tags[t.model_id][t.key] = t.value
        for p in conn.execute(sa.select(_P.model_id, _P.key, _P.value)
                              .where(_P.model_id.in_(chunk))):
            params[p.model_id][p.key] = p.value
        query = sa.select(mlflow_logged_model_metrics).where(_X.model_id.in_(chunk))
        for m in conn.execute(query.order_by(_X.model_id, _X.key)):
            metrics[m.model_id].append(LoggedModelMetric(
                m.key, decode_float(m.value, m.is_nan), m.step, m.timestamp, m.run_id,
                m.dataset_name, m.dataset_digest))
    return [
        LoggedModel(
            model_id=row.id, experiment_id=row.experiment_id, name=row.name,
            artifact_location=row.artifact_location, status=row.status,
            created_at=row.created_at, updated_at=row.updated_at,
            source_run_id=row.source_run_id, model_type=row.model_type,
            status_message=row.status_message, deleted=bool(row.deleted), creator=row.creator,
            tags=tags[row.id], params=params[row.id], metrics=tuple(metrics[row.id]),
        )
        for row in rows
    ]


def _get(conn: Connection, model_id: str) -> LoggedModel:
    row = conn.execute(sa.select(mlflow_logged_models).where(_M.id == model_id)).first()
    if row is None:
        raise _not_found(model_id)
    return _load(conn, [row])[0]


def _touch(conn: Connection, model_id: str, updated_at: int, **values: Any) -> None:
    result = conn.execute(sa.update(mlflow_logged_models).where(_M.id == model_id)
                          .values(updated_at=updated_at, **values))
    if result.rowcount == 0:
        raise _not_found(model_id)


def _set_tags(conn: Connection, model_id: str, tags: Mapping[str, str]) -> None:
    if not tags:
        return
    stmt = upsert(conn, mlflow_logged_model_tags)
    stmt = stmt.on_conflict_do_update(index_elements=[_T.model_id, _T.key],
                                      set_={"value": stmt.excluded.value})
    conn.execute(stmt, [{"model_id": model_id, "key": k, "value": v} for k, v in tags.items()])


def _log_params(conn: Connection, model_id: str, params: Mapping[str, str]) -> None:
    if not params:
        return
    keys = list(params)
    existing: dict[str, str] = {}
    for chunk in chunked(keys):
        query = sa.select(_P.key, _P.value).where(_P.model_id == model_id, _P.key.in_(chunk))
        existing.update({row.key: row.value for row in conn.execute(query)})
    for key, value in params.items():
        if key in existing and existing[key] != value:
            raise ParamConflict(
                f"param {key!r} of logged model {model_id} is already {existing[key]!r}; it "
                f"cannot be changed to {value!r}",
                details={"key": key, "old": existing[key], "new": value},
            )
    fresh = [{"model_id": model_id, "key": k, "value": v} for k, v in params.items()
             if k not in existing]
    if fresh:
        conn.execute(sa.insert(mlflow_logged_model_params), fresh)


class SqlLoggedModelStore:
    """The LoggedModelStore port (keel.tracking.logged_models) on a SQL database."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def create_logged_model(self, model: LoggedModel) -> LoggedModel:
        def create(conn: Connection) -> LoggedModel:
            found = conn.execute(sa.select(experiments.c.id)
                                 .where(experiments.c.id == model.experiment_id)).first()
            if found is None:
                raise ExperimentNotFound(f"experiment {model.experiment_id!r} does not exist",
                                         details={"experiment_id": model.experiment_id})
            conn.execute(sa.insert(mlflow_logged_models).values(
                id=model.model_id, experiment_id=model.experiment_id, name=model.name,
                artifact_location=model.artifact_location, status=model.status,
                status_message=model.status_message, source_run_id=model.source_run_id,
                model_type=model.model_type, creator=model.creator, deleted=model.deleted,
                created_at=model.created_at, updated_at=model.updated_at,
            ))
            _set_tags(conn, model.model_id, model.tags)
            _log_params(conn, model.model_id, model.params)
            return _get(conn, model.model_id)

        try:
            return self._db.write(create)
        except exc.IntegrityError:
            raise AlreadyExists(f"logged model {model.model_id!r} already exists",
                                details={"model_id": model.model_id}) from None

    def get_logged_model(self, model_id: str) -> LoggedModel:
        return self._db.read(lambda conn: _get(conn, model_id))

    def list_logged_models(
        self, experiment_ids: Sequence[str], *, deleted: bool = False
    ) -> list[LoggedModel]:
        def run(conn: Connection) -> list[LoggedModel]:
            rows: list[Row[Any]] = []
            for chunk in chunked(list(experiment_ids)):
                query = sa.select(mlflow_logged_models).where(
                    _M.experiment_id.in_(chunk), _M.deleted == deleted)
                rows.extend(conn.execute(query))
            rows.sort(key=lambda r: (-r.created_at, r.id))
            return _load(conn, rows)

        return self._db.read(run)

    def update_logged_model(
        self, model_id: str, updated_at: int, *, status: str | None = None,
        status_message: str | None = None, deleted: bool | None = None,
    ) -> LoggedModel:
        values: dict[str, Any] = {}
        if status is not None:
            values["status"] = status
        if status_message is not None:
            values["status_message"] = status_message
        if deleted is not None:
            values["deleted"] = deleted

        def update(conn: Connection) -> LoggedModel:
            _touch(conn, model_id, updated_at, **values)
            return _get(conn, model_id)

        return self._db.write(update)

    def set_logged_model_tags(
        self, model_id: str, tags: Mapping[str, str], updated_at: int
    ) -> None:
        def update(conn: Connection) -> None:
            _touch(conn, model_id, updated_at)
            _set_tags(conn, model_id, tags)

        self._db.write(update)

    def delete_logged_model_tag(self, model_id: str, key: str, updated_at: int) -> None:
        def update(conn: Connection) -> None:
            _touch(conn, model_id, updated_at)
            result = conn.execute(sa.delete(mlflow_logged_model_tags)
                                  .where(_T.model_id == model_id, _T.key == key))
            if result.rowcount == 0:
                raise NotFound(f"logged model {model_id} has no tag {key!r}",
                               details={"model_id": model_id, "key": key})

        self._db.write(update)

    def log_logged_model_params(
        self, model_id: str, params: Mapping[str, str], updated_at: int
    ) -> None:
        def update(conn: Connection) -> None:
            _touch(conn, model_id, updated_at)
            _log_params(conn, model_id, params)

        self._db.write(update)

    def log_logged_model_metrics(
        self, model_id: str, metrics: Sequence[LoggedModelMetric]
    ) -> None:
        latest: dict[str, LoggedModelMetric] = {}
        for metric in metrics:
            held = latest.get(metric.key)
            if held is None or (metric.step, metric.timestamp) >= (held.step, held.timestamp):
                latest[metric.key] = metric

        def update(conn: Connection) -> None:
            if conn.execute(sa.select(_M.id).where(_M.id == model_id)).first() is None:
                raise _not_found(model_id)
            for metric in latest.values():
                row = conn.execute(sa.select(_X.step, _X.timestamp).where(
                    _X.model_id == model_id, _X.key == metric.key)).first()
                if row is not None and (row.step, row.timestamp) > (metric.step,
                                                                    metric.timestamp):
                    continue
                value, is_nan = encode_float(metric.value)
                values = {"value": value, "is_nan": is_nan, "step": metric.step,
                          "timestamp": metric.timestamp, "run_id": metric.run_id,
                          "dataset_name": metric.dataset_name,
                          "dataset_digest": metric.dataset_digest}
                if row is None:
                    conn.execute(sa.insert(mlflow_logged_model_metrics)
                                 .values(model_id=model_id, key=metric.key, **values))
                else:
                    conn.execute(sa.update(mlflow_logged_model_metrics).where(
                        _X.model_id == model_id, _X.key == metric.key).values(**values))

        self._db.write(update)

    def link_run_model(self, link: RunModelLink) -> None:
        table = mlflow_run_models

        def update(conn: Connection) -> None:
            stmt = upsert(conn, table).values(run_id=link.run_id, model_id=link.model_id,
                                              direction=link.direction, step=link.step)
            conn.execute(stmt.on_conflict_do_update(
                index_elements=[table.c.run_id, table.c.model_id, table.c.direction],
                set_={"step": stmt.excluded.step}))

        try:
            self._db.write(update)
        except exc.IntegrityError:
            raise NotFound(f"run {link.run_id!r} or logged model {link.model_id!r} does not "
                           "exist", details={"run_id": link.run_id,
                                             "model_id": link.model_id}) from None

    def list_model_links_of_runs(self, run_ids: Sequence[str]) -> dict[str, list[RunModelLink]]:
        table = mlflow_run_models
        wanted = sorted(set(run_ids))
        found: dict[str, list[RunModelLink]] = {}

        def read(conn: Connection) -> None:
            for start in range(0, len(wanted), 500):
                query = sa.select(table).where(
                    table.c.run_id.in_(wanted[start:start + 500])
                ).order_by(table.c.run_id, table.c.direction, table.c.step, table.c.model_id)
                for r in conn.execute(query):
                    found.setdefault(r.run_id, []).append(
                        RunModelLink(r.run_id, r.model_id, r.direction, r.step))

        if wanted:
            self._db.read(read)
        return found

    def list_run_model_links(self, run_id: str) -> list[RunModelLink]:
        table = mlflow_run_models
        query = sa.select(table).where(table.c.run_id == run_id).order_by(
            table.c.direction, table.c.step, table.c.model_id)
        rows = self._db.read(lambda conn: list(conn.execute(query)))
        return [RunModelLink(r.run_id, r.model_id, r.direction, r.step) for r in rows]
