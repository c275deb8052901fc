"""Metric history stored in blocks: splitting, grouping, encoding and concurrent writers."""

from __future__ import annotations

import math
import multiprocessing
import random
import struct
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from keel.backends.sql import SqlMetadataStore, open_sql_store
from keel.backends.sql import _metrics as blocks
from keel.backends.sql._schema import metric_blocks
from keel.errors import InvalidArgument
from keel.testing._contract_base import new_experiment, new_run
from keel.tracking.models import Metric, MetricRecord


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest) -> Iterator[SqlMetadataStore]:
    url = request.getfixturevalue(f"{request.param}_url")
    opened = open_sql_store(url)
    yield opened
    opened.close()


def _engine(store: SqlMetadataStore) -> sa.Engine:
    return store.runs._db.engine


def _block_sizes(store: SqlMetadataStore, run_id: str, key: str) -> list[int]:
    b = metric_blocks.c
    query = sa.select(b.size).where(b.run_id == run_id, b.key == key).order_by(b.seq)
    with _engine(store).connect() as conn:
        return list(conn.execute(query).scalars())


def test_a_batch_writes_one_block_per_run_and_key(store: SqlMetadataStore) -> None:
    exp = new_experiment(store).experiment_id
    runs = [new_run(store, exp).run_id for _ in range(2)]
    store.runs.log_metrics(
        [MetricRecord(r, k, float(s), s, s) for s in range(100) for r in runs for k in "ab"]
    )
    for run_id in runs:
        assert _block_sizes(store, run_id, "a") == [100]
        assert _block_sizes(store, run_id, "b") == [100]


def test_long_series_are_split_into_blocks_and_read_back_whole(
    store: SqlMetadataStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(blocks, "BLOCK_POINTS", 7)
    run_id = new_run(store, new_experiment(store).experiment_id).run_id
    store.runs.log_metrics([MetricRecord(run_id, "loss", s / 3, s, 1000 + s) for s in range(30)])
    store.runs.log_metrics([MetricRecord(run_id, "loss", -1.0, 5, 0)])
    assert _block_sizes(store, run_id, "loss") == [7, 7, 7, 7, 2, 1]
    history = store.runs.get_metric_history(run_id, "loss")
    expected = [Metric("loss", s / 3, s, 1000 + s) for s in range(30)]
    expected.insert(5, Metric("loss", -1.0, 5, 0))  # same step, earlier timestamp
    assert history == expected
    assert store.runs.get_run(run_id).metrics["loss"] == Metric("loss", 29 / 3, 29, 1029)


def test_every_double_round_trips_bit_for_bit(store: SqlMetadataStore) -> None:
    run_id = new_run(store, new_experiment(store).experiment_id).run_id
    values = [-0.0, 0.0, 5e-324, -math.inf, math.inf, math.nan, 1.7976931348623157e308, 0.1]
    store.runs.log_metrics([MetricRecord(run_id, "v", v, i, i) for i, v in enumerate(values)])
    got = [m.value for m in store.runs.get_metric_history(run_id, "v")]
    assert [struct.pack("<d", v) for v in got] == [struct.pack("<d", v) for v in values]


@pytest.mark.parametrize(
    ("step", "timestamp", "value"),
    [(1.5, 0, 1.0), (2**63, 0, 1.0), (0, -(2**63) - 1, 1.0), (0, 0, "x"), (None, 0, 1.0)],
)
def test_points_that_do_not_fit_the_columns_are_invalid_and_write_nothing(
    store: SqlMetadataStore, step: Any, timestamp: Any, value: Any
) -> None:
    run_id = new_run(store, new_experiment(store).experiment_id).run_id
    with pytest.raises(InvalidArgument):
        store.runs.log_metrics(
            [MetricRecord(run_id, "ok", 1.0, 0, 0), MetricRecord(run_id, "bad", value, step,
                                                                 timestamp)]
        )
    assert store.runs.get_metric_history(run_id, "ok") == []
    assert dict(store.runs.get_run(run_id).metrics) == {}


def test_ints_and_numpy_scalars_are_stored_as_floats_and_ints(store: SqlMetadataStore) -> None:
    np = pytest.importorskip("numpy")
    run_id = new_run(store, new_experiment(store).experiment_id).run_id
    store.runs.log_metrics([MetricRecord(run_id, "m", 3, 0, 0),
                            MetricRecord(run_id, "m", np.float32(0.5), np.int64(1), np.int64(2))])
    history = store.runs.get_metric_history(run_id, "m")
    assert history == [Metric("m", 3.0, 0, 0), Metric("m", 0.5, 1, 2)]
    assert all(type(m.value) is float and type(m.step) is int for m in history)
    latest = store.runs.get_run(run_id).metrics["m"]
    assert latest == Metric("m", 0.5, 1, 2) and type(latest.step) is int


# -- grouping: the strided fast path and the general path agree --------------------------------

_batches = st.lists(
    st.tuples(st.sampled_from(["r1", "r2"]), st.sampled_from(["a", "b", "c"]),
              st.integers(0, 4), st.integers(0, 3)),
    min_size=1,
    max_size=40,
)


def _expected_rows(records: list[MetricRecord]) -> tuple[list[Any], list[Any]]:
    series: dict[tuple[str, str], list[MetricRecord]] = {}
    for record in records:
        series.setdefault((record.run_id, record.key), []).append(record)
    out_blocks, latest = [], []
    for (run_id, key), points in sorted(series.items()):
        out_blocks.append((run_id, key, len(points), [p.step for p in points],
                           [p.value for p in points], [p.timestamp for p in points]))
        best = points[0]
        for p in points[1:]:
            if (p.step, p.timestamp) >= (best.step, best.timestamp):
                best = p
        latest.append((run_id, key, best.value, best.step, best.timestamp))
    return out_blocks, latest


def _actual_rows(records: list[MetricRecord]) -> tuple[list[Any], list[Any]]:
    got_blocks, got_latest = blocks._rows(records)
    return (
        [(r, k, n, list(blocks.unpack("q", s)), list(blocks.unpack("d", v)),
          list(blocks.unpack("q", t))) for r, k, n, s, v, t in got_blocks],
        [(row["run_id"], row["key"], row["value"], row["step"], row["timestamp"])
         for row in got_latest],
    )


@settings(max_examples=200, deadline=None)
@given(points=_batches, cycles=st.integers(1, 5))
def test_grouping_matches_a_plain_group_by(
    points: list[tuple[str, str, int, int]], cycles: int
) -> None:
    # Any batch, and the same batch repeated (a cycle: the strided path when it has one run).
    for batch in (points, points * cycles):
        records = [MetricRecord(r, k, float(i), s, t) for i, (r, k, s, t) in enumerate(batch)]
        assert _actual_rows(records) == _expected_rows(records)


@pytest.mark.parametrize(
    "keys",
    [
        ["a"] * 5,  # log_metric of one key
        ["a", "b", "c"] * 4,  # log_metrics of the same dict every step
        ["a", "b", "c"] * 4 + ["a"],  # a cycle cut short
        ["a", "b", "a", "b", "c"],  # no cycle
        ["a", "b", "b", "a"],  # no cycle
        ["b", "a"] * 3 + ["a", "b"],  # the order changes
    ],
)
def test_grouping_of_typical_batches(keys: list[str]) -> None:
    records = [MetricRecord("r", key, float(i), i // 3, 0) for i, key in enumerate(keys)]
    assert _actual_rows(records) == _expected_rows(records)


# -- storage options ---------------------------------------------------------------------------


def test_sqlite_keeps_keyed_tables_clustered_on_their_key(sqlite_url: str) -> None:
    open_sql_store(sqlite_url).close()
    engine = sa.create_engine(sqlite_url)
    try:
        with engine.connect() as conn:
            rows = conn.exec_driver_sql("SELECT name, sql FROM sqlite_master").all()
    finally:
        engine.dispose()
    ddl: dict[str, str] = {name: sql for name, sql in rows if sql}
    for table in ("params", "tags", "latest_metrics"):
        assert ddl[table].rstrip().endswith("WITHOUT ROWID"), table
    assert "WITHOUT ROWID" not in ddl["metric_blocks"]


@pytest.mark.postgres
def test_postgres_stores_the_packed_arrays_uncompressed(postgres_url: str) -> None:
    store = open_sql_store(postgres_url)
    try:
        with _engine(store).connect() as conn:
            storage: dict[str, str] = dict(conn.exec_driver_sql(
                "SELECT attname, attstorage FROM pg_attribute "
                "WHERE attrelid = 'metric_blocks'::regclass AND attnum > 0"
            ).all())
    finally:
        store.close()
    assert {c: storage[c] for c in ("steps", "values", "timestamps")} == dict.fromkeys(
        ("steps", "values", "timestamps"), "e"
    )


# -- concurrent writers of the same run and key ------------------------------------------------

WRITERS = 6
BATCHES = 15
POINTS = 50


def _write_same_series(url: str, run_id: str, writer: int, barrier: Any, results: Any) -> None:
    try:
        store = open_sql_store(url)
        try:
            barrier.wait()
            for batch in range(BATCHES):
                first = (batch * WRITERS + writer) * POINTS
                store.runs.log_metrics(
                    [MetricRecord(run_id, key, float(step), step, writer)
                     for step in range(first, first + POINTS) for key in ("loss", "acc")]
                )
        finally:
            store.close()
        results.put(("ok", writer))
    except BaseException as error:  # reported to the parent
        results.put(("error", f"writer {writer}: {type(error).__name__}: {error}"))


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_processes_appending_to_the_same_series_at_once_lose_nothing(
    kind: str, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue(f"{kind}_url")
    with open_sql_store(url) as store:
        run_id = new_run(store, new_experiment(store).experiment_id).run_id
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(WRITERS)
    results = context.Queue()
    workers = [
        context.Process(target=_write_same_series, args=(url, run_id, w, barrier, results))
        for w in range(WRITERS)
    ]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=240) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
    results.close()
    results.join_thread()
    assert sorted(outcomes) == [("ok", w) for w in range(WRITERS)]
    total = WRITERS * BATCHES * POINTS
    with open_sql_store(url) as store:
        for key in ("loss", "acc"):
            history = store.runs.get_metric_history(run_id, key)
            assert [m.step for m in history] == list(range(total))
            assert all(m.value == m.step for m in history)
            assert len(_block_sizes(store, run_id, key)) == WRITERS * BATCHES
        last_writer = ((total - 1) // POINTS) % WRITERS
        assert store.runs.get_run(run_id).metrics["acc"] == Metric(
            "acc", total - 1.0, total - 1, last_writer
        )
        assert store.runs.max_metric_steps(run_id) == {"loss": total - 1, "acc": total - 1}


def test_threads_appending_to_the_same_series_keep_each_batch_in_order(sqlite_url: str) -> None:
    """Points of one batch stay together in logging order even when batches interleave."""
    with open_sql_store(sqlite_url) as store:
        run_id = new_run(store, new_experiment(store).experiment_id).run_id
        rng = random.Random(7)
        batches = [[MetricRecord(run_id, "m", float(w * 100 + i), 0, 0) for i in range(100)]
                   for w in range(8)]
        rng.shuffle(batches)
        threads = [threading.Thread(target=store.runs.log_metrics, args=(b,)) for b in batches]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        values = [m.value for m in store.runs.get_metric_history(run_id, "m")]
        # All on step 0, timestamp 0: insertion order decides, and each batch is contiguous.
        chunks = [values[i : i + 100] for i in range(0, 800, 100)]
        assert sorted(chunk[0] for chunk in chunks) == [w * 100.0 for w in range(8)]
        assert all(chunk == [chunk[0] + i for i in range(100)] for chunk in chunks)
