"""Tracking with the real mlflow client: what it logs is in keel's own tables, searches give
what the same query through keel gives, and MLflow's errors come back as MLflow's."""

from __future__ import annotations

import math
from typing import Any

import pytest

from keel.tracking.models import LifecycleStage, ViewType
from tests.api.mlflow.conftest import MlflowServer


@pytest.fixture(scope="module")
def logged(mlflow_server: MlflowServer) -> dict[str, Any]:
    return mlflow_server.run("tracking")


def test_an_mlflow_run_is_a_keel_run(mlflow_server: MlflowServer, logged: dict[str, Any]) -> None:
    keel = mlflow_server.keel
    run = keel.runs.get_run(logged["parent"])
    assert run.name == "parent" and run.user == logged["run"]["user"]
    assert run.experiment_id == logged["experiment_id"]
    assert keel.experiments.get_experiment(run.experiment_id).name == "mlflow-tracking"
    assert run.note == "a *markdown* note"
    assert {k: (p.text, p.type) for k, p in run.params.items()} == {
        "alpha": ("0.5", "str"), "depth": ("3", "str"), "kind": ("linear", "str"),
        "batch_p": ("v", "str")}
    assert run.metric_values["acc"] == 0.91 and math.isnan(run.metric_values["empty"])
    assert run.metric_values["batch_m"] == 3.5
    assert [(m.step, m.value) for m in keel.runs.get_metric_history(run.run_id, "loss")] == [
        (0, 1.0), (1, 0.5), (2, 1 / 3)]
    batch = keel.runs.get_metric_history(run.run_id, "batch_m")
    assert [(m.step, m.timestamp) for m in batch] == [(7, 1700000000000)]
    # MLflow's system tags are run fields in keel; the others stay tags
    assert run.tags["team"] == "risk" and run.tags["batch_t"] == "tv"
    assert run.tags["mlflow.source.type"] == "LOCAL"
    assert not {"mlflow.runName", "mlflow.user", "mlflow.parentRunId",
                "mlflow.note.content"} & set(run.tags)
    children = keel.runs.search_runs(run.experiment_id, f"parent_run_id = '{run.run_id}'",
                                     view=ViewType.ALL).items
    assert {c.run_id for c in children} == {logged["child"], logged["child2"]}


def test_mlflow_sees_keel_fields_as_its_system_tags(logged: dict[str, Any]) -> None:
    run = logged["run"]
    assert run["name"] == "parent" and run["status"] == "FINISHED"
    assert run["tags"]["mlflow.runName"] == "parent"
    assert run["tags"]["mlflow.note.content"] == "a *markdown* note"
    assert run["params"]["alpha"] == "0.5" and run["params"]["depth"] == "3"
    assert run["metrics"]["empty"] is None  # NaN survives the round trip (as NaN)
    assert logged["nan_history"] == ["nan"]
    assert logged["history"] == [[0, 1.0], [1, 0.5], [2, 1 / 3]]
    assert logged["child_parent_tag"] == logged["parent"]


def test_experiments(mlflow_server: MlflowServer, logged: dict[str, Any]) -> None:
    default = mlflow_server.keel.experiments.get_experiment_by_name("Default")
    assert logged["default_experiment"] == "Default"
    assert logged["default_run_experiment"] == default.experiment_id
    assert "mlflow-tracking" in logged["searched_experiments"]
    assert logged["experiments_by_filter"] == ["mlflow-tracking"]
    assert len(logged["experiment_id"]) == 32


def test_artifacts_land_in_the_run_and_are_recorded(mlflow_server: MlflowServer,
                                                    logged: dict[str, Any]) -> None:
    run = mlflow_server.keel.runs.get_run(logged["parent"])
    assert logged["run"]["artifact_uri"] == f"mlflow-artifacts:/{run.artifact_location}"
    records = {r.path: r for r in mlflow_server.keel.metadata.runs.list_artifact_records(
        run.run_id)}
    assert set(records) == {"notes/hello.txt", "config/settings.json", "report.txt",
                            "tree/sub/leaf.txt"}
    assert records["report.txt"].size == len("report body")
    assert len(records["report.txt"].sha256) == 64
    on_disk = mlflow_server.artifacts / run.artifact_location / "notes" / "hello.txt"
    assert on_disk.read_text() == "hello"
    assert mlflow_server.keel.artifacts.list_artifacts(run.run_id, "tree/sub")[0].path == (
        "tree/sub/leaf.txt")
    assert logged["artifacts"] == ["config", "notes", "report.txt", "tree"]
    assert logged["tree"] == ["tree/sub/leaf.txt"]
    assert logged["downloaded"] == {"hello.txt": "hello"}
    assert logged["downloaded_dict"] == {"k": 1}


def test_datasets_are_keel_dataset_versions(mlflow_server: MlflowServer,
                                            logged: dict[str, Any]) -> None:
    datasets = mlflow_server.keel.metadata.datasets
    [used] = datasets.list_run_inputs(logged["parent"])
    version = datasets.get_dataset_version(used.dataset_version_id)
    assert (version.name, used.context) == ("train-frame", "training")
    assert version.num_rows == 3 and [c.name for c in version.columns] == ["x", "y"]
    name, digest, source_type, contexts = logged["run"]["datasets"][0]
    assert (name, digest, source_type, contexts) == ("train-frame", version.digest, "code",
                                                     ["training"])


KEEL_QUERIES = {
    "metric_and_param": ("metrics.acc > 0.6 and params.alpha = '0.5'", ["metrics.acc DESC"]),
    "run_name": ("run_name LIKE 'child%'", ["start_time ASC"]),
    "bare_run_name": ("run_name = 'parent'", []),
    "status": ("status = 'FINISHED'", ["metrics.acc ASC"]),
    "tag": ("tags.team = 'risk'", []),
    "backticks": ("tags.`a` = '1' and params.`depth` = '3'", []),
    "ilike": ("params.kind ILIKE 'LIN%'", []),
    "parent_tag": ("parent_run_id = '{parent}'", ["params.alpha DESC"]),
    "run_id_in": ("run_id IN ('{child}', '{child2}')", ["run_name DESC"]),
    "dataset": ("datasets.name = 'train-frame'", []),
    "all": ("", ["metrics.acc DESC"]),
}


def test_searches_match_the_same_query_through_keel(mlflow_server: MlflowServer,
                                                   logged: dict[str, Any]) -> None:
    runs = mlflow_server.keel.runs
    for name, (text, order) in KEEL_QUERIES.items():
        # (the mlflow client searched before it deleted child-1)
        found = runs.search_runs(logged["experiment_id"], text.format(**logged),
                                 order_by=order or None, view=ViewType.ALL).items
        mlflow_found = logged["searches"][name]
        assert mlflow_found == [r.run_id for r in found], name
        assert mlflow_found, name
    assert logged["searches"]["metric_and_param"] == [logged["parent"], logged["child2"]]
    assert logged["pages"] == [["child-1", "child-2"], ["parent"]]
    assert logged["frame_rows"] == 2


def test_deleting_a_run(mlflow_server: MlflowServer, logged: dict[str, Any]) -> None:
    run = mlflow_server.keel.runs.get_run(logged["child"])
    assert run.lifecycle_stage is LifecycleStage.DELETED
    assert logged["deleted_stage"] == "deleted"
    assert logged["active_after_delete"] == ["child-2", "parent"]
    assert logged["deleted_only"] == ["child-1"]


def test_mlflow_errors_are_mlflow_errors(logged: dict[str, Any]) -> None:
    code, message = logged["missing_run"]
    assert code == "RESOURCE_DOES_NOT_EXIST" and "f" * 32 in message
    code, message = logged["log_to_deleted"]
    assert code == "INVALID_PARAMETER_VALUE" and "must be in the 'active' state" in message
    code, message = logged["param_overwrite"]
    assert code == "INVALID_PARAMETER_VALUE" and "'0.5'" in message
    assert logged["param_same_again"] is None
    assert logged["bad_metric_key"][0] == "INVALID_PARAMETER_VALUE"
    assert logged["bad_filter"][0] == "INVALID_PARAMETER_VALUE"
    assert "AND only" in logged["or_filter"][1]
