"""A promotion policy may name approvers by role (``role:manager``): whoever holds that role on
the registered model may decide, on both transports."""

from __future__ import annotations

import pytest

from keel import Keel
from keel.auth import ResourceKind, Role
from keel.errors import InvalidArgument, PermissionDenied
from keel.registry import ApprovalState, PromotionPolicy, TargetRules
from tests.registry.test_workflow import train_and_register

PASSWORD = "correct horse battery staple"


def test_role_approvers_admit_the_models_managers_only(keel_client: Keel) -> None:
    c = keel_client
    for name in ("alice", "bob", "erin"):
        c.auth.create_account(name, password=PASSWORD, actor="setup")
    c.registry.create_registered_model("churn", actor="alice")
    c.auth.grant("erin", ResourceKind.REGISTERED_MODEL, "churn", Role.MANAGER, actor="alice")
    c.approvals.set_policy("churn", PromotionPolicy(targets={"production": TargetRules(
        required_approvals=1, approvers=["role:manager"])}), actor="alice")
    version, _ = train_and_register(c, auc=0.9)
    c.approvals.request_approval("churn", version, "production", actor="alice")
    with pytest.raises(PermissionDenied, match="role:manager"):
        c.approvals.approve("churn", version, "production", actor="bob")  # default: reader
    with pytest.raises(PermissionDenied):
        c.approvals.approve("churn", version, "production", actor="nobody-with-an-account")
    approved = c.approvals.approve("churn", version, "production", actor="erin")
    assert approved.state is ApprovalState.APPROVED


def test_unknown_approver_roles_are_refused() -> None:
    with pytest.raises(InvalidArgument, match="unknown approver role"):
        TargetRules(required_approvals=1, approvers=["role:boss"])
