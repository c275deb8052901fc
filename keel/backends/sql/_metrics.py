"""Metric points: history in blocks, the latest value per key.

``log_metrics`` is the hot path (a training loop flushes 10k-100k points at once), so it does a
fixed number of statements whatever the batch size: one query validating the run ids, one insert
of the batch's history blocks, and one executemany upsert into ``latest_metrics``. A block is one
row per (run, key) of the batch holding that series' points as packed arrays (see ``_schema``),
so the database writes a handful of rows for a batch of any size. Building them stays out of
per-point Python too: the batch is split into columns with ``map(itemgetter)``, each series'
points are picked out of the columns (a strided slice for the usual batch of one run cycling
through the same keys) and packed with ``array``, all in C.

The latest-value upsert gets one row per (run, key) whose winner was computed here, and only
replaces the stored latest point when the new one is at least as late (higher step, then later or
equal timestamp: on a full tie the later-inserted point wins), so a point logged earlier with a
higher step stays latest.

History is read back block by block in insertion order (``seq``), unpacked, and sorted by (step,
timestamp, position), which is the port's order: step, then timestamp, then insertion.
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Callable, Sequence
from itertools import count
from operator import itemgetter
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keel.backends.sql._common import require_run, require_runs, upsert
from keel.backends.sql._engine import Database
from keel.backends.sql._schema import latest_metrics, metric_blocks
from keel.errors import InvalidArgument
from keel.tracking.models import Metric, MetricRecord

BLOCK_POINTS = 65_536
"""Most points in one block row (0.5 MiB per packed array); longer series of a batch are split."""

_BLOCK_COLUMNS = ("run_id", "key", "size", "steps", "values", "timestamps")
_LITTLE_ENDIAN = sys.byteorder == "little"
assert array("q").itemsize == 8 and array("d").itemsize == 8

_Block = tuple[str, str, int, bytes, bytes, bytes]
_Pick = Callable[[Sequence[Any]], Sequence[Any]]


def pack(typecode: str, items: Sequence[Any]) -> bytes:
    """``items`` as a little-endian array of int64 ('q') or float64 ('d')."""
    packed = array(typecode, items)
    if not _LITTLE_ENDIAN:  # pragma: no cover - no big-endian CI machine
        packed.byteswap()
    return packed.tobytes()


def unpack(typecode: str, data: bytes) -> array[Any]:
    unpacked: array[Any] = array(typecode)
    unpacked.frombytes(data)
    if not _LITTLE_ENDIAN:  # pragma: no cover
        unpacked.byteswap()
    return unpacked


def _series(run_ids: list[str], keys: list[str]) -> list[tuple[str, str, _Pick]]:
    """Each (run, key) of a batch, sorted, with a function picking its points, in logging order,
    out of a column of the batch.

    A batch that cycles through the same keys of one run (``log_metric`` of one key, or
    ``log_metrics`` of the same dict every step) picks a strided slice, found without a Python
    loop over the points; any other batch is grouped point by point."""
    first_run = run_ids[0]
    if run_ids.count(first_run) == len(run_ids):
        period = len(set(keys))
        cycle = keys[:period]
        if len(set(cycle)) == period and keys[period:] == keys[:-period]:
            return sorted(
                (first_run, key, itemgetter(slice(offset, None, period)))
                for offset, key in enumerate(cycle)
            )
    positions: dict[tuple[str, str], list[int]] = {}
    for position, series in enumerate(zip(run_ids, keys, strict=True)):
        found = positions.get(series)
        if found is None:
            positions[series] = [position]
        else:
            found.append(position)
    return [
        (run_id, key, _picker(found)) for (run_id, key), found in sorted(positions.items())
    ]


def _picker(positions: list[int]) -> _Pick:
    """A function returning the items at ``positions`` of a sequence, as a sequence."""
    if len(positions) == 1:
        return itemgetter(slice(positions[0], positions[0] + 1))
    return itemgetter(*positions)


def _latest_position(steps: Sequence[int], stamps: Sequence[int]) -> int:
    """Index of the latest point: highest step, then latest timestamp, then logged last."""
    top = max(steps)
    first = steps.index(top)
    if steps.count(top) == 1:
        return first
    ties = [i for i in range(first, len(steps)) if steps[i] == top]
    late = max(stamps[i] for i in ties)
    return [i for i in ties if stamps[i] == late][-1]


def _invalid_points(error: Exception) -> InvalidArgument:
    return InvalidArgument(
        "metric points need int steps and timestamps (64-bit) and float values: "
        f"{type(error).__name__}: {error}"
    )


def _rows(records: Sequence[MetricRecord]) -> tuple[list[_Block], list[dict[str, Any]]]:
    """History blocks, and one latest-candidate row per (run, key), both sorted by (run, key)."""
    columns = [list(map(itemgetter(i), records)) for i in range(5)]
    run_ids, keys, all_values, all_steps, all_stamps = columns
    blocks: list[_Block] = []
    latest: list[dict[str, Any]] = []
    try:
        for run_id, key, pick in _series(run_ids, keys):
            steps, values, stamps = pick(all_steps), pick(all_values), pick(all_stamps)
            size = len(steps)
            if size <= BLOCK_POINTS:
                blocks.append((run_id, key, size, pack("q", steps), pack("d", values),
                               pack("q", stamps)))
            else:
                for start in range(0, size, BLOCK_POINTS):
                    end = start + BLOCK_POINTS
                    blocks.append((run_id, key, len(steps[start:end]), pack("q", steps[start:end]),
                                   pack("d", values[start:end]), pack("q", stamps[start:end])))
            at = _latest_position(steps, stamps)
            value = float(values[at])
            nan = value != value
            latest.append({
                "run_id": run_id, "key": key, "value": None if nan else value, "is_nan": nan,
                "step": int(steps[at]), "timestamp": int(stamps[at]),
            })
    except (TypeError, ValueError, OverflowError) as error:
        raise _invalid_points(error) from None
    return blocks, latest


def _insert_sql(conn: Connection) -> str:
    """A plain driver-level INSERT: executemany of tuples skips SQLAlchemy's per-row parameter
    processing."""
    quote = conn.dialect.identifier_preparer.quote
    return (
        f"INSERT INTO {quote(metric_blocks.name)} "
        f"({', '.join(quote(c) for c in _BLOCK_COLUMNS)}) "
        f"VALUES ({', '.join(['?'] * len(_BLOCK_COLUMNS))})"
    )


def _copy_blocks(conn: Connection, blocks: list[_Block]) -> None:
    """PostgreSQL: ``COPY ... FROM STDIN (FORMAT BINARY)`` in the open transaction: one round
    trip however many blocks, and the packed arrays travel as they are."""
    quote = conn.dialect.identifier_preparer.quote
    sql = (
        f"COPY {quote(metric_blocks.name)} ({', '.join(quote(c) for c in _BLOCK_COLUMNS)}) "
        "FROM STDIN (FORMAT BINARY)"
    )
    driver_connection: Any = conn.connection.driver_connection
    with driver_connection.cursor() as cursor, cursor.copy(sql) as copy:
        copy.set_types(["text", "text", "int4", "bytea", "bytea", "bytea"])
        write_row = copy.write_row
        for block in blocks:
            write_row(block)


_UPSERTS: dict[str, Any] = {}
"""The latest-metrics upsert per dialect, built once: building it (``excluded`` column proxies,
coercions, a cache key) cost more than executing it, on every logged batch."""


def _latest_upsert(conn: Connection) -> Any:
    statement = _UPSERTS.get(conn.dialect.name)
    if statement is None:
        statement = _UPSERTS[conn.dialect.name] = _build_latest_upsert(conn)
    return statement


def _build_latest_upsert(conn: Connection) -> Any:
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
    blocks, latest = _rows(records)
    run_ids = {row["run_id"] for row in latest}

    def log(conn: Connection) -> None:
        require_runs(conn, run_ids)
        if conn.dialect.name == "postgresql":
            _copy_blocks(conn, blocks)
        else:
            conn.exec_driver_sql(_insert_sql(conn), blocks)
        # Sorted by (run, key), so concurrent batches lock latest_metrics rows in one order.
        conn.execute(_latest_upsert(conn), latest)

    db.write(log)


def get_metric_history(db: Database, run_id: str, key: str) -> list[Metric]:
    b = metric_blocks.c
    query = (
        sa.select(b.steps, b["values"], b.timestamps)
        .where(b.run_id == run_id, b.key == key)
        .order_by(b.seq)
    )

    def history(conn: Connection) -> list[Metric]:
        rows = conn.execute(query).all()
        if not rows:
            require_run(conn, run_id)
            return []
        steps = unpack("q", b"".join(row[0] for row in rows))
        values = unpack("d", b"".join(row[1] for row in rows))
        stamps = unpack("q", b"".join(row[2] for row in rows))
        # The position breaks (step, timestamp) ties in logging order and keeps sort from ever
        # comparing values (NaN). Already-ordered history, the usual case, sorts in one pass.
        points = sorted(zip(steps, stamps, count(), values, strict=False))
        return [Metric(key, value, step, stamp) for step, stamp, _, value in points]

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
