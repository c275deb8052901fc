"""Two processes moving the same alias at once, on SQLite and PostgreSQL.

Each worker opens its own store, warms its connection, reports "ready" through a pipe and waits
for "go"; the parent sends "go" to both once both are ready (a barrier without sleeps).
"""

from __future__ import annotations

import itertools
import multiprocessing
from multiprocessing.connection import Connection
from typing import Any

import pytest

from keel.backends.sql import open_sql_store
from keel.errors import Conflict
from keel.registry.models import AuditContext, EventType
from keel.testing._registry_contract_base import new_model, new_version

ALIAS = "champion"


def _worker(url: str, name: str, version: int, moves: int, expected: int | None,
            pipe: Connection) -> None:
    """Move the alias to ``version`` ``moves`` times (compare-and-set from ``expected`` when
    given); send back ("ok", outcomes) or ("error", text)."""
    try:
        with open_sql_store(url) as store:
            versions = store.registry.versions
            versions.get_model_version(name, version)  # connect before the start line
            pipe.send("ready")
            if pipe.recv() != "go":
                raise RuntimeError("expected 'go'")
            outcomes = []
            for index in range(moves):
                context = AuditContext(f"proc-{version}", f"move {index}")
                try:
                    versions.set_alias(name, ALIAS, version, context, expected_version=expected)
                    outcomes.append("ok")
                except Conflict:
                    outcomes.append("conflict")
            pipe.send(("ok", outcomes))
    except BaseException as error:  # reported to the parent
        pipe.send(("error", f"{type(error).__name__}: {error}"))


def _race(url: str, name: str, moves: int, expected: int | None) -> dict[int, list[str]]:
    context = multiprocessing.get_context("spawn")
    pipes, workers = [], []
    for version in (2, 3):
        parent, child = context.Pipe()
        worker = context.Process(target=_worker,
                                 args=(url, name, version, moves, expected, child))
        worker.start()
        pipes.append(parent)
        workers.append(worker)
    try:
        for pipe in pipes:
            assert pipe.poll(120), "a worker did not get ready"
            ready = pipe.recv()
            assert ready == "ready", ready
        for pipe in pipes:
            pipe.send("go")
        results: dict[int, list[str]] = {}
        for version, pipe in zip((2, 3), pipes, strict=True):
            assert pipe.poll(240), "a worker did not finish"
            status, detail = pipe.recv()
            assert status == "ok", detail
            results[version] = detail
        return results
    finally:
        for worker in workers:
            worker.join(timeout=60)


def _setup(url: str) -> tuple[str, int]:
    with open_sql_store(url) as store:
        name = new_model(store.registry).name
        for _ in range(3):
            new_version(store.registry, name)
        store.registry.versions.set_alias(name, ALIAS, 1, AuditContext("setup"))
        return name, store.registry.audit.get_chain_head().seq


def _check_history(url: str, name: str, head: int, successes: int) -> Any:
    with open_sql_store(url) as store:
        registry = store.registry
        history = registry.versions.list_alias_history(name, ALIAS)
        assert len(history) == 1 + successes
        for previous, move in itertools.pairwise(history):
            assert move.from_version == previous.to_version  # one writer at a time
        final = registry.versions.get_version_by_alias(name, ALIAS).version
        assert final == history[-1].to_version
        records = registry.audit.list_audit_records(after_seq=head)
        assert [r.action for r in records] == [EventType.ALIAS_SET] * successes
        for record, move in zip(records, history[1:], strict=True):
            assert record.before == {"alias": ALIAS, "version": move.from_version}
            assert record.after == {"alias": ALIAS, "version": move.to_version}
            assert record.actor == f"proc-{move.to_version}"
        events = [e for e in registry.audit.list_events(limit=10_000) if e.audit_seq > head]
        assert [e.type for e in events] == [EventType.ALIAS_SET] * successes
        report = registry.audit.verify_audit_chain()
        assert report.ok, report.message
        return final


@pytest.mark.slow
def test_two_processes_moving_one_alias_both_win_in_turn(any_url: str) -> None:
    name, head = _setup(any_url)
    results = _race(any_url, name, moves=1, expected=None)
    assert results == {2: ["ok"], 3: ["ok"]}
    assert _check_history(any_url, name, head, successes=2) in (2, 3)


@pytest.mark.slow
def test_two_processes_compare_and_set_one_alias_exactly_one_wins(any_url: str) -> None:
    name, head = _setup(any_url)
    results = _race(any_url, name, moves=1, expected=1)
    assert sorted(results[2] + results[3]) == ["conflict", "ok"]
    winner = 2 if results[2] == ["ok"] else 3
    assert _check_history(any_url, name, head, successes=1) == winner


@pytest.mark.slow
def test_two_processes_moving_one_alias_many_times_keep_one_consistent_history(
    any_url: str,
) -> None:
    name, head = _setup(any_url)
    results = _race(any_url, name, moves=25, expected=None)
    assert results == {2: ["ok"] * 25, 3: ["ok"] * 25}
    assert _check_history(any_url, name, head, successes=50) in (2, 3)
