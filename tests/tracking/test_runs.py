from __future__ import annotations

import math

import pytest

import keel
from keel import Keel
from keel.errors import (
    InvalidArgument,
    InvalidFilter,
    ParamConflict,
    RunNotActive,
    RunNotFound,
)
from keel.tracking import RunStatus


def test_a_run_block_that_ends_normally_is_finished_with_times(fluent: Keel) -> None:
    with keel.start_run("exp", name="first") as run:
        keel.log_param("lr", 0.01)
    stored = keel.get_run(run.run_id)
    assert stored.status is RunStatus.FINISHED
    assert stored.name == "first"
    assert stored.end_time is not None and stored.end_time >= stored.start_time
    assert keel.active_run() is None


def test_an_exception_inside_the_block_marks_the_run_failed_with_the_error(
    fluent: Keel,
) -> None:
    with pytest.raises(ZeroDivisionError), keel.start_run("exp") as run:
        keel.log_metric("before", 1.0)
        _ = 1 / 0
    stored = keel.get_run(run.run_id)
    assert stored.status is RunStatus.FAILED
    assert stored.error is not None and "ZeroDivisionError" in stored.error
    assert stored.metrics["before"].value == 1.0  # buffered metric was not lost


def test_keyboard_interrupt_marks_the_run_killed(fluent: Keel) -> None:
    with pytest.raises(KeyboardInterrupt), keel.start_run("exp") as run:
        raise KeyboardInterrupt
    assert keel.get_run(run.run_id).status is RunStatus.KILLED


def test_a_run_without_a_name_gets_a_generated_one(fluent: Keel) -> None:
    with keel.start_run("exp") as run:
        pass
    parts = keel.get_run(run.run_id).name.split("-")
    assert len(parts) == 3 and parts[2].isdigit()


def test_runs_started_inside_a_run_are_its_children(fluent: Keel) -> None:
    with keel.start_run("exp") as parent:
        with keel.start_run(name="child") as child:
            assert keel.active_run() is child
        assert keel.active_run() is parent
        with keel.start_run(name="top", parent=None) as top:
            pass
    assert keel.get_run(child.run_id).parent_run_id == parent.run_id
    assert keel.get_run(child.run_id).experiment_id == parent.experiment_id
    assert keel.get_run(top.run_id).parent_run_id is None


def test_a_run_resumed_by_id_continues_its_metric_steps(fluent: Keel) -> None:
    with keel.start_run("exp") as run:
        keel.log_metric("loss", 1.0)
        keel.log_metric("loss", 0.5)
    with keel.start_run(run_id=run.run_id) as resumed:
        assert keel.get_run(run.run_id).status is RunStatus.RUNNING
        keel.log_metric("loss", 0.25)
    history = fluent.runs.get_metric_history(resumed.run_id, "loss")
    assert [(m.step, m.value) for m in history] == [(0, 1.0), (1, 0.5), (2, 0.25)]
    assert keel.get_run(run.run_id).status is RunStatus.FINISHED


def test_a_param_logged_again_with_another_value_is_a_conflict_naming_both(
    fluent: Keel,
) -> None:
    with keel.start_run("exp") as run:
        keel.log_param("lr", 0.01)
        keel.log_param("lr", 0.01)  # the same value again is fine
        with pytest.raises(ParamConflict) as info:
            keel.log_param("lr", 0.02)
    message = str(info.value)
    assert "lr" in message and "0.01" in message and "0.02" in message
    assert keel.get_run(run.run_id).params["lr"].value == 0.01


def test_params_remember_their_python_type(fluent: Keel) -> None:
    values = {"i": 3, "f": 0.1, "b": True, "s": "adam", "n": None, "big": "x" * 65536}
    with keel.start_run("exp") as run:
        keel.log_params(values)
    stored = keel.get_run(run.run_id)
    assert stored.param_values == values
    assert {k: p.type for k, p in stored.params.items()} == {
        "i": "int", "f": "float", "b": "bool", "s": "str", "n": "none", "big": "str"
    }


@pytest.mark.parametrize(
    ("key", "value"),
    [("huge", "x" * 10_000_000), ("obj", object()), ("ctl\x01", 1), ("", 1), (" pad", 1)],
)
def test_bad_params_are_refused_and_change_nothing(fluent: Keel, key: str, value: object) -> None:
    with keel.start_run("exp") as run:
        keel.log_param("kept", 1)
        with pytest.raises(InvalidArgument):
            keel.log_params({"ok": 1, key: value})
    assert keel.get_run(run.run_id).param_values == {"kept": 1}


def test_metric_history_keeps_every_point_and_nan_and_infinities(fluent: Keel) -> None:
    with keel.start_run("exp") as run:
        for v in [0.5, math.nan, math.inf, -math.inf, 0.25]:
            keel.log_metric("m", v)
        keel.log_metric("explicit", 3.0, step=10, timestamp=1234)
    history = fluent.runs.get_metric_history(run.run_id, "m")
    assert [m.step for m in history] == [0, 1, 2, 3, 4]
    got = [m.value for m in history]
    assert got[0] == 0.5 and math.isnan(got[1]) and got[2] == math.inf
    assert got[3] == -math.inf and got[4] == 0.25
    explicit = fluent.runs.get_metric_history(run.run_id, "explicit")
    assert [(m.step, m.timestamp, m.value) for m in explicit] == [(10, 1234, 3.0)]
    assert keel.get_run(run.run_id).metrics["m"].value == 0.25


@pytest.mark.parametrize("value", ["0.9", None, True, [1.0], {"a": 1}])
def test_non_numeric_metric_values_are_refused(fluent: Keel, value: object) -> None:
    with keel.start_run("exp") as run, pytest.raises(InvalidArgument, match="must be a number"):
        keel.log_metric("acc", value)
    assert keel.get_run(run.run_id).metrics == {}


def test_numpy_scalars_are_accepted_as_metrics_and_params(fluent: Keel) -> None:
    np = pytest.importorskip("numpy")
    with keel.start_run("exp") as run:
        keel.log_metric("acc", np.float32(0.5))
        keel.log_param("depth", np.int64(4))
    stored = keel.get_run(run.run_id)
    assert stored.metrics["acc"].value == 0.5
    assert stored.params["depth"].value == 4


def test_buffered_metrics_are_visible_after_flush(fluent: Keel) -> None:
    with keel.start_run("exp") as run:
        for i in range(2500):
            keel.log_metric("x", float(i))
        keel.flush()
        assert len(fluent.metadata.runs.get_metric_history(run.run_id, "x")) == 2500


def test_synchronous_metrics_are_stored_before_the_call_returns(fluent: Keel) -> None:
    with keel.start_run("exp") as run:
        keel.log_metric("x", 1.0, synchronous=True)
        assert len(fluent.metadata.runs.get_metric_history(run.run_id, "x")) == 1


def test_logging_to_an_unknown_run_raises_not_found(client: Keel) -> None:
    with pytest.raises(RunNotFound):
        client.runs.log_metric("0" * 32, "x", 1.0)
    with pytest.raises(RunNotFound):
        client.runs.log_param("0" * 32, "x", 1)


def test_a_deleted_run_refuses_new_data_until_restored(client: Keel) -> None:
    run = client.runs.create_run("exp")
    client.runs.delete_run(run.run_id)
    with pytest.raises(RunNotActive):
        client.runs.log_metric(run.run_id, "x", 1.0)
    client.runs.restore_run(run.run_id)
    client.runs.log_metric(run.run_id, "x", 1.0, synchronous=True)
    assert client.runs.get_run(run.run_id).metrics["x"].value == 1.0


def test_tags_are_mutable_and_notes_hold_markdown(fluent: Keel) -> None:
    with keel.start_run("exp", note="# Baseline\nfirst try") as run:
        keel.set_tag("team", "risk")
        keel.set_tag("team", "fraud")
        keel.set_tags({"a": 1})
    stored = keel.get_run(run.run_id)
    assert stored.tags["team"] == "fraud" and stored.tags["a"] == "1"
    assert stored.note == "# Baseline\nfirst try"
    fluent.runs.delete_tag(run.run_id, "a")
    assert "a" not in keel.get_run(run.run_id).tags


def test_every_run_records_its_environment(fluent: Keel) -> None:
    with keel.start_run("exp") as run:
        pass
    tags = keel.get_run(run.run_id).tags
    assert tags["keel.python.version"].count(".") == 2
    assert tags["keel.host"]
    assert "keel.source.entrypoint" in tags


def test_search_runs_filters_and_orders_in_the_database(fluent: Keel) -> None:
    for lr, acc in [(0.1, 0.8), (0.01, 0.95), (0.01, 0.91), (0.001, 0.97)]:
        with keel.start_run("search", tags={"team": "risk"}):
            keel.log_params({"lr": str(lr)})
            keel.log_metric("acc", acc)
    page = keel.search_runs(
        "search",
        filter="metrics.acc > 0.9 and params.lr = '0.01' and tags.team = 'risk' "
        "and status = 'FINISHED'",
        order_by=["metrics.acc DESC"],
    )
    assert [r.metrics["acc"].value for r in page] == [0.95, 0.91]
    frame = keel.search_runs("search", order_by=["metrics.acc ASC"], as_frame=True)
    assert list(frame["metrics.acc"]) == [0.8, 0.91, 0.95, 0.97]


def test_a_filter_that_does_not_parse_points_at_the_bad_token(fluent: Keel) -> None:
    with pytest.raises(InvalidFilter) as info:
        keel.search_runs(filter="metrics.acc nearly 0.9")
    assert "nearly" in str(info.value)


def test_compare_runs_shows_params_final_and_best_metrics(fluent: Keel) -> None:
    ids = []
    for lr, losses in [(0.1, [1.0, 0.4, 0.6]), (0.01, [1.0, 0.7, 0.5])]:
        with keel.start_run("cmp") as run:
            keel.log_params({"lr": lr, "optimizer": "adam"})
            for v in losses:
                keel.log_metric("val_loss", v)
            ids.append(run.run_id)
    comparison = keel.compare_runs(ids)
    rows = {(r.kind, r.key): r for r in comparison.rows}
    assert rows[("param", "lr")].values == (0.1, 0.01) and rows[("param", "lr")].differs
    assert not rows[("param", "optimizer")].differs
    assert rows[("metric.final", "val_loss")].values == (0.6, 0.5)
    assert rows[("metric.best (min)", "val_loss")].values == (0.4, 0.5)
    history = comparison.history_frame("val_loss")
    assert list(history.index) == [0, 1, 2]
    assert history.iloc[1].tolist() == [0.4, 0.7]
    assert comparison.to_frame().loc[("param", "lr"), "differs"]


def test_compare_runs_adds_no_best_row_for_single_point_metrics(fluent: Keel) -> None:
    ids = []
    for acc in (0.8, 0.9):
        with keel.start_run("cmp") as run:
            keel.log_metric("acc", acc)
            ids.append(run.run_id)
    kinds = [(r.kind, r.key) for r in keel.compare_runs(ids).rows]
    assert kinds == [("metric.final", "acc")]
