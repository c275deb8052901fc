"""``ActiveRun``: a run being recorded, bound to its client; a context manager that ends it."""

from __future__ import annotations

import os
import traceback
from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

from keel._session import _session
from keel.app import Keel
from keel.artifacts import ArtifactInfo
from keel.tracking.models import DatasetVersion, Run, RunStatus

if TYPE_CHECKING:
    from keel.models.run_models import ModelInfo


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

    def log_model(self, model: Any, name: str, **options: Any) -> ModelInfo:
        """Save ``model`` in this run's artifacts under ``name`` (see keel.log_model)."""
        return self.client.log_model(self.run_id, model, name, **options)

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
