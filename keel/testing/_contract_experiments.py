"""Contract: the ExperimentStore port."""

from __future__ import annotations

import pytest

from keel.core.ids import new_id
from keel.core.pagination import decode_page_token
from keel.errors import AlreadyExists, ExperimentNotFound, InvalidArgument
from keel.testing._contract_base import ContractBase, new_experiment, unique_name
from keel.tracking.models import LifecycleStage, ViewType
from keel.tracking.store import MetadataStore


class ExperimentContract(ContractBase):
    def test_create_experiment_returns_it_active_with_tags_and_timestamps(
        self, store: MetadataStore
    ) -> None:
        experiment_id = new_id()
        created = store.experiments.create_experiment(
            experiment_id, "churn", "teams/risk/churn", {"team": "risk", "ü": "ñ"}, 1234
        )
        assert created.experiment_id == experiment_id
        assert created.name == "churn"
        assert created.artifact_location == "teams/risk/churn"
        assert created.lifecycle_stage is LifecycleStage.ACTIVE
        assert (created.created_at, created.updated_at) == (1234, 1234)
        assert dict(created.tags) == {"team": "risk", "ü": "ñ"}

    def test_get_experiment_returns_what_was_created(self, store: MetadataStore) -> None:
        created = new_experiment(store, tags={"a": "1"})
        assert store.experiments.get_experiment(created.experiment_id) == created

    def test_get_unknown_experiment_raises_experiment_not_found(
        self, store: MetadataStore
    ) -> None:
        with pytest.raises(ExperimentNotFound):
            store.experiments.get_experiment(new_id())

    def test_taken_name_raises_already_exists_and_writes_nothing(
        self, store: MetadataStore
    ) -> None:
        first = new_experiment(store, "dup")
        other_id = new_id()
        with pytest.raises(AlreadyExists):
            store.experiments.create_experiment(other_id, "dup", "x", {"t": "v"}, 5)
        with pytest.raises(ExperimentNotFound):
            store.experiments.get_experiment(other_id)
        assert store.experiments.get_experiment(first.experiment_id) == first

    def test_name_of_a_deleted_experiment_stays_taken(self, store: MetadataStore) -> None:
        first = new_experiment(store, "gone")
        store.experiments.set_experiment_stage(first.experiment_id, "deleted", 2_000)
        with pytest.raises(AlreadyExists):
            new_experiment(store, "gone")

    def test_taken_id_raises_already_exists(self, store: MetadataStore) -> None:
        first = new_experiment(store)
        with pytest.raises(AlreadyExists):
            store.experiments.create_experiment(first.experiment_id, "other", "x", {}, 1)

    def test_find_experiment_by_name_returns_it_or_none(self, store: MetadataStore) -> None:
        created = new_experiment(store, "findme", tags={"k": "v"})
        assert store.experiments.find_experiment_by_name("findme") == created
        assert store.experiments.find_experiment_by_name("FINDME") is None
        assert store.experiments.find_experiment_by_name("absent") is None

    def test_list_experiments_returns_newest_first(self, store: MetadataStore) -> None:
        ids = [new_experiment(store, created_at=t).experiment_id for t in (10, 30, 20)]
        listed = [e.experiment_id for e in store.experiments.list_experiments()]
        assert listed == [ids[1], ids[2], ids[0]]

    def test_list_experiments_by_view_type(self, store: MetadataStore) -> None:
        active = new_experiment(store, created_at=2)
        deleted = new_experiment(store, created_at=1)
        store.experiments.set_experiment_stage(deleted.experiment_id, "deleted", 3)

        def ids(view: ViewType) -> list[str]:
            return [e.experiment_id for e in store.experiments.list_experiments(view=view)]

        assert ids(ViewType.ACTIVE_ONLY) == [active.experiment_id]
        assert ids(ViewType.DELETED_ONLY) == [deleted.experiment_id]
        assert ids(ViewType.ALL) == [active.experiment_id, deleted.experiment_id]

    def test_list_experiments_name_like_is_a_case_insensitive_pattern(
        self, store: MetadataStore
    ) -> None:
        for name in ("Churn-v1", "churn_v2", "fraud", "xchurn"):
            new_experiment(store, name)

        def names(pattern: str) -> set[str]:
            return {e.name for e in store.experiments.list_experiments(name_like=pattern)}

        assert names("churn%") == {"Churn-v1", "churn_v2"}
        assert names("%CHURN%") == {"Churn-v1", "churn_v2", "xchurn"}
        assert names("churn_v_") == {"Churn-v1", "churn_v2"}
        assert names("fraud") == {"fraud"}
        assert names("fra") == set()

    def test_list_experiments_tags_must_all_match_exactly(self, store: MetadataStore) -> None:
        both = new_experiment(store, tags={"team": "risk", "env": "prod"})
        new_experiment(store, tags={"team": "risk", "env": "dev"})
        new_experiment(store, tags={"team": "Risk", "env": "prod"})
        page = store.experiments.list_experiments(tags={"team": "risk", "env": "prod"})
        assert [e.experiment_id for e in page] == [both.experiment_id]
        assert dict(page[0].tags) == {"team": "risk", "env": "prod"}

    def test_list_experiments_pages_cover_every_experiment_exactly_once(
        self, store: MetadataStore
    ) -> None:
        expected = [new_experiment(store, created_at=t).experiment_id for t in range(7)][::-1]
        seen: list[str] = []
        offset = 0
        while True:
            page = store.experiments.list_experiments(max_results=3, offset=offset)
            seen.extend(e.experiment_id for e in page)
            if page.next_page_token is None:
                break
            offset = decode_page_token(page.next_page_token)
        assert seen == expected
        exact = store.experiments.list_experiments(max_results=7)
        assert exact.next_page_token is None and len(exact) == 7

    def test_rename_experiment_changes_name_and_updated_at(self, store: MetadataStore) -> None:
        created = new_experiment(store, "before", tags={"k": "v"})
        renamed = store.experiments.rename_experiment(created.experiment_id, "after", 9_999)
        assert (renamed.name, renamed.updated_at, renamed.created_at) == ("after", 9_999, 1_000)
        assert dict(renamed.tags) == {"k": "v"}
        assert store.experiments.find_experiment_by_name("before") is None
        assert store.experiments.get_experiment(created.experiment_id) == renamed

    def test_rename_to_a_taken_name_raises_and_changes_nothing(
        self, store: MetadataStore
    ) -> None:
        first = new_experiment(store, "one")
        new_experiment(store, "two")
        with pytest.raises(AlreadyExists):
            store.experiments.rename_experiment(first.experiment_id, "two", 5_000)
        assert store.experiments.get_experiment(first.experiment_id) == first

    def test_rename_unknown_experiment_raises_experiment_not_found(
        self, store: MetadataStore
    ) -> None:
        with pytest.raises(ExperimentNotFound):
            store.experiments.rename_experiment(new_id(), unique_name(), 1)

    def test_set_experiment_tags_adds_and_overwrites(self, store: MetadataStore) -> None:
        created = new_experiment(store, tags={"a": "1", "b": "2"})
        store.experiments.set_experiment_tags(created.experiment_id, {"b": "3", "c": "4"}, 7_000)
        updated = store.experiments.get_experiment(created.experiment_id)
        assert dict(updated.tags) == {"a": "1", "b": "3", "c": "4"}
        assert updated.updated_at == 7_000

    def test_set_tags_of_unknown_experiment_raises_experiment_not_found(
        self, store: MetadataStore
    ) -> None:
        with pytest.raises(ExperimentNotFound):
            store.experiments.set_experiment_tags(new_id(), {"a": "b"}, 1)

    def test_set_experiment_stage_soft_deletes_and_restores(self, store: MetadataStore) -> None:
        created = new_experiment(store)
        deleted = store.experiments.set_experiment_stage(created.experiment_id, "deleted", 2_000)
        assert deleted.lifecycle_stage is LifecycleStage.DELETED
        assert deleted.updated_at == 2_000
        got = store.experiments.get_experiment(created.experiment_id)
        assert got.lifecycle_stage is LifecycleStage.DELETED
        restored = store.experiments.set_experiment_stage(created.experiment_id, "active", 3_000)
        assert restored.lifecycle_stage is LifecycleStage.ACTIVE

    def test_set_unknown_stage_raises_invalid_argument(self, store: MetadataStore) -> None:
        created = new_experiment(store)
        with pytest.raises(InvalidArgument):
            store.experiments.set_experiment_stage(created.experiment_id, "archived", 2)
        assert store.experiments.get_experiment(created.experiment_id) == created

    def test_set_stage_of_unknown_experiment_raises_experiment_not_found(
        self, store: MetadataStore
    ) -> None:
        with pytest.raises(ExperimentNotFound):
            store.experiments.set_experiment_stage(new_id(), "deleted", 1)
