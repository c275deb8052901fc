"""Registry value objects: validation, policies as data, JSON forms."""

from __future__ import annotations

import math

import pytest

from keel.errors import InvalidArgument
from keel.registry import (
    APPROVAL_TRANSITIONS,
    ApprovalState,
    AuditContext,
    CardFields,
    MetricGate,
    PromotionPolicy,
    TargetRules,
)
from keel.registry._json import json_safe


def _policy() -> PromotionPolicy:
    return PromotionPolicy(
        targets={
            "production": TargetRules(
                metric_gates=[
                    MetricGate("auc", ">=", threshold=0.8),
                    MetricGate("auc", ">=", relative_to_alias="champion", margin=-0.005),
                ],
                required_fields=["signature", "dataset_lineage", "card.intended_use"],
                required_approvals=2,
                approvers=["carol", "dave"],
            ),
            "staging": TargetRules(),
        },
        protected_aliases={"prod": "production"},
    )


def test_policies_round_trip_through_their_dict_form() -> None:
    data = _policy().to_dict()
    assert PromotionPolicy.from_dict(data) == _policy()
    assert data["targets"]["production"]["metric_gates"][1] == {
        "metric": "auc", "op": ">=", "threshold": None, "relative_to_alias": "champion",
        "margin": -0.005,
    }


@pytest.mark.parametrize(
    "data",
    [
        {"targets": {"p": {"metric_gates": [{"metric": "auc"}]}}},
        {"targets": {"p": {"metric_gates": [{"metric": "auc", "op": ">=", "bogus": 1}]}}},
        {"targets": {"p": {"required_fields": ["no-such-field"]}}},
        {"targets": {"p": {"required_approvals": -1}}},
        {"targets": {"p": {"required_approvals": True}}},
        {"targets": ["not", "a", "mapping"]},
        {"protected_aliases": {"prod": ""}},
    ],
)
def test_malformed_policies_are_invalid_arguments(data: dict[str, object]) -> None:
    with pytest.raises(InvalidArgument):
        PromotionPolicy.from_dict(data)


def test_metric_gates_validate_and_have_stable_ids() -> None:
    with pytest.raises(InvalidArgument):
        MetricGate("auc", "~", threshold=1.0)
    with pytest.raises(InvalidArgument):
        MetricGate("auc", ">=", threshold=1.0, relative_to_alias="champion")
    with pytest.raises(InvalidArgument):
        MetricGate("auc", ">=", threshold=math.nan)
    assert MetricGate("auc", ">=", threshold=0.8).gate_id == "metric:auc>=0.8"
    relative = MetricGate("auc", ">=", relative_to_alias="champion", margin=-0.005)
    assert relative.gate_id == "metric:auc>=@champion-0.005"
    assert MetricGate("loss", "<", relative_to_alias="prod").gate_id == "metric:loss<@prod"
    assert _policy().targets["production"].gate_ids == (
        "metric:auc>=0.8", "metric:auc>=@champion-0.005", "field:signature",
        "field:dataset_lineage", "field:card.intended_use", "approvals:2",
    )


def test_the_approval_state_machine() -> None:
    pending = APPROVAL_TRANSITIONS[ApprovalState.PENDING]
    assert pending == {ApprovalState.APPROVED, ApprovalState.REJECTED}
    assert APPROVAL_TRANSITIONS[ApprovalState.NONE] == {ApprovalState.PENDING}
    assert APPROVAL_TRANSITIONS[ApprovalState.APPROVED] == {ApprovalState.REVOKED}


def test_audit_context_needs_an_actor_and_stamps_the_time() -> None:
    with pytest.raises(InvalidArgument):
        AuditContext("")
    context = AuditContext("alice")
    assert context.reason is None and context.at > 1_600_000_000_000


def test_card_overlay_takes_the_overrides_set() -> None:
    base = CardFields(intended_use="scoring", limitations="EU")
    assert base.overlay(CardFields(limitations="EU+UK")) == CardFields(
        intended_use="scoring", limitations="EU+UK")
    assert base.overlay(CardFields()) == base


def test_json_safe_turns_values_into_plain_json() -> None:
    assert json_safe({"a": (1, math.inf, -math.inf, math.nan), "s": ApprovalState.PENDING}) == {
        "a": [1, "Infinity", "-Infinity", "NaN"], "s": "pending"}
    with pytest.raises(TypeError):
        json_safe({"x": object()})
