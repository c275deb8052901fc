"""The registry end to end through a client: register from a logged model, gates, approvals,
separation of duties, protected aliases, loading by alias, and the audit trail; on both
transports (embedded, and through a keel server)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from keel import Keel
from keel.errors import NotApproved, PermissionDenied
from keel.registry import ApprovalState, MetricGate, PromotionPolicy, TargetRules


def train_and_register(client: Keel, auc: float, seed: int = 0) -> tuple[int, LogisticRegression]:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"a": rng.normal(size=200), "b": rng.normal(size=200)})
    target = (frame.a + frame.b > 0).astype(int)
    model = LogisticRegression().fit(frame, target)
    run = client.create_run("churn-training", capture=False)
    client.datasets.log_dataset(frame, name="churn-train", run_id=run.run_id)
    client.runs.log_metric(run.run_id, "auc", auc)
    info = client.log_model(run.run_id, model, "model", input_example=frame.head(5))
    client.runs.end_run(run.run_id)
    version = client.registry.register_model(info.uri, "churn", actor="alice")
    return version.version, model


def policy(approvals: int = 1, approvers: tuple[str, ...] = ()) -> PromotionPolicy:
    return PromotionPolicy(
        targets={
            "production": TargetRules(
                metric_gates=[
                    MetricGate("auc", ">=", threshold=0.7),
                    MetricGate("auc", ">=", relative_to_alias="prod", margin=-0.005),
                ],
                required_fields=["signature", "dataset_lineage"],
                required_approvals=approvals,
                approvers=approvers,
            )
        },
        protected_aliases={"prod": "production"},
    )


def test_a_registered_version_records_where_it_came_from(keel_any: Keel) -> None:
    number, _ = train_and_register(keel_any, auc=0.9)
    version = keel_any.registry.get_model_version("churn", number)
    assert number == 1 and version.run_id is not None
    assert version.model_digest and version.flavor == "sklearn"
    assert version.signature is not None
    assert len(version.dataset_version_ids) == 1
    assert version.metrics == {"auc": 0.9}
    assert version.source == f"runs:/{version.run_id}/model"


def test_approval_workflow_with_gates_separation_of_duties_and_a_protected_alias(
    keel_any: Keel,
) -> None:
    c = keel_any
    c.registry.create_registered_model("churn", actor="alice")
    c.approvals.set_policy("churn", policy(), actor="alice")
    v1, model = train_and_register(c, auc=0.90, seed=1)

    with pytest.raises(NotApproved) as refused:
        c.registry.set_alias("churn", "prod", v1, actor="alice")
    assert any("approval:production" in u for u in refused.value.details["unmet"])

    c.approvals.request_approval("churn", v1, "production", actor="alice")
    with pytest.raises(PermissionDenied, match="separation of duties"):
        c.approvals.approve("churn", v1, "production", actor="alice")
    approved = c.approvals.approve("churn", v1, "production", actor="bob", reason="looks good")
    assert approved.state is ApprovalState.APPROVED and approved.approved_by == ("bob",)
    c.registry.set_alias("churn", "prod", v1, actor="alice")

    # A worse candidate fails the gate relative to the version @prod holds.
    v2, _ = train_and_register(c, auc=0.80, seed=2)
    with pytest.raises(NotApproved) as worse:
        c.approvals.request_approval("churn", v2, "production", actor="alice")
    assert "metric:auc>=@prod-0.005" in worse.value.details["unmet"]
    with pytest.raises(NotApproved) as alias_refused:
        c.registry.set_alias("churn", "prod", v2, actor="alice")
    unmet = alias_refused.value.details["unmet"]
    assert any(u.startswith("metric:auc>=@prod") for u in unmet)
    assert c.registry.get_version_by_alias("churn", "prod").version == v1

    # Each gate evaluation was stored with its inputs.
    evaluations = c.approvals.gate_history("churn", v2, "production")
    relative = [e for e in evaluations if e.gate_id == "metric:auc>=@prod-0.005"]
    assert relative and not relative[-1].passed
    assert relative[-1].inputs["alias_version"] == v1

    # Loading by alias gives the approved model's predictions.
    frame = pd.DataFrame({"a": [0.5, -1.0], "b": [0.1, 0.3]})
    loaded = c.load_model("models:/churn@prod")
    np.testing.assert_array_equal(loaded.predict(frame), model.predict(frame))

    report = c.audit.verify_audit_chain()
    assert report.ok
    actions = [r.action for r in c.audit.list_audit_records()]
    assert "approval.requested" in actions and "approval.decided" in actions
    assert actions.count("alias.set") == 1


def test_only_named_approvers_may_decide(keel_any: Keel) -> None:
    c = keel_any
    c.registry.create_registered_model("churn", actor="alice")
    c.approvals.set_policy("churn", policy(approvers=("bob",)), actor="alice")
    v1, _ = train_and_register(c, auc=0.9)
    c.approvals.request_approval("churn", v1, "production", actor="alice")
    with pytest.raises(PermissionDenied, match="approvers: bob"):
        c.approvals.approve("churn", v1, "production", actor="carol")
    assert c.approvals.get_approval("churn", v1, "production").state is ApprovalState.PENDING


def test_two_required_approvals_need_two_different_people(keel_any: Keel) -> None:
    c = keel_any
    c.registry.create_registered_model("churn", actor="alice")
    c.approvals.set_policy("churn", policy(approvals=2), actor="alice")
    v1, _ = train_and_register(c, auc=0.9)
    c.approvals.request_approval("churn", v1, "production", actor="alice")
    assert c.approvals.approve("churn", v1, "production", actor="bob").state is (
        ApprovalState.PENDING
    )
    assert c.approvals.approve("churn", v1, "production", actor="dan").state is (
        ApprovalState.APPROVED
    )


def test_a_target_without_human_approvals_is_approved_by_the_policy(keel_any: Keel) -> None:
    c = keel_any
    c.registry.create_registered_model("churn", actor="alice")
    c.approvals.set_policy("churn", policy(approvals=0), actor="alice")
    v1, _ = train_and_register(c, auc=0.9)
    approval = c.approvals.request_approval("churn", v1, "production", actor="alice")
    assert approval.state is ApprovalState.APPROVED
    assert approval.approved_by == ("keel-policy",)
    c.registry.set_alias("churn", "prod", v1, actor="alice")
