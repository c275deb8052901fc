"""Models with the real mlflow client: an MLflow 3 logged model, registered in keel's registry
(audited, governed), loaded back by alias with pyfunc to the same predictions."""

from __future__ import annotations

from typing import Any

import pytest

from keel.registry import PromotionPolicy, TargetRules
from tests.api.mlflow.conftest import MlflowServer


@pytest.fixture(scope="module")
def logged(mlflow_server: MlflowServer) -> dict[str, Any]:
    keel = mlflow_server.keel
    keel.registry.create_registered_model("guarded", actor="setup")
    keel.registry.register_model("mlflow-artifacts:/outside/model", "guarded", actor="setup",
                                 verified_source=True)
    keel.approvals.set_policy("guarded", PromotionPolicy(
        targets={"production": TargetRules()}, protected_aliases={"prod": "production"}),
        actor="setup")
    return mlflow_server.run("models")


def test_pyfunc_loads_the_registered_model_by_alias(logged: dict[str, Any]) -> None:
    assert logged["predicted"] == logged["expected"]
    assert logged["predicted_second"] == logged["expected"]
    assert logged["proba"] == pytest.approx(logged["expected_proba"])


def test_the_logged_model_is_in_keel(mlflow_server: MlflowServer,
                                     logged: dict[str, Any]) -> None:
    models = mlflow_server.keel.metadata.mlflow_models  # type: ignore[attr-defined]
    model = models.get_logged_model(logged["model_id"])
    experiment = mlflow_server.keel.experiments.get_experiment_by_name("mlflow-models")
    assert model.experiment_id == experiment.experiment_id
    assert model.source_run_id == logged["run_id"] and model.name == "classifier"
    assert model.status == "LOGGED_MODEL_READY" and model.params == {"C": "1.0"}
    assert model.artifact_location == (
        f"{experiment.artifact_location}/models/{model.model_id}/artifacts")
    assert (mlflow_server.artifacts / model.artifact_location / "MLmodel").is_file()
    assert logged["logged"]["artifact_location"] == f"mlflow-artifacts:/{model.artifact_location}"
    assert logged["logged"]["status"] == "READY"
    assert logged["logged_search"] == [logged["model_id"]]
    assert logged["model_uri"] == f"models:/{logged['model_id']}"
    links = models.list_run_model_links(logged["run_id"])
    assert [(link.model_id, link.direction) for link in links] == [(model.model_id, "output")]


def test_versions_and_aliases_are_keel_registry_entries(mlflow_server: MlflowServer,
                                                        logged: dict[str, Any]) -> None:
    registry = mlflow_server.keel.registry
    champion = registry.get_version_by_alias("credit", "champion")
    assert str(champion.version) == logged["version"] == logged["by_alias"]
    assert champion.source == f"models:/{logged['model_id']}" == logged["version_source"]
    assert champion.run_id == logged["run_id"] and champion.metrics == {"accuracy": 1.0}
    assert champion.tags == {"validated": "yes"} and champion.description == "the champion"
    model = registry.get_registered_model("credit")
    assert model.tags == {"team": "risk"} and model.aliases == {"champion": champion.version}
    second = registry.get_model_version("credit", int(logged["second"][0]))
    assert second.source == f"runs:/{logged['run_id']}/saved-model"
    assert logged["second"][1:] == [second.source, {"origin": "runs-uri"},
                                    "from the run's files"]
    # MLflow 2 style: the run holds an MLmodel there, so the source is its location
    assert logged["third_source"].startswith("mlflow-artifacts:/")
    assert logged["third_source"].endswith(f"{logged['run_id']}/artifacts/saved-model")
    assert logged["download_uri"].startswith("mlflow-artifacts:/")
    assert logged["download_uri"].endswith(f"models/{logged['model_id']}/artifacts")
    actions = [r.action for r in mlflow_server.keel.audit.list_audit_records(limit=10_000)]
    assert {"model_version.created", "alias.set", "alias.deleted",
            "model_version.deleted"} <= set(actions)


def test_registry_searches(logged: dict[str, Any]) -> None:
    assert logged["versions_by_name"] == [1, 2, 3]
    assert logged["versions_by_run"] == [1, 2, 3]
    assert logged["versions_by_tag"] == [logged["second"][0]]
    assert logged["models_like"] == ["credit"]
    assert logged["latest"] == ["3"]
    assert logged["after_delete"] == [1, 2]
    assert logged["aliases"] == {"champion": logged["version"], "challenger": "2"}


def test_registry_errors(logged: dict[str, Any]) -> None:
    assert logged["missing_alias"][0] == "RESOURCE_DOES_NOT_EXIST"
    assert logged["missing_model"][0] == "RESOURCE_DOES_NOT_EXIST"
    assert logged["duplicate_model"][0] == "RESOURCE_ALREADY_EXISTS"
    code, message = logged["protected"]
    assert code == "PERMISSION_DENIED" and "@prod is protected" in message
    assert logged["unprotected"] is None
    assert logged["stages"][0] == "BAD_REQUEST" and "aliases" in logged["stages"][1]


@pytest.mark.parametrize("name", ["file", "http", "s3", "other_host", "fragment", "traversal",
                                  "runs_traversal", "absolute"])
def test_sources_outside_the_store_are_refused(logged: dict[str, Any], name: str) -> None:
    code, message = logged[f"source_{name}"]
    assert code == "INVALID_PARAMETER_VALUE", message


def test_artifact_locations_outside_the_store_are_refused(mlflow_server: MlflowServer,
                                                          logged: dict[str, Any]) -> None:
    assert logged["location_file"][0] == "INVALID_PARAMETER_VALUE"
    assert logged["location_s3"][0] == "INVALID_PARAMETER_VALUE"
    assert mlflow_server.keel.experiments.find_experiment_by_name("bad-location") is None
