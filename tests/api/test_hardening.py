"""MLflow's CVE history as a test plan, against keel's own routes: artifact paths in every
spelling that ever escaped a store, artifact locations that point elsewhere, oversized bodies,
CORS, security headers, and uploaded files the server must never deserialize."""

from __future__ import annotations

import json
import pickle
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from keel.api import ServerConfig, create_app
from keel.api._serve import serve_in_thread
from keel.app import Keel
from keel.config import load_settings
from tests.api._raw import TRAVERSALS, escaped, send_raw


class Live:
    def __init__(self, url: str, keel: Keel, root: Path) -> None:
        self.url = url
        self.keel = keel
        self.root = root
        self.http = httpx.Client(base_url=url, timeout=30)
        experiment = self.http.post("/api/v1/experiments", json={"name": "h"}).json()
        self.experiment_id = experiment["experiment_id"]
        run = self.http.post("/api/v1/runs", json={"experiment_id": self.experiment_id,
                                                   "name": "r"}).json()
        self.run_id = run["run_id"]
        self.prefix = run["artifact_location"]

    def raw(self, method: str, path: str, body: bytes | None = None,
            headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        return send_raw(self.url, method, path, body, headers)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    # One server for the module: every test leaves the store as it must be (nothing escaped).
    tmp_path = tmp_path_factory.mktemp("hardening")
    settings = load_settings({}, home=str(tmp_path / "server"), capture_packages=False)
    config = ServerConfig(max_body_bytes=64 * 1024)
    with Keel(settings) as keel, serve_in_thread(create_app(keel, config)) as url:
        live = Live(url, keel, tmp_path)
        yield live
        live.http.close()






@pytest.mark.parametrize("tail", TRAVERSALS)
@pytest.mark.parametrize("method", ["PUT", "GET", "DELETE"])
def test_artifact_paths_cannot_leave_the_store(live: Live, tail: str, method: str) -> None:
    path = f"/api/v1/artifacts/{live.prefix}/{tail}"
    status, body = live.raw(method, path.replace(" ", "%20"), body=b"x" if method == "PUT"
                            else None)
    assert status < 500, (status, body[:200])
    if 200 <= status < 300 and method == "PUT":
        # Accepted only when the canonical key stays inside the run's artifacts (an empty
        # component, as in '…//etc', is dropped, never read as an absolute path).
        assert json.loads(body)["path"].startswith(live.prefix + "/")
    elif method == "PUT":
        assert status in (400, 403), (status, body[:200])
    assert escaped(live.root) == []
    assert not (live.root / "server" / "escape.txt").exists()


@pytest.mark.parametrize("prefix", ["..", "%2e%2e", "/etc", "file:/", "a/../../..", "\\\\host"])
def test_listing_cannot_leave_the_store(live: Live, prefix: str) -> None:
    response = live.http.get("/api/v1/artifacts", params={"prefix": prefix})
    assert 400 <= response.status_code < 500


@pytest.mark.parametrize("location", [
    "file:///etc", "s3://someone-elses-bucket/x", "http://evil.example/", "dbfs:/x",
    "/absolute/path", "../../outside", "%2e%2e/outside", "//host/share", "C:\\x",
    "mlflow-artifacts://evil.example/x", "http:///#/../",
    "e1/0123456789abcdef0123456789abcdef/artifacts/x",
])
def test_an_experiment_location_may_only_name_the_configured_store(live: Live,
                                                                   location: str) -> None:
    response = live.http.post("/api/v1/experiments", json={"name": f"loc-{hash(location)}",
                                                           "artifact_location": location})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "INVALID_ARTIFACT_PATH"


def test_a_run_cannot_choose_where_its_artifacts_go(live: Live) -> None:
    response = live.http.post("/api/v1/runs", json={
        "experiment_id": live.experiment_id, "name": "r2", "artifact_location": "/etc"})
    assert response.status_code == 400  # not a field of the request at all


def test_uploaded_pickles_are_stored_never_loaded(live: Live) -> None:
    marker = live.root / "pwned"

    class Bomb:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (Path.touch, (str(marker),))  # type: ignore[return-value]

    payload = pickle.dumps(Bomb())
    key = f"{live.prefix}/model/model.pkl"
    assert live.http.put(f"/api/v1/artifacts/{key}", content=payload).status_code == 201
    assert live.http.get(f"/api/v1/artifacts/{key}").content == payload
    assert not marker.exists()


def test_oversized_bodies_are_refused_before_they_are_read(live: Live) -> None:
    big = b'{"name": "' + b"x" * (128 * 1024) + b'"}'
    status, body = live.raw("POST", "/api/v1/experiments", body=big,
                            headers={"Content-Type": "application/json"})
    assert status == 413
    assert b"REQUEST_TOO_LARGE" in body

    def chunks() -> Iterator[bytes]:
        for _ in range(200):
            yield b" " * 1024

    response = live.http.post("/api/v1/experiments", content=chunks(),
                              headers={"Content-Type": "application/json"})
    assert response.status_code == 413


def test_cors_is_off_by_default(live: Live) -> None:
    response = live.http.options("/api/v1/experiments", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in response.headers
    response = live.http.get("/api/v1/experiments", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in response.headers


def test_security_headers_are_on_every_response(live: Live) -> None:
    for response in (live.http.get("/health"), live.http.get("/nowhere"),
                     live.http.get("/api/v1/runs/" + "0" * 32)):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


def test_errors_never_leak_a_traceback(live: Live) -> None:
    response = live.http.post("/api/v1/metrics", content=b"{not json",
                              headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert "Traceback" not in response.text
    assert response.json()["error"]["code"] == "INVALID_ARGUMENT"


def test_ranged_downloads_and_bad_ranges(live: Live) -> None:
    key = f"{live.prefix}/data.bin"
    data = bytes(range(256)) * 100
    live.http.put(f"/api/v1/artifacts/{key}", content=data)
    part = live.http.get(f"/api/v1/artifacts/{key}", headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == data[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(data)}"
    tail = live.http.get(f"/api/v1/artifacts/{key}", headers={"Range": "bytes=-10"})
    assert tail.content == data[-10:]
    for bad in ("bytes=999999-", "bytes=5-2", "items=0-1", "bytes=0-1,5-6"):
        response = live.http.get(f"/api/v1/artifacts/{key}", headers={"Range": bad})
        assert response.status_code == 416, bad


def test_uploads_in_parts_check_ids_parts_and_keys(live: Live) -> None:
    for key in ("../escape.txt", "/etc/escape.txt", "a/%2e%2e/%2e%2e/escape.txt"):
        refused = live.http.post("/api/v1/artifact-uploads", json={"key": key})
        assert refused.status_code == 400, key
    key = f"{live.prefix}/big.bin"
    upload = live.http.post("/api/v1/artifact-uploads", json={"key": key}).json()
    base = f"/api/v1/artifact-uploads/{upload['upload_id']}"
    assert live.http.put(f"{base}/parts/1", content=b"a" * 10).status_code == 200
    assert live.http.put(f"{base}/parts/0", content=b"x").status_code == 400
    assert live.http.put(f"{base}/parts/10001", content=b"x").status_code == 400
    missing = live.http.post(f"{base}/complete", json={"parts": [1, 2]})
    assert missing.status_code == 400 and "missing parts [2]" in missing.json()["error"]["message"]
    assert live.http.put(f"{base}/parts/2", content=b"b" * 5).status_code == 200
    done = live.http.post(f"{base}/complete", json={"parts": [1, 2]})
    assert done.status_code == 201 and done.json()["size"] == 15
    assert live.http.get(f"/api/v1/artifacts/{key}").content == b"a" * 10 + b"b" * 5
    assert live.http.post(f"{base}/complete", json={"parts": [1]}).status_code == 404
    for bad_id in ("..%2f..%2fescape", "0" * 31, "Z" * 32):
        status, _ = live.raw("PUT", f"/api/v1/artifact-uploads/{bad_id}/parts/1", body=b"x")
        assert 400 <= status < 500
    assert escaped(live.root) == []


@pytest.mark.parametrize("content_type", [
    "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "",
])
def test_json_bodies_must_say_so_which_stops_cross_site_form_posts(live: Live,
                                                                  content_type: str) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    status, body = live.raw("POST", "/api/v1/experiments", body=b'{"name": "csrf"}',
                            headers=headers)
    assert status == 415, body
    assert live.keel.experiments.find_experiment_by_name("csrf") is None
