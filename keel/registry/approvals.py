"""Promotion policies, gate evaluation and the approval workflow.

A model's policy names, per target (``staging``, ``production``, ...), metric gates (absolute, or
relative to the version an alias holds), required fields, and how many people must approve (and
who may). The flow:

1. ``request_approval`` evaluates the automatic gates (metrics, fields), stores every outcome,
   and refuses with NotApproved listing the failures; otherwise the approval becomes PENDING.
   With no human approvals required, the policy itself approves (as ``keel-policy``).
2. ``approve`` / ``reject`` by someone allowed by the policy and never the requester (separation
   of duties, enforced here and again by the store); the gates are evaluated again at decision
   time, since the version an alias holds may have moved.
3. A protected alias only takes an APPROVED version; a refusal lists every unmet gate.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Sequence
from typing import Any

from keel.errors import AliasNotFound, NotApproved, PermissionDenied
from keel.registry._policy import ROLE_PREFIX, ROLES
from keel.registry.models import (
    Approval,
    ApprovalState,
    AuditContext,
    DecisionKind,
    GateEvaluation,
    GateResult,
    MetricGate,
    ModelVersion,
    PromotionPolicy,
    TargetRules,
)
from keel.registry.registry import RegistryService
from keel.registry.store import RegistryStore

POLICY_ACTOR = "keel-policy"
"""Who approves when a target requires no human approval and every automatic gate passes."""

_OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
    "==": operator.eq,
    "!=": operator.ne,
}


RoleOf = Callable[[str, str], str | None]
"""(actor, registered model name) -> the actor's role on that model ('reader', 'editor',
'manager'), or None. keel's composition root supplies it from the accounts and grants."""


class ApprovalService:
    def __init__(
        self, store: RegistryStore, registry: RegistryService, *, role_of: RoleOf | None = None
    ) -> None:
        self._store = store
        self._registry = registry
        self._role_of = role_of
        registry.bind_approvals(self)

    # -- policies -------------------------------------------------------------------------

    def set_policy(
        self, name: str, policy: PromotionPolicy, *, actor: str | None = None,
        reason: str | None = None,
    ) -> PromotionPolicy:
        return self._store.approvals.set_policy(name, policy, self._registry.ctx(actor, reason))

    def get_policy(self, name: str) -> PromotionPolicy | None:
        return self._store.approvals.find_policy(name)

    def rules(self, name: str, target: str) -> TargetRules:
        """The target's rules; a target the policy does not name needs one human approval."""
        policy = self._store.approvals.find_policy(name)
        if policy is None or target not in policy.targets:
            return TargetRules(required_approvals=1)
        return policy.targets[target]

    # -- gates ----------------------------------------------------------------------------

    def evaluate_gates(
        self, name: str, version: int, target: str, *, actor: str | None = None,
        store: bool = True,
    ) -> list[GateResult]:
        """Every automatic gate of the target (metrics, required fields) for this version,
        stored with its inputs unless ``store`` is False."""
        mv = self._registry.get_model_version(name, version)
        rules = self.rules(name, target)
        results = [self._metric_gate(mv, gate) for gate in rules.metric_gates]
        results += [self._field_gate(mv, field) for field in rules.required_fields]
        if store and results:
            self._store.approvals.log_gate_evaluations(
                name, version, target, results, self._registry.ctx(actor)
            )
        return results

    def gate_history(self, name: str, version: int, target: str | None = None) -> (
        list[GateEvaluation]
    ):
        return self._store.approvals.list_gate_evaluations(name, version, target)

    def unmet_gates(self, name: str, version: int, target: str) -> list[str]:
        """What stands between this version and approval for ``target``, in words."""
        unmet = [
            f"{r.gate_id}: {r.message}"
            for r in self.evaluate_gates(name, version, target, store=False)
            if not r.passed
        ]
        approval = self._store.approvals.get_approval(name, version, target)
        if approval.state is not ApprovalState.APPROVED:
            needed = self.rules(name, target).required_approvals
            unmet.append(
                f"approval:{target}: state is {approval.state.value}"
                + (f", {len(approval.approved_by)} of {needed} approvals" if needed else "")
            )
        return unmet

    def _metric_gate(self, mv: ModelVersion, gate: MetricGate) -> GateResult:
        value = mv.metrics.get(gate.metric)
        inputs: dict[str, Any] = {"metric": gate.metric, "value": _json_number(value)}
        if value is None or math.isnan(value):
            return GateResult(gate.gate_id, False, inputs, f"version has no {gate.metric} value")
        if gate.relative_to_alias is None:
            assert gate.threshold is not None
            bound = gate.threshold
            described = f"{gate.threshold:g}"
        else:
            try:
                holder = self._registry.get_version_by_alias(mv.name, gate.relative_to_alias)
            except AliasNotFound:
                inputs["alias"] = gate.relative_to_alias
                return GateResult(
                    gate.gate_id, True, inputs,
                    f"no version holds @{gate.relative_to_alias}; nothing to compare against",
                )
            other = holder.metrics.get(gate.metric)
            inputs.update(alias=gate.relative_to_alias, alias_version=holder.version,
                          alias_value=_json_number(other), margin=gate.margin)
            if other is None or math.isnan(other):
                return GateResult(
                    gate.gate_id, False, inputs,
                    f"@{gate.relative_to_alias} (v{holder.version}) has no {gate.metric} value",
                )
            bound = other + gate.margin
            described = f"@{gate.relative_to_alias} v{holder.version}'s {other:g}" + (
                f" {'+' if gate.margin >= 0 else '-'} {abs(gate.margin):g}" if gate.margin else ""
            )
        inputs["bound"] = bound
        passed = _OPS[gate.op](value, bound)
        verdict = "passes" if passed else "fails"
        return GateResult(
            gate.gate_id, passed, inputs,
            f"{gate.metric} = {value:g} {verdict} {gate.op} {described}",
        )

    def _field_gate(self, mv: ModelVersion, field: str) -> GateResult:
        present: bool
        if field.startswith("card."):
            card = self._registry.card_fields(mv.name, mv.version)
            text = getattr(card, field.removeprefix("card."))
            present = bool(text and text.strip())
        else:
            value = {
                "signature": mv.signature,
                "dataset_lineage": mv.dataset_version_ids,
                "code_commit": mv.code_commit,
                "model_digest": mv.model_digest,
                "run": mv.run_id,
                "description": mv.description,
            }[field]
            present = bool(value)
        message = f"{field} is present" if present else f"{field} is missing"
        return GateResult(f"field:{field}", present, {"field": field, "present": present},
                          message)

    # -- the workflow ---------------------------------------------------------------------

    def request_approval(
        self, name: str, version: int, target: str, *, actor: str | None = None,
        reason: str | None = None,
    ) -> Approval:
        results = self.evaluate_gates(name, version, target, actor=actor)
        failed = [r for r in results if not r.passed]
        if failed:
            raise NotApproved(
                f"{name} v{version} cannot be put up for {target}: "
                + "; ".join(f"{r.gate_id}: {r.message}" for r in failed),
                details={"name": name, "version": version, "target": target,
                         "unmet": [r.gate_id for r in failed]},
            )
        approval = self._store.approvals.request_approval(
            name, version, target, self._registry.ctx(actor, reason)
        )
        if self.rules(name, target).required_approvals == 0:
            approval = self._store.approvals.decide_approval(
                name, version, target, DecisionKind.APPROVE,
                AuditContext(POLICY_ACTOR, "every gate passed; no human approval required"),
            )
        return approval

    def approve(
        self, name: str, version: int, target: str, *, actor: str | None = None,
        reason: str | None = None,
    ) -> Approval:
        return self._decide(name, version, target, DecisionKind.APPROVE, actor, reason)

    def reject(
        self, name: str, version: int, target: str, *, actor: str | None = None,
        reason: str | None = None,
    ) -> Approval:
        return self._decide(name, version, target, DecisionKind.REJECT, actor, reason)

    def revoke(
        self, name: str, version: int, target: str, *, actor: str | None = None,
        reason: str | None = None,
    ) -> Approval:
        ctx = self._registry.ctx(actor, reason)
        self._check_approver(name, target, ctx.actor)
        return self._store.approvals.revoke_approval(name, version, target, ctx)

    def get_approval(self, name: str, version: int, target: str) -> Approval:
        return self._store.approvals.get_approval(name, version, target)

    def list_approvals(
        self, name: str, version: int | None = None, *, state: ApprovalState | None = None
    ) -> list[Approval]:
        return self._store.approvals.list_approvals(name, version, state=state)

    def require_approved(self, name: str, version: int, target: str, *, for_alias: str) -> None:
        """NotApproved, listing every unmet gate, unless the version is approved for target."""
        approval = self._store.approvals.get_approval(name, version, target)
        if approval.state is ApprovalState.APPROVED:
            return
        unmet = self.unmet_gates(name, version, target)
        raise NotApproved(
            f"@{for_alias} is protected: it only takes a version approved for {target}, and "
            f"{name} v{version} is not. Unmet: " + "; ".join(unmet),
            details={"name": name, "version": version, "target": target, "alias": for_alias,
                     "state": approval.state.value, "unmet": unmet},
        )

    def _decide(
        self, name: str, version: int, target: str, decision: DecisionKind,
        actor: str | None, reason: str | None,
    ) -> Approval:
        ctx = self._registry.ctx(actor, reason)
        self._check_approver(name, target, ctx.actor)
        current = self._store.approvals.get_approval(name, version, target)
        if current.requested_by == ctx.actor:
            raise PermissionDenied(
                f"{ctx.actor} requested this approval and cannot decide on it "
                "(separation of duties)",
                details={"name": name, "version": version, "target": target},
            )
        if decision is DecisionKind.APPROVE:
            failed = [r for r in self.evaluate_gates(name, version, target, actor=ctx.actor)
                      if not r.passed]
            if failed:
                raise NotApproved(
                    f"{name} v{version} no longer passes its gates for {target}: "
                    + "; ".join(f"{r.gate_id}: {r.message}" for r in failed),
                    details={"unmet": [r.gate_id for r in failed]},
                )
        rules = self.rules(name, target)
        return self._store.approvals.decide_approval(
            name, version, target, decision, ctx,
            required_approvals=max(rules.required_approvals, 1),
            allowed_approvers=self._effective_approvers(rules.approvers, name, ctx.actor),
        )

    def _check_approver(self, name: str, target: str, actor: str) -> None:
        approvers: Sequence[str] = self.rules(name, target).approvers
        if approvers and actor not in approvers and not self._holds_role(actor, name, approvers):
            raise PermissionDenied(
                f"{actor} may not decide approvals of {name} for {target}; approvers: "
                + ", ".join(approvers),
                details={"name": name, "target": target, "actor": actor},
            )


    def _effective_approvers(self, approvers: Sequence[str], name: str,
                             actor: str) -> list[str] | None:
        """The people the store should accept: the named approvers, plus the actor when a
        ``role:`` entry admits them (the store knows names, not roles)."""
        if not approvers:
            return None
        named = [a for a in approvers if not a.startswith(ROLE_PREFIX)]
        if actor not in named and self._holds_role(actor, name, approvers):
            named.append(actor)
        return named

    def _holds_role(self, actor: str, name: str, approvers: Sequence[str]) -> bool:
        """True when an approver entry ``role:<r>`` admits the actor's role on the model."""
        wanted = [a[len(ROLE_PREFIX):] for a in approvers if a.startswith(ROLE_PREFIX)]
        if not wanted or self._role_of is None:
            return False
        held = self._role_of(actor, name)
        if held is None:
            return False
        return any(ROLES.index(held) >= ROLES.index(role) for role in wanted)


def _json_number(value: float | None) -> float | str | None:
    if value is None:
        return None
    if math.isnan(value) or math.isinf(value):
        return str(value)
    return value
