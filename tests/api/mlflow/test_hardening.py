"""The MLflow routes against MLflow's CVE history and MLflow's own limits, with raw HTTP:
artifact paths in every spelling that ever escaped a store, artifact locations and model
sources that point elsewhere, dataset sources with traversal, oversized batches, uploaded
pickles (stored, never loaded), MLflow's error shape, and permissions with authentication on.
Nothing may be written outside the artifact store: the filesystem is checked."""

from __future__ import annotations

import json
import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from keel.api import create_app
from keel.api._serve import serve_in_thread
from keel.app import Keel
from keel.config import load_settings
from tests.api._raw import TRAVERSALS, escaped, send_raw
from tests.api.conftest import AuthServer

API = "/api/2.0/mlflow"
PROXY = "/api/2.0/mlflow-artifacts/artifacts"


class Live:
    def __init__(self, url: str, keel: Keel, root: Path) -> None:
        self.url = url
        self.keel = keel
        self.root = root
        self.http = httpx.Client(base_url=url, timeout=30)
        experiment = self.ok("POST", "/experiments/create", {"name": "hardening"})
        self.experiment_id = experiment["experiment_id"]
        run = self.ok("POST", "/runs/create", {"experiment_id": self.experiment_id,
                                                "run_name": "target"})["run"]["info"]
        self.run_id = run["run_id"]
        self.prefix = run["artifact_uri"].removeprefix("mlflow-artifacts:/")

    def call(self, method: str, path: str, body: Any = None) -> httpx.Response:
        if method == "GET":
            return self.http.get(API + path, params=body)
        return self.http.request(method, API + path, json=body)

    def ok(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        response = self.call(method, path, body)
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()
        return found

    def refused(self, method: str, path: str, body: Any = None,
                code: str = "INVALID_PARAMETER_VALUE", status: int = 400) -> str:
        response = self.call(method, path, body)
        assert (response.status_code, response.json()["error_code"]) == (status, code), (
            response.text)
        message: str = response.json()["message"]
        return message

    def raw(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        return send_raw(self.url, method, path, body)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    root = tmp_path_factory.mktemp("mlflow-hardening")
    settings = load_settings({}, home=str(root / "server"), capture_packages=False)
    with Keel(settings) as keel, serve_in_thread(create_app(keel)) as url:
        live = Live(url, keel, root)
        yield live
        live.http.close()






@pytest.mark.parametrize("tail", TRAVERSALS)
@pytest.mark.parametrize("method", ["PUT", "GET", "DELETE"])
@pytest.mark.parametrize("inside", [True, False], ids=["in-run", "bare"])
def test_artifact_paths_cannot_leave_the_store(live: Live, tail: str, method: str,
                                               inside: bool) -> None:
    path = f"{PROXY}/{live.prefix}/{tail}" if inside else f"{PROXY}/{tail}"
    status, body = live.raw(method, path, b"x" if method == "PUT" else None)
    assert status < 500, (status, body[:300])
    store = live.root / "server" / "artifacts"
    if method == "PUT" and 200 <= status < 300:
        # Accepted only when the canonical key stays inside the store (and inside the run's
        # artifacts when the path started there): '…//etc' has an empty component, dropped,
        # never read as a host or an absolute path; '%c0%ae' decodes to U+FFFD, not a dot.
        [written] = store.rglob("escape.txt")
        assert not inside or written.is_relative_to(store / live.prefix), written
        written.unlink()
    elif status >= 400:
        assert json.loads(body)["error_code"] in ("INVALID_PARAMETER_VALUE",
                                                  "RESOURCE_DOES_NOT_EXIST",
                                                  "ENDPOINT_NOT_FOUND"), body
    assert escaped(live.root) == []


@pytest.mark.parametrize("prefix", ["..", "%2e%2e", "/etc", "file:/", "a/../../..",
                                    "\\\\host", "a;b", "a?b", "a#b", "%252e%252e"])
def test_listings_cannot_leave_the_store(live: Live, prefix: str) -> None:
    response = live.http.get(PROXY, params={"path": prefix})
    assert response.status_code == 400, response.text
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    response = live.http.get(f"{API}/artifacts/list",
                             params={"run_id": live.run_id, "path": prefix})
    assert response.status_code == 400, response.text


def test_a_round_trip_through_the_proxy_is_recorded_on_the_run(live: Live) -> None:
    response = live.http.put(f"{PROXY}/{live.prefix}/dir/data.bin", content=b"\x00payload")
    assert response.status_code == 200, response.text
    listed = live.http.get(PROXY, params={"path": f"{live.prefix}/dir"}).json()
    assert listed == {"files": [{"path": "data.bin", "is_dir": False, "file_size": 8}]}
    assert live.http.get(f"{PROXY}/{live.prefix}/dir/data.bin").content == b"\x00payload"
    ranged = live.http.get(f"{PROXY}/{live.prefix}/dir/data.bin", headers={"Range": "bytes=1-3"})
    assert (ranged.status_code, ranged.content) == (206, b"pay")
    [record] = live.keel.metadata.runs.list_artifact_records(live.run_id, "dir")
    assert (record.path, record.size) == ("dir/data.bin", 8)
    run_listing = live.ok("GET", "/artifacts/list", {"run_id": live.run_id, "path": "dir"})
    assert run_listing["files"] == [{"path": "dir/data.bin", "is_dir": False, "file_size": 8}]
    assert live.http.delete(f"{PROXY}/{live.prefix}/dir/data.bin").status_code == 200
    assert not (live.root / "server" / "artifacts" / live.prefix / "dir" / "data.bin").exists()


LOCATIONS = ["file:///etc", "s3://someone-elses-bucket/x", "http://evil.example/", "dbfs:/x",
             "/absolute/path", "../../outside", "%2e%2e/outside", "//host/share", "C:\\x",
             "mlflow-artifacts://evil.example/x", "mlflow-artifacts:/../x", "http:///#/../",
             "a/%252e%252e/b"]


@pytest.mark.parametrize("location", LOCATIONS)
def test_experiment_locations_may_only_name_the_store(live: Live, location: str) -> None:
    live.refused("POST", "/experiments/create",
                 {"name": f"loc-{LOCATIONS.index(location)}", "artifact_location": location})
    assert live.keel.experiments.find_experiment_by_name(
        f"loc-{LOCATIONS.index(location)}") is None


def test_an_experiment_location_inside_the_store_is_a_key(live: Live) -> None:
    created = live.ok("POST", "/experiments/create",
                      {"name": "placed", "artifact_location": "mlflow-artifacts:/teams/a"})
    experiment = live.keel.experiments.get_experiment(created["experiment_id"])
    assert experiment.artifact_location == "teams/a"


SOURCES = ["file:///etc/passwd", "http://evil.example/model", "https://evil.example/m",
           "s3://elsewhere/model", "mlflow-artifacts://evil.example/m", "http:///#/../",
           "mlflow-artifacts:/../../etc", "mlflow-artifacts:/a/%2e%2e/%2e%2e/b",
           "runs:/{run_id}/../../../etc", "runs:/{run_id}/%2e%2e/x", "runs:/../x",
           "models:/m-0123/../../x", "models:/other/1", "/etc/passwd", "dbfs:/model", ""]


@pytest.mark.parametrize("source", SOURCES)
def test_model_sources_may_only_name_the_store(live: Live, source: str) -> None:
    if live.keel.registry.search_registered_models("guarded-%").items == []:
        live.ok("POST", "/registered-models/create", {"name": "guarded-src"})
    live.refused("POST", "/model-versions/create",
                 {"name": "guarded-src", "source": source.format(run_id=live.run_id)})
    assert live.keel.registry.list_model_versions("guarded-src").items == []


def test_uploaded_pickles_are_stored_never_loaded(live: Live) -> None:
    marker = live.root / "pwned"

    class Bomb:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            import os
            return os.system, (f"touch {marker}",)

    key = f"{live.prefix}/model/model.pkl"
    assert live.http.put(f"{PROXY}/{key}", content=pickle.dumps(Bomb())).status_code == 200
    assert live.http.put(f"{PROXY}/{live.prefix}/model/MLmodel",
                         content=b"flavors:\n  python_function:\n    loader_module: x\n"
                         ).status_code == 200
    live.ok("POST", "/registered-models/create", {"name": "pickled"})
    version = live.ok("POST", "/model-versions/create",
                      {"name": "pickled", "source": f"mlflow-artifacts:/{live.prefix}/model"})
    assert version["model_version"]["run_id"] == live.run_id
    uri = live.ok("GET", "/model-versions/get-download-uri", {"name": "pickled", "version": "1"})
    assert uri == {"artifact_uri": f"mlflow-artifacts:/{live.prefix}/model"}
    live.ok("POST", "/registered-models/alias", {"name": "pickled", "alias": "a", "version": "1"})
    assert not marker.exists()


@pytest.mark.parametrize("source", ["file:///data/../../etc/passwd", "s3://b/%2e%2e/x",
                                    "http://user:secret@host/data.csv", "javascript:alert(1)",
                                    "a\\..\\b"])
def test_dataset_sources_are_checked(live: Live, source: str) -> None:
    dataset = {"name": "d", "digest": "abc", "source_type": "http",
               "source": json.dumps({"uri": source})}
    live.refused("POST", "/runs/log-inputs", {"run_id": live.run_id, "datasets": [
        {"tags": [{"key": "mlflow.data.context", "value": "train"}], "dataset": dataset}]})
    assert live.keel.metadata.datasets.list_run_inputs(live.run_id) == []


@pytest.mark.parametrize(("metrics", "params", "tags"), [
    (1001, 0, 0), (0, 101, 0), (0, 0, 101), (900, 99, 2)])
def test_batches_keep_mlflows_limits(live: Live, metrics: int, params: int, tags: int) -> None:
    body = {"run_id": live.run_id,
            "metrics": [{"key": f"lim{i}", "value": 1.0, "timestamp": 1, "step": 0}
                        for i in range(metrics)],
            "params": [{"key": f"lim{i}", "value": "v"} for i in range(params)],
            "tags": [{"key": f"lim{i}", "value": "v"} for i in range(tags)]}
    assert "at most" in live.refused("POST", "/runs/log-batch", body)
    run = live.keel.runs.get_run(live.run_id)
    assert not any(k.startswith("lim") for k in [*run.params, *run.metrics, *run.tags])


def test_mlflows_value_limits_and_key_rules(live: Live) -> None:
    run_id = live.run_id
    live.refused("POST", "/runs/log-parameter", {"run_id": run_id, "key": "p", "value": "x" * 6001})
    live.refused("POST", "/runs/set-tag", {"run_id": run_id, "key": "t", "value": "x" * 8001})
    for key in ["../x", "a\\b", "/abs", "a//b", "semi;colon", "x" * 251, ""]:
        live.refused("POST", "/runs/log-metric",
                     {"run_id": run_id, "key": key, "value": 1.0, "timestamp": 1})
    live.ok("POST", "/runs/log-metric",
            {"run_id": run_id, "key": "ok/key: v1.2-x", "value": "NaN", "timestamp": 1})
    assert "ok/key: v1.2-x" in live.keel.runs.get_run(run_id).metrics


def test_mlflows_error_shape(live: Live) -> None:
    response = live.http.post(f"{API}/no/such/endpoint", json={})
    assert (response.status_code, response.json()["error_code"]) == (404, "ENDPOINT_NOT_FOUND")
    response = live.http.post(f"{API}/runs/create", content=b"{not json",
                              headers={"Content-Type": "application/json"})
    assert (response.status_code, response.json()["error_code"]) == (
        400, "INVALID_PARAMETER_VALUE")
    assert "run_id" in live.refused("GET", "/runs/get", {})
    live.refused("GET", "/runs/get", {"run_id": "0" * 32}, "RESOURCE_DOES_NOT_EXIST", 404)
    live.refused("POST", "/experiments/create", {"name": "hardening"},
                 "RESOURCE_ALREADY_EXISTS", 400)
    live.refused("POST", "/runs/search", {"experiment_ids": [live.experiment_id],
                                          "filter": "attributes.artifact_uri = 'x'"})
    live.refused("POST", "/runs/search", {"experiment_ids": [live.experiment_id],
                                          "max_results": 50_001})
    response = live.http.post(f"/api/2.0/mlflow-artifacts/mpu/create/{live.prefix}/big.bin",
                              json={"path": "big.bin", "num_parts": 2})
    assert response.status_code == 400
    assert response.json()["message"].startswith(
        "Multipart upload is not supported for the current artifact repository")
    assert live.http.get("/api/3.0/mlflow/server-info").json()[
        "multipart_uploads_enabled"] is False


# -- with authentication on ---------------------------------------------------------------


def _mlflow(server: AuthServer, who: str | None) -> httpx.Client:
    return server.client(who)


def test_permissions_follow_mlflows_model(auth_server: AuthServer) -> None:
    with _mlflow(auth_server, "alice") as alice, _mlflow(auth_server, "bob") as bob, \
            _mlflow(auth_server, None) as nobody:
        response = nobody.post(f"{API}/experiments/create", json={"name": "secret"})
        assert (response.status_code, response.json()["error_code"]) == (401, "UNAUTHENTICATED")
        experiment_id = alice.post(f"{API}/experiments/create",
                                   json={"name": "secret"}).json()["experiment_id"]
        run = alice.post(f"{API}/runs/create", json={"experiment_id": experiment_id,
                                                     "user_id": "mallory"}).json()["run"]
        run_id = run["info"]["run_id"]
        assert run["info"]["user_id"] == "alice"  # the caller, whatever the body says
        key = run["info"]["artifact_uri"].removeprefix("mlflow-artifacts:/")
        assert alice.put(f"{PROXY}/{key}/a.txt", content=b"a").status_code == 200
        # every account may read (keel's default role, as MLflow's default permission)...
        assert bob.get(f"{API}/runs/get", params={"run_id": run_id}).status_code == 200
        assert bob.get(f"{PROXY}/{key}/a.txt").content == b"a"
        found = bob.post(f"{API}/experiments/search", json={}).json()["experiments"]
        assert experiment_id in [e["experiment_id"] for e in found]
        # ...but only editors write
        for method, path, body in [
            ("POST", f"{API}/runs/log-metric", {"run_id": run_id, "key": "m", "value": 1,
                                                "timestamp": 1}),
            ("POST", f"{API}/runs/set-tag", {"run_id": run_id, "key": "t", "value": "v"}),
            ("POST", f"{API}/runs/create", {"experiment_id": experiment_id}),
            ("POST", f"{API}/experiments/update", {"experiment_id": experiment_id,
                                                   "new_name": "stolen"}),
            ("PUT", f"{PROXY}/{key}/b.txt", None),
        ]:
            if method == "PUT":
                response = bob.put(path, content=b"b")
            else:
                response = bob.request(method, path, json=body)
            assert response.status_code == 403, (method, path, response.text)
            assert response.json()["error_code"] == "PERMISSION_DENIED"
        assert not (auth_server.keel.artifact_store.exists(f"{key}/b.txt"))
        # logged models' files are their experiment's, registered models their creator's
        model = alice.post(f"{API}/logged-models", json={
            "experiment_id": experiment_id, "source_run_id": run_id}).json()["model"]["info"]
        location = model["artifact_uri"].removeprefix("mlflow-artifacts:/")
        assert alice.put(f"{PROXY}/{location}/MLmodel", content=b"m").status_code == 200
        assert bob.put(f"{PROXY}/{location}/MLmodel", content=b"x").status_code == 403
        assert alice.post(f"{API}/registered-models/create",
                          json={"name": "alices"}).status_code == 200
        version = alice.post(f"{API}/model-versions/create", json={
            "name": "alices", "source": f"models:/{model['model_id']}"})
        assert version.status_code == 200, version.text
        for method, path, body in [
            ("POST", f"{API}/registered-models/alias", {"name": "alices", "alias": "a",
                                                        "version": "1"}),
            ("POST", f"{API}/model-versions/create", {"name": "alices",
                                                      "source": f"models:/{model['model_id']}"}),
            ("DELETE", f"{API}/model-versions/delete", {"name": "alices", "version": "1"}),
        ]:
            response = bob.request(method, path, json=body)
            assert response.status_code == 403, (path, response.text)
        assert bob.get(f"{API}/model-versions/get-download-uri",
                       params={"name": "alices", "version": "1"}).status_code == 200
        auth_server.keel.auth.grant("bob", _experiment(), experiment_id, _role("editor"),
                                    actor="root")
        assert bob.post(f"{API}/runs/log-metric", json={
            "run_id": run_id, "key": "m", "value": 1, "timestamp": 1}).status_code == 200
        response = bob.delete(f"{PROXY}/{key}/a.txt")  # deleting artifacts needs manager
        assert (response.status_code, response.json()["error_code"]) == (403, "PERMISSION_DENIED")
        response = bob.post(f"{API}/runs/delete", json={"run_id": run_id})
        assert response.status_code == 403
        assert alice.post(f"{API}/runs/delete", json={"run_id": run_id}).status_code == 200


def _experiment() -> Any:
    from keel.auth import ResourceKind

    return ResourceKind.EXPERIMENT


def _role(name: str) -> Any:
    from keel.auth import Role

    return Role(name)
