"""Registry value objects: registered models, versions, aliases, approvals, audit and events.

Everything here is a frozen dataclass or an enum built from the standard library and
``keel.core``. ``to_dict()`` gives the JSON form an entity takes in an audit record's ``before``
and ``after`` (non-finite floats become the strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"``,
so the canonical JSON of keel.registry.audit never meets a value JSON cannot hold).

Promotion policies live in :mod:`keel.registry._policy` and are re-exported here.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from keel.core.clock import now_ms
from keel.core.naming import validate_name
from keel.registry._json import json_safe
from keel.registry._policy import (
    KNOWN_REQUIRED_FIELDS,
    METRIC_GATE_OPS,
    MetricGate,
    PromotionPolicy,
    TargetRules,
)

__all__ = [
    "ALIAS_UNSET",
    "APPROVAL_TRANSITIONS",
    "KNOWN_REQUIRED_FIELDS",
    "METRIC_GATE_OPS",
    "AliasMove",
    "Approval",
    "ApprovalDecision",
    "ApprovalState",
    "AuditContext",
    "AuditRecord",
    "CardFields",
    "ChainHead",
    "DecisionKind",
    "DecisionLogEntry",
    "EntityType",
    "EventType",
    "GateEvaluation",
    "GateResult",
    "MetricGate",
    "ModelVersion",
    "PromotionPolicy",
    "RegisteredModel",
    "RegistryEvent",
    "TargetRules",
    "alias_entity_id",
    "approval_entity_id",
    "version_entity_id",
]

ALIAS_UNSET = 0
"""``expected_version`` for an alias move that must create the alias (it must not exist yet);
version numbers start at 1, so 0 never names a version."""


class ApprovalState(enum.StrEnum):
    """Where a version stands for one target (``staging``, ``production``, ...)."""

    NONE = "none"
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    REVOKED = "revoked"


APPROVAL_TRANSITIONS: Mapping[ApprovalState, frozenset[ApprovalState]] = {
    ApprovalState.NONE: frozenset({ApprovalState.PENDING}),
    ApprovalState.PENDING: frozenset({ApprovalState.APPROVED, ApprovalState.REJECTED}),
    ApprovalState.APPROVED: frozenset({ApprovalState.REVOKED}),
    # A rejected or revoked approval can be requested again; that starts a new round.
    ApprovalState.REJECTED: frozenset({ApprovalState.PENDING}),
    ApprovalState.REVOKED: frozenset({ApprovalState.PENDING}),
}
"""The state machine the store enforces: ``none -> pending -> approved | rejected``,
``approved -> revoked``, and a new request (a new round) after ``rejected`` or ``revoked``."""


class DecisionKind(enum.StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    REVOKE = "revoke"


class EntityType(enum.StrEnum):
    """What an audit record is about; see the ``*_entity_id`` helpers for the id formats."""

    REGISTERED_MODEL = "registered_model"
    MODEL_VERSION = "model_version"
    ALIAS = "alias"
    APPROVAL = "approval"
    POLICY = "policy"
    GATE_EVALUATION = "gate_evaluation"
    CARD = "card"
    DECISION = "decision"


class EventType(enum.StrEnum):
    """Event types, which are also the ``action`` of the audit record written with the event."""

    MODEL_CREATED = "registered_model.created"
    MODEL_UPDATED = "registered_model.updated"  # rename, description
    MODEL_TAGS_SET = "registered_model.tags_set"
    MODEL_TAG_DELETED = "registered_model.tag_deleted"
    MODEL_DELETED = "registered_model.deleted"
    VERSION_CREATED = "model_version.created"
    VERSION_UPDATED = "model_version.updated"  # description
    VERSION_TAGS_SET = "model_version.tags_set"
    VERSION_TAG_DELETED = "model_version.tag_deleted"
    VERSION_DELETED = "model_version.deleted"
    ALIAS_SET = "alias.set"
    ALIAS_DELETED = "alias.deleted"
    APPROVAL_REQUESTED = "approval.requested"
    APPROVAL_DECIDED = "approval.decided"  # an approve or reject decision
    APPROVAL_REVOKED = "approval.revoked"
    POLICY_SET = "policy.set"
    POLICY_DELETED = "policy.deleted"
    GATES_EVALUATED = "gates.evaluated"
    CARD_UPDATED = "card.updated"
    DECISION_LOGGED = "decision.logged"


def version_entity_id(model_id: str, version: int) -> str:
    """``<model_id>/<version>``; a registered model's (and its policy's) entity id is its
    ``model_id``, a card's or decision's is the model's or version's."""
    return f"{model_id}/{version}"


def alias_entity_id(model_id: str, alias: str) -> str:
    """``<model_id>@<alias>``."""
    return f"{model_id}@{alias}"


def approval_entity_id(model_id: str, version: int, target: str) -> str:
    """``<model_id>/<version>/<target>`` (approvals and gate evaluations)."""
    return f"{model_id}/{version}/{target}"


@dataclass(frozen=True)
class AuditContext:
    """Who makes a change, why, and when (epoch ms; the time of building the context unless
    given). Every registry mutation takes one; it becomes the audit record's actor, reason, at."""

    actor: str
    reason: str | None = None
    at: int = field(default_factory=now_ms)

    def __post_init__(self) -> None:
        validate_name(self.actor, "actor")


def _plain(obj: object) -> dict[str, Any]:
    return {f.name: json_safe(getattr(obj, f.name)) for f in fields(obj)}  # type: ignore[arg-type]


@dataclass(frozen=True)
class RegisteredModel:
    model_id: str
    name: str
    description: str | None
    tags: Mapping[str, str]
    aliases: Mapping[str, int]
    """Alias -> version number, for every alias of the model."""
    latest_version: int
    """The highest version number ever assigned (0 before the first); numbers are never
    reused, even after a version is deleted."""
    created_at: int
    created_by: str
    updated_at: int
    updated_by: str

    def to_dict(self) -> dict[str, Any]:
        return _plain(self)


@dataclass(frozen=True)
class ModelVersion:
    """One registered version. Immutable except description, tags, aliases (and approvals,
    which live in their own records)."""

    model_id: str
    name: str
    version: int
    source: str
    """Where the model came from, e.g. ``runs:/<run_id>/model``."""
    run_id: str | None
    model_digest: str | None
    flavor: str | None
    signature: Mapping[str, Any] | None
    dataset_version_ids: tuple[str, ...]
    code_commit: str | None
    metrics: Mapping[str, float]
    description: str | None
    tags: Mapping[str, str]
    aliases: tuple[str, ...]
    """Aliases pointing at this version, sorted."""
    created_at: int
    created_by: str
    updated_at: int
    updated_by: str

    @property
    def uri(self) -> str:
        return f"models:/{self.name}/{self.version}"

    def to_dict(self) -> dict[str, Any]:
        return _plain(self)


@dataclass(frozen=True)
class AliasMove:
    """One row of an alias's history: created (``from_version`` None), moved, or deleted
    (``to_version`` None). ``seq`` orders moves of all aliases of all models."""

    seq: int
    name: str
    alias: str
    from_version: int | None
    to_version: int | None
    actor: str
    at: int
    reason: str | None


@dataclass(frozen=True)
class ApprovalDecision:
    actor: str
    decision: DecisionKind
    at: int
    reason: str | None
    round: int


@dataclass(frozen=True)
class Approval:
    """The approval of one version for one target. A version never asked about is
    ``state=NONE, round=0`` with no requester. ``decisions`` are those of the current round,
    oldest first (earlier rounds stay in the audit log)."""

    name: str
    version: int
    target: str
    state: ApprovalState
    round: int
    requested_by: str | None
    requested_at: int | None
    request_reason: str | None
    decisions: tuple[ApprovalDecision, ...]
    updated_at: int | None

    @property
    def approved_by(self) -> tuple[str, ...]:
        """Distinct actors who approved in the current round, in decision order."""
        seen: list[str] = []
        for d in self.decisions:
            if d.decision is DecisionKind.APPROVE and d.actor not in seen:
                seen.append(d.actor)
        return tuple(seen)

    def to_dict(self) -> dict[str, Any]:
        return _plain(self)


@dataclass(frozen=True)
class GateResult:
    """One gate's outcome as a service computed it, on its way into the store."""

    gate_id: str
    passed: bool
    inputs: Mapping[str, Any]
    """What the gate looked at (metric values, the alias's version and value, ...); JSON-able."""
    message: str


@dataclass(frozen=True)
class GateEvaluation:
    """A stored gate outcome; ``at`` and ``evaluated_by`` come from the AuditContext."""

    seq: int
    name: str
    version: int
    target: str
    gate_id: str
    passed: bool
    inputs: Mapping[str, Any]
    message: str
    at: int
    evaluated_by: str

    def to_dict(self) -> dict[str, Any]:
        return _plain(self)


@dataclass(frozen=True)
class CardFields:
    """Model-card fields only a person can write. Per registered model, and per version as an
    override: a None field of a version's card falls back to the model's (see ``overlay``)."""

    intended_use: str | None = None
    out_of_scope: str | None = None
    limitations: str | None = None
    ethical_considerations: str | None = None

    def overlay(self, override: CardFields) -> CardFields:
        """These fields with every non-None field of ``override`` on top."""
        return CardFields(
            **{
                f.name: getattr(override, f.name)
                if getattr(override, f.name) is not None
                else getattr(self, f.name)
                for f in fields(self)
            }
        )

    def to_dict(self) -> dict[str, Any]:
        return _plain(self)


@dataclass(frozen=True)
class DecisionLogEntry:
    """An architecture-decision-record style entry on a registered model or one version."""

    entry_id: str
    name: str
    version: int | None
    title: str
    context: str
    decision: str
    consequences: str
    author: str
    date: int
    created_at: int
    created_by: str

    def to_dict(self) -> dict[str, Any]:
        return _plain(self)


@dataclass(frozen=True)
class ChainHead:
    """The last audit record's seq and hash (seq 0 and the genesis hash for an empty log)."""

    seq: int
    hash: str


@dataclass(frozen=True)
class AuditRecord:
    """One append-only audit record; ``hash`` covers every other field (keel.registry.audit)."""

    seq: int
    at: int
    actor: str
    action: str
    entity_type: str
    entity_id: str
    before: Any
    after: Any
    reason: str | None
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class RegistryEvent:
    """A change notification for automation and webhooks, written in the same transaction as
    the change and its audit record ``audit_seq``. ``seq`` increases in commit order."""

    seq: int
    type: str
    at: int
    audit_seq: int
    payload: Mapping[str, Any]
