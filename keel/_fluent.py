"""The module-level API: ``keel.start_run()``, ``keel.log_metric()`` and friends.

It keeps exactly two pieces of process state, both here and nowhere else: the current client
(made by ``keel.connect()``, or on first use from the ``KEEL_*`` settings) and, per thread, the
stack of active runs. Everything else is passed explicitly; code that wants no hidden state uses
a ``Keel`` client directly.
"""

from __future__ import annotations

import atexit
import builtins
import contextlib
import os
import threading
import traceback
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from keel.app import Keel
from keel.artifacts import ArtifactInfo
from keel.config import load_settings
from keel.core import Page
from keel.errors import InvalidArgument, KeelError
from keel.tracking.compare import Goal, RunComparison
from keel.tracking.models import DatasetVersion, Experiment, Run, RunInput, RunStatus, ViewType

_UNSET: Any = object()


class _State(threading.local):
    def __init__(self) -> None:
        self.stack: list[ActiveRun] = []


class _Session:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.client: Keel | None = None
        self.runs = _State()
        self.exit_hook = False


def _end_runs_at_exit() -> None:
    """Runs still active when the interpreter exits end FINISHED, innermost first (registered
    after the client, so it runs before the client's own flush-and-close hook)."""
    for run in reversed(list(_session.runs.stack)):
        with contextlib.suppress(KeelError):
            run.end(RunStatus.FINISHED)


_session = _Session()


def connect(url: str | None = None, *, artifacts_url: str | None = None, **settings: Any) -> Keel:
    """Open a keel client and make it the one the module-level functions use.

    ``url`` is a metadata store URL (``sqlite:///…``, ``postgresql+psycopg://…``); by default the
    ``KEEL_*`` settings decide (the embedded ``.keel/`` store in the working directory). Other
    keyword arguments override settings by name.
    """
    overrides = dict(settings)
    if url is not None:
        if url.startswith(("http://", "https://")):
            overrides["tracking_url"] = url
        else:
            overrides["database_url"] = url
    if artifacts_url is not None:
        overrides["artifacts_url"] = artifacts_url
    client = Keel(load_settings(**overrides))
    with _session.lock:
        previous, _session.client = _session.client, client
    if previous is not None and previous is not client:
        previous.close()
    return client


def client() -> Keel:
    """The current client, opened from the settings on first use."""
    with _session.lock:
        if _session.client is None:
            _session.client = Keel(load_settings())
        return _session.client


def disconnect() -> None:
    """Close the current client (flushing its metrics) and forget it."""
    with _session.lock:
        current, _session.client = _session.client, None
    _session.runs.stack.clear()
    if current is not None:
        current.close()


class ActiveRun:
    """A run being recorded; a context manager that ends it.

    Leaving the block normally marks the run FINISHED; an exception marks it FAILED with the
    error recorded (KeyboardInterrupt: KILLED), and the exception propagates. Buffered metrics are
    flushed first either way.
    """

    def __init__(self, client: Keel, run: Run) -> None:
        self.client = client
        self.run_id = run.run_id
        self.experiment_id = run.experiment_id
        self.name = run.name
        self._ended = False

    @property
    def run(self) -> Run:
        """The run as stored now (metrics flushed first)."""
        return self.client.runs.get_run(self.run_id)

    def log_param(self, key: str, value: object) -> None:
        self.client.runs.log_param(self.run_id, key, value)

    def log_params(self, params: Mapping[str, object]) -> None:
        self.client.runs.log_params(self.run_id, params)

    def log_metric(
        self, key: str, value: object, step: int | None = None, timestamp: int | None = None,
        *, synchronous: bool = False,
    ) -> None:
        self.client.runs.log_metric(
            self.run_id, key, value, step, timestamp, synchronous=synchronous
        )

    def log_metrics(
        self, metrics: Mapping[str, object], step: int | None = None,
        timestamp: int | None = None, *, synchronous: bool = False,
    ) -> None:
        self.client.runs.log_metrics(
            self.run_id, metrics, step, timestamp, synchronous=synchronous
        )

    def set_tag(self, key: str, value: object) -> None:
        self.client.runs.set_tag(self.run_id, key, value)

    def set_tags(self, tags: Mapping[str, object]) -> None:
        self.client.runs.set_tags(self.run_id, tags)

    def set_note(self, markdown: str) -> None:
        self.client.runs.set_note(self.run_id, markdown)

    def log_artifact(self, local_path: str | os.PathLike[str],
                     artifact_path: str | None = None) -> ArtifactInfo:
        return self.client.artifacts.log_artifact(self.run_id, local_path, artifact_path)

    def log_artifacts(self, local_dir: str | os.PathLike[str],
                      artifact_path: str | None = None) -> list[ArtifactInfo]:
        return self.client.artifacts.log_artifacts(self.run_id, local_dir, artifact_path)

    def log_text(self, text: str, artifact_file: str) -> ArtifactInfo:
        return self.client.artifacts.log_text(self.run_id, text, artifact_file)

    def log_dict(self, data: Mapping[str, Any], artifact_file: str) -> ArtifactInfo:
        return self.client.artifacts.log_dict(self.run_id, data, artifact_file)

    def log_figure(self, figure: Any, artifact_file: str) -> ArtifactInfo:
        return self.client.artifacts.log_figure(self.run_id, figure, artifact_file)

    def log_dataset(self, data: object, *, name: str | None = None, context: str = "train",
                    source: str | None = None) -> DatasetVersion:
        return self.client.datasets.log_dataset(
            data, name=name, run_id=self.run_id, context=context, source=source
        )

    def end(self, status: RunStatus | str = RunStatus.FINISHED, *,
            error: str | None = None) -> Run:
        """End the run now (idempotent: a second call returns the run as it is)."""
        stack = _session.runs.stack
        if self in stack:
            stack.remove(self)
        if self._ended:
            return self.client.runs.get_run(self.run_id)
        self._ended = True
        return self.client.runs.end_run(self.run_id, status, error=error)

    def __enter__(self) -> ActiveRun:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None:
            self.end(RunStatus.FINISHED)
        elif isinstance(exc, KeyboardInterrupt):
            self.end(RunStatus.KILLED, error="KeyboardInterrupt")
        else:
            text = "".join(traceback.format_exception(exc_type, exc, tb))
            self.end(RunStatus.FAILED, error=text)

    def __repr__(self) -> str:
        return f"<ActiveRun {self.name!r} id={self.run_id}>"


def start_run(
    experiment: str | Experiment | None = None,
    name: str | None = None,
    *,
    run_id: str | None = None,
    parent: str | ActiveRun | None = _UNSET,
    tags: Mapping[str, object] | None = None,
    note: str | None = None,
    capture: bool = True,
) -> ActiveRun:
    """Start (or with ``run_id`` resume) a run; use it as ``with keel.start_run(...) as run:``.

    Inside another active run the new run becomes its child unless ``parent=None`` is given.
    The experiment (name or id) is created on first use; by default it is "Default".
    """
    c = client()
    stack = _session.runs.stack
    if run_id is not None:
        run = c.runs.resume_run(run_id)
        if tags:
            c.runs.set_tags(run_id, tags)
    else:
        if parent is _UNSET:
            parent_id = stack[-1].run_id if stack else None
        elif isinstance(parent, ActiveRun):
            parent_id = parent.run_id
        else:
            parent_id = parent
        if experiment is None and parent_id is not None:
            experiment = c.runs.get_run(parent_id).experiment_id
        run = c.create_run(experiment, name=name, parent_run_id=parent_id, tags=tags,
                           capture=capture)
    if note is not None:
        c.runs.set_note(run.run_id, note)
    active = ActiveRun(c, run)
    stack.append(active)
    with _session.lock:
        if not _session.exit_hook:
            _session.exit_hook = True
            atexit.register(_end_runs_at_exit)
    return active


def active_run() -> ActiveRun | None:
    stack = _session.runs.stack
    return stack[-1] if stack else None


def _require_run() -> ActiveRun:
    run = active_run()
    if run is None:
        raise InvalidArgument("no active run: call keel.start_run() first (or use a run object)")
    return run


def end_run(status: RunStatus | str = RunStatus.FINISHED) -> Run | None:
    run = active_run()
    return run.end(status) if run is not None else None


def log_param(key: str, value: object) -> None:
    _require_run().log_param(key, value)


def log_params(params: Mapping[str, object]) -> None:
    _require_run().log_params(params)


def log_metric(key: str, value: object, step: int | None = None, timestamp: int | None = None,
               *, synchronous: bool = False) -> None:
    _require_run().log_metric(key, value, step, timestamp, synchronous=synchronous)


def log_metrics(metrics: Mapping[str, object], step: int | None = None,
                timestamp: int | None = None, *, synchronous: bool = False) -> None:
    _require_run().log_metrics(metrics, step, timestamp, synchronous=synchronous)


def set_tag(key: str, value: object) -> None:
    _require_run().set_tag(key, value)


def set_tags(tags: Mapping[str, object]) -> None:
    _require_run().set_tags(tags)


def set_note(markdown: str) -> None:
    _require_run().set_note(markdown)


def log_artifact(local_path: str | os.PathLike[str],
                 artifact_path: str | None = None) -> ArtifactInfo:
    return _require_run().log_artifact(local_path, artifact_path)


def log_artifacts(local_dir: str | os.PathLike[str],
                  artifact_path: str | None = None) -> list[ArtifactInfo]:
    return _require_run().log_artifacts(local_dir, artifact_path)


def log_text(text: str, artifact_file: str) -> ArtifactInfo:
    return _require_run().log_text(text, artifact_file)


def log_dict(data: Mapping[str, Any], artifact_file: str) -> ArtifactInfo:
    return _require_run().log_dict(data, artifact_file)


def log_figure(figure: Any, artifact_file: str) -> ArtifactInfo:
    return _require_run().log_figure(figure, artifact_file)


def log_dataset(data: object, *, name: str | None = None, context: str = "train",
                source: str | None = None) -> DatasetVersion:
    """Version ``data`` and record that the active run used it (or only version it, when no run
    is active)."""
    run = active_run()
    if run is not None:
        return run.log_dataset(data, name=name, context=context, source=source)
    return client().datasets.log_dataset(data, name=name, context=context, source=source)


def list_artifacts(run_id: str | None = None, path: str = "") -> list[ArtifactInfo]:
    return client().artifacts.list_artifacts(run_id or _require_run().run_id, path)


def download_artifacts(run_id: str | None = None, path: str = "",
                       dst_path: str | os.PathLike[str] | None = None) -> Path:
    return client().artifacts.download_artifacts(run_id or _require_run().run_id, path, dst_path)


def flush() -> None:
    """Write buffered metrics now; raises if an earlier background write failed."""
    with _session.lock:
        current = _session.client
    if current is not None:
        current.flush()


def get_run(run_id: str) -> Run:
    return client().runs.get_run(run_id)


def create_experiment(name: str, *, tags: Mapping[str, object] | None = None) -> Experiment:
    return client().experiments.create_experiment(name, tags=tags)


def get_experiment(ref: str) -> Experiment:
    """An experiment by name or id."""
    return client().experiments.resolve(ref)


def list_experiments(*, view: ViewType = ViewType.ACTIVE_ONLY, name_like: str | None = None,
                     max_results: int = 1000,
                     page_token: str | None = None) -> Page[Experiment]:
    return client().experiments.list_experiments(
        view=view, name_like=name_like, max_results=max_results, page_token=page_token
    )


def search_runs(
    experiments: Sequence[str | Experiment] | str | Experiment | None = None,
    filter: str | None = None,
    order_by: Sequence[str] | None = None,
    *,
    max_results: int = 1000,
    page_token: str | None = None,
    view: ViewType = ViewType.ACTIVE_ONLY,
    as_frame: bool = False,
) -> Any:
    """Runs matching ``filter`` (e.g. ``"metrics.acc > 0.9 and params.lr = '0.01'"``), ordered
    by ``order_by`` (e.g. ``["metrics.acc DESC"]``), executed in the database. Returns a
    ``Page[Run]``, or with ``as_frame=True`` a pandas DataFrame of that page."""
    page = client().runs.search_runs(
        experiments, filter, order_by, view=view, max_results=max_results,
        page_token=page_token,
    )
    if as_frame:
        from keel.tracking.frames import runs_to_frame

        return runs_to_frame(page.items)
    return page


def compare_runs(runs: Sequence[str | Run | ActiveRun], *,
                 goals: Mapping[str, Goal] | None = None) -> RunComparison:
    ids: list[str | Run] = [r.run_id if isinstance(r, ActiveRun) else r for r in runs]
    return client().compare_runs(ids, goals=goals)


class _Datasets:
    """``keel.datasets``: dataset versions and the runs that used them."""

    def list(self, name: str | None = None, *, max_results: int = 1000,
             page_token: str | None = None) -> Page[DatasetVersion]:
        return client().datasets.list_dataset_versions(
            name, max_results=max_results, page_token=page_token
        )

    def get(self, ref: str) -> DatasetVersion:
        """By id, 'name:version' or 'name@latest'."""
        return client().datasets.get_dataset_version(ref)

    def runs(self, ref: str) -> builtins.list[RunInput]:
        return client().datasets.list_dataset_runs(ref)

    def inputs(self, run_id: str) -> builtins.list[RunInput]:
        return client().datasets.list_run_inputs(run_id)


datasets = _Datasets()

__all__ = [
    "ActiveRun",
    "KeelError",
    "active_run",
    "client",
    "compare_runs",
    "connect",
    "create_experiment",
    "datasets",
    "disconnect",
    "download_artifacts",
    "end_run",
    "flush",
    "get_experiment",
    "get_run",
    "list_artifacts",
    "list_experiments",
    "log_artifact",
    "log_artifacts",
    "log_dataset",
    "log_dict",
    "log_figure",
    "log_metric",
    "log_metrics",
    "log_param",
    "log_params",
    "log_text",
    "search_runs",
    "set_note",
    "set_tag",
    "set_tags",
    "start_run",
]
