"""``runs.log_batch``: already-built points are checked before they are buffered."""

from __future__ import annotations

import math
from typing import Any

import pytest

from keel import Keel
from keel.core.ids import new_id
from keel.errors import InvalidArgument, RunNotFound
from keel.tracking.models import Metric, MetricRecord
from keel.tracking.runs import checked_records


def test_a_batch_of_floats_and_ints_is_passed_on_as_it_is() -> None:
    records = [MetricRecord("r", "loss", 0.5, 1, 2), MetricRecord("r", "acc", math.nan, -3, 0)]
    checked = checked_records(records)
    assert checked == records
    assert all(a is b for a, b in zip(checked, records, strict=True))


def test_numbers_of_other_types_are_converted() -> None:
    np = pytest.importorskip("numpy")
    checked = checked_records(
        [MetricRecord("r", "m", 3, np.int64(4), 5),
         MetricRecord("r", "m", np.float32(0.25), 1, np.int32(6))]
    )
    assert checked == [MetricRecord("r", "m", 3.0, 4, 5), MetricRecord("r", "m", 0.25, 1, 6)]
    assert [type(r.value) for r in checked] == [float, float]
    assert [(type(r.step), type(r.timestamp)) for r in checked] == [(int, int), (int, int)]


@pytest.mark.parametrize(
    ("record", "message"),
    [
        (MetricRecord("r", "", 1.0, 0, 0), "metric key"),
        (MetricRecord("r", "bad\nkey", 1.0, 0, 0), "metric key"),
        (MetricRecord("r", "m", "1.0", 0, 0), "must be a number"),  # type: ignore[arg-type]
        (MetricRecord("r", "m", True, 0, 0), "must be a number"),
        (MetricRecord("r", "m", 10**400, 0, 0), "does not fit a float"),
        (MetricRecord("r", "m", 1.0, 1.5, 0), "metric step"),  # type: ignore[arg-type]
        (MetricRecord("r", "m", 1.0, True, 0), "metric step"),
        (MetricRecord("r", "m", 1.0, 2**63, 0), "metric step"),
        (MetricRecord("r", "m", 1.0, 0, "now"), "metric timestamp"),  # type: ignore[arg-type]
        (MetricRecord("r", "m", 1.0, 0, -(2**63) - 1), "metric timestamp"),
    ],
)
def test_invalid_points_are_refused(record: MetricRecord, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        checked_records([MetricRecord("r", "fine", 1.0, 0, 0), record])


def test_log_batch_stores_every_point_of_several_runs(client: Keel) -> None:
    a = client.runs.create_run(name="a").run_id
    b = client.runs.create_run(name="b").run_id
    client.runs.log_batch(
        [MetricRecord(run_id, key, float(step), step, 7)
         for step in range(100) for run_id in (a, b) for key in ("x", "y")],
        synchronous=True,
    )
    for run_id in (a, b):
        assert client.runs.get_run(run_id).metrics["y"] == Metric("y", 99.0, 99, 7)
        assert [m.step for m in client.runs.get_metric_history(run_id, "x")] == list(range(100))


def test_log_batch_refuses_a_batch_with_an_invalid_point_or_an_unknown_run(
    client: Keel,
) -> None:
    run_id = client.runs.create_run(name="a").run_id
    half_step: Any = 0.5
    bad = [MetricRecord(run_id, "m", 1.0, 0, 0), MetricRecord(run_id, "m", 1.0, half_step, 0)]
    with pytest.raises(InvalidArgument):
        client.runs.log_batch(bad)
    with pytest.raises(RunNotFound):
        client.runs.log_batch([MetricRecord(run_id, "m", 1.0, 0, 0),
                               MetricRecord(new_id(), "m", 1.0, 0, 0)])
    client.runs.flush()
    assert client.runs.get_metric_history(run_id, "m") == []
