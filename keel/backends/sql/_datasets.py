"""SqlDatasetStore: dataset versions (numbered per name, deduplicated by digest) and run inputs."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc
from sqlalchemy.engine import Connection, Row

from keel.backends.sql._common import chunked, require_run, upsert
from keel.backends.sql._engine import Database
from keel.backends.sql._schema import dataset_versions, run_inputs
from keel.backends.sql._search import binary, check_page
from keel.core.pagination import Page, encode_page_token
from keel.errors import AlreadyExists, DatasetNotFound, InvalidArgument
from keel.tracking.models import DatasetColumn, DatasetDescription, DatasetVersion, RunInput

_PG_DATASET_LOCK = 0x6B65656C  # advisory lock class for "numbering versions of one name"


def _json_default(value: object) -> Any:
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item):
        return item()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _dumps(value: object, what: str) -> str:
    try:
        return json.dumps(value, default=_json_default, separators=(",", ":"))
    except (TypeError, ValueError) as error:
        raise InvalidArgument(f"dataset {what} cannot be stored as JSON: {error}") from None


def _version(row: Row[Any]) -> DatasetVersion:
    return DatasetVersion(
        dataset_version_id=row.id,
        name=row.name,
        version=row.version,
        digest=row.digest,
        num_rows=row.num_rows,
        columns=[DatasetColumn(**column) for column in json.loads(row.columns)],
        profile=json.loads(row.profile),
        source=row.source,
        created_at=row.created_at,
    )


def _not_found(dataset_version_id: str) -> DatasetNotFound:
    return DatasetNotFound(
        f"dataset version {dataset_version_id!r} does not exist",
        details={"dataset_version_id": dataset_version_id},
    )


_IN_CHUNK = 500
"""Run ids per ``IN (...)`` list (well under SQLite's bound-parameter limit)."""


class SqlDatasetStore:
    """The DatasetStore port on a SQL database."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def get_or_create_dataset_version(
        self, dataset_version_id: str, name: str, description: DatasetDescription, created_at: int
    ) -> tuple[DatasetVersion, bool]:
        columns = _dumps(
            [{"name": c.name, "type": c.type, "nullable": c.nullable} for c in description.columns],
            "columns",
        )
        profile = _dumps(description.profile, "profile")
        dv = dataset_versions.c

        def get_or_create(conn: Connection) -> tuple[DatasetVersion, bool]:
            if conn.dialect.name == "postgresql":
                # Serialize numbering per name (SQLite writers are serialized already).
                conn.execute(
                    sa.text("SELECT pg_advisory_xact_lock(:cls, hashtext(:name))"),
                    {"cls": _PG_DATASET_LOCK, "name": name},
                )
            query = sa.select(dataset_versions).where(
                dv.name == name, dv.digest == description.digest
            )
            row = conn.execute(query).first()
            if row is not None:
                return _version(row), False
            latest = conn.execute(sa.select(sa.func.max(dv.version)).where(dv.name == name))
            conn.execute(
                sa.insert(dataset_versions).values(
                    id=dataset_version_id,
                    name=name,
                    version=(latest.scalar() or 0) + 1,
                    digest=description.digest,
                    num_rows=description.num_rows,
                    columns=columns,
                    profile=profile,
                    source=description.source,
                    created_at=created_at,
                )
            )
            return _version(conn.execute(query).one()), True

        try:
            return self._db.write(get_or_create)
        except exc.IntegrityError:
            raise AlreadyExists(
                f"a dataset version with id {dataset_version_id!r} already exists",
                details={"dataset_version_id": dataset_version_id},
            ) from None

    def get_dataset_version(self, dataset_version_id: str) -> DatasetVersion:
        query = sa.select(dataset_versions).where(dataset_versions.c.id == dataset_version_id)

        def get(conn: Connection) -> DatasetVersion:
            row = conn.execute(query).first()
            if row is None:
                raise _not_found(dataset_version_id)
            return _version(row)

        return self._db.read(get)

    def find_dataset_version(self, name: str, version: int) -> DatasetVersion | None:
        dv = dataset_versions.c
        query = sa.select(dataset_versions).where(dv.name == name, dv.version == version)

        def find(conn: Connection) -> DatasetVersion | None:
            row = conn.execute(query).first()
            return None if row is None else _version(row)

        return self._db.read(find)

    def list_dataset_versions(
        self, name: str | None = None, max_results: int = 1000, offset: int = 0
    ) -> Page[DatasetVersion]:
        check_page(max_results, offset)
        dv = dataset_versions.c
        query = sa.select(dataset_versions)
        if name is not None:
            query = query.where(dv.name == name)
        query = (
            query.order_by(
                dv.created_at.desc(), binary(dv.name, self._db.dialect), dv.version.desc()
            )
            .limit(max_results + 1)
            .offset(offset)
        )

        def list_(conn: Connection) -> Page[DatasetVersion]:
            rows = conn.execute(query).all()
            token = encode_page_token(offset + max_results) if len(rows) > max_results else None
            return Page([_version(row) for row in rows[:max_results]], token)

        return self._db.read(list_)

    def log_run_inputs(self, run_id: str, inputs: Sequence[tuple[str, str]]) -> None:
        pairs = sorted(set(inputs))

        def log(conn: Connection) -> None:
            require_run(conn, run_id)
            if not pairs:
                return
            wanted = sorted({dataset_version_id for dataset_version_id, _ in pairs})
            found: set[str] = set()
            for chunk in chunked(wanted):
                query = sa.select(dataset_versions.c.id).where(dataset_versions.c.id.in_(chunk))
                found.update(conn.execute(query).scalars())
            for dataset_version_id in wanted:
                if dataset_version_id not in found:
                    raise _not_found(dataset_version_id)
            stmt = upsert(conn, run_inputs).on_conflict_do_nothing()
            conn.execute(
                stmt,
                [
                    {"run_id": run_id, "dataset_version_id": dataset_version_id,
                     "context": context}
                    for dataset_version_id, context in pairs
                ],
            )

        self._db.write(log)

    def list_run_inputs(self, run_id: str) -> list[RunInput]:
        ri = run_inputs.c
        dialect = self._db.dialect
        query = (
            sa.select(ri.run_id, ri.dataset_version_id, ri.context)
            .where(ri.run_id == run_id)
            .order_by(binary(ri.context, dialect), binary(ri.dataset_version_id, dialect))
        )

        def list_(conn: Connection) -> list[RunInput]:
            rows = conn.execute(query).all()
            if not rows:
                require_run(conn, run_id)
            return [RunInput(r.run_id, r.dataset_version_id, r.context) for r in rows]

        return self._db.read(list_)

    def list_inputs_of_runs(self, run_ids: Sequence[str]) -> dict[str, list[RunInput]]:
        ri = run_inputs.c
        dialect = self._db.dialect
        wanted = sorted(set(run_ids))
        found: dict[str, list[RunInput]] = {}

        def list_(conn: Connection) -> None:
            for start in range(0, len(wanted), _IN_CHUNK):
                query = (
                    sa.select(ri.run_id, ri.dataset_version_id, ri.context)
                    .where(ri.run_id.in_(wanted[start:start + _IN_CHUNK]))
                    .order_by(ri.run_id, binary(ri.context, dialect),
                              binary(ri.dataset_version_id, dialect))
                )
                for r in conn.execute(query):
                    found.setdefault(r.run_id, []).append(
                        RunInput(r.run_id, r.dataset_version_id, r.context))

        if wanted:
            self._db.read(list_)
        return found

    def list_dataset_runs(self, dataset_version_id: str) -> list[RunInput]:
        ri = run_inputs.c
        dialect = self._db.dialect
        query = (
            sa.select(ri.run_id, ri.dataset_version_id, ri.context)
            .where(ri.dataset_version_id == dataset_version_id)
            .order_by(binary(ri.run_id, dialect), binary(ri.context, dialect))
        )

        def list_(conn: Connection) -> list[RunInput]:
            rows = conn.execute(query).all()
            if not rows:
                exists = conn.execute(
                    sa.select(dataset_versions.c.id).where(
                        dataset_versions.c.id == dataset_version_id
                    )
                ).first()
                if exists is None:
                    raise _not_found(dataset_version_id)
            return [RunInput(r.run_id, r.dataset_version_id, r.context) for r in rows]

        return self._db.read(list_)
