from __future__ import annotations

import pytest

from keel import Keel
from keel.errors import AlreadyExists, ExperimentNotFound, InvalidArgument
from keel.tracking import LifecycleStage, ViewType


def test_an_experiment_is_found_by_id_and_by_name(client: Keel) -> None:
    created = client.experiments.create_experiment("churn", tags={"team": "risk"})
    assert client.experiments.get_experiment(created.experiment_id).name == "churn"
    assert client.experiments.get_experiment_by_name("churn").experiment_id == (
        created.experiment_id
    )
    assert client.experiments.resolve("churn").tags == {"team": "risk"}
    assert client.experiments.find_experiment_by_name("nope") is None


def test_a_second_experiment_with_the_same_name_is_refused(client: Keel) -> None:
    client.experiments.create_experiment("churn")
    with pytest.raises(AlreadyExists):
        client.experiments.create_experiment("churn")
    assert len(client.experiments.list_experiments().items) == 1


def test_unknown_experiment_raises_not_found_naming_it(client: Keel) -> None:
    with pytest.raises(ExperimentNotFound, match="ghost"):
        client.experiments.resolve("ghost")


def test_rename_tag_delete_and_restore(client: Keel) -> None:
    exp = client.experiments.create_experiment("a")
    client.experiments.rename_experiment(exp.experiment_id, "b")
    client.experiments.set_experiment_tag(exp.experiment_id, "owner", "ana")
    assert client.experiments.resolve("b").tags == {"owner": "ana"}

    client.experiments.delete_experiment(exp.experiment_id)
    assert client.experiments.list_experiments().items == []
    deleted = client.experiments.list_experiments(view=ViewType.DELETED_ONLY).items
    assert [e.lifecycle_stage for e in deleted] == [LifecycleStage.DELETED]
    with pytest.raises(InvalidArgument, match="deleted"):
        client.runs.create_run("b")

    client.experiments.restore_experiment(exp.experiment_id)
    assert [e.name for e in client.experiments.list_experiments().items] == ["b"]


def test_list_experiments_filters_by_name_pattern_and_pages(client: Keel) -> None:
    for i in range(5):
        client.experiments.create_experiment(f"team-a-{i}")
    client.experiments.create_experiment("other")
    assert len(client.experiments.list_experiments(name_like="team-a-%").items) == 5
    first = client.experiments.list_experiments(max_results=4)
    assert len(first.items) == 4 and first.next_page_token
    second = client.experiments.list_experiments(max_results=4, page_token=first.next_page_token)
    names = {e.name for e in first.items} | {e.name for e in second.items}
    assert len(names) == 6 and second.next_page_token is None


@pytest.mark.parametrize("bad", ["", "   ", "a\x00b", "line\nbreak", "bell\x07", "x" * 501])
def test_experiment_names_with_control_characters_or_bad_length_are_refused(
    client: Keel, bad: str
) -> None:
    with pytest.raises(InvalidArgument):
        client.experiments.create_experiment(bad)
    assert client.experiments.list_experiments().items == []
