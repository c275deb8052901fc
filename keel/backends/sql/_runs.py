"""SqlRunStore: runs, params, tags, artifact records; metrics and search live next door."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc
from sqlalchemy.engine import Connection

from keel.backends.sql import _metrics, _search
from keel.backends.sql._common import (
    check_stage,
    get_run,
    param_number,
    require_run,
    require_runs,
    upsert,
)
from keel.backends.sql._engine import Database
from keel.backends.sql._schema import artifact_records, experiments, runs
from keel.backends.sql._schema import params as params_table
from keel.backends.sql._schema import tags as tags_table
from keel.backends.sql._search import binary
from keel.core.pagination import Page
from keel.errors import AlreadyExists, ExperimentNotFound, NotFound, ParamConflict, RunNotFound
from keel.tracking.models import (
    ArtifactRecord,
    LifecycleStage,
    Metric,
    MetricRecord,
    Run,
    RunStatus,
    ViewType,
)
from keel.tracking.query import Expr, OrderBy


def _param_conflict(run_id: str, key: str, old: str, new: str) -> ParamConflict:
    return ParamConflict(
        f"param {key!r} of run {run_id!r} is already {old!r}; it cannot be changed to {new!r} "
        "(params are immutable: log a new key or start a new run)",
        details={"key": key, "old": old, "new": new, "run_id": run_id},
    )


def _set_tags(conn: Connection, run_id: str, values: Mapping[str, str]) -> None:
    if not values:
        return
    stmt = upsert(conn, tags_table)
    stmt = stmt.on_conflict_do_update(
        index_elements=[tags_table.c.run_id, tags_table.c.key],
        set_={"value": stmt.excluded.value},
    )
    conn.execute(
        stmt, [{"run_id": run_id, "key": k, "value": v} for k, v in sorted(values.items())]
    )


class SqlRunStore:
    """The RunStore port on a SQL database."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def create_run(
        self,
        run_id: str,
        experiment_id: str,
        name: str,
        start_time: int,
        artifact_location: str,
        parent_run_id: str | None,
        user: str | None,
        tags: Mapping[str, str],
    ) -> Run:
        def create(conn: Connection) -> Run:
            stage = conn.execute(
                sa.select(experiments.c.lifecycle_stage).where(experiments.c.id == experiment_id)
            ).scalar()
            if stage != LifecycleStage.ACTIVE.value:
                state = "is deleted" if stage is not None else "does not exist"
                raise ExperimentNotFound(
                    f"experiment {experiment_id!r} {state}",
                    details={"experiment_id": experiment_id},
                )
            if parent_run_id is not None:
                require_run(conn, parent_run_id)
            if conn.execute(sa.select(runs.c.id).where(runs.c.id == run_id)).first():
                raise AlreadyExists(
                    f"a run with id {run_id!r} already exists", details={"run_id": run_id}
                )
            conn.execute(
                sa.insert(runs).values(
                    id=run_id,
                    experiment_id=experiment_id,
                    name=name,
                    status=RunStatus.RUNNING.value,
                    start_time=start_time,
                    end_time=None,
                    lifecycle_stage=LifecycleStage.ACTIVE.value,
                    artifact_location=artifact_location,
                    parent_run_id=parent_run_id,
                    user=user,
                )
            )
            _set_tags(conn, run_id, tags)
            return get_run(conn, run_id)

        try:
            return self._db.write(create)
        except exc.IntegrityError:
            # Only reachable on PostgreSQL, when a concurrent writer won the race.
            raise AlreadyExists(
                f"a run with id {run_id!r} already exists", details={"run_id": run_id}
            ) from None

    def get_run(self, run_id: str) -> Run:
        return self._db.read(lambda conn: get_run(conn, run_id))

    def update_run(
        self,
        run_id: str,
        *,
        status: RunStatus | None = None,
        end_time: int | None = None,
        name: str | None = None,
        error: str | None = None,
        note: str | None = None,
    ) -> Run:
        changes: dict[str, Any] = {}
        if status is not None:
            changes["status"] = RunStatus(status).value
        for column, value in (("end_time", end_time), ("name", name), ("error", error),
                              ("note", note)):
            if value is not None:
                changes[column] = value
        return self._update(run_id, changes)

    def set_run_stage(self, run_id: str, stage: str) -> Run:
        return self._update(run_id, {"lifecycle_stage": check_stage(stage).value})

    def _update(self, run_id: str, changes: dict[str, Any]) -> Run:
        def update(conn: Connection) -> Run:
            if changes:
                result = conn.execute(sa.update(runs).where(runs.c.id == run_id).values(changes))
                if result.rowcount == 0:
                    raise RunNotFound(f"run {run_id!r} does not exist", details={"run_id": run_id})
            return get_run(conn, run_id)

        return self._db.write(update)

    def log_params(self, run_id: str, params: Sequence[tuple[str, str, str]]) -> None:
        batch: dict[str, tuple[str, str]] = {}
        for key, text, kind in params:
            seen = batch.get(key)
            if seen is None:
                batch[key] = (text, kind)
            elif seen[0] != text:
                raise _param_conflict(run_id, key, seen[0], text)

        def log(conn: Connection) -> None:
            require_run(conn, run_id, lock=True)
            if not batch:
                return
            p = params_table.c
            existing: dict[str, str] = {}
            keys = list(batch)
            for start in range(0, len(keys), 2000):
                query = sa.select(p.key, p.text).where(
                    p.run_id == run_id, p.key.in_(keys[start : start + 2000])
                )
                existing.update((row.key, row.text) for row in conn.execute(query))
            for key, (text, _kind) in batch.items():
                if key in existing and existing[key] != text:
                    raise _param_conflict(run_id, key, existing[key], text)
            new = [
                {"run_id": run_id, "key": key, "text": text, "type": kind,
                 "num": param_number(text, kind)}
                for key, (text, kind) in batch.items()
                if key not in existing
            ]
            if new:
                conn.execute(sa.insert(params_table), new)

        self._db.write(log)

    def log_metrics(self, records: Sequence[MetricRecord]) -> None:
        _metrics.log_metrics(self._db, records)

    def set_tags(self, run_id: str, tags: Mapping[str, str]) -> None:
        def set_tags(conn: Connection) -> None:
            require_run(conn, run_id, lock=True)
            _set_tags(conn, run_id, tags)

        self._db.write(set_tags)

    def delete_tag(self, run_id: str, key: str) -> None:
        def delete(conn: Connection) -> None:
            require_run(conn, run_id, lock=True)
            result = conn.execute(
                sa.delete(tags_table).where(tags_table.c.run_id == run_id, tags_table.c.key == key)
            )
            if result.rowcount == 0:
                raise NotFound(
                    f"run {run_id!r} has no tag {key!r}", details={"run_id": run_id, "key": key}
                )

        self._db.write(delete)

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        return _metrics.get_metric_history(self._db, run_id, key)

    def max_metric_steps(self, run_id: str) -> dict[str, int]:
        return _metrics.max_metric_steps(self._db, run_id)

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter: Expr | None,
        order_by: Sequence[OrderBy],
        view: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        offset: int = 0,
    ) -> Page[Run]:
        return _search.search_runs(
            self._db, experiment_ids, filter, order_by, view, max_results, offset
        )

    def log_artifact_records(self, records: Sequence[ArtifactRecord]) -> None:
        latest: dict[tuple[str, str], ArtifactRecord] = {}
        for record in records:
            latest[(record.run_id, record.path)] = record

        def log(conn: Connection) -> None:
            require_runs(conn, {record.run_id for record in records})
            if not latest:
                return
            stmt = upsert(conn, artifact_records)
            stmt = stmt.on_conflict_do_update(
                index_elements=[artifact_records.c.run_id, artifact_records.c.path],
                set_={
                    "size": stmt.excluded.size,
                    "sha256": stmt.excluded.sha256,
                    "created_at": stmt.excluded.created_at,
                },
            )
            conn.execute(
                stmt,
                [
                    {"run_id": r.run_id, "path": r.path, "size": r.size, "sha256": r.sha256,
                     "created_at": r.created_at}
                    for _, r in sorted(latest.items())
                ],
            )

        self._db.write(log)

    def list_artifact_records(self, run_id: str, prefix: str = "") -> list[ArtifactRecord]:
        a = artifact_records.c
        query = sa.select(artifact_records).where(a.run_id == run_id)
        if prefix:
            query = query.where(sa.func.substr(a.path, 1, len(prefix)) == prefix)
        query = query.order_by(binary(a.path, self._db.dialect))

        def list_(conn: Connection) -> list[ArtifactRecord]:
            rows = conn.execute(query).all()
            if not rows:
                require_run(conn, run_id)
            return [
                ArtifactRecord(row.run_id, row.path, row.size, row.sha256, row.created_at)
                for row in rows
            ]

        return self._db.read(list_)

