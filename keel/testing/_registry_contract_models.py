"""Contract: the RegisteredModelStore port (models, tags, search, rename, delete, cards,
decision log)."""

from __future__ import annotations

import pytest

from keel.core.ids import new_id
from keel.errors import (
    AlreadyExists,
    InvalidArgument,
    ModelVersionNotFound,
    NotFound,
    RegisteredModelNotFound,
)
from keel.registry.models import CardFields, EntityType, EventType
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


class RegisteredModelContract(RegistryContractBase):
    def test_create_returns_the_model_with_its_fields(self, registry: RegistryStore) -> None:
        model_id, name = new_id(), unique_name()
        created = registry.models.create_registered_model(
            model_id, name, ctx("alice", at=1234), description="churn model",
            tags={"team": "risk", "ü": "ñ"},
        )
        assert (created.model_id, created.name, created.description) == (
            model_id, name, "churn model")
        assert dict(created.tags) == {"team": "risk", "ü": "ñ"}
        assert dict(created.aliases) == {} and created.latest_version == 0
        assert (created.created_at, created.created_by) == (1234, "alice")
        assert (created.updated_at, created.updated_by) == (1234, "alice")
        assert registry.models.get_registered_model(name) == created
        assert registry.models.find_registered_model(name) == created
        assert registry.models.find_registered_model_by_id(model_id) == created

    def test_unknown_model_is_not_found(self, registry: RegistryStore) -> None:
        with pytest.raises(RegisteredModelNotFound):
            registry.models.get_registered_model(unique_name())
        assert registry.models.find_registered_model(unique_name()) is None
        assert registry.models.find_registered_model_by_id(new_id()) is None

    def test_taken_name_or_id_raises_already_exists_and_writes_nothing(
        self, registry: RegistryStore
    ) -> None:
        first = new_model(registry)
        head = audit_head(registry)
        with pytest.raises(AlreadyExists):
            registry.models.create_registered_model(new_id(), first.name, ctx())
        with pytest.raises(AlreadyExists):
            registry.models.create_registered_model(first.model_id, unique_name(), ctx())
        assert audit_head(registry) == head

    @pytest.mark.parametrize("name", ["", "   ", "a\nb", "x" * 501])
    def test_invalid_names_are_refused(self, registry: RegistryStore, name: str) -> None:
        with pytest.raises(InvalidArgument):
            registry.models.create_registered_model(new_id(), name, ctx())

    def test_search_filters_by_name_pattern_and_tags_ordered_by_name(
        self, registry: RegistryStore
    ) -> None:
        prefix = unique_name("search")
        b = new_model(registry, f"{prefix}-b", tags={"team": "risk", "tier": "1"})
        a = new_model(registry, f"{prefix}-A", tags={"team": "risk"})
        c = new_model(registry, f"{prefix}-c", tags={"team": "growth"})
        found = registry.models.search_registered_models(name_like=f"{prefix}%")
        assert [m.name for m in found] == [a.name, b.name, c.name]
        upper = registry.models.search_registered_models(name_like=f"{prefix.upper()}-B")
        assert [m.name for m in upper] == [b.name]  # case-insensitive
        risk = registry.models.search_registered_models(
            name_like=f"{prefix}%", tags={"team": "risk"})
        assert [m.name for m in risk] == [a.name, b.name]
        both = registry.models.search_registered_models(
            name_like=f"{prefix}%", tags={"team": "risk", "tier": "1"})
        assert [m.name for m in both] == [b.name]

    def test_search_pages_through_results(self, registry: RegistryStore) -> None:
        prefix = unique_name("page")
        names = sorted(new_model(registry, f"{prefix}-{i}").name for i in range(5))
        first = registry.models.search_registered_models(name_like=f"{prefix}%", max_results=2)
        assert [m.name for m in first] == names[:2] and first.next_page_token is not None
        rest = registry.models.search_registered_models(
            name_like=f"{prefix}%", max_results=10, offset=2)
        assert [m.name for m in rest] == names[2:] and rest.next_page_token is None
        with pytest.raises(InvalidArgument):
            registry.models.search_registered_models(max_results=0)

    def test_rename_keeps_identity_versions_and_frees_the_old_name(
        self, registry: RegistryStore
    ) -> None:
        model = new_model(registry)
        new_version(registry, model.name)
        new_name = unique_name("renamed")
        head = audit_head(registry)
        renamed = registry.models.rename_registered_model(model.name, new_name, ctx("bob"))
        assert (renamed.model_id, renamed.name, renamed.updated_by) == (
            model.model_id, new_name, "bob")
        assert registry.versions.get_model_version(new_name, 1).name == new_name
        assert registry.models.find_registered_model(model.name) is None
        record = only_record(registry, head)
        assert record.action == EventType.MODEL_UPDATED
        assert (record.before["name"], record.after["name"]) == (model.name, new_name)
        new_model(registry, model.name)  # the old name is free again

    def test_rename_to_a_taken_name_raises_already_exists(self, registry: RegistryStore) -> None:
        one, two = new_model(registry), new_model(registry)
        with pytest.raises(AlreadyExists):
            registry.models.rename_registered_model(one.name, two.name, ctx())
        with pytest.raises(RegisteredModelNotFound):
            registry.models.rename_registered_model(unique_name(), unique_name(), ctx())

    def test_update_description_and_tags(self, registry: RegistryStore) -> None:
        model = new_model(registry, tags={"a": "1", "b": "2"})
        updated = registry.models.update_registered_model(model.name, "new", ctx("bob", at=9))
        assert (updated.description, updated.updated_at, updated.updated_by) == ("new", 9, "bob")
        cleared = registry.models.update_registered_model(model.name, None, ctx())
        assert cleared.description is None
        tagged = registry.models.set_registered_model_tags(model.name, {"b": "3", "c": "4"},
                                                           ctx())
        assert dict(tagged.tags) == {"a": "1", "b": "3", "c": "4"}
        untagged = registry.models.delete_registered_model_tag(model.name, "a", ctx())
        assert dict(untagged.tags) == {"b": "3", "c": "4"}
        with pytest.raises(NotFound):
            registry.models.delete_registered_model_tag(model.name, "a", ctx())
        with pytest.raises(InvalidArgument):
            registry.models.set_registered_model_tags(model.name, {"": "x"}, ctx())

    def test_delete_removes_the_model_and_everything_it_owns(
        self, registry: RegistryStore
    ) -> None:
        model = new_model(registry)
        new_version(registry, model.name)
        new_version(registry, model.name)
        registry.versions.set_alias(model.name, "champion", 2, ctx())
        registry.approvals.request_approval(model.name, 1, "production", ctx())
        registry.models.set_card_fields(model.name, None, CardFields(intended_use="x"), ctx())
        head = audit_head(registry)
        registry.models.delete_registered_model(model.name, ctx("bob", "retired"))
        with pytest.raises(RegisteredModelNotFound):
            registry.models.get_registered_model(model.name)
        record = only_record(registry, head)
        assert record.action == EventType.MODEL_DELETED
        assert record.entity_type == EntityType.REGISTERED_MODEL
        assert record.entity_id == model.model_id and record.after is None
        assert record.before["versions"] == [1, 2]
        assert record.before["aliases"] == {"champion": 2}
        assert (record.actor, record.reason) == ("bob", "retired")
        again = new_model(registry, model.name)  # the name can be reused, from scratch
        assert again.latest_version == 0
        assert registry.versions.list_alias_history(model.name) == []
        with pytest.raises(RegisteredModelNotFound):
            registry.models.delete_registered_model(unique_name(), ctx())

    def test_card_fields_per_model_and_version_overlay(self, registry: RegistryStore) -> None:
        model = new_model(registry)
        new_version(registry, model.name)
        assert registry.models.get_card_fields(model.name) == CardFields()
        base = CardFields(intended_use="churn scoring", limitations="EU only")
        assert registry.models.set_card_fields(model.name, None, base, ctx()) == base
        override = CardFields(limitations="EU and UK")
        registry.models.set_card_fields(model.name, 1, override, ctx())
        assert registry.models.get_card_fields(model.name) == base
        assert registry.models.get_card_fields(model.name, 1) == override
        assert base.overlay(override) == CardFields(
            intended_use="churn scoring", limitations="EU and UK")
        head = audit_head(registry)
        replaced = CardFields(ethical_considerations="no protected attributes")
        registry.models.set_card_fields(model.name, None, replaced, ctx())
        assert registry.models.get_card_fields(model.name) == replaced  # replace, not merge
        record = only_record(registry, head)
        assert record.action == EventType.CARD_UPDATED and record.entity_type == EntityType.CARD
        assert record.before == base.to_dict() and record.after == replaced.to_dict()
        with pytest.raises(ModelVersionNotFound):
            registry.models.set_card_fields(model.name, 7, base, ctx())
        with pytest.raises(ModelVersionNotFound):
            registry.models.get_card_fields(model.name, 7)

    def test_decision_log_entries_on_model_and_version(self, registry: RegistryStore) -> None:
        model = new_model(registry)
        new_version(registry, model.name)
        first = registry.models.log_decision(
            new_id(), model.name, None, ctx("carol", at=10), title="Use GBM",
            context="linear underfits", decision="gradient boosting", consequences="slower",
        )
        assert (first.author, first.date, first.version) == ("carol", 10, None)
        second = registry.models.log_decision(
            new_id(), model.name, 1, ctx("dave", at=20), title="Ship v1", context="c",
            decision="d", consequences="e", author="the review board", date=15,
        )
        assert (second.author, second.date, second.created_by) == (
            "the review board", 15, "dave")
        assert registry.models.list_decisions(model.name) == [first, second]
        assert registry.models.list_decisions(model.name, 1) == [second]
        with pytest.raises(AlreadyExists):
            registry.models.log_decision(first.entry_id, model.name, None, ctx(), title="t",
                                         context="c", decision="d", consequences="e")
        with pytest.raises(ModelVersionNotFound):
            registry.models.log_decision(new_id(), model.name, 9, ctx(), title="t",
                                         context="c", decision="d", consequences="e")
        with pytest.raises(InvalidArgument):
            registry.models.log_decision(new_id(), model.name, None, ctx(), title="",
                                         context="c", decision="d", consequences="e")
