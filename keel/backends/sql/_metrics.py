"""Metric points: batched appends, the latest value per key, history.

``log_metrics`` is the hot path (a training loop flushes 10k-100k points at once), so it does a
fixed number of statements whatever the batch size: one query validating the run ids, one
executemany into the history, and one executemany upsert into ``latest_metrics`` with a row per
(run, key) whose winner was computed in Python. The upsert only replaces the stored latest point
when the new one is at least as late (higher step, then later or equal timestamp: on a full tie
the later-inserted point wins), so a point logged earlier with a higher step stays latest.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keel.backends.sql._common import decode_float, require_run, require_runs, upsert
from keel.backends.sql._engine import Database
from keel.backends.sql._schema import latest_metrics, metrics
from keel.tracking.models import Metric, MetricRecord

_INSERT_CHUNK = 20_000


_HISTORY_COLUMNS = ("run_id", "key", "value", "is_nan", "step", "timestamp")
_LatestRow = tuple[str, str, "float | None", bool, int, int]


def _rows(records: Sequence[MetricRecord]) -> tuple[list[_LatestRow], list[dict[str, Any]]]:
    """History rows as tuples in order, and one latest-candidate row per (run, key)."""
    history: list[_LatestRow] = []
    append = history.append
    best: dict[tuple[str, str], _LatestRow] = {}
    isnan = math.isnan
    for record in records:
        value = float(record.value)
        nan = isnan(value)
        row = (
            record.run_id, record.key, None if nan else value, nan, int(record.step),
            int(record.timestamp),
        )
        append(row)
        slot = (row[0], row[1])
        current = best.get(slot)
        # >= : on a full (step, timestamp) tie the later point wins.
        if current is None or (row[4], row[5]) >= (current[4], current[5]):
            best[slot] = row
    # Sorted, so concurrent batches lock latest_metrics rows in one order (no deadlocks).
    latest = [dict(zip(_HISTORY_COLUMNS, best[slot], strict=True)) for slot in sorted(best)]
    return history, latest


def _history_insert(conn: Connection) -> str:
    """A plain driver-level INSERT: executemany of tuples skips SQLAlchemy's per-row parameter
    processing, which would otherwise cost more than the database work."""
    quote = conn.dialect.identifier_preparer.quote
    marker = "%s" if conn.dialect.name == "postgresql" else "?"
    return (
        f"INSERT INTO {quote(metrics.name)} ({', '.join(quote(c) for c in _HISTORY_COLUMNS)}) "
        f"VALUES ({', '.join([marker] * len(_HISTORY_COLUMNS))})"
    )


def _copy_history(conn: Connection, history: list[_LatestRow]) -> None:
    """PostgreSQL: ``COPY ... FROM STDIN`` in the open transaction, several times faster than
    even a pipelined executemany."""
    quote = conn.dialect.identifier_preparer.quote
    sql = (
        f"COPY {quote(metrics.name)} ({', '.join(quote(c) for c in _HISTORY_COLUMNS)}) "
        "FROM STDIN"
    )
    driver_connection: Any = conn.connection.driver_connection
    with driver_connection.cursor() as cursor, cursor.copy(sql) as copy:
        write_row = copy.write_row
        for row in history:
            write_row(row)


def _latest_upsert(conn: Connection) -> Any:
    stmt = upsert(conn, latest_metrics)
    stored = latest_metrics.c
    new = stmt.excluded
    return stmt.on_conflict_do_update(
        index_elements=[stored.run_id, stored.key],
        set_={
            "value": new.value,
            "is_nan": new.is_nan,
            "step": new.step,
            "timestamp": new.timestamp,
        },
        where=sa.or_(
            new.step > stored.step,
            sa.and_(new.step == stored.step, new.timestamp >= stored.timestamp),
        ),
    )


def log_metrics(db: Database, records: Sequence[MetricRecord]) -> None:
    if not records:
        return
    history, latest = _rows(records)
    run_ids = {row["run_id"] for row in latest}

    def log(conn: Connection) -> None:
        require_runs(conn, run_ids)
        if conn.dialect.name == "postgresql":
            _copy_history(conn, history)
        else:
            insert = _history_insert(conn)
            for start in range(0, len(history), _INSERT_CHUNK):
                conn.exec_driver_sql(insert, history[start : start + _INSERT_CHUNK])
        conn.execute(_latest_upsert(conn), latest)

    db.write(log)


def get_metric_history(db: Database, run_id: str, key: str) -> list[Metric]:
    m = metrics.c
    query = (
        sa.select(m.value, m.is_nan, m.step, m.timestamp)
        .where(m.run_id == run_id, m.key == key)
        .order_by(m.step, m.timestamp, m.seq)
    )

    def history(conn: Connection) -> list[Metric]:
        rows = conn.execute(query).all()
        if not rows:
            require_run(conn, run_id)
        return [Metric(key, decode_float(r.value, r.is_nan), r.step, r.timestamp) for r in rows]

    return db.read(history)


def max_metric_steps(db: Database, run_id: str) -> dict[str, int]:
    # The latest point of a key is the one with the highest step, so latest_metrics has it.
    lm = latest_metrics.c
    query = sa.select(lm.key, lm.step).where(lm.run_id == run_id)

    def steps(conn: Connection) -> dict[str, int]:
        found = {key: int(step) for key, step in conn.execute(query)}
        if not found:
            require_run(conn, run_id)
        return found

    return db.read(steps)
