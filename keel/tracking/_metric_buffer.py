"""Buffered metric logging with a background flush.

``log_metric`` must cost microseconds, so points are appended to an in-memory list and written
in large batches by a daemon thread: when ``flush_size`` points are waiting, or every
``flush_interval`` seconds. ``flush()`` writes everything synchronously and raises the first
error a background flush met, so no failure is ever silent. Owners call ``close()`` on shutdown
(``Keel.close`` does, and an atexit hook does it for clients the user forgot to close).

A batch that the store refuses (say one of its runs was deleted meanwhile) is retried run by run
so that the points of the other runs still land; the refused points are reported, not retried
forever.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Sequence

from keel.errors import KeelError
from keel.tracking.models import MetricRecord
from keel.tracking.store import RunStore


class MetricBuffer:
    def __init__(self, store: RunStore, *, flush_interval: float, flush_size: int) -> None:
        self._store = store
        self._flush_interval = flush_interval
        self._flush_size = max(1, flush_size)
        self._pending: list[MetricRecord] = []
        self._lock = threading.Lock()
        # Serialises flushes so points reach the store in the order they were logged.
        self._flush_lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._errors: list[KeelError] = []
        self._thread: threading.Thread | None = None
        self._closed = False

    def add(self, record: MetricRecord) -> None:
        with self._lock:
            if self._closed:
                raise KeelError("metric buffer is closed; this keel client was closed")
            self._pending.append(record)
            if self._thread is None:
                self._start_thread()
            if len(self._pending) >= self._flush_size:
                self._wake.notify()

    def add_many(self, records: Sequence[MetricRecord]) -> None:
        with self._lock:
            if self._closed:
                raise KeelError("metric buffer is closed; this keel client was closed")
            self._pending.extend(records)
            if self._thread is None:
                self._start_thread()
            if len(self._pending) >= self._flush_size:
                self._wake.notify()

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._pending)

    def flush(self) -> None:
        """Write every buffered point now; raise the first error any flush met since the last
        call (the error's points were not written)."""
        self._write_pending()
        with self._lock:
            errors, self._errors = self._errors, []
        if errors:
            raise errors[0]

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._wake.notify()
            thread = self._thread
        if thread is not None:
            thread.join()
        self.flush()

    def _start_thread(self) -> None:
        self._thread = threading.Thread(
            target=self._run, name="keel-metric-flush", daemon=True
        )
        self._thread.start()

    def _run(self) -> None:
        while True:
            with self._lock:
                if not self._closed and len(self._pending) < self._flush_size:
                    self._wake.wait(self._flush_interval)
                closed = self._closed
            self._write_pending()
            if closed:
                return

    def _write_pending(self) -> None:
        with self._flush_lock:
            with self._lock:
                batch, self._pending = self._pending, []
            if not batch:
                return
            try:
                self._store.log_metrics(batch)
            except KeelError:
                self._write_run_by_run(batch)

    def _write_run_by_run(self, batch: list[MetricRecord]) -> None:
        by_run: dict[str, list[MetricRecord]] = defaultdict(list)
        for record in batch:
            by_run[record.run_id].append(record)
        for records in by_run.values():
            try:
                self._store.log_metrics(records)
            except KeelError as exc:
                with self._lock:
                    self._errors.append(exc)
