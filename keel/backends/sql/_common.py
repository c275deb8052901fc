"""Helpers shared by the SQL stores: dialect inserts, value encoding, bulk loading of runs."""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Row

from keel.backends.sql._schema import latest_metrics, params, runs, tags
from keel.errors import InvalidArgument, RunNotFound
from keel.tracking.models import LifecycleStage, Metric, Param, Run, RunStatus

T = TypeVar("T")

IN_CHUNK = 2000
"""Most values bound in one ``IN (...)``; far below SQLite's and PostgreSQL's limits."""


def chunked(items: Sequence[T], size: int = IN_CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def upsert(conn: Connection, table: sa.Table) -> Any:
    """``INSERT`` that supports ``on_conflict_do_update/nothing`` on the connection's dialect."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def encode_float(value: float) -> tuple[float | None, bool]:
    """(value, is_nan) as stored: NaN becomes NULL plus the flag, +-inf stay as they are."""
    number = float(value)
    if math.isnan(number):
        return None, True
    return number, False


def decode_float(value: float | None, is_nan: bool) -> float:
    if is_nan or value is None:
        return math.nan
    return float(value)


def param_number(text: str, kind: str) -> float | None:
    """The numeric value a param compares with in filters: int/float params only, not NaN."""
    if kind not in ("int", "float"):
        return None
    try:
        number = float(text)
    except ValueError:
        return None
    return None if math.isnan(number) else number


def check_stage(stage: str) -> LifecycleStage:
    try:
        return LifecycleStage(stage)
    except ValueError:
        known = ", ".join(s.value for s in LifecycleStage)
        raise InvalidArgument(
            f"unknown lifecycle stage {stage!r}; known: {known}", details={"stage": stage}
        ) from None


def require_run(conn: Connection, run_id: str, *, lock: bool = False) -> None:
    """RunNotFound unless the run exists; ``lock`` holds its row until commit (PostgreSQL), so
    writers to one run's params or tags are serialized."""
    query = sa.select(runs.c.id).where(runs.c.id == run_id)
    if lock and conn.dialect.name == "postgresql":
        query = query.with_for_update(key_share=True)  # FOR NO KEY UPDATE
    if conn.execute(query).first() is None:
        raise RunNotFound(f"run {run_id!r} does not exist", details={"run_id": run_id})


def require_runs(conn: Connection, run_ids: Iterable[str]) -> None:
    """RunNotFound naming the first unknown run id, with one query per chunk of ids."""
    wanted = sorted(set(run_ids))
    found: set[str] = set()
    for chunk in chunked(wanted):
        found.update(conn.execute(sa.select(runs.c.id).where(runs.c.id.in_(chunk))).scalars())
    missing = [run_id for run_id in wanted if run_id not in found]
    if missing:
        raise RunNotFound(
            f"run {missing[0]!r} does not exist"
            + (f" (and {len(missing) - 1} more unknown run ids)" if len(missing) > 1 else ""),
            details={"run_id": missing[0], "missing": missing},
        )


def load_runs(conn: Connection, rows: Sequence[Row[Any]]) -> list[Run]:
    """Runs for ``rows`` of the runs table, with params, tags and latest metrics loaded in bulk
    (one query per kind and chunk of ids, never one per run)."""
    ids = [row.id for row in rows]
    run_params: dict[str, dict[str, Param]] = {run_id: {} for run_id in ids}
    run_tags: dict[str, dict[str, str]] = {run_id: {} for run_id in ids}
    run_metrics: dict[str, dict[str, Metric]] = {run_id: {} for run_id in ids}
    for chunk in chunked(ids):
        query = sa.select(params.c.run_id, params.c.key, params.c.text, params.c.type)
        for p in conn.execute(query.where(params.c.run_id.in_(chunk))):
            run_params[p.run_id][p.key] = Param(p.key, p.text, p.type)
        query = sa.select(tags.c.run_id, tags.c.key, tags.c.value)
        for t in conn.execute(query.where(tags.c.run_id.in_(chunk))):
            run_tags[t.run_id][t.key] = t.value
        lm = latest_metrics.c
        query = sa.select(lm.run_id, lm.key, lm.value, lm.is_nan, lm.step, lm.timestamp)
        for m in conn.execute(query.where(lm.run_id.in_(chunk))):
            run_metrics[m.run_id][m.key] = Metric(
                m.key, decode_float(m.value, m.is_nan), m.step, m.timestamp
            )
    return [
        Run(
            run_id=row.id,
            experiment_id=row.experiment_id,
            name=row.name,
            status=RunStatus(row.status),
            start_time=row.start_time,
            end_time=row.end_time,
            lifecycle_stage=LifecycleStage(row.lifecycle_stage),
            artifact_location=row.artifact_location,
            parent_run_id=row.parent_run_id,
            user=row.user,
            error=row.error,
            note=row.note,
            params=run_params[row.id],
            metrics=run_metrics[row.id],
            tags=run_tags[row.id],
        )
        for row in rows
    ]


def get_run(conn: Connection, run_id: str) -> Run:
    row = conn.execute(sa.select(runs).where(runs.c.id == run_id)).first()
    if row is None:
        raise RunNotFound(f"run {run_id!r} does not exist", details={"run_id": run_id})
    return load_runs(conn, [row])[0]
