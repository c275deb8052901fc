"""SqlExperimentStore: experiments and their tags."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc
from sqlalchemy.engine import Connection, Row

from keel.backends.sql._common import check_stage, chunked, upsert
from keel.backends.sql._engine import Database
from keel.backends.sql._schema import experiment_tags, experiments
from keel.backends.sql._search import check_page, like_pattern
from keel.core.pagination import Page, encode_page_token
from keel.errors import AlreadyExists, ExperimentNotFound
from keel.tracking.models import Experiment, LifecycleStage, ViewType


def _not_found(experiment_id: str) -> ExperimentNotFound:
    return ExperimentNotFound(
        f"experiment {experiment_id!r} does not exist", details={"experiment_id": experiment_id}
    )


def _name_taken(name: str) -> AlreadyExists:
    return AlreadyExists(
        f"an experiment named {name!r} already exists (possibly deleted)",
        details={"name": name},
    )


def _load(conn: Connection, rows: Sequence[Row[Any]]) -> list[Experiment]:
    ids = [row.id for row in rows]
    all_tags: dict[str, dict[str, str]] = {experiment_id: {} for experiment_id in ids}
    t = experiment_tags.c
    for chunk in chunked(ids):
        query = sa.select(t.experiment_id, t.key, t.value).where(t.experiment_id.in_(chunk))
        for tag in conn.execute(query):
            all_tags[tag.experiment_id][tag.key] = tag.value
    return [
        Experiment(
            experiment_id=row.id,
            name=row.name,
            artifact_location=row.artifact_location,
            lifecycle_stage=LifecycleStage(row.lifecycle_stage),
            created_at=row.created_at,
            updated_at=row.updated_at,
            tags=all_tags[row.id],
        )
        for row in rows
    ]


def _get(conn: Connection, experiment_id: str) -> Experiment:
    row = conn.execute(sa.select(experiments).where(experiments.c.id == experiment_id)).first()
    if row is None:
        raise _not_found(experiment_id)
    return _load(conn, [row])[0]


def _set_tags(conn: Connection, experiment_id: str, tags: Mapping[str, str]) -> None:
    if not tags:
        return
    stmt = upsert(conn, experiment_tags)
    stmt = stmt.on_conflict_do_update(
        index_elements=[experiment_tags.c.experiment_id, experiment_tags.c.key],
        set_={"value": stmt.excluded.value},
    )
    conn.execute(
        stmt, [{"experiment_id": experiment_id, "key": k, "value": v} for k, v in tags.items()]
    )


def _touch(conn: Connection, experiment_id: str, **values: Any) -> None:
    result = conn.execute(
        sa.update(experiments).where(experiments.c.id == experiment_id).values(**values)
    )
    if result.rowcount == 0:
        raise _not_found(experiment_id)


class SqlExperimentStore:
    """The ExperimentStore port on a SQL database."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def create_experiment(
        self,
        experiment_id: str,
        name: str,
        artifact_location: str,
        tags: Mapping[str, str],
        created_at: int,
    ) -> Experiment:
        def create(conn: Connection) -> Experiment:
            taken = conn.execute(
                sa.select(experiments.c.id).where(experiments.c.name == name)
            ).first()
            if taken is not None:
                raise _name_taken(name)
            conn.execute(
                sa.insert(experiments).values(
                    id=experiment_id,
                    name=name,
                    artifact_location=artifact_location,
                    lifecycle_stage=LifecycleStage.ACTIVE.value,
                    created_at=created_at,
                    updated_at=created_at,
                )
            )
            _set_tags(conn, experiment_id, tags)
            return _get(conn, experiment_id)

        try:
            return self._db.write(create)
        except exc.IntegrityError:
            if self.find_experiment_by_name(name) is not None:
                raise _name_taken(name) from None
            raise AlreadyExists(
                f"an experiment with id {experiment_id!r} already exists",
                details={"experiment_id": experiment_id},
            ) from None

    def get_experiment(self, experiment_id: str) -> Experiment:
        return self._db.read(lambda conn: _get(conn, experiment_id))

    def find_experiment_by_name(self, name: str) -> Experiment | None:
        def find(conn: Connection) -> Experiment | None:
            row = conn.execute(sa.select(experiments).where(experiments.c.name == name)).first()
            return None if row is None else _load(conn, [row])[0]

        return self._db.read(find)

    def list_experiments(
        self,
        view: ViewType = ViewType.ACTIVE_ONLY,
        name_like: str | None = None,
        tags: Mapping[str, str] | None = None,
        max_results: int = 1000,
        offset: int = 0,
    ) -> Page[Experiment]:
        check_page(max_results, offset)
        e = experiments.c
        query = sa.select(experiments)
        if view is ViewType.ACTIVE_ONLY:
            query = query.where(e.lifecycle_stage == LifecycleStage.ACTIVE.value)
        elif view is ViewType.DELETED_ONLY:
            query = query.where(e.lifecycle_stage == LifecycleStage.DELETED.value)
        if name_like is not None:
            query = query.where(e.name.ilike(like_pattern(name_like, self._db.dialect)))
        for key, value in (tags or {}).items():
            t = experiment_tags.alias()
            query = query.where(
                sa.exists().where(
                    t.c.experiment_id == e.id, t.c.key == key, t.c.value == value
                )
            )
        query = query.order_by(e.created_at.desc(), e.id).limit(max_results + 1).offset(offset)

        def list_(conn: Connection) -> Page[Experiment]:
            rows = conn.execute(query).all()
            token = encode_page_token(offset + max_results) if len(rows) > max_results else None
            return Page(_load(conn, rows[:max_results]), token)

        return self._db.read(list_)

    def rename_experiment(self, experiment_id: str, new_name: str, updated_at: int) -> Experiment:
        def rename(conn: Connection) -> Experiment:
            current = _get(conn, experiment_id)
            if current.name == new_name:
                return current
            taken = conn.execute(
                sa.select(experiments.c.id).where(experiments.c.name == new_name)
            ).first()
            if taken is not None:
                raise _name_taken(new_name)
            _touch(conn, experiment_id, name=new_name, updated_at=updated_at)
            return _get(conn, experiment_id)

        try:
            return self._db.write(rename)
        except exc.IntegrityError:
            raise _name_taken(new_name) from None

    def set_experiment_tags(
        self, experiment_id: str, tags: Mapping[str, str], updated_at: int
    ) -> None:
        def set_tags(conn: Connection) -> None:
            _touch(conn, experiment_id, updated_at=updated_at)
            _set_tags(conn, experiment_id, tags)

        self._db.write(set_tags)

    def set_experiment_stage(
        self, experiment_id: str, stage: str, updated_at: int
    ) -> Experiment:
        checked = check_stage(stage)

        def set_stage(conn: Connection) -> Experiment:
            _touch(conn, experiment_id, lifecycle_stage=checked.value, updated_at=updated_at)
            return _get(conn, experiment_id)

        return self._db.write(set_stage)
