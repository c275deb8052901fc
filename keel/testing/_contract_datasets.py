"""Contract: the DatasetStore port."""

from __future__ import annotations

import dataclasses
import math
import threading

import pytest

from keel.core.ids import new_id
from keel.core.pagination import decode_page_token
from keel.errors import DatasetNotFound, RunNotFound
from keel.testing._contract_base import (
    ContractBase,
    description,
    new_experiment,
    new_run,
    unique_name,
)
from keel.tracking.models import DatasetColumn, DatasetVersion, RunInput
from keel.tracking.store import MetadataStore


def _create(
    store: MetadataStore, name: str, digest: str, created_at: int = 1_000
) -> tuple[DatasetVersion, bool]:
    return store.datasets.get_or_create_dataset_version(
        new_id(), name, description(digest), created_at
    )


class DatasetContract(ContractBase):
    def test_a_new_dataset_gets_version_1_with_everything_described(
        self, store: MetadataStore
    ) -> None:
        version_id = new_id()
        profile = {"x": {"mean": 1.5, "nan_share": math.nan, "hist": [1, 2, 3]}, "y": {}}
        described = description("sha-1", num_rows=2**40, profile=profile, source=None)
        version, created = store.datasets.get_or_create_dataset_version(
            version_id, "iris", described, 4_242
        )
        assert created is True
        assert (version.dataset_version_id, version.name, version.version) == (
            version_id, "iris", 1
        )
        assert (version.digest, version.num_rows, version.source, version.created_at) == (
            "sha-1", 2**40, None, 4_242
        )
        assert list(version.columns) == [
            DatasetColumn("x", "float64", False), DatasetColumn("label", "string", True)
        ]
        assert version.profile["x"]["mean"] == 1.5
        assert math.isnan(version.profile["x"]["nan_share"])
        assert list(version.profile["x"]["hist"]) == [1, 2, 3]
        got = store.datasets.get_dataset_version(version_id)
        assert dataclasses.replace(got, profile={}) == dataclasses.replace(version, profile={})
        assert _nan_free(got.profile) == _nan_free(version.profile)

    def test_the_same_digest_returns_the_existing_version(self, store: MetadataStore) -> None:
        first, _ = _create(store, "iris", "sha-1")
        again, created = store.datasets.get_or_create_dataset_version(
            new_id(), "iris", description("sha-1", num_rows=99), 9_999
        )
        assert created is False
        assert again == first

    def test_versions_are_numbered_per_name(self, store: MetadataStore) -> None:
        assert _create(store, "iris", "a")[0].version == 1
        assert _create(store, "iris", "b")[0].version == 2
        assert _create(store, "wine", "a")[0].version == 1
        assert _create(store, "iris", "a")[0].version == 1
        assert _create(store, "iris", "c")[0].version == 3

    def test_concurrent_callers_get_the_same_version(self, store: MetadataStore) -> None:
        name = unique_name("data")
        results: list[tuple[DatasetVersion, bool]] = []
        errors: list[BaseException] = []
        start = threading.Barrier(8)

        def work() -> None:
            try:
                start.wait()
                results.append(_create(store, name, "same-digest"))
            except BaseException as error:  # pragma: no cover - reported below
                errors.append(error)

        threads = [threading.Thread(target=work) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert len({version.dataset_version_id for version, _ in results}) == 1
        assert sum(created for _, created in results) == 1
        assert results[0][0].version == 1

    def test_get_unknown_dataset_version_raises_dataset_not_found(
        self, store: MetadataStore
    ) -> None:
        with pytest.raises(DatasetNotFound):
            store.datasets.get_dataset_version(new_id())

    def test_find_dataset_version_by_name_and_number(self, store: MetadataStore) -> None:
        _create(store, "iris", "a")
        second, _ = _create(store, "iris", "b")
        assert store.datasets.find_dataset_version("iris", 2) == second
        assert store.datasets.find_dataset_version("iris", 3) is None
        assert store.datasets.find_dataset_version("IRIS", 2) is None

    def test_list_dataset_versions_newest_first_and_by_name(self, store: MetadataStore) -> None:
        a1, _ = _create(store, "a", "1", created_at=10)
        b1, _ = _create(store, "b", "1", created_at=20)
        a2, _ = _create(store, "a", "2", created_at=30)
        everything = store.datasets.list_dataset_versions()
        assert [v.dataset_version_id for v in everything] == [
            a2.dataset_version_id, b1.dataset_version_id, a1.dataset_version_id
        ]
        only_a = store.datasets.list_dataset_versions(name="a")
        assert [v.version for v in only_a] == [2, 1]
        assert list(store.datasets.list_dataset_versions(name="zzz")) == []

    def test_list_dataset_versions_pages_cover_every_version_exactly_once(
        self, store: MetadataStore
    ) -> None:
        made = [_create(store, "d", str(i), created_at=i)[0].dataset_version_id
                for i in range(5)]
        seen: list[str] = []
        offset = 0
        while True:
            page = store.datasets.list_dataset_versions(max_results=2, offset=offset)
            seen.extend(v.dataset_version_id for v in page)
            if page.next_page_token is None:
                break
            offset = decode_page_token(page.next_page_token)
        assert seen == made[::-1]

    def test_logging_the_same_run_input_twice_is_a_no_op(self, store: MetadataStore) -> None:
        run = new_run(store, new_experiment(store).experiment_id)
        train, _ = _create(store, "iris", "a")
        test, _ = _create(store, "iris", "b")
        t, v = train.dataset_version_id, test.dataset_version_id
        store.datasets.log_run_inputs(run.run_id, [(t, "train"), (v, "test"), (t, "train")])
        store.datasets.log_run_inputs(run.run_id, [(t, "train"), (t, "validation")])
        got = store.datasets.list_run_inputs(run.run_id)
        assert sorted(got, key=lambda i: (i.context, i.dataset_version_id)) == got
        assert set(got) == {RunInput(run.run_id, t, "train"), RunInput(run.run_id, v, "test"),
                            RunInput(run.run_id, t, "validation")}

    def test_run_inputs_with_an_unknown_run_or_dataset_write_nothing(
        self, store: MetadataStore
    ) -> None:
        run = new_run(store, new_experiment(store).experiment_id)
        known, _ = _create(store, "iris", "a")
        with pytest.raises(DatasetNotFound):
            store.datasets.log_run_inputs(
                run.run_id, [(known.dataset_version_id, "train"), (new_id(), "test")]
            )
        assert store.datasets.list_run_inputs(run.run_id) == []
        with pytest.raises(RunNotFound):
            store.datasets.log_run_inputs(new_id(), [(known.dataset_version_id, "train")])
        assert store.datasets.list_dataset_runs(known.dataset_version_id) == []

    def test_list_dataset_runs_gives_every_run_that_used_a_version(
        self, store: MetadataStore
    ) -> None:
        exp = new_experiment(store)
        first, second = new_run(store, exp.experiment_id), new_run(store, exp.experiment_id)
        version, _ = _create(store, "iris", "a")
        other, _ = _create(store, "iris", "b")
        d = version.dataset_version_id
        store.datasets.log_run_inputs(first.run_id, [(d, "train"), (d, "test")])
        store.datasets.log_run_inputs(second.run_id, [(d, "train"),
                                                      (other.dataset_version_id, "x")])
        got = store.datasets.list_dataset_runs(d)
        assert set(got) == {RunInput(first.run_id, d, "train"), RunInput(first.run_id, d, "test"),
                            RunInput(second.run_id, d, "train")}
        assert len(got) == 3

    def test_listing_inputs_of_unknown_things_raises_not_found(
        self, store: MetadataStore
    ) -> None:
        with pytest.raises(RunNotFound):
            store.datasets.list_run_inputs(new_id())
        with pytest.raises(DatasetNotFound):
            store.datasets.list_dataset_runs(new_id())


def _nan_free(value: object) -> object:
    """NaN != NaN, so compare profiles with NaN replaced by a marker."""
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    if isinstance(value, dict):
        return {k: _nan_free(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_nan_free(v) for v in value]
    return value

    def test_inputs_of_many_runs_match_each_runs_own_list(self, store: MetadataStore) -> None:
        experiment_id = new_experiment(store).experiment_id
        runs = [new_run(store, experiment_id) for _ in range(3)]
        train, _ = _create(store, "iris", "a")
        test, _ = _create(store, "iris", "b")
        store.datasets.log_run_inputs(runs[0].run_id, [(train.dataset_version_id, "train"),
                                                       (test.dataset_version_id, "test")])
        store.datasets.log_run_inputs(runs[2].run_id, [(test.dataset_version_id, "eval")])
        ids = [r.run_id for r in runs] + [new_id()]
        found = store.datasets.list_inputs_of_runs(ids)
        assert found == {r.run_id: store.datasets.list_run_inputs(r.run_id)
                         for r in (runs[0], runs[2])}
        assert store.datasets.list_inputs_of_runs([]) == {}
