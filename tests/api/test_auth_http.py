"""Authentication and authorization through the HTTP layer: 401 versus 403, roles per
experiment, creators as managers, basic auth for MLflow clients, tokens that expire or are
revoked, and keel's own client carrying a token."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest

from keel.app import Keel
from keel.config import load_settings
from keel.errors import PermissionDenied, Unauthenticated
from tests.api.conftest import PASSWORD, AuthServer


def _basic(name: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{name}:{secret}".encode()).decode()}


def test_no_credentials_is_401_with_a_challenge(auth_server: AuthServer) -> None:
    with auth_server.client() as http:
        response = http.get("/api/v1/experiments")
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Basic")
    error = response.json()["error"]
    assert error["code"] == "UNAUTHENTICATED"
    assert "authentication required" in error["message"]


@pytest.mark.parametrize("header", [
    "Bearer keel_nothing_here", "Bearer garbage", "Basic !!!", "Digest abc", "Basic " +
    base64.b64encode(b"nocolon").decode(),
])
def test_bad_credentials_are_401_never_500(auth_server: AuthServer, header: str) -> None:
    with auth_server.client() as http:
        response = http.get("/api/v1/experiments", headers={"Authorization": header})
    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] == "UNAUTHENTICATED"


def test_wrong_password_does_not_say_whether_the_account_exists(auth_server: AuthServer) -> None:
    with auth_server.client() as http:
        known = http.get("/api/v1/experiments", headers=_basic("alice", "wrong password!!"))
        unknown = http.get("/api/v1/experiments", headers=_basic("nobody", "wrong password!!"))
    assert known.status_code == unknown.status_code == 401
    assert known.json()["error"]["message"] == unknown.json()["error"]["message"]


def test_health_and_openapi_are_public_metrics_is_not(auth_server: AuthServer) -> None:
    with auth_server.client() as http:
        assert http.get("/health").status_code == 200
        assert http.get("/openapi.json").status_code == 200
        assert http.get("/metrics").status_code == 401
    with auth_server.client("ci") as http:
        assert http.get("/metrics").status_code == 200


def test_creator_manages_others_read_by_default_and_cannot_write(auth_server: AuthServer) -> None:
    experiment_id = auth_server.make_experiment("alice", "alice-exp")
    with auth_server.client("bob") as bob:
        assert bob.get(f"/api/v1/experiments/{experiment_id}").status_code == 200
        refused = bob.post("/api/v1/runs", json={"experiment_id": experiment_id, "name": "r"})
        assert refused.status_code == 403
        message = refused.json()["error"]["message"]
        assert "bob" in message and "editor" in message
        assert bob.post(f"/api/v1/experiments/{experiment_id}/delete").status_code == 403
    with auth_server.client("alice") as alice:
        created = alice.post("/api/v1/runs", json={"experiment_id": experiment_id, "name": "r"})
        assert created.status_code == 201
        assert created.json()["user"] == "alice"


def test_a_run_belongs_to_the_caller_whatever_the_body_claims(auth_server: AuthServer) -> None:
    experiment_id = auth_server.make_experiment("alice", "spoof")
    with auth_server.client("alice") as alice:
        run = alice.post("/api/v1/runs", json={"experiment_id": experiment_id, "name": "r",
                                               "user": "root"}).json()
    assert run["user"] == "alice"


def test_an_editor_grant_lets_bob_log_and_is_audited(auth_server: AuthServer) -> None:
    from keel.auth import ResourceKind, Role

    experiment_id = auth_server.make_experiment("alice", "shared")
    auth_server.keel.auth.grant("bob", ResourceKind.EXPERIMENT, experiment_id, Role.EDITOR,
                                actor="alice")
    with auth_server.client("bob") as bob:
        run = bob.post("/api/v1/runs", json={"experiment_id": experiment_id, "name": "r"})
        assert run.status_code == 201
        run_id = run.json()["run_id"]
        logged = bob.post("/api/v1/metrics", json={"run_id": run_id, "key": ["m"],
                                                   "value": [1.0], "step": [0],
                                                   "timestamp": [1]})
        assert logged.status_code == 204
        # Editors may not delete: that needs manager.
        assert bob.post(f"/api/v1/runs/{run_id}/stage",
                        json={"stage": "deleted"}).status_code == 403
    actions = [r.action for r in auth_server.keel.audit.list_audit_records()]
    assert "auth.grant" in actions


def test_admins_may_do_everything(auth_server: AuthServer) -> None:
    experiment_id = auth_server.make_experiment("alice", "admin-view")
    with auth_server.client("root") as root:
        assert root.post(f"/api/v1/experiments/{experiment_id}/delete").status_code == 200


def test_basic_auth_takes_a_password_or_a_token(auth_server: AuthServer) -> None:
    with auth_server.client() as http:
        with_password = http.get("/api/v1/experiments", headers=_basic("alice", PASSWORD))
        with_token = http.get("/api/v1/experiments",
                              headers=_basic("ci", auth_server.tokens["ci"]))
        someone_elses_token = http.get("/api/v1/experiments",
                                       headers=_basic("bob", auth_server.tokens["ci"]))
    assert with_password.status_code == 200
    assert with_token.status_code == 200
    assert someone_elses_token.status_code == 401


def test_revoked_and_expired_tokens_are_refused_with_the_reason(auth_server: AuthServer) -> None:
    auth = auth_server.keel.auth
    info, secret = auth.create_token("alice", name="short", actor="setup")
    auth.revoke_token(info.token_id, actor="alice")
    expired_info, expired = auth.create_token("alice", name="gone", actor="setup",
                                              expires_in=timedelta(milliseconds=1))
    with auth_server.client() as http:
        revoked = http.get("/api/v1/experiments", headers={"Authorization": f"Bearer {secret}"})
        assert revoked.status_code == 401
        assert "revoked" in revoked.json()["error"]["message"]
        import time

        while auth.get_token(expired_info.token_id).status(int(time.time() * 1000)) != "expired":
            time.sleep(0.001)
        late = http.get("/api/v1/experiments", headers={"Authorization": f"Bearer {expired}"})
        assert late.status_code == 401
        assert "expired" in late.json()["error"]["message"]


def test_the_listing_hides_experiments_the_caller_cannot_read(auth_server: AuthServer) -> None:
    from keel.auth import AuthService

    private = auth_server.make_experiment("alice", "private")
    # A server whose default role is none: only grants count.
    strict = AuthService(auth_server.keel.metadata.auth, default_role=None)  # type: ignore[attr-defined]
    from keel.api import ServerConfig, create_app
    from keel.api._serve import serve_in_thread

    app = create_app(auth_server.keel, ServerConfig(auth=True), auth=strict)
    with serve_in_thread(app) as url:
        import httpx

        headers = {"Authorization": f"Bearer {auth_server.tokens['bob']}"}
        with httpx.Client(base_url=url, headers=headers) as bob:
            names = [e["experiment_id"] for e in bob.get("/api/v1/experiments").json()["items"]]
            assert private not in names
            assert bob.get(f"/api/v1/experiments/{private}").status_code == 403


def test_keel_client_sends_its_token_and_gets_keel_errors(auth_server: AuthServer,
                                                          tmp_path: object) -> None:
    experiment_id = auth_server.make_experiment("alice", "client-side")

    def client(token: str | None) -> Keel:
        return Keel(load_settings({}, tracking_url=auth_server.url, tracking_token=token,
                                  capture_packages=False, capture_git=False, user="x"))

    with client(auth_server.tokens["bob"]) as bob:
        assert bob.experiments.get_experiment(experiment_id).name == "client-side"
        with pytest.raises(PermissionDenied):
            bob.runs.create_run(experiment_id, name="nope")
    with client(None) as anonymous, pytest.raises(Unauthenticated):
        anonymous.experiments.list_experiments()
    with client(auth_server.tokens["alice"]) as alice:
        run = alice.runs.create_run(experiment_id, name="yes")
        alice.runs.log_metric(run.run_id, "loss", 0.5, synchronous=True)
        assert alice.runs.get_run(run.run_id).metrics["loss"].value == 0.5


def test_accounts_tokens_and_grants_over_http(auth_server: AuthServer) -> None:
    experiment_id = auth_server.make_experiment("alice", "granted")
    with auth_server.client("bob") as bob:
        assert bob.get("/api/v1/auth/whoami").json()["name"] == "bob"
        # Not an admin: no accounts, no tokens for others, no grants on alice's experiment.
        assert bob.post("/api/v1/auth/accounts", json={"name": "mallory",
                                                       "password": PASSWORD}).status_code == 403
        assert bob.post("/api/v1/auth/tokens", json={"name": "t",
                                                     "account": "alice"}).status_code == 403
        grant = {"account": "bob", "kind": "experiment", "resource_id": experiment_id,
                 "role": "manager"}
        assert bob.put("/api/v1/auth/grants", json=grant).status_code == 403
        own = bob.post("/api/v1/auth/tokens", json={"name": "laptop", "expires_in_days": 7})
        assert own.status_code == 201 and own.json()["secret"].startswith("keel_")
        assert "secret" not in bob.get("/api/v1/auth/tokens").json()[0]
    with auth_server.client("alice") as alice:  # alice manages her experiment
        grant = {"account": "bob", "kind": "experiment", "resource_id": experiment_id,
                 "role": "editor"}
        assert alice.put("/api/v1/auth/grants", json=grant).status_code == 200
        listed = alice.get("/api/v1/auth/grants", params={"kind": "experiment",
                                                          "resource_id": experiment_id}).json()
        assert {(g["account"], g["role"]) for g in listed} >= {("bob", "editor")}
    with auth_server.client("bob") as bob:
        run = bob.post("/api/v1/runs", json={"experiment_id": experiment_id, "name": "now"})
        assert run.status_code == 201
    with auth_server.client("root") as root:
        created = root.post("/api/v1/auth/accounts", json={"name": "carol", "password": PASSWORD})
        assert created.status_code == 201 and "password" not in created.json()
        weak = root.post("/api/v1/auth/accounts", json={"name": "dave", "password": "short"})
        assert weak.status_code == 400
    actions = [r.action for r in auth_server.keel.audit.list_audit_records()]
    assert {"auth.grant", "auth.account.create", "auth.token.create"} <= set(actions)
    actors = {r.actor for r in auth_server.keel.audit.list_audit_records()
              if r.action == "auth.grant"}
    assert "alice" in actors


def test_artifact_deletion_and_uploads_in_parts_check_permissions(auth_server: AuthServer) -> None:
    from keel.auth import ResourceKind, Role

    experiment_id = auth_server.make_experiment("alice", "artifact-perms")
    with auth_server.client("alice") as alice:
        run = alice.post("/api/v1/runs", json={"experiment_id": experiment_id,
                                               "name": "r"}).json()
        key = f"{run['artifact_location']}/model.bin"
        assert alice.put(f"/api/v1/artifacts/{key}", content=b"weights").status_code == 201
    auth_server.keel.auth.grant("bob", ResourceKind.EXPERIMENT, experiment_id, Role.EDITOR,
                                actor="alice")
    with auth_server.client("bob") as bob:
        assert bob.get(f"/api/v1/artifacts/{key}").content == b"weights"
        assert bob.delete(f"/api/v1/artifacts/{key}").status_code == 403  # manager only
        upload = bob.post("/api/v1/artifact-uploads", json={"key": f"{key}.2"})
        assert upload.status_code == 201
        # Keys outside any run belong to nobody: only admins may write there.
        assert bob.post("/api/v1/artifact-uploads",
                        json={"key": "loose/file.bin"}).status_code == 403
        assert bob.put("/api/v1/artifacts/loose/file.bin", content=b"x").status_code == 403
    with auth_server.client("ci") as ci:  # the default role reads, never writes
        base = f"/api/v1/artifact-uploads/{upload.json()['upload_id']}"
        assert ci.put(f"{base}/parts/1", content=b"x").status_code == 403
        assert ci.delete(f"/api/v1/artifacts/{key}").status_code == 403
    with auth_server.client("alice") as alice:
        assert alice.delete(f"/api/v1/artifacts/{key}").status_code == 204


def test_form_posts_are_refused_with_auth_on_too(auth_server: AuthServer) -> None:
    # With auth on, the authorization layer reads the body to find the experiment first; the
    # content type must still be checked (a browser's cross-site form post carries cookies or
    # cached basic credentials).
    experiment_id = auth_server.make_experiment("alice", "csrf-target")
    with auth_server.client("alice") as alice:
        body = json.dumps({"experiment_id": experiment_id, "name": "forged"}).encode()
        response = alice.post("/api/v1/runs", content=body,
                              headers={"Content-Type": "text/plain"})
    assert response.status_code == 415
    assert auth_server.keel.runs.search_runs(experiment_id).items == []
