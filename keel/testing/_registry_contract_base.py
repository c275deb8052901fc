"""Shared pieces of the registry contract suite: the ``registry`` fixture slot and builders."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pytest

from keel.core.ids import new_id
from keel.registry.models import (
    AuditContext,
    AuditRecord,
    ModelVersion,
    RegisteredModel,
    RegistryEvent,
)
from keel.registry.store import RegistryStore

_names = itertools.count()
_clock = itertools.count(1_000_000)


class RegistryContractBase:
    """Declares the ``registry`` fixture every registry contract test uses."""

    @pytest.fixture
    def registry(self) -> Iterator[RegistryStore]:
        raise NotImplementedError(
            "subclass RegistryStoreContract and override the `registry` fixture to yield a "
            "fresh RegistryStore (and close what it belongs to afterwards)"
        )


def unique_name(prefix: str = "model") -> str:
    return f"{prefix}-{next(_names)}-{new_id()[:8]}"


def ctx(actor: str = "alice", reason: str | None = None, at: int | None = None) -> AuditContext:
    """A context with a strictly increasing ``at`` unless one is given."""
    return AuditContext(actor, reason, next(_clock) if at is None else at)


def new_model(
    registry: RegistryStore,
    name: str | None = None,
    *,
    actor: str = "alice",
    description: str | None = None,
    tags: Mapping[str, str] | None = None,
) -> RegisteredModel:
    return registry.models.create_registered_model(
        new_id(), name or unique_name(), ctx(actor), description=description, tags=tags
    )


def new_version(
    registry: RegistryStore,
    name: str,
    *,
    actor: str = "alice",
    run_id: str | None = None,
    metrics: Mapping[str, float] | None = None,
    dataset_version_ids: Sequence[str] = (),
    tags: Mapping[str, str] | None = None,
    signature: Mapping[str, Any] | None = None,
) -> ModelVersion:
    run_id = run_id or new_id()
    return registry.versions.create_model_version(
        name,
        ctx(actor),
        source=f"runs:/{run_id}/model",
        run_id=run_id,
        model_digest="sha256:" + "ab" * 32,
        flavor="sklearn",
        signature=signature,
        dataset_version_ids=dataset_version_ids,
        code_commit="0123456789abcdef",
        metrics=metrics if metrics is not None else {"auc": 0.9},
        tags=tags,
    )


def audit_head(registry: RegistryStore) -> int:
    return registry.audit.get_chain_head().seq


def records_since(registry: RegistryStore, seq: int) -> list[AuditRecord]:
    return registry.audit.list_audit_records(after_seq=seq)


def events_since(registry: RegistryStore, seq: int) -> list[RegistryEvent]:
    """Events whose audit record came after ``seq`` (an audit seq)."""
    return [e for e in registry.audit.list_events(after_seq=0, limit=100_000)
            if e.audit_seq > seq]


def only_record(registry: RegistryStore, seq: int) -> AuditRecord:
    """The single audit record appended after ``seq``; fails when there are more or none."""
    records = records_since(registry, seq)
    assert len(records) == 1, [r.action for r in records]
    return records[0]
