"""Search fast paths: filters on the key the ORDER BY joins, the statement cache, shared params
and run construction."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator

import pytest

from keel.backends.sql import SqlMetadataStore, _common, _search, open_sql_store
from keel.testing._contract_base import new_experiment, new_run
from keel.tracking._filter_parser import parse_filter, parse_order_by
from keel.tracking.models import (
    LifecycleStage,
    Metric,
    MetricRecord,
    Param,
    Run,
    RunStatus,
    ViewType,
)
from keel.tracking.query import Comparison, Entity, Literal


@pytest.fixture
def store(sqlite_url: str) -> Iterator[SqlMetadataStore]:
    opened = open_sql_store(sqlite_url)
    yield opened
    opened.close()


def _names(store: SqlMetadataStore, experiment_id: str, text: str) -> list[str]:
    page = store.runs.search_runs(
        [experiment_id], parse_filter(text), parse_order_by(["run_name"]), ViewType.ALL
    )
    return [run.name for run in page.items]


def test_runs_built_for_a_page_are_ordinary_frozen_runs() -> None:
    fields = {
        "run_id": "r", "experiment_id": "e", "name": "n", "status": RunStatus.FINISHED,
        "start_time": 1, "end_time": 2, "lifecycle_stage": LifecycleStage.ACTIVE,
        "artifact_location": "file:///a", "parent_run_id": None, "user": "u", "error": None,
        "note": "x", "params": {"p": Param("p", "1", "int")},
        "metrics": {"m": Metric("m", 0.5, 1, 2)}, "tags": {"t": "v"},
    }
    assert _common._make_run is not Run  # the fast path applies to the Run of today
    built = _common._make_run(**fields)
    reference = Run(**fields)  # type: ignore[arg-type]
    assert type(built) is Run
    assert built == reference
    assert repr(built) == repr(reference)
    assert dataclasses.asdict(built) == dataclasses.asdict(reference)
    with pytest.raises(dataclasses.FrozenInstanceError):
        built.name = "other"  # type: ignore[misc]


def test_equal_params_of_a_page_are_shared_and_equal(store: SqlMetadataStore) -> None:
    exp = new_experiment(store).experiment_id
    for _ in range(3):
        run_id = new_run(store, exp).run_id
        store.runs.log_params(run_id, [("depth", "4", "int"), ("lr", "0.1", "float")])
        store.runs.log_metrics([MetricRecord(run_id, "acc", 0.5, 0, 0)])
    runs = store.runs.search_runs([exp], None, []).items
    assert len({id(run.params["depth"]) for run in runs}) == 1
    assert all(run.params == {"depth": Param("depth", "4", "int"),
                              "lr": Param("lr", "0.1", "float")} for run in runs)
    assert all(run.metrics == {"acc": Metric("acc", 0.5, 0, 0)} for run in runs)


def test_cached_statements_tell_literals_of_different_types_apart(
    store: SqlMetadataStore,
) -> None:
    exp = new_experiment(store).experiment_id
    one = new_run(store, exp, name="one")
    other = new_run(store, exp, name="other")
    store.runs.set_tags(one.run_id, {"x": "1"})
    store.runs.set_tags(other.run_id, {"x": "1.0"})

    def names(value: Literal) -> list[str]:
        # 1 == 1.0 (same hash), yet they compare with tags as different text.
        tree = Comparison(Entity.TAG, "x", "IN" if isinstance(value, tuple) else "=", value)
        page = store.runs.search_runs([exp], tree, parse_order_by(["run_name"]))
        return [run.name for run in page.items]

    for _ in range(2):  # the second round comes from the cache
        assert names(1) == ["one"]
        assert names(1.0) == ["other"]
        assert names("1") == ["one"]
        assert names((1.0,)) == ["other"]
        assert names((1,)) == ["one"]


@pytest.mark.parametrize(
    "text",
    [
        "metrics.m > 0.5", "NOT metrics.m > 0.5", "metrics.m IS NULL", "metrics.m IS NOT NULL",
        "NOT metrics.m IN (0, 1)", "metrics.m != 0 OR params.p = 'a'", "NOT metrics.m = 0",
        "params.p = 'a'", "NOT params.p = 'a'", "params.p > 0", "NOT params.p > 0",
        "params.p IS NULL", "NOT params.p LIKE 'a%'", "tags.t = 'x'", "NOT tags.t != 'x'",
        "tags.t IS NOT NULL AND NOT metrics.m < 1",
    ],
)
def test_filters_on_the_ordered_key_match_the_same_runs(
    store: SqlMetadataStore, text: str
) -> None:
    """A comparison on the key the ORDER BY joins reads the joined row instead of an EXISTS;
    missing keys, NaN and NOT must come out the same."""
    exp = new_experiment(store).experiment_id
    specs: list[tuple[str, float | None, tuple[str, str] | None, str | None]] = [
        ("none", None, None, None), ("nan", math.nan, ("nan", "float"), "x"),
        ("zero", 0.0, ("0", "int"), "y"), ("one", 1.0, ("a", "str"), "x"),
        ("inf", math.inf, ("inf", "float"), ""),
    ]
    for name, value, param, tag in specs:
        run_id = new_run(store, exp, name=name).run_id
        if value is not None:
            store.runs.log_metrics([MetricRecord(run_id, "m", value, 0, 0)])
        if param is not None:
            store.runs.log_params(run_id, [("p", *param)])
        if tag is not None:
            store.runs.set_tags(run_id, {"t": tag})
    tree = parse_filter(text)

    def names(order: list[str]) -> set[str]:
        page = store.runs.search_runs([exp], tree, parse_order_by(order))
        return {run.name for run in page.items}

    unordered = names(["run_name"])
    for order in (["metrics.m"], ["metrics.m DESC"], ["params.p"], ["tags.t DESC"],
                  ["metrics.m", "params.p", "tags.t"]):
        assert names(order) == unordered, order


def test_the_statement_cache_is_bounded(store: SqlMetadataStore) -> None:
    exp = new_experiment(store).experiment_id
    for i in range(_search._STATEMENT_CACHE_SIZE + 20):
        _names(store, exp, f"metrics.m > {i}")
    assert len(_search._statements) == _search._STATEMENT_CACHE_SIZE
