"""Runs: their lifecycle, params, metrics, tags, notes and search."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from functools import partial
from itertools import repeat
from operator import index, itemgetter
from typing import Any

from keel.core import Page, decode_page_token, encode_value, new_id, now_ms
from keel.core.naming import validate_key, validate_name
from keel.errors import InvalidArgument, RunNotActive, RunNotFound
from keel.tracking._metric_buffer import MetricBuffer
from keel.tracking._names import generate_run_name
from keel.tracking.experiments import DEFAULT_EXPERIMENT, ExperimentService, validate_tags
from keel.tracking.models import (
    Experiment,
    LifecycleStage,
    Metric,
    MetricRecord,
    Run,
    RunStatus,
    ViewType,
)
from keel.tracking.query import DEFAULT_ORDER
from keel.tracking.store import RunStore

MAX_ERROR_CHARS = 64 * 1024
MAX_RESULTS_LIMIT = 50_000


def to_metric_value(key: str, value: object) -> float:
    """A metric value as float; bools, strings and other objects are refused."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        item = getattr(value, "item", None)  # numpy scalars
        converted = item() if callable(item) else None
        if isinstance(converted, (int, float)) and not isinstance(converted, bool):
            return float(converted)
        raise InvalidArgument(
            f"metric {key!r} must be a number, got {type(value).__name__} {value!r:.80}",
            details={"key": key, "type": type(value).__name__},
        )
    try:
        return float(value)
    except OverflowError:
        raise InvalidArgument(f"metric {key!r} value {value} does not fit a float") from None


class RunService:
    def __init__(
        self,
        store: RunStore,
        experiments: ExperimentService,
        buffer: MetricBuffer,
        *,
        default_user: str | None = None,
    ) -> None:
        self._store = store
        self._experiments = experiments
        self._buffer = buffer
        self._default_user = default_user
        # Runs known to exist and not be deleted, so log_metric needs no round trip.
        self._live_runs: set[str] = set()
        self._next_steps: dict[str, dict[str, int]] = {}
        self._lock = threading.Lock()

    # -- lifecycle ------------------------------------------------------------------------

    def create_run(
        self,
        experiment: str | Experiment | None = None,
        *,
        name: str | None = None,
        parent_run_id: str | None = None,
        tags: Mapping[str, object] | None = None,
        user: str | None = None,
        start_time: int | None = None,
    ) -> Run:
        exp = (
            self._experiments.get_or_create_experiment(DEFAULT_EXPERIMENT)
            if experiment is None
            else self._experiments.resolve_or_create(experiment)
        )
        if exp.lifecycle_stage is LifecycleStage.DELETED:
            raise InvalidArgument(f"experiment {exp.name!r} is deleted; restore it first")
        run_name = validate_name(name, "run name") if name is not None else generate_run_name()
        run_id = new_id()
        run = self._store.create_run(
            run_id,
            exp.experiment_id,
            run_name,
            start_time if start_time is not None else now_ms(),
            f"{exp.artifact_location}/{run_id}/artifacts",
            parent_run_id,
            user if user is not None else self._default_user,
            validate_tags(tags),
        )
        with self._lock:
            self._live_runs.add(run_id)
            self._next_steps[run_id] = {}
        return run

    def resolve_run_id(self, ref: str) -> str:
        """A full run id from a full id or a unique prefix of at least 6 hex characters (what
        the CLI shows); deleted runs count too. Ambiguous prefixes are an InvalidArgument."""
        ref = ref.strip().lower()
        if len(ref) == 32:
            return ref
        if len(ref) < 6 or any(c not in "0123456789abcdef" for c in ref):
            raise InvalidArgument(
                f"{ref!r} is not a run id or a prefix of one (at least 6 hex characters)"
            )
        matches = self.search_runs(
            None, f"run_id LIKE '{ref}%'", view=ViewType.ALL, max_results=2
        ).items
        if not matches:
            raise RunNotFound(f"no run id starts with {ref!r}", details={"run_id": ref})
        if len(matches) > 1:
            raise InvalidArgument(
                f"run id prefix {ref!r} is ambiguous: it matches {matches[0].run_id} and "
                f"{matches[1].run_id}; give more characters"
            )
        return matches[0].run_id

    def get_run(self, run_id: str) -> Run:
        self._buffer.flush()
        return self._store.get_run(run_id)

    def resume_run(self, run_id: str) -> Run:
        """Mark a run RUNNING again so more can be logged to it; steps continue from the
        highest logged per key."""
        run = self._store.get_run(run_id)
        self._require_active(run)
        if run.status is not RunStatus.RUNNING:
            run = self._store.update_run(run_id, status=RunStatus.RUNNING)
        with self._lock:
            self._live_runs.add(run_id)
            self._next_steps.pop(run_id, None)
        return run

    def end_run(
        self, run_id: str, status: RunStatus | str = RunStatus.FINISHED, *, error: str | None = None
    ) -> Run:
        """Flush buffered metrics, then record the final status and end time."""
        final = RunStatus(status)
        if final is RunStatus.RUNNING:
            raise InvalidArgument("end_run needs a terminal status: FINISHED, FAILED or KILLED")
        self._buffer.flush()
        if error is not None and len(error) > MAX_ERROR_CHARS:
            error = error[:MAX_ERROR_CHARS] + "\n… (truncated)"
        return self._store.update_run(run_id, status=final, end_time=now_ms(), error=error)

    def rename_run(self, run_id: str, name: str) -> Run:
        return self._store.update_run(run_id, name=validate_name(name, "run name"))

    def set_note(self, run_id: str, markdown: str) -> Run:
        """The run's description, in Markdown."""
        if not isinstance(markdown, str):
            raise InvalidArgument("a note must be a string of Markdown")
        if len(markdown.encode()) > MAX_ERROR_CHARS * 4:
            raise InvalidArgument("a note holds at most 256 KiB; log longer text as an artifact")
        return self._store.update_run(run_id, note=markdown)

    def delete_run(self, run_id: str) -> Run:
        self._buffer.flush()
        with self._lock:
            self._live_runs.discard(run_id)
        return self._store.set_run_stage(run_id, LifecycleStage.DELETED)

    def restore_run(self, run_id: str) -> Run:
        return self._store.set_run_stage(run_id, LifecycleStage.ACTIVE)

    # -- params, tags ---------------------------------------------------------------------

    def log_param(self, run_id: str, key: str, value: object) -> None:
        self.log_params(run_id, {key: value})

    def log_params(self, run_id: str, params: Mapping[str, object]) -> None:
        """Params are immutable: the same value again is fine, another value is a Conflict."""
        encoded = []
        for key, value in params.items():
            validate_key(key, "param key")
            text, kind = encode_value(value, f"param {key!r}")
            encoded.append((key, text, kind))
        self._ensure_writable(run_id)
        self._store.log_params(run_id, encoded)

    def set_tag(self, run_id: str, key: str, value: object) -> None:
        self.set_tags(run_id, {key: value})

    def set_tags(self, run_id: str, tags: Mapping[str, object]) -> None:
        checked = validate_tags(tags)
        self._ensure_writable(run_id)
        self._store.set_tags(run_id, checked)

    def delete_tag(self, run_id: str, key: str) -> None:
        self._store.delete_tag(run_id, key)

    # -- metrics --------------------------------------------------------------------------

    def log_metric(
        self,
        run_id: str,
        key: str,
        value: object,
        step: int | None = None,
        timestamp: int | None = None,
        *,
        synchronous: bool = False,
    ) -> None:
        number = to_metric_value(key, value)
        if run_id not in self._live_runs:
            self._ensure_writable(run_id)
        record = MetricRecord(
            run_id,
            validate_key(key, "metric key"),
            number,
            self._step(run_id, key, step),
            now_ms() if timestamp is None else _check_timestamp(timestamp),
        )
        self._buffer.add(record)
        if synchronous:
            self._buffer.flush()

    def log_metrics(
        self,
        run_id: str,
        metrics: Mapping[str, object],
        step: int | None = None,
        timestamp: int | None = None,
        *,
        synchronous: bool = False,
    ) -> None:
        if run_id not in self._live_runs:
            self._ensure_writable(run_id)
        ts = now_ms() if timestamp is None else _check_timestamp(timestamp)
        keys = list(metrics)
        for key in keys:
            validate_key(key, "metric key")
        values = list(metrics.values())
        if set(map(type, values)) != {float}:
            values = [to_metric_value(k, v) for k, v in zip(keys, values, strict=True)]
        steps = self._steps(run_id, keys, step)
        # The records are built by zip and map, without a Python call per point.
        self._buffer.add_many(
            list(map(_new_record, zip(repeat(run_id), keys, values, steps, repeat(ts))))
        )
        if synchronous:
            self._buffer.flush()

    def log_batch(self, records: Sequence[MetricRecord], *, synchronous: bool = False) -> None:
        """Already-built points for any runs (used by importers and the HTTP API). Values are
        stored as floats; steps and timestamps must be 64-bit ints."""
        batch = checked_records(records)
        for run_id in set(map(itemgetter(0), batch)):
            if run_id not in self._live_runs:
                self._ensure_writable(run_id)
        self._buffer.add_many(batch)
        if synchronous:
            self._buffer.flush()

    def flush(self) -> None:
        self._buffer.flush()

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        self._buffer.flush()
        return self._store.get_metric_history(run_id, key)

    # -- search ---------------------------------------------------------------------------

    def search_runs(
        self,
        experiments: Sequence[str | Experiment] | str | Experiment | None = None,
        filter: str | None = None,
        order_by: Sequence[str] | None = None,
        *,
        view: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        page_token: str | None = None,
    ) -> Page[Run]:
        from keel.tracking._filter_parser import parse_filter, parse_order_by

        if max_results < 1 or max_results > MAX_RESULTS_LIMIT:
            raise InvalidArgument(
                f"max_results must be between 1 and {MAX_RESULTS_LIMIT}, got {max_results}"
            )
        expr = parse_filter(filter)
        order = parse_order_by(order_by) or DEFAULT_ORDER
        offset = decode_page_token(page_token)
        self._buffer.flush()
        return self._store.search_runs(
            self._experiment_ids(experiments), expr, order, ViewType(view), max_results, offset
        )

    def _experiment_ids(
        self, experiments: Sequence[str | Experiment] | str | Experiment | None
    ) -> list[str]:
        if experiments is None:
            page = self._experiments.list_experiments(max_results=50_000)
            return [e.experiment_id for e in page.items]
        if isinstance(experiments, (str, Experiment)):
            experiments = [experiments]
        return [self._experiments.resolve(e).experiment_id for e in experiments]

    # -- helpers --------------------------------------------------------------------------

    def _ensure_writable(self, run_id: str) -> None:
        if run_id in self._live_runs:
            return
        run = self._store.get_run(run_id)
        self._require_active(run)
        with self._lock:
            self._live_runs.add(run_id)

    @staticmethod
    def _require_active(run: Run) -> None:
        if run.lifecycle_stage is LifecycleStage.DELETED:
            raise RunNotActive(
                f"run {run.run_id} is deleted; restore it before logging to it",
                details={"run_id": run.run_id},
            )

    def _step(self, run_id: str, key: str, step: int | None) -> int:
        return self._steps(run_id, [key], step)[0]

    def _steps(self, run_id: str, keys: Sequence[str], step: int | None) -> list[int]:
        """The step of each key's next point: ``step`` when given, else the key's counter
        (which starts after the highest step already stored, for resumed runs)."""
        if step is not None and (isinstance(step, bool) or not isinstance(step, int)):
            raise InvalidArgument(f"metric step must be an int, got {step!r}")
        with self._lock:
            counters = self._next_steps.get(run_id)
        if counters is None:
            self._buffer.flush()  # points still buffered count towards the highest step
            stored = {k: v + 1 for k, v in self._store.max_metric_steps(run_id).items()}
            with self._lock:
                counters = self._next_steps.setdefault(run_id, stored)
        out = []
        with self._lock:
            for key in keys:
                current = counters.get(key, 0)
                if step is None:
                    out.append(current)
                    counters[key] = current + 1
                else:
                    out.append(step)
                    if step >= current:
                        counters[key] = step + 1
        return out


_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_new_record = partial(tuple.__new__, MetricRecord)
"""``MetricRecord`` from a 5-tuple, without the Python-level ``__new__`` of a NamedTuple."""


def checked_records(records: Sequence[MetricRecord]) -> list[MetricRecord]:
    """``records`` validated, as a new list: keys valid, values converted to float (numbers
    only), steps and timestamps 64-bit ints. A batch of plain floats and ints, the usual case, is
    checked column by column in C (each distinct key once) and passed on as it is."""
    batch = list(records)
    if not batch:
        return batch
    for key in set(map(itemgetter(1), batch)):
        validate_key(key, "metric key")
    steps = list(map(itemgetter(3), batch))
    stamps = list(map(itemgetter(4), batch))
    if (
        set(map(type, map(itemgetter(2), batch))) == {float}
        and set(map(type, steps)) == {int}
        and set(map(type, stamps)) == {int}
        and min(steps) >= _INT64_MIN and max(steps) <= _INT64_MAX
        and min(stamps) >= _INT64_MIN and max(stamps) <= _INT64_MAX
    ):
        return batch
    return [
        MetricRecord(
            run_id,
            key,
            to_metric_value(key, value),
            _check_int64(step, "metric step"),
            _check_int64(timestamp, "metric timestamp"),
        )
        for run_id, key, value, step, timestamp in batch
    ]


def _check_int64(value: Any, what: str) -> int:
    try:
        number = index(value)  # ints and numpy integers, not floats
    except TypeError:
        number = None
    if isinstance(value, bool) or number is None or not _INT64_MIN <= number <= _INT64_MAX:
        raise InvalidArgument(f"{what} must be a 64-bit int, got {value!r:.80}")
    return number


def _check_timestamp(timestamp: Any) -> int:
    if isinstance(timestamp, bool) or not isinstance(timestamp, int) or timestamp < 0:
        raise InvalidArgument(
            f"timestamp must be a non-negative int of epoch milliseconds, got {timestamp!r}"
        )
    return timestamp

