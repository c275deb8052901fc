"""Logged models, MLflow 3's model objects: the port a metadata backend provides so that keel's
server can answer MLflow's logged-model API (``keel.api.mlflow``), and its value objects.

A logged model is MLflow's own model object (MLflow 3): an id (``m-<32 hex>``), an experiment,
a name, an artifact location inside keel's artifact store (``<experiment location>/models/<id>/
artifacts``), a status (``LOGGED_MODEL_PENDING`` until the client finalizes it), tags, params
and the latest value of its metrics. Runs link to logged models as inputs or outputs.

This module imports only the standard library (a model and port, like ``keel.tracking.store``);
``keel.backends.sql._mlflow_models`` implements it. Every method is one transaction. Errors:
NotFound for an unknown model (or tag), AlreadyExists for a taken id, ExperimentNotFound for an
unknown experiment, ParamConflict for a param logged again with another value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

PENDING = "LOGGED_MODEL_PENDING"
READY = "LOGGED_MODEL_READY"
FAILED = "LOGGED_MODEL_UPLOAD_FAILED"
STATUSES = (PENDING, READY, FAILED)

INPUT = "input"
OUTPUT = "output"


@dataclass(frozen=True)
class LoggedModelMetric:
    """The latest value of one metric of a logged model (highest step, then timestamp)."""

    key: str
    value: float
    step: int
    timestamp: int
    run_id: str | None = None
    dataset_name: str | None = None
    dataset_digest: str | None = None


@dataclass(frozen=True)
class LoggedModel:
    model_id: str
    experiment_id: str
    name: str
    artifact_location: str
    """A key of keel's artifact store (never a URL)."""
    status: str
    created_at: int
    updated_at: int
    source_run_id: str | None = None
    model_type: str | None = None
    status_message: str | None = None
    deleted: bool = False
    creator: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    params: Mapping[str, str] = field(default_factory=dict)
    metrics: Sequence[LoggedModelMetric] = ()


@dataclass(frozen=True)
class RunModelLink:
    """A logged model a run used (``input``) or produced (``output``, at a step)."""

    run_id: str
    model_id: str
    direction: str
    step: int


class LoggedModelStore(Protocol):
    def create_logged_model(self, model: LoggedModel) -> LoggedModel:
        """Insert ``model`` with its tags and params (metrics are ignored)."""
        ...

    def get_logged_model(self, model_id: str) -> LoggedModel:
        """NotFound when absent (deleted models are returned, ``deleted`` True)."""
        ...

    def list_logged_models(
        self, experiment_ids: Sequence[str], *, deleted: bool = False
    ) -> list[LoggedModel]:
        """The models of these experiments that are (``deleted``) or are not deleted, newest
        first."""
        ...

    def update_logged_model(
        self, model_id: str, updated_at: int, *, status: str | None = None,
        status_message: str | None = None, deleted: bool | None = None,
    ) -> LoggedModel: ...

    def set_logged_model_tags(
        self, model_id: str, tags: Mapping[str, str], updated_at: int
    ) -> None: ...

    def delete_logged_model_tag(self, model_id: str, key: str, updated_at: int) -> None:
        """NotFound when the model has no such tag."""
        ...

    def log_logged_model_params(
        self, model_id: str, params: Mapping[str, str], updated_at: int
    ) -> None:
        """The same value again is a no-op; another value raises ParamConflict (nothing of the
        batch is written)."""
        ...

    def log_logged_model_metrics(
        self, model_id: str, metrics: Sequence[LoggedModelMetric]
    ) -> None:
        """Keep the latest value per key (highest step, then timestamp)."""
        ...

    def link_run_model(self, link: RunModelLink) -> None:
        """Record the link (again: the step is updated)."""
        ...

    def list_run_model_links(self, run_id: str) -> list[RunModelLink]: ...

    def list_model_links_of_runs(self, run_ids: Sequence[str]) -> dict[str, list[RunModelLink]]:
        """The links of many runs at once, keyed by run id (runs without links: no entry)."""
        ...
