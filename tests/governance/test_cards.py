"""Model cards built from a registered version: every section holds what keel recorded; on both
transports (through a server, the card is composed from the remote services)."""

from __future__ import annotations

import pytest

from keel import Keel
from keel.errors import InvalidArgument
from keel.governance import (
    HUMAN_FIELDS,
    GovernanceService,
    ModelCard,
    split_metrics,
)
from keel.registry import ApprovalState, CardFields, MetricGate, PromotionPolicy, TargetRules
from tests.governance._build import register_version


def service(client: Keel) -> GovernanceService:
    return client.governance


def governed_history(client: Keel) -> None:
    """churn v1 (auc .9) approved for production, v2 (auc .8); @champion v1 -> v2."""
    client.registry.create_registered_model("churn", description="Churn model", actor="alice")
    client.approvals.set_policy("churn", PromotionPolicy(targets={"production": TargetRules(
        metric_gates=[MetricGate("auc", ">=", threshold=0.5)], required_approvals=1,
    )}), actor="alice")
    v1 = register_version(client, auc=0.9, seed=1)
    client.approvals.request_approval("churn", v1.version, "production", actor="alice")
    client.approvals.approve("churn", v1.version, "production", actor="bob", reason="ok")
    client.registry.set_alias("churn", "champion", v1.version, actor="alice")
    v2 = register_version(client, auc=0.8, seed=2)
    client.registry.set_alias("churn", "champion", v2.version, actor="carol", reason="newer")


def test_a_card_holds_every_section_with_the_recorded_data(keel_any: Keel) -> None:
    governed_history(keel_any)
    card = service(keel_any).model_card("churn", 1)
    mv = keel_any.registry.get_model_version("churn", 1)

    d = card.details
    assert (d.name, d.version, d.owner, d.registered_by) == ("churn", 1, "alice", "alice")
    assert d.flavor == "sklearn" and d.model_digest == mv.model_digest
    assert d.description == "Churn model" and d.aliases == ()
    assert d.version_created_at == mv.created_at
    assert card.params == {"C": 0.5, "penalty": "l2"}

    by_context = {ds.context: ds for ds in card.datasets}
    assert set(by_context) == {"train", "test"}
    train = by_context["train"]
    assert (train.name, train.version, train.num_rows) == ("churn-train", 1, 200)
    assert [c.name for c in train.columns] == ["a", "b"]
    assert train.columns[0].count == 200 and train.columns[0].mean is not None
    assert by_context["test"].num_rows == 50

    assert card.metrics.overall == {"auc": 0.9}
    slices = {s.slice: dict(s.metrics) for s in card.metrics.slices}
    assert slices == {"segment=a": {"auc": pytest.approx(0.85)},
                      "segment=b": {"auc": pytest.approx(0.92)}}

    assert card.lineage.run_id == mv.run_id and card.lineage.run_name is not None
    assert set(card.lineage.dataset_version_ids) == {ds.dataset_version_id for ds in card.datasets}

    [approval] = card.approvals
    assert approval.target == "production" and approval.state is ApprovalState.APPROVED
    assert approval.requested_by == "alice"
    assert [(x.actor, x.decision.value) for x in approval.decisions] == [("bob", "approve")]
    assert card.gate_evaluations and all(g.passed for g in card.gate_evaluations)

    moves = [(m.alias, m.from_version, m.to_version, m.actor) for m in card.alias_history]
    assert moves == [("champion", None, 1, "alice"), ("champion", 1, 2, "carol")]

    history = [(r.version, dict(r.metrics), r.aliases) for r in card.performance_history]
    assert history == [(1, {"auc": 0.9}, ()), (2, {"auc": 0.8}, ("champion",))]
    assert card.performance_history[0].created_at <= card.performance_history[1].created_at

    assert card.gaps == HUMAN_FIELDS and card.decisions == () and card.notes == ()


def test_the_newest_version_is_described_when_none_is_given(keel_any: Keel) -> None:
    register_version(keel_any, auc=0.7)
    register_version(keel_any, auc=0.75, seed=3)
    card = service(keel_any).model_card("churn")
    assert card.details.version == 2 and card.details.aliases == ()


def test_gaps_are_listed_until_a_person_writes_the_fields(keel_any: Keel) -> None:
    register_version(keel_any, auc=0.9)
    governance = service(keel_any)
    assert governance.model_card("churn", 1).gaps == (
        "intended_use", "out_of_scope", "limitations", "ethical_considerations"
    )
    keel_any.registry.set_card_fields(
        "churn", CardFields(intended_use="Rank accounts by churn risk.", limitations="  "),
        actor="alice",
    )
    card = governance.model_card("churn", 1)
    assert card.human.intended_use == "Rank accounts by churn risk."
    assert card.gaps == ("out_of_scope", "limitations", "ethical_considerations")

    governance.update_card_fields("churn", {"out_of_scope": "Credit decisions.",
                                            "limitations": "Trained on 2023 data.",
                                            "ethical_considerations": "No protected features."})
    card = governance.model_card("churn", 1)
    assert card.gaps == ()
    assert card.human.intended_use == "Rank accounts by churn risk."  # kept, not replaced
    assert set(card.human_sources.values()) == {"model"}


def test_a_version_overrides_a_model_level_field(keel_any: Keel) -> None:
    register_version(keel_any, auc=0.9)
    register_version(keel_any, auc=0.8, seed=2)
    governance = service(keel_any)
    governance.update_card_fields("churn", {"intended_use": "Model-wide use.",
                                            "limitations": "Model-wide limits."})
    governance.update_card_fields("churn", {"limitations": "v2 only: small sample."}, version=2)
    governance.update_card_fields("churn", {"intended_use": "v2 use."}, version=2)

    v2 = governance.model_card("churn", 2)
    assert v2.human.intended_use == "v2 use."
    assert v2.human.limitations == "v2 only: small sample."  # earlier override kept
    assert v2.human_sources == {"intended_use": "version", "limitations": "version"}
    v1 = governance.model_card("churn", 1)
    assert (v1.human.intended_use, v1.human.limitations) == ("Model-wide use.",
                                                             "Model-wide limits.")
    assert v1.human_sources == {"intended_use": "model", "limitations": "model"}


def test_a_version_override_equal_to_the_model_value_survives_other_edits(
    keel_any: Keel,
) -> None:
    register_version(keel_any, auc=0.9)
    governance = service(keel_any)
    governance.update_card_fields("churn", {"limitations": "Small sample."})
    # The version pins the same text on purpose, so a later model-level edit can't change it.
    governance.update_card_fields("churn", {"limitations": "Small sample."}, version=1)
    governance.update_card_fields("churn", {"intended_use": "Scoring."}, version=1)
    governance.update_card_fields("churn", {"limitations": "Rewritten for the model."})

    card = governance.model_card("churn", 1)
    assert card.human.limitations == "Small sample."
    assert card.human_sources["limitations"] == "version"


def test_unknown_card_fields_are_refused(keel_any: Keel) -> None:
    register_version(keel_any, auc=0.9)
    with pytest.raises(InvalidArgument, match="unknown card field"):
        service(keel_any).update_card_fields("churn", {"purpose": "x"})


def test_a_card_shows_the_model_decisions_and_its_own_only(keel_any: Keel) -> None:
    register_version(keel_any, auc=0.9)
    register_version(keel_any, auc=0.8, seed=2)
    reg = keel_any.registry
    reg.log_decision("churn", title="Use AUC", context="c", decision="d", consequences="q",
                     author="dana")
    reg.log_decision("churn", title="Retrain v1", context="c", decision="d", consequences="q",
                     version=1)
    reg.log_decision("churn", title="Ship v2", context="c", decision="d", consequences="q",
                     version=2)
    card: ModelCard = service(keel_any).model_card("churn", 1)
    assert [(e.title, e.version) for e in card.decisions] == [("Use AUC", None),
                                                              ("Retrain v1", 1)]
    assert card.decisions[0].author == "dana"


def test_slice_metrics_follow_the_slash_key_value_convention() -> None:
    metrics = split_metrics({
        "auc": 0.9, "auc/segment=a": 0.8, "val/auc/region=eu,tier=gold": 0.7,
        "loss/train": 0.1, "/x=1": 0.5,
    })
    assert metrics.overall == {"/x=1": 0.5, "auc": 0.9, "loss/train": 0.1}
    assert [(s.slice, dict(s.metrics)) for s in metrics.slices] == [
        ("region=eu,tier=gold", {"val/auc": 0.7}), ("segment=a", {"auc": 0.8}),
    ]
