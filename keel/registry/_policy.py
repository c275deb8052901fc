"""Promotion policies as data: per target, the gates a version must pass to be approved.

The store keeps a policy per registered model (and audits its changes); evaluating the gates is
the service's job. Everything validates on construction and raises InvalidArgument, so a policy
the store holds is always well formed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from keel.core.naming import validate_key, validate_name
from keel.errors import InvalidArgument

METRIC_GATE_OPS = (">=", ">", "<=", "<", "==", "!=")

KNOWN_REQUIRED_FIELDS = frozenset(
    {
        "signature",  # the version has a signature
        "dataset_lineage",  # the version names at least one dataset version
        "code_commit",
        "model_digest",
        "run",  # the version is linked to a run
        "description",
        "card.intended_use",
        "card.out_of_scope",
        "card.limitations",
        "card.ethical_considerations",
    }
)
"""Names a policy's ``required_fields`` may use; the service decides what each one checks."""


def _finite(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidArgument(f"{what} must be a number, got {value!r}", details={"field": what})
    number = float(value)
    if not math.isfinite(number):
        raise InvalidArgument(f"{what} must be finite, got {value!r}", details={"field": what})
    return number


@dataclass(frozen=True)
class MetricGate:
    """``metric OP threshold``, or relative to the version an alias points at:
    ``metric OP (that version's metric + margin)``. "auc >= champion's auc - 0.005" is
    ``MetricGate("auc", ">=", relative_to_alias="champion", margin=-0.005)``."""

    metric: str
    op: str
    threshold: float | None = None
    relative_to_alias: str | None = None
    margin: float = 0.0

    def __post_init__(self) -> None:
        validate_key(self.metric, "metric gate metric")
        if self.op not in METRIC_GATE_OPS:
            raise InvalidArgument(
                f"unknown metric gate operator {self.op!r}; known: {', '.join(METRIC_GATE_OPS)}",
                details={"op": self.op},
            )
        if (self.threshold is None) == (self.relative_to_alias is None):
            raise InvalidArgument(
                f"metric gate on {self.metric!r} needs exactly one of threshold and "
                "relative_to_alias",
                details={"metric": self.metric},
            )
        if self.threshold is not None:
            object.__setattr__(self, "threshold", _finite(self.threshold, "threshold"))
        if self.relative_to_alias is not None:
            validate_key(self.relative_to_alias, "relative_to_alias")
        object.__setattr__(self, "margin", _finite(self.margin, "margin"))

    @property
    def gate_id(self) -> str:
        """A stable id: ``metric:auc>=0.8`` or ``metric:auc>=@champion-0.005``."""
        if self.relative_to_alias is None:
            return f"metric:{self.metric}{self.op}{self.threshold!r}"
        margin = f"{'+' if self.margin > 0 else ''}{self.margin!r}" if self.margin else ""
        return f"metric:{self.metric}{self.op}@{self.relative_to_alias}{margin}"


ROLE_PREFIX = "role:"
ROLES = ("reader", "editor", "manager")
"""An approver entry ``role:<role>`` admits anyone who holds that role (or a higher one) on the
registered model, e.g. ``role:manager``; other entries name people."""


@dataclass(frozen=True)
class TargetRules:
    """What approval for one target takes: every metric gate passes, every required field is
    present, and ``required_approvals`` distinct people approve (from ``approvers`` when it is
    not empty; never the requester)."""

    metric_gates: Sequence[MetricGate] = ()
    required_fields: Sequence[str] = ()
    required_approvals: int = 0
    approvers: Sequence[str] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "metric_gates", tuple(self.metric_gates))
        object.__setattr__(self, "required_fields", tuple(self.required_fields))
        object.__setattr__(self, "approvers", tuple(self.approvers))
        for gate in self.metric_gates:
            if not isinstance(gate, MetricGate):
                raise InvalidArgument(f"metric_gates must hold MetricGate, got {gate!r}")
        for name in self.required_fields:
            if name not in KNOWN_REQUIRED_FIELDS:
                raise InvalidArgument(
                    f"unknown required field {name!r}; known: "
                    + ", ".join(sorted(KNOWN_REQUIRED_FIELDS)),
                    details={"field": name},
                )
        if (
            isinstance(self.required_approvals, bool)
            or not isinstance(self.required_approvals, int)
            or self.required_approvals < 0
        ):
            raise InvalidArgument(
                f"required_approvals must be a non-negative integer, got "
                f"{self.required_approvals!r}"
            )
        for approver in self.approvers:
            validate_name(approver, "approver")
            if approver.startswith(ROLE_PREFIX) and approver[len(ROLE_PREFIX):] not in ROLES:
                raise InvalidArgument(
                    f"unknown approver role {approver!r}: use one of "
                    + ", ".join(ROLE_PREFIX + r for r in ROLES),
                    details={"approver": approver},
                )

    @property
    def gate_ids(self) -> tuple[str, ...]:
        """Ids of every gate: metric gates, ``field:<name>``, and ``approvals:<n>`` when
        approvals are required."""
        ids = [g.gate_id for g in self.metric_gates]
        ids += [f"field:{name}" for name in self.required_fields]
        if self.required_approvals:
            ids.append(f"approvals:{self.required_approvals}")
        return tuple(ids)


@dataclass(frozen=True)
class PromotionPolicy:
    """A registered model's policy: rules per target, and which aliases are protected (alias
    -> target: the alias may only point at a version approved for that target)."""

    targets: Mapping[str, TargetRules] = field(default_factory=dict)
    protected_aliases: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "targets", dict(self.targets))
        object.__setattr__(self, "protected_aliases", dict(self.protected_aliases))
        for target, rules in self.targets.items():
            validate_key(target, "target")
            if not isinstance(rules, TargetRules):
                raise InvalidArgument(f"rules for target {target!r} must be TargetRules")
        for alias, target in self.protected_aliases.items():
            validate_key(alias, "alias")
            validate_key(target, "target")

    def to_dict(self) -> dict[str, Any]:
        return {
            "targets": {
                target: {
                    "metric_gates": [
                        {
                            "metric": g.metric,
                            "op": g.op,
                            "threshold": g.threshold,
                            "relative_to_alias": g.relative_to_alias,
                            "margin": g.margin,
                        }
                        for g in rules.metric_gates
                    ],
                    "required_fields": list(rules.required_fields),
                    "required_approvals": rules.required_approvals,
                    "approvers": list(rules.approvers),
                }
                for target, rules in sorted(self.targets.items())
            },
            "protected_aliases": dict(sorted(self.protected_aliases.items())),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PromotionPolicy:
        """The policy :meth:`to_dict` produced (also accepts hand-written YAML/JSON of the same
        shape); InvalidArgument for anything malformed."""
        try:
            targets = {
                str(target): TargetRules(
                    metric_gates=[MetricGate(**gate) for gate in rules.get("metric_gates", [])],
                    required_fields=list(rules.get("required_fields", [])),
                    required_approvals=rules.get("required_approvals", 0),
                    approvers=list(rules.get("approvers", [])),
                )
                for target, rules in dict(data.get("targets", {})).items()
            }
            return cls(targets, dict(data.get("protected_aliases", {})))
        except (TypeError, AttributeError, ValueError) as error:
            raise InvalidArgument(f"malformed promotion policy: {error}") from None
