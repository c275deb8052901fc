"""Shared pieces of the metadata contract suite: the ``store`` fixture slot and builders."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from keel.core.ids import new_id
from keel.tracking.models import DatasetColumn, DatasetDescription, Experiment, Run
from keel.tracking.store import MetadataStore

_names = itertools.count()


class ContractBase:
    """Declares the ``store`` fixture every contract test uses."""

    @pytest.fixture
    def store(self) -> Iterator[MetadataStore]:
        raise NotImplementedError(
            "subclass MetadataStoreContract and override the `store` fixture to yield a fresh, "
            "empty MetadataStore (and close it afterwards)"
        )


def unique_name(prefix: str = "exp") -> str:
    return f"{prefix}-{next(_names)}-{new_id()[:8]}"


def new_experiment(
    store: MetadataStore,
    name: str | None = None,
    *,
    tags: Mapping[str, str] | None = None,
    created_at: int = 1_000,
) -> Experiment:
    # Artifact locations are keys inside the artifact store, as keel's services make them
    # (a server refuses anything else).
    experiment_id = new_id()
    return store.experiments.create_experiment(
        experiment_id, name or unique_name(), experiment_id, dict(tags or {}), created_at
    )


def new_run(
    store: MetadataStore,
    experiment_id: str,
    *,
    name: str = "run",
    start_time: int = 1_000,
    parent_run_id: str | None = None,
    user: str | None = "alice",
    tags: Mapping[str, str] | None = None,
    run_id: str | None = None,
) -> Run:
    run_id = run_id or new_id()
    return store.runs.create_run(
        run_id,
        experiment_id,
        name,
        start_time,
        f"{experiment_id}/{run_id}/artifacts",
        parent_run_id,
        user,
        dict(tags or {}),
    )


def description(
    digest: str = "digest-1",
    *,
    num_rows: int = 10,
    source: str | None = "file:///data.parquet",
    profile: Mapping[str, Mapping[str, Any]] | None = None,
) -> DatasetDescription:
    return DatasetDescription(
        digest=digest,
        num_rows=num_rows,
        columns=[DatasetColumn("x", "float64", False), DatasetColumn("label", "string")],
        profile=dict(profile or {"x": {"mean": 1.5, "min": 0.0, "max": 3.0}}),
        source=source,
    )
