"""Experiment tracking."""

from keel.tracking.models import (
    ArtifactRecord,
    DatasetColumn,
    DatasetDescription,
    DatasetVersion,
    Experiment,
    LifecycleStage,
    Metric,
    MetricRecord,
    Param,
    Run,
    RunInput,
    RunStatus,
    ViewType,
)

__all__ = [
    "ArtifactRecord",
    "DatasetColumn",
    "DatasetDescription",
    "DatasetVersion",
    "Experiment",
    "LifecycleStage",
    "Metric",
    "MetricRecord",
    "Param",
    "Run",
    "RunInput",
    "RunStatus",
    "ViewType",
]
