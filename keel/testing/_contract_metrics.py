"""Contract: metric points, history and the latest value per key."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keel.core.ids import new_id
from keel.errors import RunNotFound
from keel.testing._contract_base import ContractBase, new_experiment, new_run
from keel.testing._search_oracle import latest_points
from keel.tracking.models import Metric, MetricRecord
from keel.tracking.store import MetadataStore

_points = st.lists(
    st.tuples(
        st.sampled_from(["a", "b"]),
        st.sampled_from([0.0, -1.5, 2.0, math.inf, -math.inf, math.nan, 1e300]),
        st.integers(0, 3),
        st.integers(0, 3),
    ),
    min_size=1,
    max_size=12,
)


def _same(left: float, right: float) -> bool:
    return (math.isnan(left) and math.isnan(right)) or left == right


class MetricContract(ContractBase):
    def test_history_is_ordered_by_step_then_timestamp_then_insertion(
        self, store: MetadataStore
    ) -> None:
        run = new_run(store, new_experiment(store).experiment_id)
        r = run.run_id
        store.runs.log_metrics(
            [MetricRecord(r, "loss", 3.0, 2, 100), MetricRecord(r, "loss", 1.0, 0, 300),
             MetricRecord(r, "loss", 2.0, 1, 50), MetricRecord(r, "loss", 4.0, 1, 50),
             MetricRecord(r, "other", 9.0, 0, 1)]
        )
        store.runs.log_metrics([MetricRecord(r, "loss", 5.0, 1, 50),
                                MetricRecord(r, "loss", 0.5, 1, 10)])
        history = store.runs.get_metric_history(r, "loss")
        assert history == [
            Metric("loss", 1.0, 0, 300), Metric("loss", 0.5, 1, 10), Metric("loss", 2.0, 1, 50),
            Metric("loss", 4.0, 1, 50), Metric("loss", 5.0, 1, 50), Metric("loss", 3.0, 2, 100),
        ]

    def test_nan_and_infinities_round_trip(self, store: MetadataStore) -> None:
        run = new_run(store, new_experiment(store).experiment_id)
        r = run.run_id
        store.runs.log_metrics(
            [MetricRecord(r, "nan", math.nan, 0, 1), MetricRecord(r, "inf", math.inf, 0, 1),
             MetricRecord(r, "ninf", -math.inf, 0, 1), MetricRecord(r, "tiny", 5e-324, 0, 1),
             MetricRecord(r, "big", -1.7976931348623157e308, 0, 1)]
        )
        latest = store.runs.get_run(r).metric_values
        assert math.isnan(latest["nan"])
        assert latest["inf"] == math.inf and latest["ninf"] == -math.inf
        assert latest["tiny"] == 5e-324 and latest["big"] == -1.7976931348623157e308
        assert math.isnan(store.runs.get_metric_history(r, "nan")[0].value)
        assert store.runs.get_metric_history(r, "ninf")[0].value == -math.inf

    def test_a_higher_step_stays_latest_even_when_logged_earlier(
        self, store: MetadataStore
    ) -> None:
        run = new_run(store, new_experiment(store).experiment_id)
        r = run.run_id
        store.runs.log_metrics([MetricRecord(r, "acc", 0.9, 10, 100)])
        store.runs.log_metrics([MetricRecord(r, "acc", 0.1, 3, 999)])
        assert store.runs.get_run(r).metrics["acc"] == Metric("acc", 0.9, 10, 100)

    def test_on_the_same_step_the_later_timestamp_is_latest(self, store: MetadataStore) -> None:
        run = new_run(store, new_experiment(store).experiment_id)
        r = run.run_id
        store.runs.log_metrics([MetricRecord(r, "acc", 0.5, 1, 200),
                                MetricRecord(r, "acc", 0.7, 1, 100)])
        assert store.runs.get_run(r).metrics["acc"].value == 0.5
        store.runs.log_metrics([MetricRecord(r, "acc", 0.6, 1, 150)])
        assert store.runs.get_run(r).metrics["acc"].value == 0.5
        store.runs.log_metrics([MetricRecord(r, "acc", 0.8, 1, 300)])
        assert store.runs.get_run(r).metrics["acc"].value == 0.8

    def test_on_a_full_tie_the_later_logged_point_is_latest(self, store: MetadataStore) -> None:
        run = new_run(store, new_experiment(store).experiment_id)
        r = run.run_id
        store.runs.log_metrics([MetricRecord(r, "x", 1.0, 2, 5), MetricRecord(r, "x", 2.0, 2, 5)])
        assert store.runs.get_run(r).metrics["x"].value == 2.0
        store.runs.log_metrics([MetricRecord(r, "x", 3.0, 2, 5)])
        assert store.runs.get_run(r).metrics["x"].value == 3.0
        store.runs.log_metrics([MetricRecord(r, "x", math.nan, 2, 5)])
        assert math.isnan(store.runs.get_run(r).metrics["x"].value)

    def test_one_batch_can_span_several_runs(self, store: MetadataStore) -> None:
        exp = new_experiment(store)
        runs = [new_run(store, exp.experiment_id) for _ in range(3)]
        batch = [
            MetricRecord(run.run_id, f"k{k}", float(i * 10 + k), i, i)
            for i in range(50) for k in range(2) for run in runs
        ]
        store.runs.log_metrics(batch)
        for run in runs:
            got = store.runs.get_run(run.run_id).metrics
            assert got == {"k0": Metric("k0", 490.0, 49, 49), "k1": Metric("k1", 491.0, 49, 49)}
            assert len(store.runs.get_metric_history(run.run_id, "k1")) == 50

    def test_an_unknown_run_in_a_batch_writes_nothing(self, store: MetadataStore) -> None:
        run = new_run(store, new_experiment(store).experiment_id)
        with pytest.raises(RunNotFound):
            store.runs.log_metrics(
                [MetricRecord(run.run_id, "a", 1.0, 0, 0), MetricRecord(new_id(), "a", 1.0, 0, 0)]
            )
        assert store.runs.get_metric_history(run.run_id, "a") == []
        assert dict(store.runs.get_run(run.run_id).metrics) == {}
        assert store.runs.max_metric_steps(run.run_id) == {}

    def test_an_empty_batch_is_fine(self, store: MetadataStore) -> None:
        store.runs.log_metrics([])

    def test_large_batches_keep_every_point(self, store: MetadataStore) -> None:
        exp = new_experiment(store)
        runs = [new_run(store, exp.experiment_id) for _ in range(2)]
        batch = [MetricRecord(runs[i % 2].run_id, "loss", 1.0 / (i + 1), i // 2, i)
                 for i in range(20_000)]
        store.runs.log_metrics(batch)
        history = store.runs.get_metric_history(runs[1].run_id, "loss")
        assert len(history) == 10_000
        assert [m.step for m in history] == list(range(10_000))
        assert store.runs.get_run(runs[0].run_id).metrics["loss"] == Metric(
            "loss", 1.0 / 19_999, 9_999, 19_998
        )

    def test_steps_and_timestamps_take_64_bit_and_negative_values(
        self, store: MetadataStore
    ) -> None:
        run = new_run(store, new_experiment(store).experiment_id)
        r = run.run_id
        store.runs.log_metrics([MetricRecord(r, "m", 1.0, -5, -1),
                                MetricRecord(r, "m", 2.0, 2**62, 2**53)])
        assert store.runs.get_metric_history(r, "m") == [
            Metric("m", 1.0, -5, -1), Metric("m", 2.0, 2**62, 2**53)
        ]
        assert store.runs.max_metric_steps(r) == {"m": 2**62}

    def test_max_metric_steps_gives_the_highest_step_per_key(self, store: MetadataStore) -> None:
        run = new_run(store, new_experiment(store).experiment_id)
        r = run.run_id
        assert store.runs.max_metric_steps(r) == {}
        store.runs.log_metrics([MetricRecord(r, "a", 1.0, 7, 1), MetricRecord(r, "a", 1.0, 3, 9),
                                MetricRecord(r, "b", 1.0, 0, 1)])
        assert store.runs.max_metric_steps(r) == {"a": 7, "b": 0}

    def test_history_and_steps_of_an_unknown_run_raise_run_not_found(
        self, store: MetadataStore
    ) -> None:
        run = new_run(store, new_experiment(store).experiment_id)
        assert store.runs.get_metric_history(run.run_id, "never") == []
        with pytest.raises(RunNotFound):
            store.runs.get_metric_history(new_id(), "loss")
        with pytest.raises(RunNotFound):
            store.runs.max_metric_steps(new_id())

    @settings(
        max_examples=25,
        deadline=None,
        # Examples share the test's store (each builds its own run), and each backend's
        # subclass is a different executor of the same test on purpose.
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.differing_executors,
        ],
    )
    @given(batches=st.lists(_points, min_size=1, max_size=3))
    def test_latest_value_follows_step_then_timestamp_then_logging_order(
        self, store: MetadataStore, batches: list[list[tuple[str, float, int, int]]]
    ) -> None:
        run = new_run(store, new_experiment(store).experiment_id)
        for batch in batches:
            store.runs.log_metrics(
                [MetricRecord(run.run_id, key, value, step, ts) for key, value, step, ts in batch]
            )
        everything = [point for batch in batches for point in batch]
        expected = latest_points(everything)
        got = store.runs.get_run(run.run_id).metric_values
        assert set(got) == set(expected)
        for key, value in expected.items():
            assert _same(got[key], value), (key, got[key], value)
        for key in expected:
            ordered = sorted(
                (p for p in everything if p[0] == key), key=lambda p: (p[2], p[3])
            )  # sorted() is stable: ties keep logging order
            history = store.runs.get_metric_history(run.run_id, key)
            assert [(m.step, m.timestamp) for m in history] == [(p[2], p[3]) for p in ordered]
            assert all(_same(m.value, p[1]) for m, p in zip(history, ordered, strict=True))
