"""Helpers shared by the SQL stores: dialect inserts, value encoding, bulk loading of runs."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

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


_ONE_RUN = sa.select(runs.c.id).where(runs.c.id == sa.bindparam("run_id"))


def require_runs(conn: Connection, run_ids: Iterable[str]) -> None:
    """RunNotFound naming the first unknown run id, with one query per chunk of ids."""
    wanted = sorted(set(run_ids))
    found: set[str] = set()
    if len(wanted) == 1:  # the usual batch: one run, a prebuilt statement
        found.update(conn.execute(_ONE_RUN, {"run_id": wanted[0]}).scalars())
    else:
        for chunk in chunked(wanted):
            found.update(
                conn.execute(sa.select(runs.c.id).where(runs.c.id.in_(chunk))).scalars()
            )
    missing = [run_id for run_id in wanted if run_id not in found]
    if missing:
        raise RunNotFound(
            f"run {missing[0]!r} does not exist"
            + (f" (and {len(missing) - 1} more unknown run ids)" if len(missing) > 1 else ""),
            details={"run_id": missing[0], "missing": missing},
        )


_RUN_FIELDS = (
    "run_id", "experiment_id", "name", "status", "start_time", "end_time", "lifecycle_stage",
    "artifact_location", "parent_run_id", "user", "error", "note", "params", "metrics", "tags",
)


def _run_factory() -> Callable[..., Run]:
    """``Run(**fields)`` for a search page of runs. A frozen dataclass's ``__init__`` sets each
    field through ``object.__setattr__``, three times the cost of filling the instance dict at
    once, which is what this does, as long as ``Run`` is still the plain frozen dataclass of
    exactly these fields (no ``__post_init__``, no slots); otherwise it is ``Run`` itself."""
    plain = (
        tuple(f.name for f in dataclasses.fields(Run)) == _RUN_FIELDS
        and not hasattr(Run, "__post_init__")
        and "__slots__" not in vars(Run)
    )
    if not plain:
        return Run
    new = object.__new__

    def make(**fields: Any) -> Run:
        run: Run = new(Run)
        run.__dict__.update(fields)
        return run

    return make


_make_run = _run_factory()
_STATUSES = {status.value: status for status in RunStatus}
_STAGES = {stage.value: stage for stage in LifecycleStage}


def _sql(conn: Connection, table: sa.Table, columns: Sequence[str]) -> str:
    """``SELECT columns FROM table WHERE run_id IN (`` with the dialect's quoting."""
    quote = conn.dialect.identifier_preparer.quote
    return (
        f"SELECT {', '.join(quote(c) for c in columns)} FROM {quote(table.name)} "
        f"WHERE {quote('run_id')} IN ("
    )


def fetch_for_runs(
    conn: Connection, table: sa.Table, columns: Sequence[str], run_ids: Sequence[str]
) -> list[Any]:
    """``columns`` of ``table``'s rows for ``run_ids``, as plain tuples straight from the driver
    (one statement per chunk of ids). Loading a search page is mostly this, and SQLAlchemy's
    statement compilation and result rows would cost more than the database work."""
    head = _sql(conn, table, columns)
    marker = "%s" if conn.dialect.name == "postgresql" else "?"
    found: list[Any] = []
    cursor = conn.connection.cursor()
    try:
        for chunk in chunked(run_ids):
            cursor.execute(head + ", ".join([marker] * len(chunk)) + ")", tuple(chunk))
            found.extend(cursor.fetchall())
    finally:
        cursor.close()
    return found


_PARAM_COLUMNS = ("run_id", "key", "text", "type")
_TAG_COLUMNS = ("run_id", "key", "value")
_METRIC_COLUMNS = ("run_id", "key", "value", "is_nan", "step", "timestamp")


def load_runs(conn: Connection, rows: Sequence[Sequence[Any]]) -> list[Run]:
    """Runs for ``rows`` of the runs table (all its columns, in table order), with params, tags
    and latest metrics loaded in bulk (one query per kind and chunk of ids, never one per run)."""
    ids = [row[0] for row in rows]
    run_params: dict[str, dict[str, Param]] = {run_id: {} for run_id in ids}
    run_tags: dict[str, dict[str, str]] = {run_id: {} for run_id in ids}
    run_metrics: dict[str, dict[str, Metric]] = {run_id: {} for run_id in ids}
    # Params repeat across the runs of a sweep and are immutable: share equal ones.
    shared: dict[tuple[str, str, str], Param] = {}
    for run_id, key, text, kind in fetch_for_runs(conn, params, _PARAM_COLUMNS, ids):
        param = shared.get((key, text, kind))
        if param is None:
            param = shared[key, text, kind] = Param(key, text, kind)
        run_params[run_id][key] = param
    for run_id, key, value in fetch_for_runs(conn, tags, _TAG_COLUMNS, ids):
        run_tags[run_id][key] = value
    nan = math.nan
    for run_id, key, value, is_nan, step, stamp in fetch_for_runs(
        conn, latest_metrics, _METRIC_COLUMNS, ids
    ):
        run_metrics[run_id][key] = Metric(
            key, nan if is_nan or value is None else float(value), step, stamp
        )
    return [
        _make_run(
            run_id=run_id,
            experiment_id=experiment_id,
            name=name,
            status=_STATUSES[status],
            start_time=start_time,
            end_time=end_time,
            lifecycle_stage=_STAGES[stage],
            artifact_location=artifact_location,
            parent_run_id=parent_run_id,
            user=user,
            error=error,
            note=note,
            params=run_params[run_id],
            metrics=run_metrics[run_id],
            tags=run_tags[run_id],
        )
        for (run_id, experiment_id, name, status, start_time, end_time, stage, artifact_location,
             parent_run_id, user, error, note) in rows
    ]


_RUN_ROW = sa.select(runs).where(runs.c.id == sa.bindparam("run_id"))


def get_run(conn: Connection, run_id: str) -> Run:
    row = conn.execute(_RUN_ROW, {"run_id": run_id}).first()
    if row is None:
        raise RunNotFound(f"run {run_id!r} does not exist", details={"run_id": run_id})
    return load_runs(conn, [row])[0]
