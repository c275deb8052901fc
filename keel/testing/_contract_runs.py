"""Contract: runs, params, tags and artifact records of the RunStore port."""

from __future__ import annotations

import pytest

from keel.core.ids import new_id
from keel.core.values import MAX_PARAM_BYTES
from keel.errors import (
    AlreadyExists,
    ExperimentNotFound,
    InvalidArgument,
    NotFound,
    ParamConflict,
    RunNotFound,
)
from keel.testing._contract_base import ContractBase, new_experiment, new_run
from keel.tracking.models import ArtifactRecord, LifecycleStage, Param, RunStatus
from keel.tracking.store import MetadataStore


class RunContract(ContractBase):
    # -- create, get, update -------------------------------------------------------------

    def test_create_run_returns_a_running_active_run(self, store: MetadataStore) -> None:
        exp = new_experiment(store)
        run_id = new_id()
        run = store.runs.create_run(
            run_id, exp.experiment_id, "first", 5_000,
            f"{exp.artifact_location}/{run_id}/artifacts", None, "bob", {"t": "v"},
        )
        assert run.run_id == run_id
        assert (run.experiment_id, run.name, run.start_time) == (exp.experiment_id, "first", 5_000)
        assert run.status is RunStatus.RUNNING
        assert run.lifecycle_stage is LifecycleStage.ACTIVE
        assert run.end_time is None and run.parent_run_id is None
        assert run.artifact_location == f"{exp.artifact_location}/{run_id}/artifacts"
        assert run.user == "bob"
        assert (run.error, run.note) == (None, None)
        assert dict(run.tags) == {"t": "v"}
        assert dict(run.params) == {} and dict(run.metrics) == {}
        assert store.runs.get_run(run_id) == run

    def test_create_run_without_user_stores_none(self, store: MetadataStore) -> None:
        run = new_run(store, new_experiment(store).experiment_id, user=None)
        assert store.runs.get_run(run.run_id).user is None

    def test_get_unknown_run_raises_run_not_found(self, store: MetadataStore) -> None:
        with pytest.raises(RunNotFound):
            store.runs.get_run(new_id())

    def test_create_run_in_unknown_experiment_raises_experiment_not_found(
        self, store: MetadataStore
    ) -> None:
        run_id = new_id()
        with pytest.raises(ExperimentNotFound):
            store.runs.create_run(run_id, new_id(), "r", 1, "x", None, None, {})
        with pytest.raises(RunNotFound):
            store.runs.get_run(run_id)

    def test_create_run_in_deleted_experiment_raises_experiment_not_found(
        self, store: MetadataStore
    ) -> None:
        exp = new_experiment(store)
        store.experiments.set_experiment_stage(exp.experiment_id, "deleted", 2)
        with pytest.raises(ExperimentNotFound):
            new_run(store, exp.experiment_id)

    def test_create_run_with_unknown_parent_raises_and_writes_nothing(
        self, store: MetadataStore
    ) -> None:
        exp = new_experiment(store)
        run_id = new_id()
        with pytest.raises(RunNotFound):
            new_run(store, exp.experiment_id, parent_run_id=new_id(), run_id=run_id)
        with pytest.raises(RunNotFound):
            store.runs.get_run(run_id)

    def test_create_child_run_records_its_parent(self, store: MetadataStore) -> None:
        exp = new_experiment(store)
        parent = new_run(store, exp.experiment_id)
        child = new_run(store, exp.experiment_id, parent_run_id=parent.run_id)
        assert store.runs.get_run(child.run_id).parent_run_id == parent.run_id

    def test_create_run_with_a_taken_id_raises_already_exists(self, store: MetadataStore) -> None:
        exp = new_experiment(store)
        run = new_run(store, exp.experiment_id, name="original")
        with pytest.raises(AlreadyExists):
            new_run(store, exp.experiment_id, name="other", run_id=run.run_id)
        assert store.runs.get_run(run.run_id).name == "original"

    def test_update_run_changes_only_the_given_fields(self, store: MetadataStore) -> None:
        run = new_run(store, new_experiment(store).experiment_id, name="n")
        first = store.runs.update_run(run.run_id, note="a note")
        assert (first.note, first.name, first.status, first.end_time) == (
            "a note", "n", RunStatus.RUNNING, None
        )
        second = store.runs.update_run(
            run.run_id, status=RunStatus.FAILED, end_time=9_000, error="boom"
        )
        assert (second.status, second.end_time, second.error, second.note) == (
            RunStatus.FAILED, 9_000, "boom", "a note"
        )
        third = store.runs.update_run(run.run_id, name="renamed")
        assert (third.name, third.status, third.end_time) == ("renamed", RunStatus.FAILED, 9_000)
        assert store.runs.get_run(run.run_id) == third
        assert store.runs.update_run(run.run_id) == third

    def test_update_unknown_run_raises_run_not_found(self, store: MetadataStore) -> None:
        with pytest.raises(RunNotFound):
            store.runs.update_run(new_id(), status=RunStatus.FINISHED)

    def test_deleted_run_is_still_returned_with_its_stage(self, store: MetadataStore) -> None:
        run = new_run(store, new_experiment(store).experiment_id)
        deleted = store.runs.set_run_stage(run.run_id, "deleted")
        assert deleted.lifecycle_stage is LifecycleStage.DELETED
        assert store.runs.get_run(run.run_id).lifecycle_stage is LifecycleStage.DELETED
        restored = store.runs.set_run_stage(run.run_id, "active")
        assert restored.lifecycle_stage is LifecycleStage.ACTIVE

    def test_set_run_stage_rejects_unknown_stage_and_unknown_run(
        self, store: MetadataStore
    ) -> None:
        run = new_run(store, new_experiment(store).experiment_id)
        with pytest.raises(InvalidArgument):
            store.runs.set_run_stage(run.run_id, "purged")
        with pytest.raises(RunNotFound):
            store.runs.set_run_stage(new_id(), "deleted")

    # -- params ------------------------------------------------------------------------

    def test_log_params_stores_text_and_type(self, store: MetadataStore) -> None:
        run = new_run(store, new_experiment(store).experiment_id)
        store.runs.log_params(
            run.run_id,
            [("lr", "0.01", "float"), ("layers", "3", "int"), ("opt", "adam", "str"),
             ("flag", "true", "bool"), ("none", "", "none")],
        )
        got = store.runs.get_run(run.run_id)
        assert dict(got.params) == {
            "lr": Param("lr", "0.01", "float"),
            "layers": Param("layers", "3", "int"),
            "opt": Param("opt", "adam", "str"),
            "flag": Param("flag", "true", "bool"),
            "none": Param("none", "", "none"),
        }
        assert got.param_values == {"lr": 0.01, "layers": 3, "opt": "adam", "flag": True,
                                    "none": None}

    def test_relogging_the_same_param_value_is_a_no_op(self, store: MetadataStore) -> None:
        run = new_run(store, new_experiment(store).experiment_id)
        store.runs.log_params(run.run_id, [("a", "1", "int")])
        store.runs.log_params(run.run_id, [("a", "1", "int"), ("b", "x", "str")])
        assert {k: p.text for k, p in store.runs.get_run(run.run_id).params.items()} == {
            "a": "1", "b": "x"
        }

    def test_changing_a_param_raises_param_conflict_naming_key_old_and_new(
        self, store: MetadataStore
    ) -> None:
        run = new_run(store, new_experiment(store).experiment_id)
        store.runs.log_params(run.run_id, [("lr", "0.01", "float")])
        with pytest.raises(ParamConflict) as caught:
            store.runs.log_params(run.run_id, [("lr", "0.02", "float")])
        error = caught.value
        assert {"key": "lr", "old": "0.01", "new": "0.02"}.items() <= error.details.items()
        for part in ("lr", "0.01", "0.02"):
            assert part in error.message

    def test_a_param_conflict_writes_nothing_of_the_batch(self, store: MetadataStore) -> None:
        run = new_run(store, new_experiment(store).experiment_id)
        store.runs.log_params(run.run_id, [("a", "1", "int")])
        with pytest.raises(ParamConflict):
            store.runs.log_params(run.run_id, [("b", "2", "int"), ("a", "9", "int"),
                                               ("c", "3", "int")])
        assert set(store.runs.get_run(run.run_id).params) == {"a"}

    def test_one_key_twice_in_a_batch_with_different_values_is_a_conflict(
        self, store: MetadataStore
    ) -> None:
        run = new_run(store, new_experiment(store).experiment_id)
        with pytest.raises(ParamConflict) as caught:
            store.runs.log_params(run.run_id, [("x", "1", "int"), ("y", "a", "str"),
                                               ("x", "2", "int")])
        assert {"key": "x", "old": "1", "new": "2"}.items() <= caught.value.details.items()
        assert dict(store.runs.get_run(run.run_id).params) == {}

    def test_one_key_twice_in_a_batch_with_the_same_value_is_fine(
        self, store: MetadataStore
    ) -> None:
        run = new_run(store, new_experiment(store).experiment_id)
        store.runs.log_params(run.run_id, [("x", "1", "int"), ("x", "1", "int")])
        assert store.runs.get_run(run.run_id).params["x"].text == "1"

    def test_log_params_to_an_unknown_run_raises_run_not_found(
        self, store: MetadataStore
    ) -> None:
        with pytest.raises(RunNotFound):
            store.runs.log_params(new_id(), [("a", "1", "int")])

    def test_log_an_empty_param_batch_is_fine(self, store: MetadataStore) -> None:
        run = new_run(store, new_experiment(store).experiment_id)
        store.runs.log_params(run.run_id, [])
        assert dict(store.runs.get_run(run.run_id).params) == {}

    def test_params_keep_unicode_and_the_largest_allowed_value(
        self, store: MetadataStore
    ) -> None:
        run = new_run(store, new_experiment(store).experiment_id)
        big = "é" * (MAX_PARAM_BYTES // 2)
        many = [(f"k{i:04d}", str(i), "int") for i in range(2_500)]
        store.runs.log_params(run.run_id, [("ключ", "значение ✓", "str"), ("big", big, "str"),
                                           *many])
        params = store.runs.get_run(run.run_id).params
        assert params["ключ"].text == "значение ✓"
        assert params["big"].text == big
        assert len(params) == 2 + len(many)

    # -- tags ----------------------------------------------------------------------------

    def test_set_tags_adds_and_overwrites(self, store: MetadataStore) -> None:
        run = new_run(store, new_experiment(store).experiment_id, tags={"a": "1", "b": "2"})
        store.runs.set_tags(run.run_id, {"b": "3", "c": ""})
        assert dict(store.runs.get_run(run.run_id).tags) == {"a": "1", "b": "3", "c": ""}

    def test_set_tags_on_an_unknown_run_raises_run_not_found(self, store: MetadataStore) -> None:
        with pytest.raises(RunNotFound):
            store.runs.set_tags(new_id(), {"a": "b"})

    def test_delete_tag_removes_only_that_tag(self, store: MetadataStore) -> None:
        run = new_run(store, new_experiment(store).experiment_id, tags={"a": "1", "b": "2"})
        store.runs.delete_tag(run.run_id, "a")
        assert dict(store.runs.get_run(run.run_id).tags) == {"b": "2"}

    def test_delete_a_missing_tag_raises_not_found(self, store: MetadataStore) -> None:
        run = new_run(store, new_experiment(store).experiment_id, tags={"a": "1"})
        with pytest.raises(NotFound):
            store.runs.delete_tag(run.run_id, "zzz")
        with pytest.raises(RunNotFound):
            store.runs.delete_tag(new_id(), "a")

    # -- artifact records ----------------------------------------------------------------

    def test_artifact_records_round_trip_sorted_by_path(self, store: MetadataStore) -> None:
        run = new_run(store, new_experiment(store).experiment_id)
        records = [
            ArtifactRecord(run.run_id, "model/weights.bin", 2**40, "a" * 64, 10),
            ArtifactRecord(run.run_id, "config.yaml", 12, "b" * 64, 11),
            ArtifactRecord(run.run_id, "model/MLmodel", 0, "c" * 64, 12),
        ]
        store.runs.log_artifact_records(records)
        listed = store.runs.list_artifact_records(run.run_id)
        assert listed == sorted(records, key=lambda r: r.path)

    def test_relogging_an_artifact_path_replaces_its_record(self, store: MetadataStore) -> None:
        run = new_run(store, new_experiment(store).experiment_id)
        store.runs.log_artifact_records([ArtifactRecord(run.run_id, "a.txt", 1, "1" * 64, 1)])
        newer = ArtifactRecord(run.run_id, "a.txt", 2, "2" * 64, 2)
        store.runs.log_artifact_records([newer])
        assert store.runs.list_artifact_records(run.run_id) == [newer]

    def test_list_artifact_records_by_a_literal_prefix(self, store: MetadataStore) -> None:
        run = new_run(store, new_experiment(store).experiment_id)
        paths = ["plots/a.png", "plots/b.png", "plotsX/c.png", "p%/d", "p_x/e", "model.bin"]
        store.runs.log_artifact_records(
            [ArtifactRecord(run.run_id, p, 1, "0" * 64, 1) for p in paths]
        )

        def listed(prefix: str) -> list[str]:
            return [r.path for r in store.runs.list_artifact_records(run.run_id, prefix)]

        assert listed("plots/") == ["plots/a.png", "plots/b.png"]
        assert listed("p%") == ["p%/d"]
        assert listed("p_") == ["p_x/e"]
        assert listed("PLOTS/") == []
        assert len(listed("")) == len(paths)

    def test_artifact_records_of_one_run_do_not_leak_into_another(
        self, store: MetadataStore
    ) -> None:
        exp = new_experiment(store)
        first, second = new_run(store, exp.experiment_id), new_run(store, exp.experiment_id)
        store.runs.log_artifact_records(
            [ArtifactRecord(first.run_id, "a", 1, "0" * 64, 1),
             ArtifactRecord(second.run_id, "b", 1, "0" * 64, 1)]
        )
        assert [r.path for r in store.runs.list_artifact_records(second.run_id)] == ["b"]

    def test_artifact_records_for_an_unknown_run_write_nothing(
        self, store: MetadataStore
    ) -> None:
        run = new_run(store, new_experiment(store).experiment_id)
        with pytest.raises(RunNotFound):
            store.runs.log_artifact_records(
                [ArtifactRecord(run.run_id, "a", 1, "0" * 64, 1),
                 ArtifactRecord(new_id(), "b", 1, "0" * 64, 1)]
            )
        assert store.runs.list_artifact_records(run.run_id) == []
        with pytest.raises(RunNotFound):
            store.runs.list_artifact_records(new_id())
