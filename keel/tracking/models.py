"""Tracking value objects: experiments, runs, params, metrics, dataset versions."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple


class RunStatus(enum.StrEnum):
    RUNNING = "RUNNING"
    FINISHED = "FINISHED"
    FAILED = "FAILED"
    KILLED = "KILLED"

    @property
    def is_terminal(self) -> bool:
        return self is not RunStatus.RUNNING


class LifecycleStage(enum.StrEnum):
    ACTIVE = "active"
    DELETED = "deleted"


class ViewType(enum.StrEnum):
    """Which lifecycle stages a listing returns."""

    ACTIVE_ONLY = "active_only"
    DELETED_ONLY = "deleted_only"
    ALL = "all"


@dataclass(frozen=True)
class Experiment:
    experiment_id: str
    name: str
    artifact_location: str
    lifecycle_stage: LifecycleStage
    created_at: int
    updated_at: int
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Param:
    """A param as stored: ``text`` plus the Python ``type`` it came from."""

    key: str
    text: str
    type: str

    @property
    def value(self) -> object:
        from keel.core.values import decode_value

        return decode_value(self.text, self.type)


@dataclass(frozen=True)
class Metric:
    key: str
    value: float
    step: int
    timestamp: int


class MetricRecord(NamedTuple):
    """One metric point on its way into the store (the buffer flushes lists of these).

    A NamedTuple rather than a frozen dataclass: it is built once per logged point, and tuple
    construction costs a fraction of a frozen dataclass's."""

    run_id: str
    key: str
    value: float
    step: int
    timestamp: int


@dataclass(frozen=True)
class Run:
    run_id: str
    experiment_id: str
    name: str
    status: RunStatus
    start_time: int
    end_time: int | None
    lifecycle_stage: LifecycleStage
    artifact_location: str
    parent_run_id: str | None = None
    user: str | None = None
    error: str | None = None
    note: str | None = None
    params: Mapping[str, Param] = field(default_factory=dict)
    metrics: Mapping[str, Metric] = field(default_factory=dict)
    """Latest value per key: highest step, then latest timestamp."""
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def param_values(self) -> dict[str, object]:
        return {k: p.value for k, p in self.params.items()}

    @property
    def metric_values(self) -> dict[str, float]:
        return {k: m.value for k, m in self.metrics.items()}


@dataclass(frozen=True)
class DatasetColumn:
    name: str
    type: str
    nullable: bool = True


@dataclass(frozen=True)
class DatasetDescription:
    """What keel computes from data before storing a version: digest, schema, profile."""

    digest: str
    num_rows: int
    columns: Sequence[DatasetColumn]
    profile: Mapping[str, Mapping[str, Any]]
    source: str | None = None


@dataclass(frozen=True)
class DatasetVersion:
    dataset_version_id: str
    name: str
    version: int
    digest: str
    num_rows: int
    columns: Sequence[DatasetColumn]
    profile: Mapping[str, Mapping[str, Any]]
    source: str | None
    created_at: int


@dataclass(frozen=True)
class RunInput:
    """A dataset version used by a run, in a context (train, validation, test, ...)."""

    run_id: str
    dataset_version_id: str
    context: str


@dataclass(frozen=True)
class ArtifactRecord:
    """What the metadata store remembers of a logged artifact file."""

    run_id: str
    path: str
    size: int
    sha256: str
    created_at: int
