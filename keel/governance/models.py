"""Governance value objects: the model card and the datasheet, as plain frozen data.

A card is derived from what keel recorded (the registry, the run, the dataset versions); only
the fields in :data:`HUMAN_FIELDS` are written by a person, and a missing one is listed in
``ModelCard.gaps`` rather than filled in. Registry value objects (approvals, gate evaluations,
alias moves, decision-log entries) are held as they are: they are frozen dataclasses too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from keel.registry import (
    AliasMove,
    Approval,
    CardFields,
    DecisionLogEntry,
    GateEvaluation,
)

__all__ = [
    "HUMAN_FIELDS",
    "SLICE_SEPARATOR",
    "CardDataset",
    "CardMetrics",
    "ColumnStats",
    "DatasetUsage",
    "Datasheet",
    "Lineage",
    "MetricSlice",
    "ModelCard",
    "ModelDetails",
    "ModelUsage",
    "PerformanceRow",
]

HUMAN_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(CardFields))
"""The card fields only a person can write: ``intended_use``, ``out_of_scope``,
``limitations``, ``ethical_considerations`` (the fields of :class:`keel.registry.CardFields`)."""

SLICE_SEPARATOR = "/"
"""Per-slice metrics are logged as ``<metric>/<slice>`` where the last ``/`` part holds an
``=``: ``auc/segment=a``, ``val/recall/region=eu,tier=gold``. Keys without such a last part
are overall metrics."""


@dataclass(frozen=True)
class ModelDetails:
    name: str
    version: int
    uri: str
    description: str | None
    """The version's description, else the registered model's."""
    owner: str
    """Who created the registered model."""
    registered_by: str
    """Who registered this version."""
    model_created_at: int
    version_created_at: int
    version_updated_at: int
    flavor: str | None
    model_digest: str | None
    source: str
    code_commit: str | None
    signature: Mapping[str, Any] | None
    tags: Mapping[str, str]
    """The model's tags with the version's on top."""
    aliases: tuple[str, ...]
    license: str | None
    """The ``license`` tag, when there is one."""


@dataclass(frozen=True)
class ColumnStats:
    """One column of a dataset version's schema with the headline numbers of its profile."""

    name: str
    type: str
    nullable: bool
    count: int | None
    null_fraction: float | None
    min: Any
    max: Any
    mean: float | None
    std: float | None
    distinct: int | None


@dataclass(frozen=True)
class CardDataset:
    """A dataset version the version's run used, in a context (train, validation, test, ...)."""

    dataset_version_id: str
    name: str
    version: int
    context: str
    digest: str
    num_rows: int
    source: str | None
    created_at: int
    columns: tuple[ColumnStats, ...]


@dataclass(frozen=True)
class MetricSlice:
    """The metrics logged for one slice (``segment=a``), metric name -> value."""

    slice: str
    metrics: Mapping[str, float]


@dataclass(frozen=True)
class CardMetrics:
    overall: Mapping[str, float]
    slices: tuple[MetricSlice, ...]


@dataclass(frozen=True)
class Lineage:
    run_id: str | None
    run_name: str | None
    experiment_id: str | None
    parent_run_id: str | None
    source: str
    code_commit: str | None
    model_digest: str | None
    dataset_version_ids: tuple[str, ...]


@dataclass(frozen=True)
class PerformanceRow:
    """One version of the model in the performance history (overall metrics only)."""

    version: int
    created_at: int
    aliases: tuple[str, ...]
    metrics: Mapping[str, float]


@dataclass(frozen=True)
class ModelCard:
    details: ModelDetails
    params: Mapping[str, Any]
    datasets: tuple[CardDataset, ...]
    metrics: CardMetrics
    lineage: Lineage
    approvals: tuple[Approval, ...]
    gate_evaluations: tuple[GateEvaluation, ...]
    alias_history: tuple[AliasMove, ...]
    performance_history: tuple[PerformanceRow, ...]
    """Every version of the model, oldest first."""
    human: CardFields
    """The effective human-written fields (the model's, with the version's overrides)."""
    human_sources: Mapping[str, str]
    """Field -> ``"model"`` or ``"version"``: where each written field comes from."""
    gaps: tuple[str, ...]
    """The human fields nobody has written yet, in :data:`HUMAN_FIELDS` order."""
    decisions: tuple[DecisionLogEntry, ...]
    """The model's decision log and this version's, oldest first."""
    notes: tuple[str, ...]
    """What keel could not find while building the card (a deleted run, ...)."""
    generated_at: int


@dataclass(frozen=True)
class DatasetUsage:
    """A run that used the dataset version, and in which context."""

    run_id: str
    context: str


@dataclass(frozen=True)
class ModelUsage:
    """A registered model version built from the dataset version."""

    name: str
    version: int
    aliases: tuple[str, ...]
    run_id: str | None


@dataclass(frozen=True)
class Datasheet:
    dataset_version_id: str
    name: str
    version: int
    digest: str
    source: str | None
    created_at: int
    num_rows: int
    columns: tuple[ColumnStats, ...]
    profile: Mapping[str, Mapping[str, Any]]
    """The full stored profile, column -> statistics."""
    splits: Mapping[str, int]
    """Context (train, validation, test, ...) -> how many runs used the version in it."""
    runs: tuple[DatasetUsage, ...]
    models: tuple[ModelUsage, ...]
    other_versions: tuple[tuple[int, str, int, int], ...]
    """The dataset's other versions: (version, digest, num_rows, created_at), newest first."""
    generated_at: int
