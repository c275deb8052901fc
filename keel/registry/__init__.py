"""The model registry: registered models, versions, aliases, approvals, lineage, audit log.

For now this exports the value objects, the ports and the audit chain rule; the services come
next.
"""

from keel.registry.audit import GENESIS_HASH, ChainProblem, ChainReport, verify_chain
from keel.registry.models import (
    ALIAS_UNSET,
    APPROVAL_TRANSITIONS,
    AliasMove,
    Approval,
    ApprovalDecision,
    ApprovalState,
    AuditContext,
    AuditRecord,
    CardFields,
    ChainHead,
    DecisionKind,
    DecisionLogEntry,
    EntityType,
    EventType,
    GateEvaluation,
    GateResult,
    MetricGate,
    ModelVersion,
    PromotionPolicy,
    RegisteredModel,
    RegistryEvent,
    TargetRules,
)
from keel.registry.store import (
    ApprovalStore,
    AuditStore,
    ModelVersionStore,
    RegisteredModelStore,
    RegistryStore,
)

__all__ = [
    "ALIAS_UNSET",
    "APPROVAL_TRANSITIONS",
    "GENESIS_HASH",
    "AliasMove",
    "Approval",
    "ApprovalDecision",
    "ApprovalState",
    "ApprovalStore",
    "AuditContext",
    "AuditRecord",
    "AuditStore",
    "CardFields",
    "ChainHead",
    "ChainProblem",
    "ChainReport",
    "DecisionKind",
    "DecisionLogEntry",
    "EntityType",
    "EventType",
    "GateEvaluation",
    "GateResult",
    "MetricGate",
    "ModelVersion",
    "ModelVersionStore",
    "PromotionPolicy",
    "RegisteredModel",
    "RegisteredModelStore",
    "RegistryEvent",
    "RegistryStore",
    "TargetRules",
    "verify_chain",
]
