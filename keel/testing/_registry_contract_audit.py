"""Contract: the AuditStore port and the outbox rule (one audit record and one event per
mutation, in the same transaction), and the hash chain over everything written."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from keel.core.ids import new_id
from keel.errors import AlreadyExists, InvalidArgument, KeelError
from keel.registry.audit import GENESIS_HASH, hash_of, verify_chain
from keel.registry.models import (
    CardFields,
    DecisionKind,
    EventType,
    GateResult,
    PromotionPolicy,
    TargetRules,
)
from keel.registry.store import RegistryStore
from keel.testing._registry_contract_base import (
    RegistryContractBase,
    audit_head,
    ctx,
    events_since,
    new_model,
    new_version,
    records_since,
    unique_name,
)


def _every_mutation(registry: RegistryStore, name: str) -> list[tuple[str, Callable[[], object]]]:
    """(expected action, call) for every mutation of every port, runnable in this order."""
    models, versions, approvals = registry.models, registry.versions, registry.approvals
    renamed = unique_name("renamed")
    policy = PromotionPolicy({"production": TargetRules(required_approvals=1)},
                             {"prod": "production"})
    return [
        (EventType.MODEL_CREATED,
         lambda: models.create_registered_model(new_id(), name, ctx("u1", "r1"))),
        (EventType.MODEL_UPDATED, lambda: models.update_registered_model(name, "d", ctx("u2"))),
        (EventType.MODEL_TAGS_SET,
         lambda: models.set_registered_model_tags(name, {"k": "v"}, ctx())),
        (EventType.MODEL_TAG_DELETED,
         lambda: models.delete_registered_model_tag(name, "k", ctx())),
        (EventType.MODEL_UPDATED, lambda: models.rename_registered_model(name, renamed, ctx())),
        (EventType.VERSION_CREATED,
         lambda: versions.create_model_version(renamed, ctx(), source="s")),
        (EventType.VERSION_CREATED,
         lambda: versions.create_model_version(renamed, ctx(), source="s")),
        (EventType.VERSION_UPDATED,
         lambda: versions.update_model_version(renamed, 1, "d", ctx())),
        (EventType.VERSION_TAGS_SET,
         lambda: versions.set_model_version_tags(renamed, 1, {"k": "v"}, ctx())),
        (EventType.VERSION_TAG_DELETED,
         lambda: versions.delete_model_version_tag(renamed, 1, "k", ctx())),
        (EventType.ALIAS_SET, lambda: versions.set_alias(renamed, "champion", 1, ctx())),
        (EventType.ALIAS_DELETED, lambda: versions.delete_alias(renamed, "champion", ctx())),
        (EventType.POLICY_SET, lambda: approvals.set_policy(renamed, policy, ctx())),
        (EventType.GATES_EVALUATED, lambda: approvals.log_gate_evaluations(
            renamed, 1, "production", [GateResult("g", True, {}, "ok")], ctx())),
        (EventType.APPROVAL_REQUESTED,
         lambda: approvals.request_approval(renamed, 1, "production", ctx("req"))),
        (EventType.APPROVAL_DECIDED, lambda: approvals.decide_approval(
            renamed, 1, "production", DecisionKind.APPROVE, ctx("approver"))),
        (EventType.ALIAS_SET, lambda: versions.set_alias(renamed, "prod", 1, ctx())),
        (EventType.APPROVAL_REVOKED,
         lambda: approvals.revoke_approval(renamed, 1, "production", ctx("approver"))),
        (EventType.POLICY_DELETED, lambda: approvals.delete_policy(renamed, ctx())),
        (EventType.CARD_UPDATED, lambda: models.set_card_fields(
            renamed, None, CardFields(intended_use="u"), ctx())),
        (EventType.DECISION_LOGGED, lambda: models.log_decision(
            new_id(), renamed, 2, ctx(), title="t", context="c", decision="d",
            consequences="q")),
        (EventType.VERSION_DELETED, lambda: versions.delete_model_version(renamed, 2, ctx())),
        (EventType.MODEL_DELETED, lambda: models.delete_registered_model(renamed, ctx())),
    ]


class AuditContract(RegistryContractBase):
    def test_every_mutation_appends_one_audit_record_and_one_event(
        self, registry: RegistryStore
    ) -> None:
        for action, call in _every_mutation(registry, unique_name()):
            head = audit_head(registry)
            call()
            records = records_since(registry, head)
            assert [r.action for r in records] == [action], action
            events = events_since(registry, head)
            assert [(e.type, e.audit_seq) for e in events] == [(action, records[0].seq)]
            assert events[0].payload["actor"] == records[0].actor
        assert registry.audit.verify_audit_chain().ok

    def test_records_carry_the_context_and_chain_onto_each_other(
        self, registry: RegistryStore
    ) -> None:
        head = registry.audit.get_chain_head()
        model = registry.models.create_registered_model(
            new_id(), unique_name(), ctx("alice", "new model", 4242))
        (record,) = records_since(registry, head.seq)
        assert (record.seq, record.prev_hash) == (head.seq + 1, head.hash)
        assert (record.actor, record.reason, record.at) == ("alice", "new model", 4242)
        assert (record.entity_type, record.entity_id) == ("registered_model", model.model_id)
        assert record.before is None and record.after == model.to_dict()
        assert record.hash == hash_of(record) and len(record.hash) == 64
        assert registry.audit.get_chain_head().hash == record.hash

    def test_failed_mutations_leave_no_record_and_no_event(self, registry: RegistryStore) -> None:
        model = new_model(registry)
        head = audit_head(registry)
        events_before = len(registry.audit.list_events(limit=100_000))
        failing: list[Callable[[], object]] = [
            lambda: registry.models.create_registered_model(new_id(), model.name, ctx()),
            lambda: registry.versions.set_alias(model.name, "champion", 1, ctx()),
            lambda: registry.versions.create_model_version(model.name, ctx(), source=""),
            lambda: registry.approvals.request_approval(model.name, 1, "prod", ctx()),
            lambda: registry.models.rename_registered_model(unique_name(), "x", ctx()),
        ]
        for call in failing:
            with pytest.raises(KeelError):
                call()
        assert audit_head(registry) == head
        assert len(registry.audit.list_events(limit=100_000)) == events_before

    def test_the_chain_verifies_and_matches_the_pure_rule(self, registry: RegistryStore) -> None:
        for _ in range(3):
            model = new_model(registry)
            new_version(registry, model.name, metrics={"auc": 0.5, "nan": float("nan")})
            registry.versions.set_alias(model.name, "champion", 1, ctx())
        report = registry.audit.verify_audit_chain()
        assert report.ok, report.message
        head = registry.audit.get_chain_head()
        assert (report.last_seq, report.last_hash) == (head.seq, head.hash)
        records = registry.audit.list_audit_records(limit=100_000)
        assert [r.seq for r in records] == list(range(1, head.seq + 1))
        assert records[0].prev_hash == GENESIS_HASH
        assert verify_chain(records, head=head).ok

    def test_list_audit_records_filters_and_pages(self, registry: RegistryStore) -> None:
        model, other = new_model(registry), new_model(registry)
        new_version(registry, model.name)
        registry.versions.set_alias(model.name, "champion", 1, ctx())
        new_version(registry, other.name)
        mine = registry.audit.list_audit_records(model_id=model.model_id)
        assert [r.action for r in mine] == [
            EventType.MODEL_CREATED, EventType.VERSION_CREATED, EventType.ALIAS_SET]
        aliases = registry.audit.list_audit_records(entity_type="alias",
                                                    entity_id=f"{model.model_id}@champion")
        assert [r.seq for r in aliases] == [mine[2].seq]
        page = registry.audit.list_audit_records(after_seq=mine[0].seq, limit=1,
                                                 model_id=model.model_id)
        assert [r.seq for r in page] == [mine[1].seq]
        with pytest.raises(InvalidArgument):
            registry.audit.list_audit_records(limit=0)

    def test_events_are_read_with_a_cursor_in_order_and_by_type(
        self, registry: RegistryStore
    ) -> None:
        start = registry.audit.list_events(limit=100_000)
        cursor = start[-1].seq if start else 0
        model = new_model(registry)
        new_version(registry, model.name)
        new_version(registry, model.name)
        registry.versions.set_alias(model.name, "champion", 2, ctx())
        fresh = registry.audit.list_events(after_seq=cursor)
        assert [e.type for e in fresh] == [
            EventType.MODEL_CREATED, EventType.VERSION_CREATED, EventType.VERSION_CREATED,
            EventType.ALIAS_SET]
        assert [e.seq for e in fresh] == sorted(e.seq for e in fresh)
        assert fresh[3].payload == {"actor": "alice", "model_id": model.model_id,
                                    "name": model.name, "alias": "champion",
                                    "from_version": None, "to_version": 2}
        assert [e.payload["version"] for e in fresh[1:3]] == [1, 2]
        created = registry.audit.list_events(after_seq=cursor,
                                              types=[EventType.VERSION_CREATED])
        assert [e.seq for e in created] == [fresh[1].seq, fresh[2].seq]
        one = registry.audit.list_events(after_seq=fresh[0].seq, limit=1)
        assert [e.seq for e in one] == [fresh[1].seq]
        assert registry.audit.list_events(after_seq=fresh[-1].seq) == []

    def test_a_conflicting_create_leaves_the_chain_intact(self, registry: RegistryStore) -> None:
        model = new_model(registry)
        with pytest.raises(AlreadyExists):
            registry.models.create_registered_model(new_id(), model.name, ctx())
        new_version(registry, model.name)
        assert registry.audit.verify_audit_chain().ok
