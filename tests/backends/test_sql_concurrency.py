"""Concurrent writers: 8 processes (and 8 threads) logging to one database lose nothing and
never see "database is locked"."""

from __future__ import annotations

import multiprocessing
import threading
from typing import Any

import pytest

from keel.backends.sql import open_sql_store
from keel.core.ids import new_id
from keel.testing._contract_base import description, new_experiment, new_run
from keel.tracking.models import MetricRecord, ViewType
from keel.tracking.store import MetadataStore

WORKERS = 8
RUNS = 3
PARAMS = 20
BATCHES = 25
POINTS_PER_RUN_AND_KEY = 40  # per batch, for each of the worker's runs and both keys


def _work(store: MetadataStore, experiment_id: str, worker: int) -> tuple[str, list[int]]:
    """One writer's share; returns the shared dataset version id and its own version numbers."""
    run_ids = []
    for index in range(RUNS):
        run_id = new_id()
        store.runs.create_run(run_id, experiment_id, f"w{worker}-r{index}", worker * 10 + index,
                              "file:///x", None, f"user{worker}", {"worker": str(worker)})
        half = PARAMS // 2
        store.runs.log_params(run_id, [(f"p{i}", str(i), "int") for i in range(half)])
        store.runs.log_params(run_id, [(f"p{i}", str(i), "int") for i in range(PARAMS)])
        run_ids.append(run_id)
    for batch in range(BATCHES):
        records = [
            MetricRecord(run_id, key, float(step), step, step)
            for run_id in run_ids
            for key in ("loss", "acc")
            for step in range(batch * POINTS_PER_RUN_AND_KEY, (batch + 1) * POINTS_PER_RUN_AND_KEY)
        ]
        store.runs.log_metrics(records)
        store.runs.set_tags(run_ids[batch % RUNS], {"batch": str(batch)})
    shared, _ = store.datasets.get_or_create_dataset_version(
        new_id(), "shared", description("same-digest"), 1
    )
    own, _ = store.datasets.get_or_create_dataset_version(
        new_id(), "numbered", description(f"digest-{worker}"), 1
    )
    for run_id in run_ids:
        store.datasets.log_run_inputs(run_id, [(shared.dataset_version_id, "train")])
    return shared.dataset_version_id, [own.version]


def _process_worker(url: str, experiment_id: str, worker: int, barrier: Any,
                    results: Any) -> None:
    try:
        store = open_sql_store(url)
        try:
            barrier.wait()
            results.put(("ok", _work(store, experiment_id, worker)))
        finally:
            store.close()
    except BaseException as error:  # reported to the parent
        results.put(("error", f"worker {worker}: {type(error).__name__}: {error}"))


def _check(store: MetadataStore, experiment_id: str, outcomes: list[tuple[str, Any]]) -> None:
    errors = [detail for status, detail in outcomes if status != "ok"]
    assert errors == []
    shared_ids = {detail[0] for _, detail in outcomes}
    assert len(shared_ids) == 1
    assert sorted(v for _, detail in outcomes for v in detail[1]) == list(range(1, WORKERS + 1))
    runs = store.runs.search_runs([experiment_id], None, [], view=ViewType.ALL,
                                  max_results=1000).items
    assert len(runs) == WORKERS * RUNS
    steps = BATCHES * POINTS_PER_RUN_AND_KEY
    for run in runs:
        assert len(run.params) == PARAMS
        assert run.metric_values == {"loss": steps - 1.0, "acc": steps - 1.0}
        assert "batch" in run.tags
        history = store.runs.get_metric_history(run.run_id, "acc")
        assert [m.step for m in history] == list(range(steps))
        assert store.datasets.list_run_inputs(run.run_id)[0].dataset_version_id in shared_ids
    assert len(store.datasets.list_dataset_runs(shared_ids.pop())) == WORKERS * RUNS


def _run_processes(url: str) -> None:
    with open_sql_store(url) as store:
        experiment_id = new_experiment(store).experiment_id
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(WORKERS)
    results = context.Queue()
    workers = [
        context.Process(target=_process_worker,
                        args=(url, experiment_id, worker, barrier, results))
        for worker in range(WORKERS)
    ]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=240) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
    results.close()
    results.join_thread()
    with open_sql_store(url) as store:
        _check(store, experiment_id, outcomes)


def _run_threads(url: str) -> None:
    with open_sql_store(url) as store:
        experiment_id = new_experiment(store).experiment_id
        barrier = threading.Barrier(WORKERS)
        outcomes: list[tuple[str, Any]] = []

        def work(worker: int) -> None:
            try:
                barrier.wait()
                outcomes.append(("ok", _work(store, experiment_id, worker)))
            except BaseException as error:  # reported below
                outcomes.append(("error", f"worker {worker}: {type(error).__name__}: {error}"))

        threads = [threading.Thread(target=work, args=(w,)) for w in range(WORKERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        _check(store, experiment_id, outcomes)


@pytest.mark.slow
def test_eight_processes_writing_to_one_sqlite_file_lose_nothing(sqlite_url: str) -> None:
    _run_processes(sqlite_url)


def test_eight_threads_sharing_one_sqlite_store_lose_nothing(sqlite_url: str) -> None:
    _run_threads(sqlite_url)


@pytest.mark.slow
@pytest.mark.postgres
def test_eight_processes_writing_to_one_postgres_schema_lose_nothing(postgres_url: str) -> None:
    _run_processes(postgres_url)


@pytest.mark.postgres
def test_eight_threads_sharing_one_postgres_store_lose_nothing(postgres_url: str) -> None:
    _run_threads(postgres_url)


def _overlapping_batches(url: str) -> None:
    """Every thread's batches touch every run, each thread in its own order."""
    with open_sql_store(url) as store:
        experiment = new_experiment(store)
        run_ids = [new_run(store, experiment.experiment_id).run_id for _ in range(4)]
        barrier = threading.Barrier(WORKERS)
        errors: list[str] = []

        def work(worker: int) -> None:
            order = run_ids[worker % 4:] + run_ids[: worker % 4]
            try:
                barrier.wait()
                for batch in range(20):
                    step = worker * 1_000 + batch
                    store.runs.log_metrics(
                        [MetricRecord(run_id, key, float(step), step, step)
                         for run_id in (order if batch % 2 else order[::-1])
                         for key in ("b", "a")]
                    )
            except BaseException as error:  # reported below
                errors.append(f"worker {worker}: {type(error).__name__}: {error}")

        threads = [threading.Thread(target=work, args=(w,)) for w in range(WORKERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        last = (WORKERS - 1) * 1_000 + 19
        for run_id in run_ids:
            assert store.runs.get_run(run_id).metric_values == {"a": last, "b": last}
            assert len(store.runs.get_metric_history(run_id, "a")) == WORKERS * 20


def test_threads_logging_to_the_same_runs_never_deadlock_on_sqlite(sqlite_url: str) -> None:
    _overlapping_batches(sqlite_url)


@pytest.mark.postgres
def test_threads_logging_to_the_same_runs_never_deadlock_on_postgres(postgres_url: str) -> None:
    _overlapping_batches(postgres_url)
