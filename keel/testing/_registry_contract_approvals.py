"""Contract: the ApprovalStore port (state machine, separation of duties, policies, gate
evaluations) and approval-guarded alias moves."""

from __future__ import annotations

import pytest

from keel.errors import (
    Conflict,
    InvalidArgument,
    ModelVersionNotFound,
    NotApproved,
    NotFound,
    PermissionDenied,
    RegisteredModelNotFound,
)
from keel.registry.models import (
    ApprovalState,
    DecisionKind,
    EntityType,
    EventType,
    GateResult,
    MetricGate,
    PromotionPolicy,
    TargetRules,
)
from keel.registry.store import RegistryStore
from keel.testing._registry_contract_base import (
    RegistryContractBase,
    audit_head,
    ctx,
    new_model,
    new_version,
    only_record,
    unique_name,
)

APPROVE, REJECT = DecisionKind.APPROVE, DecisionKind.REJECT


def _model_with_version(registry: RegistryStore) -> str:
    name = new_model(registry).name
    new_version(registry, name)
    return name


def _policy() -> PromotionPolicy:
    return PromotionPolicy(
        targets={
            "production": TargetRules(
                metric_gates=[
                    MetricGate("auc", ">=", threshold=0.8),
                    MetricGate("auc", ">=", relative_to_alias="champion", margin=-0.005),
                ],
                required_fields=["signature", "dataset_lineage"],
                required_approvals=2,
                approvers=["carol", "dave", "erin"],
            )
        },
        protected_aliases={"prod": "production"},
    )


class ApprovalContract(RegistryContractBase):
    def test_a_version_never_asked_about_has_state_none(self, registry: RegistryStore) -> None:
        name = _model_with_version(registry)
        approval = registry.approvals.get_approval(name, 1, "production")
        assert (approval.state, approval.round, approval.requested_by) == (
            ApprovalState.NONE, 0, None)
        assert approval.decisions == ()
        assert registry.approvals.list_approvals(name) == []
        with pytest.raises(ModelVersionNotFound):
            registry.approvals.get_approval(name, 2, "production")

    def test_request_then_approve(self, registry: RegistryStore) -> None:
        name = _model_with_version(registry)
        requested = registry.approvals.request_approval(
            name, 1, "production", ctx("alice", "ready", 100))
        assert (requested.state, requested.round) == (ApprovalState.PENDING, 1)
        assert (requested.requested_by, requested.requested_at, requested.request_reason) == (
            "alice", 100, "ready")
        approved = registry.approvals.decide_approval(name, 1, "production", APPROVE,
                                                      ctx("bob", "lgtm", 200))
        assert approved.state is ApprovalState.APPROVED and approved.approved_by == ("bob",)
        (decision,) = approved.decisions
        assert (decision.actor, decision.decision, decision.at, decision.reason,
                decision.round) == ("bob", APPROVE, 200, "lgtm", 1)
        assert registry.approvals.get_approval(name, 1, "production") == approved
        assert registry.approvals.get_approval(name, 1, "staging").state is ApprovalState.NONE

    def test_the_requester_can_never_decide(self, registry: RegistryStore) -> None:
        name = _model_with_version(registry)
        registry.approvals.request_approval(name, 1, "production", ctx("alice"))
        head = audit_head(registry)
        for decision in (APPROVE, REJECT):
            with pytest.raises(PermissionDenied):
                registry.approvals.decide_approval(name, 1, "production", decision,
                                                   ctx("alice"))
        assert audit_head(registry) == head
        assert registry.approvals.get_approval(name, 1, "production").state is (
            ApprovalState.PENDING)

    def test_only_allowed_approvers_may_decide_when_named(self, registry: RegistryStore) -> None:
        name = _model_with_version(registry)
        registry.approvals.request_approval(name, 1, "production", ctx("alice"))
        with pytest.raises(PermissionDenied) as caught:
            registry.approvals.decide_approval(name, 1, "production", APPROVE, ctx("mallory"),
                                               allowed_approvers=["carol", "dave"])
        assert caught.value.details["approvers"] == ["carol", "dave"]
        with pytest.raises(PermissionDenied):  # the requester, even when listed
            registry.approvals.decide_approval(name, 1, "production", APPROVE, ctx("alice"),
                                               allowed_approvers=["alice", "carol"])
        approved = registry.approvals.decide_approval(
            name, 1, "production", APPROVE, ctx("carol"), allowed_approvers=["carol", "dave"])
        assert approved.state is ApprovalState.APPROVED

    def test_several_approvals_are_needed_when_required(self, registry: RegistryStore) -> None:
        name = _model_with_version(registry)
        registry.approvals.request_approval(name, 1, "production", ctx("alice"))
        one = registry.approvals.decide_approval(name, 1, "production", APPROVE, ctx("bob"),
                                                 required_approvals=2)
        assert one.state is ApprovalState.PENDING
        with pytest.raises(Conflict):  # one person, one decision per round
            registry.approvals.decide_approval(name, 1, "production", APPROVE, ctx("bob"),
                                               required_approvals=2)
        two = registry.approvals.decide_approval(name, 1, "production", APPROVE, ctx("carol"),
                                                 required_approvals=2)
        assert two.state is ApprovalState.APPROVED and two.approved_by == ("bob", "carol")

    def test_reject_ends_the_round_and_a_new_request_starts_another(
        self, registry: RegistryStore
    ) -> None:
        name = _model_with_version(registry)
        registry.approvals.request_approval(name, 1, "production", ctx("alice"))
        rejected = registry.approvals.decide_approval(name, 1, "production", REJECT, ctx("bob"))
        assert rejected.state is ApprovalState.REJECTED
        with pytest.raises(Conflict):
            registry.approvals.decide_approval(name, 1, "production", APPROVE, ctx("carol"))
        again = registry.approvals.request_approval(name, 1, "production", ctx("alice"))
        assert (again.state, again.round, again.decisions) == (ApprovalState.PENDING, 2, ())
        approved = registry.approvals.decide_approval(name, 1, "production", APPROVE,
                                                      ctx("bob"))
        assert approved.state is ApprovalState.APPROVED and approved.round == 2

    def test_only_approved_can_be_revoked_and_revoked_can_be_requested_again(
        self, registry: RegistryStore
    ) -> None:
        name = _model_with_version(registry)
        with pytest.raises(Conflict):
            registry.approvals.revoke_approval(name, 1, "production", ctx("bob"))
        registry.approvals.request_approval(name, 1, "production", ctx("alice"))
        with pytest.raises(Conflict):
            registry.approvals.revoke_approval(name, 1, "production", ctx("bob"))
        registry.approvals.decide_approval(name, 1, "production", APPROVE, ctx("bob"))
        revoked = registry.approvals.revoke_approval(name, 1, "production",
                                                     ctx("carol", "incident"))
        assert revoked.state is ApprovalState.REVOKED
        assert [(d.actor, d.decision) for d in revoked.decisions] == [
            ("bob", APPROVE), ("carol", DecisionKind.REVOKE)]
        with pytest.raises(Conflict):
            registry.approvals.revoke_approval(name, 1, "production", ctx("carol"))
        assert registry.approvals.request_approval(name, 1, "production",
                                                   ctx("alice")).round == 2

    def test_invalid_transitions_are_conflicts(self, registry: RegistryStore) -> None:
        name = _model_with_version(registry)
        with pytest.raises(Conflict):  # none -> approved
            registry.approvals.decide_approval(name, 1, "production", APPROVE, ctx("bob"))
        registry.approvals.request_approval(name, 1, "production", ctx("alice"))
        with pytest.raises(Conflict) as caught:  # pending -> pending
            registry.approvals.request_approval(name, 1, "production", ctx("alice"))
        assert caught.value.details["state"] == "pending"
        registry.approvals.decide_approval(name, 1, "production", APPROVE, ctx("bob"))
        with pytest.raises(Conflict):  # approved -> pending
            registry.approvals.request_approval(name, 1, "production", ctx("alice"))
        with pytest.raises(Conflict):  # approved -> rejected
            registry.approvals.decide_approval(name, 1, "production", REJECT, ctx("carol"))
        with pytest.raises(InvalidArgument):
            registry.approvals.decide_approval(name, 1, "production", DecisionKind.REVOKE,
                                               ctx("carol"))
        with pytest.raises(InvalidArgument):
            registry.approvals.decide_approval(name, 1, "production", APPROVE, ctx("carol"),
                                               required_approvals=0)

    def test_approval_changes_are_audited_with_before_and_after(
        self, registry: RegistryStore
    ) -> None:
        model = new_model(registry)
        new_version(registry, model.name)
        head = audit_head(registry)
        registry.approvals.request_approval(model.name, 1, "production", ctx("alice"))
        request = only_record(registry, head)
        assert request.action == EventType.APPROVAL_REQUESTED
        assert request.entity_type == EntityType.APPROVAL
        assert request.entity_id == f"{model.model_id}/1/production"
        assert (request.before["state"], request.after["state"]) == ("none", "pending")
        registry.approvals.decide_approval(model.name, 1, "production", APPROVE, ctx("bob"))
        decided = only_record(registry, head + 1)
        assert decided.action == EventType.APPROVAL_DECIDED
        assert (decided.before["state"], decided.after["state"]) == ("pending", "approved")
        assert decided.after["decisions"][0]["actor"] == "bob"

    def test_list_approvals_by_version_and_state(self, registry: RegistryStore) -> None:
        name = _model_with_version(registry)
        new_version(registry, name)
        registry.approvals.request_approval(name, 2, "staging", ctx("alice"))
        registry.approvals.request_approval(name, 1, "production", ctx("alice"))
        registry.approvals.request_approval(name, 1, "staging", ctx("alice"))
        registry.approvals.decide_approval(name, 1, "staging", APPROVE, ctx("bob"))
        every = registry.approvals.list_approvals(name)
        assert [(a.version, a.target) for a in every] == [
            (1, "production"), (1, "staging"), (2, "staging")]
        assert [a.target for a in registry.approvals.list_approvals(name, 1)] == [
            "production", "staging"]
        approved = registry.approvals.list_approvals(name, state=ApprovalState.APPROVED)
        assert [(a.version, a.target) for a in approved] == [(1, "staging")]


class PolicyContract(RegistryContractBase):
    def test_set_find_replace_and_delete_a_policy(self, registry: RegistryStore) -> None:
        model = new_model(registry)
        assert registry.approvals.find_policy(model.name) is None
        head = audit_head(registry)
        stored = registry.approvals.set_policy(model.name, _policy(), ctx("alice"))
        assert stored == _policy() and registry.approvals.find_policy(model.name) == _policy()
        record = only_record(registry, head)
        assert record.action == EventType.POLICY_SET and record.before is None
        assert record.after == _policy().to_dict() and record.entity_id == model.model_id
        simpler = PromotionPolicy({"staging": TargetRules(required_approvals=1)})
        registry.approvals.set_policy(model.name, simpler, ctx())
        replaced = only_record(registry, head + 1)
        assert (replaced.before, replaced.after) == (_policy().to_dict(), simpler.to_dict())
        registry.approvals.delete_policy(model.name, ctx())
        assert registry.approvals.find_policy(model.name) is None
        with pytest.raises(NotFound):
            registry.approvals.delete_policy(model.name, ctx())
        with pytest.raises(RegisteredModelNotFound):
            registry.approvals.find_policy(unique_name())

    def test_gate_evaluations_are_stored_with_inputs_in_order(
        self, registry: RegistryStore
    ) -> None:
        model = new_model(registry)
        new_version(registry, model.name)
        results = [
            GateResult("metric:auc>=0.8", True, {"auc": 0.91, "threshold": 0.8}, "0.91 >= 0.8"),
            GateResult("field:signature", False, {"signature": None}, "no signature"),
        ]
        head = audit_head(registry)
        stored = registry.approvals.log_gate_evaluations(model.name, 1, "production", results,
                                                         ctx("keel-policy", at=42))
        assert [(e.gate_id, e.passed, dict(e.inputs), e.message) for e in stored] == [
            (r.gate_id, r.passed, dict(r.inputs), r.message) for r in results]
        assert {(e.at, e.evaluated_by, e.target, e.version) for e in stored} == {
            (42, "keel-policy", "production", 1)}
        record = only_record(registry, head)
        assert record.action == EventType.GATES_EVALUATED
        assert [e["gate_id"] for e in record.after] == [r.gate_id for r in results]
        registry.approvals.log_gate_evaluations(
            model.name, 1, "staging", [GateResult("approvals:1", True, {}, "ok")], ctx())
        assert registry.approvals.list_gate_evaluations(model.name, 1, "production") == stored
        assert len(registry.approvals.list_gate_evaluations(model.name, 1)) == 3
        with pytest.raises(InvalidArgument):
            registry.approvals.log_gate_evaluations(model.name, 1, "production", [], ctx())
        with pytest.raises(InvalidArgument):
            registry.approvals.log_gate_evaluations(
                model.name, 1, "production", [GateResult("g", True, {"x": object()}, "")], ctx())
        with pytest.raises(ModelVersionNotFound):
            registry.approvals.log_gate_evaluations(model.name, 2, "production", results, ctx())


class ProtectedAliasContract(RegistryContractBase):
    def test_require_approved_for_refuses_an_unapproved_version(
        self, registry: RegistryStore
    ) -> None:
        name = _model_with_version(registry)
        head = audit_head(registry)
        with pytest.raises(NotApproved) as caught:
            registry.versions.set_alias(name, "prod", 1, ctx(),
                                        require_approved_for="production")
        assert caught.value.details["state"] == "none"
        assert caught.value.details["target"] == "production"
        assert audit_head(registry) == head
        registry.approvals.request_approval(name, 1, "production", ctx("alice"))
        with pytest.raises(NotApproved):
            registry.versions.set_alias(name, "prod", 1, ctx(),
                                        require_approved_for="production")
        registry.approvals.decide_approval(name, 1, "production", APPROVE, ctx("bob"))
        move = registry.versions.set_alias(name, "prod", 1, ctx(),
                                           require_approved_for="production")
        assert move.to_version == 1

    def test_the_stored_policy_protects_aliases_by_itself(self, registry: RegistryStore) -> None:
        name = _model_with_version(registry)
        new_version(registry, name)
        registry.approvals.set_policy(name, _policy(), ctx())
        with pytest.raises(NotApproved):
            registry.versions.set_alias(name, "prod", 1, ctx())
        registry.versions.set_alias(name, "champion", 1, ctx())  # not protected
        registry.approvals.request_approval(name, 2, "production", ctx("alice"))
        registry.approvals.decide_approval(name, 2, "production", APPROVE, ctx("bob"))
        registry.versions.set_alias(name, "prod", 2, ctx())
        registry.approvals.revoke_approval(name, 2, "production", ctx("carol"))
        with pytest.raises(NotApproved) as caught:
            registry.versions.set_alias(name, "prod", 2, ctx())
        assert caught.value.details["state"] == "revoked"
        assert registry.versions.get_version_by_alias(name, "prod").version == 2  # left alone
