"""The module-level API: ``keel.start_run()``, ``keel.log_metric()`` and friends.

Each function acts on the current client and the innermost active run of the calling thread
(both kept in ``keel._session``); ``ActiveRun`` offers the same calls bound to one run.
"""

from __future__ import annotations

import builtins
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from keel._active_run import ActiveRun
from keel._session import _session, client, connect, disconnect, register_exit_hook
from keel.artifacts import ArtifactInfo
from keel.core import Page
from keel.errors import InvalidArgument, KeelError
from keel.tracking.compare import Goal, RunComparison
from keel.tracking.models import DatasetVersion, Experiment, Run, RunInput, RunStatus, ViewType

if TYPE_CHECKING:
    from keel.models.predictor import Predictor
    from keel.models.run_models import ModelInfo
    from keel.registry.lineage import Direction, LineageGraph
    from keel.registry.models import ModelVersion

_UNSET: Any = object()


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
    register_exit_hook()
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


def log_model(model: Any, name: str, **options: Any) -> ModelInfo:
    """Save ``model`` in the active run under ``name``; returns where (``info.uri``) and what
    (flavor, digest, signature). Options: signature, input_example, metadata, flavor,
    serialization ("safe" by default; "pickle" only on request), requirements."""
    return _require_run().log_model(model, name, **options)


def load_model(uri: str, *, trust: bool = False,
               trusted_types: Sequence[str] | None = None) -> Predictor:
    """Load ``runs:/<run_id>/<path>``, ``models:/<name>/<version>`` or ``models:/<name>@<alias>``
    as a Predictor (``predict``, ``predict_proba``); digests are checked first."""
    return client().load_model(uri, trust=trust, trusted_types=trusted_types)


def register_model(source: str, name: str, *, description: str | None = None,
                   tags: Mapping[str, str] | None = None) -> ModelVersion:
    """A new version of registered model ``name`` from a logged model (``runs:/…``), linked to
    its run, digest, signature, dataset versions, code commit and metrics."""
    return client().registry.register_model(source, name, description=description, tags=tags)


def lineage(obj: DatasetVersion | Run | ModelVersion | str, *, direction: Direction = "both",
            max_depth: int = 10) -> LineageGraph:
    """Walk lineage from ``obj`` (dataset version or ref, run or run id, model version or
    ``models:/`` URI) upstream, downstream or both; see ``Keel.lineage``."""
    return client().lineage(obj, direction=direction, max_depth=max_depth)


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
    "lineage",
    "list_artifacts",
    "list_experiments",
    "load_model",
    "log_artifact",
    "log_artifacts",
    "log_dataset",
    "log_dict",
    "log_figure",
    "log_metric",
    "log_metrics",
    "log_model",
    "log_param",
    "log_params",
    "log_text",
    "register_model",
    "search_runs",
    "set_note",
    "set_tag",
    "set_tags",
    "start_run",
]
