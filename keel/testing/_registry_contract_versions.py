"""Contract: the ModelVersionStore port (versions, lineage filters, aliases and their history)."""

from __future__ import annotations

import math

import pytest

from keel.core.ids import new_id
from keel.errors import (
    AliasNotFound,
    Conflict,
    InvalidArgument,
    ModelVersionNotFound,
    NotFound,
    RegisteredModelNotFound,
)
from keel.registry.models import ALIAS_UNSET, EntityType, EventType
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


class ModelVersionContract(RegistryContractBase):
    def test_create_version_stores_every_field(self, registry: RegistryStore) -> None:
        model = new_model(registry)
        run_id = new_id()
        signature = {"inputs": [{"name": "x", "type": "double"}], "outputs": None}
        created = registry.versions.create_model_version(
            model.name, ctx("alice", at=500), source=f"runs:/{run_id}/model", run_id=run_id,
            model_digest="sha256:abc", flavor="sklearn", signature=signature,
            dataset_version_ids=["ds-b", "ds-a", "ds-b"], code_commit="deadbeef",
            metrics={"auc": 0.91, "loss": math.inf, "odd": math.nan, "n": 3},
            description="first", tags={"stage": "dev"},
        )
        assert (created.model_id, created.name, created.version) == (
            model.model_id, model.name, 1)
        assert created.uri == f"models:/{model.name}/1"
        assert (created.source, created.run_id) == (f"runs:/{run_id}/model", run_id)
        assert (created.model_digest, created.flavor, created.code_commit) == (
            "sha256:abc", "sklearn", "deadbeef")
        assert created.signature == signature
        assert created.dataset_version_ids == ("ds-b", "ds-a")  # order kept, duplicates gone
        assert created.metrics["auc"] == 0.91 and created.metrics["loss"] == math.inf
        assert math.isnan(created.metrics["odd"]) and created.metrics["n"] == 3.0
        assert (created.description, dict(created.tags), created.aliases) == (
            "first", {"stage": "dev"}, ())
        assert (created.created_at, created.created_by) == (500, "alice")
        fetched = registry.versions.get_model_version(model.name, 1)
        assert fetched.metrics.keys() == created.metrics.keys()
        assert fetched.signature == signature and fetched.dataset_version_ids == ("ds-b", "ds-a")
        assert registry.models.get_registered_model(model.name).latest_version == 1

    def test_versions_are_numbered_per_model_and_never_reused(
        self, registry: RegistryStore
    ) -> None:
        one, two = new_model(registry), new_model(registry)
        assert [new_version(registry, one.name).version for _ in range(3)] == [1, 2, 3]
        assert new_version(registry, two.name).version == 1
        registry.versions.delete_model_version(one.name, 3, ctx())
        assert new_version(registry, one.name).version == 4
        assert registry.versions.find_model_version(one.name, 3) is None

    def test_unknown_model_or_version_is_not_found(self, registry: RegistryStore) -> None:
        model = new_model(registry)
        with pytest.raises(RegisteredModelNotFound):
            registry.versions.create_model_version(unique_name(), ctx(), source="x")
        with pytest.raises(RegisteredModelNotFound):
            registry.versions.get_model_version(unique_name(), 1)
        with pytest.raises(ModelVersionNotFound):
            registry.versions.get_model_version(model.name, 1)
        assert registry.versions.find_model_version(model.name, 1) is None

    def test_bad_version_fields_are_refused_and_write_nothing(
        self, registry: RegistryStore
    ) -> None:
        model = new_model(registry)
        head = audit_head(registry)
        bad: list[dict[str, object]] = [
            {"source": ""},
            {"source": "x", "signature": {"f": object()}},
            {"source": "x", "signature": ["not", "a", "mapping"]},
            {"source": "x", "metrics": {"auc": "high"}},
            {"source": "x", "metrics": {"": 1.0}},
            {"source": "x", "tags": {"k": 1}},
            {"source": "x", "dataset_version_ids": "ds-1"},
        ]
        for kwargs in bad:
            with pytest.raises(InvalidArgument):
                registry.versions.create_model_version(model.name, ctx(), **kwargs)  # type: ignore[arg-type]
        assert audit_head(registry) == head
        assert registry.models.get_registered_model(model.name).latest_version == 0

    def test_only_description_and_tags_change_and_each_change_is_audited(
        self, registry: RegistryStore
    ) -> None:
        model = new_model(registry)
        created = new_version(registry, model.name, tags={"a": "1"})
        head = audit_head(registry)
        described = registry.versions.update_model_version(model.name, 1, "better",
                                                           ctx("bob", at=77))
        assert described.description == "better"
        assert (described.updated_at, described.updated_by) == (77, "bob")
        record = only_record(registry, head)
        assert record.action == EventType.VERSION_UPDATED
        assert record.entity_type == EntityType.MODEL_VERSION
        assert record.entity_id == f"{model.model_id}/1"
        assert (record.before["description"], record.after["description"]) == (None, "better")
        tagged = registry.versions.set_model_version_tags(model.name, 1, {"b": "2"}, ctx())
        assert dict(tagged.tags) == {"a": "1", "b": "2"}
        untagged = registry.versions.delete_model_version_tag(model.name, 1, "a", ctx())
        assert dict(untagged.tags) == {"b": "2"}
        with pytest.raises(NotFound):
            registry.versions.delete_model_version_tag(model.name, 1, "a", ctx())
        immutable = ("source", "run_id", "model_digest", "flavor", "signature",
                     "dataset_version_ids", "code_commit", "metrics", "created_at", "created_by")
        final = registry.versions.get_model_version(model.name, 1)
        for field in immutable:
            assert getattr(final, field) == getattr(created, field), field

    def test_list_versions_newest_first_with_lineage_filters(
        self, registry: RegistryStore
    ) -> None:
        model, other = new_model(registry), new_model(registry)
        run_a, dataset = new_id(), new_id()
        v1 = new_version(registry, model.name, run_id=run_a, dataset_version_ids=[dataset])
        v2 = new_version(registry, model.name)
        o1 = new_version(registry, other.name, dataset_version_ids=[dataset, new_id()])
        listed = registry.versions.list_model_versions(model.name)
        assert [v.version for v in listed] == [2, 1]
        assert [v.version for v in registry.versions.list_model_versions(run_id=run_a)] == [1]
        by_dataset = registry.versions.list_model_versions(dataset_version_id=dataset)
        assert [(v.name, v.version) for v in by_dataset] == [(o1.name, 1), (v1.name, 1)]
        page = registry.versions.list_model_versions(model.name, max_results=1)
        assert [v.version for v in page] == [v2.version] and page.next_page_token
        with pytest.raises(RegisteredModelNotFound):
            registry.versions.list_model_versions(unique_name())

    def test_deleting_an_aliased_version_is_a_conflict(self, registry: RegistryStore) -> None:
        model = new_model(registry)
        new_version(registry, model.name)
        registry.versions.set_alias(model.name, "champion", 1, ctx())
        head = audit_head(registry)
        with pytest.raises(Conflict) as caught:
            registry.versions.delete_model_version(model.name, 1, ctx())
        assert caught.value.details["aliases"] == ["champion"]
        assert audit_head(registry) == head
        registry.versions.delete_alias(model.name, "champion", ctx())
        registry.versions.delete_model_version(model.name, 1, ctx("bob"))
        record = only_record(registry, head + 1)
        assert record.action == EventType.VERSION_DELETED
        assert record.before["version"] == 1 and record.after is None
        with pytest.raises(ModelVersionNotFound):
            registry.versions.delete_model_version(model.name, 1, ctx())


class AliasContract(RegistryContractBase):
    def test_set_alias_points_it_and_records_history(self, registry: RegistryStore) -> None:
        model = new_model(registry)
        for _ in range(3):
            new_version(registry, model.name)
        first = registry.versions.set_alias(model.name, "champion", 1, ctx("a", "first", 10))
        assert (first.from_version, first.to_version, first.actor, first.at, first.reason) == (
            None, 1, "a", 10, "first")
        moved = registry.versions.set_alias(model.name, "champion", 3, ctx("b", at=20))
        assert (moved.from_version, moved.to_version) == (1, 3)
        registry.versions.set_alias(model.name, "challenger", 2, ctx())
        assert registry.versions.get_version_by_alias(model.name, "champion").version == 3
        assert dict(registry.models.get_registered_model(model.name).aliases) == {
            "challenger": 2, "champion": 3}
        assert registry.versions.get_model_version(model.name, 3).aliases == ("champion",)
        assert registry.versions.get_model_version(model.name, 1).aliases == ()
        history = registry.versions.list_alias_history(model.name, "champion")
        assert [(h.from_version, h.to_version) for h in history] == [(None, 1), (1, 3)]
        assert history[0] == first and history[1] == moved
        everything = registry.versions.list_alias_history(model.name)
        assert [h.alias for h in everything] == ["champion", "champion", "challenger"]

    def test_setting_the_same_version_again_is_still_a_recorded_move(
        self, registry: RegistryStore
    ) -> None:
        model = new_model(registry)
        new_version(registry, model.name)
        registry.versions.set_alias(model.name, "prod", 1, ctx())
        head = audit_head(registry)
        again = registry.versions.set_alias(model.name, "prod", 1, ctx())
        assert (again.from_version, again.to_version) == (1, 1)
        assert only_record(registry, head).action == EventType.ALIAS_SET

    def test_compare_and_set_moves_only_from_the_expected_version(
        self, registry: RegistryStore
    ) -> None:
        model = new_model(registry)
        for _ in range(3):
            new_version(registry, model.name)
        registry.versions.set_alias(model.name, "champion", 1, ctx(),
                                    expected_version=ALIAS_UNSET)
        with pytest.raises(Conflict) as caught:
            registry.versions.set_alias(model.name, "champion", 2, ctx(),
                                        expected_version=ALIAS_UNSET)
        assert caught.value.details["actual_version"] == 1
        head = audit_head(registry)
        with pytest.raises(Conflict) as caught:
            registry.versions.set_alias(model.name, "champion", 3, ctx(), expected_version=2)
        assert caught.value.details == {"name": model.name, "alias": "champion",
                                        "expected_version": 2, "actual_version": 1}
        assert audit_head(registry) == head
        assert len(registry.versions.list_alias_history(model.name, "champion")) == 1
        registry.versions.set_alias(model.name, "champion", 3, ctx(), expected_version=1)
        assert registry.versions.get_version_by_alias(model.name, "champion").version == 3

    def test_delete_alias_records_history_and_supports_compare_and_set(
        self, registry: RegistryStore
    ) -> None:
        model = new_model(registry)
        new_version(registry, model.name)
        registry.versions.set_alias(model.name, "staging", 1, ctx())
        with pytest.raises(Conflict):
            registry.versions.delete_alias(model.name, "staging", ctx(), expected_version=2)
        head = audit_head(registry)
        gone = registry.versions.delete_alias(model.name, "staging", ctx("bob"),
                                              expected_version=1)
        assert (gone.from_version, gone.to_version, gone.actor) == (1, None, "bob")
        record = only_record(registry, head)
        assert record.action == EventType.ALIAS_DELETED and record.entity_type == EntityType.ALIAS
        assert record.entity_id == f"{model.model_id}@staging"
        assert (record.before, record.after) == ({"alias": "staging", "version": 1}, None)
        with pytest.raises(AliasNotFound):
            registry.versions.get_version_by_alias(model.name, "staging")
        with pytest.raises(AliasNotFound):
            registry.versions.delete_alias(model.name, "staging", ctx())
        history = registry.versions.list_alias_history(model.name, "staging")
        assert [(h.from_version, h.to_version) for h in history] == [(None, 1), (1, None)]

    @pytest.mark.parametrize("alias", ["", "3", "1abc", "latest", "a/b", "a@b", "x y"])
    def test_malformed_aliases_are_refused(self, registry: RegistryStore, alias: str) -> None:
        model = new_model(registry)
        new_version(registry, model.name)
        with pytest.raises(InvalidArgument):
            registry.versions.set_alias(model.name, alias, 1, ctx())

    def test_alias_to_unknown_version_or_model_is_not_found(
        self, registry: RegistryStore
    ) -> None:
        model = new_model(registry)
        with pytest.raises(ModelVersionNotFound):
            registry.versions.set_alias(model.name, "champion", 1, ctx())
        with pytest.raises(RegisteredModelNotFound):
            registry.versions.set_alias(unique_name(), "champion", 1, ctx())
        with pytest.raises(AliasNotFound):
            registry.versions.get_version_by_alias(model.name, "champion")
