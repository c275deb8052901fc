"""MLflow's REST API with raw HTTP, for what the client script does not reach: experiment
lifecycle, run updates, system tags, metric paging, MLflow 2's log-model history, logged models
under both API versions, registry odds and ends."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from keel.api import create_app
from keel.api._serve import serve_in_thread
from keel.app import Keel
from keel.config import load_settings
from tests.api.mlflow.test_hardening import Live


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    root = tmp_path_factory.mktemp("mlflow-rest")
    settings = load_settings({}, home=str(root / "server"), capture_packages=False)
    with Keel(settings) as keel, serve_in_thread(create_app(keel)) as url:
        live = Live(url, keel, root)
        yield live
        live.http.close()


def test_experiment_lifecycle(live: Live) -> None:
    created = live.ok("POST", "/experiments/create", {
        "name": "lifecycle", "tags": [{"key": "team", "value": "risk"}]})["experiment_id"]
    live.ok("POST", "/experiments/update", {"experiment_id": created, "new_name": "renamed"})
    live.ok("POST", "/experiments/set-experiment-tag",
            {"experiment_id": created, "key": "stage", "value": "dev"})
    got = live.ok("GET", "/experiments/get-by-name", {"experiment_name": "renamed"})["experiment"]
    assert got["experiment_id"] == created and got["lifecycle_stage"] == "active"
    assert {t["key"]: t["value"] for t in got["tags"]} == {"team": "risk", "stage": "dev"}
    assert got["artifact_location"] == f"mlflow-artifacts:/{created}"
    live.refused("POST", "/experiments/delete-experiment-tag",
                 {"experiment_id": created, "key": "stage"}, "BAD_REQUEST")
    live.ok("POST", "/experiments/delete", {"experiment_id": created})
    live.refused("POST", "/runs/create", {"experiment_id": created})
    search = {"view_type": "DELETED_ONLY", "filter": "tags.team = 'risk'"}
    found = live.ok("POST", "/experiments/search", search)["experiments"]
    assert [e["name"] for e in found] == ["renamed"]
    live.ok("POST", "/experiments/restore", {"experiment_id": created})
    found = live.ok("POST", "/experiments/search", {"order_by": ["name ASC"],
                                                    "max_results": 1})
    assert [e["name"] for e in found["experiments"]] == ["hardening"]
    following = live.ok("POST", "/experiments/search", {
        "order_by": ["name ASC"], "max_results": 1, "page_token": found["next_page_token"]})
    assert [e["name"] for e in following["experiments"]] == ["renamed"]
    live.refused("GET", "/experiments/get", {"experiment_id": "f" * 32},
                 "RESOURCE_DOES_NOT_EXIST", 404)


def test_run_updates_and_system_tags(live: Live) -> None:
    info = live.ok("POST", "/runs/create", {
        "experiment_id": live.experiment_id, "start_time": 1000, "user_id": "ci",
        "tags": [{"key": "mlflow.runName", "value": "tagged-name"},
                 {"key": "mlflow.source.name", "value": "train.py"}]})["run"]["info"]
    run_id = info["run_id"]
    assert (info["run_name"], info["user_id"], info["start_time"]) == ("tagged-name", "ci", 1000)
    live.ok("POST", "/runs/set-tag", {"run_id": run_id, "key": "mlflow.runName",
                                      "value": "renamed"})
    live.ok("POST", "/runs/set-tag", {"run_id": run_id, "key": "scratch", "value": "x"})
    live.ok("POST", "/runs/delete-tag", {"run_id": run_id, "key": "scratch"})
    live.refused("POST", "/runs/set-tag", {"run_id": run_id, "key": "mlflow.user",
                                           "value": "someone-else"})
    updated = live.ok("POST", "/runs/update", {"run_id": run_id, "status": "FAILED",
                                               "end_time": 2000})["run_info"]
    assert (updated["status"], updated["end_time"], updated["run_name"]) == (
        "FAILED", 2000, "renamed")
    run = live.keel.runs.get_run(run_id)
    assert (run.name, run.user, run.end_time) == ("renamed", "ci", 2000)
    assert run.tags == {"mlflow.source.name": "train.py"}
    live.ok("POST", "/runs/delete", {"run_id": run_id})
    live.refused("POST", "/runs/update", {"run_id": run_id, "status": "FINISHED"})
    live.ok("POST", "/runs/restore", {"run_id": run_id})
    live.ok("POST", "/runs/log-metric", {"run_id": run_id, "key": "back", "value": 1,
                                         "timestamp": 5})
    live.refused("POST", "/runs/update", {"run_id": run_id, "status": "SLEEPING"})


def test_metric_history_pages(live: Live) -> None:
    run_id = live.ok("POST", "/runs/create", {"experiment_id": live.experiment_id})[
        "run"]["info"]["run_id"]
    metrics = [{"key": "m", "value": float(i), "timestamp": 10 + i, "step": i}
               for i in range(5)]
    live.ok("POST", "/runs/log-batch", {"run_id": run_id, "metrics": metrics})
    first = live.ok("GET", "/metrics/get-history", {"run_id": run_id, "metric_key": "m",
                                                    "max_results": 3})
    assert [m["step"] for m in first["metrics"]] == [0, 1, 2]
    rest = live.ok("GET", "/metrics/get-history", {
        "run_id": run_id, "metric_key": "m", "max_results": 3,
        "page_token": first["next_page_token"]})
    assert [m["value"] for m in rest["metrics"]] == [3.0, 4.0] and "next_page_token" not in rest
    assert live.ok("GET", "/metrics/get-history",
                   {"run_uuid": run_id, "metric_key": "none"}) == {"metrics": []}


def test_mlflow_2_log_model_history(live: Live) -> None:
    for flavor in ("sklearn", "onnx"):
        live.ok("POST", "/runs/log-model", {"run_id": live.run_id, "model_json":
                                            f'{{"artifact_path": "m", "flavors": "{flavor}"}}'})
    import json

    history = json.loads(live.keel.runs.get_run(live.run_id).tags["mlflow.log-model.history"])
    assert [h["flavors"] for h in history] == ["sklearn", "onnx"]
    live.refused("POST", "/runs/log-model", {"run_id": live.run_id, "model_json": "not json"})


@pytest.mark.parametrize("version", ["2.0", "3.0"])
def test_logged_models_under_both_api_versions(live: Live, version: str) -> None:
    base = f"/api/{version}/mlflow/logged-models"

    def call(method: str, path: str, body: Any = None) -> dict[str, Any]:
        response = live.http.request(method, base + path, json=body)
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()
        return found

    model = call("POST", "", {"experiment_id": live.experiment_id, "name": f"lm-{version}",
                              "source_run_id": live.run_id, "model_type": "agent",
                              "params": [{"key": "p", "value": "1"}],
                              "tags": [{"key": "t", "value": "1"}]})["model"]
    model_id = model["info"]["model_id"]
    assert model["info"]["status"] == "LOGGED_MODEL_PENDING"
    location = model["info"]["artifact_uri"].removeprefix("mlflow-artifacts:/")
    assert location == f"{live.experiment_id}/models/{model_id}/artifacts"
    assert live.http.put(f"/api/2.0/mlflow-artifacts/artifacts/{location}/MLmodel",
                         content=b"flavors: {}\n").status_code == 200
    listed = call("GET", f"/{model_id}/artifacts/directories")
    assert [f["path"] for f in listed["files"]] == ["MLmodel"]
    file = live.http.get(f"{base}/{model_id}/artifacts/files",
                         params={"artifact_file_path": "MLmodel"})
    assert file.content == b"flavors: {}\n"
    bad = live.http.get(f"{base}/{model_id}/artifacts/files",
                        params={"artifact_file_path": "../../../escape"})
    assert bad.status_code == 400
    call("POST", f"/{model_id}/params", {"params": [{"key": "q", "value": "2"}]})
    call("PATCH", f"/{model_id}/tags", {"tags": [{"key": "u", "value": "2"}]})
    call("DELETE", f"/{model_id}/tags/t")
    ready = call("PATCH", f"/{model_id}", {"model_id": model_id,
                                           "status": "LOGGED_MODEL_READY"})["model"]
    assert ready["info"]["status"] == "LOGGED_MODEL_READY"
    assert {p["key"] for p in ready["data"]["params"]} == {"p", "q"}
    assert {t["key"] for t in ready["info"]["tags"]} == {"u"}
    search = {"experiment_ids": [live.experiment_id], "filter": f"name = 'lm-{version}' and "
              "params.q = '2' and model_type = 'agent'",
              "order_by": [{"field_name": "creation_timestamp", "ascending": False}]}
    assert [m["info"]["model_id"] for m in call("POST", "/search", search)["models"]] == [
        model_id]
    call("DELETE", f"/{model_id}")
    assert live.http.get(f"{base}/{model_id}").status_code == 404
    assert call("GET", f"/{model_id}?allow_deleted=true")["model"]["info"]["model_id"] == (
        model_id)
    assert call("POST", "/search", search).get("models", []) == []


def test_model_metrics_are_not_logged_twice_to_the_run(live: Live) -> None:
    run_id = live.ok("POST", "/runs/create", {"experiment_id": live.experiment_id})[
        "run"]["info"]["run_id"]
    model_id = live.http.post("/api/2.0/mlflow/logged-models", json={
        "experiment_id": live.experiment_id, "source_run_id": run_id}).json()["model"][
        "info"]["model_id"]
    point = {"key": "acc", "value": 0.8, "timestamp": 7, "step": 0}
    live.ok("POST", "/runs/log-metric", {"run_id": run_id, **point})
    live.ok("POST", "/runs/log-batch", {"run_id": run_id,
                                        "metrics": [{**point, "model_id": model_id}]})
    assert len(live.keel.runs.get_metric_history(run_id, "acc")) == 1
    model = live.http.get(f"/api/2.0/mlflow/logged-models/{model_id}").json()["model"]
    assert model["data"]["metrics"][0]["value"] == 0.8
    live.ok("POST", "/runs/outputs", {"run_id": run_id, "models": [{"model_id": model_id,
                                                                    "step": 3}]})
    run = live.ok("GET", "/runs/get", {"run_id": run_id})["run"]
    assert run["outputs"] == {"model_outputs": [{"model_id": model_id, "step": 3}]}
    live.refused("POST", "/runs/outputs", {"run_id": run_id, "models": [
        {"model_id": "m-" + "0" * 32}]}, "RESOURCE_DOES_NOT_EXIST", 404)


def test_registry_odds_and_ends(live: Live) -> None:
    live.ok("POST", "/registered-models/create", {"name": "odds", "description": "d",
                                                  "tags": [{"key": "k", "value": "v"}]})
    assert live.ok("POST", "/registered-models/get-latest-versions", {"name": "odds"}) == {
        "model_versions": []}
    live.http.put(f"/api/2.0/mlflow-artifacts/artifacts/{live.prefix}/m/MLmodel", content=b"x")
    source = f"mlflow-artifacts:/{live.prefix}/m"
    live.ok("POST", "/model-versions/create", {"name": "odds", "source": source})
    live.ok("PATCH", "/registered-models/update", {"name": "odds", "description": "new"})
    got = live.ok("GET", "/registered-models/get", {"name": "odds"})["registered_model"]
    assert got["description"] == "new" and got["latest_versions"][0]["version"] == "1"
    assert live.ok("POST", "/registered-models/get-latest-versions",
                   {"name": "odds", "stages": ["Production"]}) == {"model_versions": []}
    live.ok("POST", "/model-versions/set-tag", {"name": "odds", "version": "1", "key": "a",
                                                "value": "b"})
    live.ok("DELETE", "/model-versions/delete-tag", {"name": "odds", "version": "1",
                                                     "key": "a"})
    live.ok("DELETE", "/registered-models/delete-tag", {"name": "odds", "key": "k"})
    live.ok("POST", "/registered-models/rename", {"name": "odds", "new_name": "evens"})
    for bad in ("latest", "v2", "12", "has space", "a/b"):
        live.refused("POST", "/registered-models/alias",
                     {"name": "evens", "alias": bad, "version": "1"})
    versions = live.ok("GET", "/model-versions/search", {"filter": "name = 'evens'"})
    assert [v["version"] for v in versions["model_versions"]] == ["1"]
    assert live.ok("GET", "/model-versions/search", {"filter": "name = 'odds'"}) == {
        "model_versions": []}
    live.ok("DELETE", "/registered-models/delete", {"name": "evens"})
    assert live.keel.registry.search_registered_models("evens").items == []
    actions = {r.action for r in live.keel.audit.list_audit_records(limit=10_000)}
    assert {"registered_model.created", "registered_model.updated",
            "model_version.tag_deleted", "registered_model.deleted"} <= actions
