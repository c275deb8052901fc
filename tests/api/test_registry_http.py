"""The registry level over HTTP: keel's client runs remote RegistryService / ApprovalService /
audit / lineage implementations, and the server enforces governance itself. Errors arrive as the
same KeelError classes, the audit actor is the caller (never a body field), bad input is a 4xx,
lists page, and with authentication on, roles and approver rules hold."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from keel.api import create_app
from keel.app import Keel
from keel.config import load_settings
from keel.errors import (
    AliasNotFound,
    AlreadyExists,
    Conflict,
    ModelVersionNotFound,
    NotApproved,
    PermissionDenied,
    RegisteredModelNotFound,
)
from keel.registry import ALIAS_UNSET, MetricGate, PromotionPolicy, TargetRules, verify_chain
from keel.registry.approvals import ApprovalService
from keel.registry.registry import RegistryService
from keel.registry.store import AuditStore
from keel.remote.audit import RemoteAuditStore
from keel.remote.registry import RemoteApprovalService, RemoteRegistryService
from tests.api.conftest import AuthServer
from tests.governance._build import register_version

POLICY = PromotionPolicy(
    targets={"production": TargetRules(metric_gates=[MetricGate("auc", ">=", threshold=0.7)],
                                       required_approvals=1)},
    protected_aliases={"prod": "production"},
)


@pytest.fixture
def http(keel_server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{keel_server}/api/v1", timeout=30) as client:
        yield client


def _typed_audit(store: RemoteAuditStore) -> AuditStore:
    return store  # mypy checks here that the remote audit store implements the port


def test_every_public_service_method_is_overridden() -> None:
    for base, remote in ((RegistryService, RemoteRegistryService),
                         (ApprovalService, RemoteApprovalService),
                         (AuditStore, RemoteAuditStore)):
        public = [n for n, _ in inspect.getmembers(base, inspect.isfunction)
                  if not n.startswith("_")]
        assert public
        missing = [n for n in public if n not in vars(remote)]
        assert missing == [], f"{remote.__name__} does not override {missing}"
        for name in public:  # and with the same parameters
            theirs = list(inspect.signature(getattr(base, name)).parameters)
            assert list(inspect.signature(getattr(remote, name)).parameters) == theirs, name


def test_the_client_uses_the_remote_services(remote_client: Keel) -> None:
    assert isinstance(remote_client.registry, RemoteRegistryService)
    assert isinstance(remote_client.approvals, RemoteApprovalService)
    assert isinstance(_typed_audit(remote_client.audit), RemoteAuditStore)


def test_errors_arrive_as_the_same_keel_errors(remote_client: Keel) -> None:
    c = remote_client
    with pytest.raises(RegisteredModelNotFound):
        c.registry.get_registered_model("nope")
    version = register_version(c, auc=0.9).version
    with pytest.raises(AlreadyExists):
        c.registry.create_registered_model("churn")
    with pytest.raises(ModelVersionNotFound):
        c.registry.get_model_version("churn", 9)
    with pytest.raises(AliasNotFound):
        c.registry.resolve("churn", alias="nope")
    c.approvals.set_policy("churn", POLICY, actor="alice")
    with pytest.raises(NotApproved) as refused:
        c.registry.set_alias("churn", "prod", version, actor="alice")
    assert any("approval:production" in u for u in refused.value.details["unmet"])
    with pytest.raises(NotApproved):
        c.approvals.require_approved("churn", version, "production", for_alias="prod")
    c.approvals.request_approval("churn", version, "production", actor="alice")
    with pytest.raises(PermissionDenied, match="separation of duties"):
        c.approvals.approve("churn", version, "production", actor="alice")
    c.approvals.approve("churn", version, "production", actor="bob")
    c.approvals.require_approved("churn", version, "production", for_alias="prod")
    assert c.registry.set_alias("churn", "prod", version).to_version == version
    assert c.load_model("models:/churn@prod").model_digest == (
        c.registry.get_model_version("churn", version).model_digest)


def test_the_audit_actor_is_the_callers_header_never_the_body(
    remote_client: Keel, http: httpx.Client
) -> None:
    c = remote_client  # its user is "tester"
    c.registry.create_registered_model("a")
    c.registry.create_registered_model("b", actor="alice")
    spoofed = http.post("/registered-models", headers={"X-Keel-Actor": "carol"},
                        json={"name": "c", "actor": "mallory"})
    assert spoofed.status_code == 400 and "actor" in spoofed.json()["error"]["message"]
    made = http.post("/registered-models", headers={"X-Keel-Actor": "carol"}, json={"name": "c"})
    assert made.status_code == 201
    records = c.audit.list_audit_records()
    assert [(r.actor, r.after["name"]) for r in records] == [
        ("tester", "a"), ("alice", "b"), ("carol", "c")]
    assert c.registry.get_registered_model("c").created_by == "carol"
    # The chain travels exactly as stored, so the client can verify it too.
    assert verify_chain(records, head=c.audit.get_chain_head()).ok
    assert c.audit.verify_audit_chain().ok
    assert [e.type for e in c.audit.list_events(0, ["registered_model.created"], 2)] == [
        "registered_model.created"] * 2


def test_approving_with_someone_elses_name_in_the_body_is_refused(
    remote_client: Keel, http: httpx.Client
) -> None:
    version = register_version(remote_client, auc=0.9).version
    remote_client.approvals.request_approval("churn", version, "production", actor="alice")
    path = f"/registered-models/churn/versions/{version}/approvals/production/approve"
    response = http.post(path, headers={"X-Keel-Actor": "alice"}, json={"actor": "bob"})
    assert response.status_code == 400
    response = http.post(path, headers={"X-Keel-Actor": "alice"}, json={})
    assert response.status_code == 403 and response.json()["error"]["code"] == (
        "PERMISSION_DENIED")


BAD = [
    ("GET", "/registered-models/churn/versions/abc", None),
    ("GET", "/registered-models/churn/versions/0", None),
    ("GET", f"/registered-models/churn/versions/{10**30}", None),
    ("GET", f"/registered-models/churn/versions/{2**63}", None),
    ("GET", "/registered-models/bad%00name", None),
    ("GET", "/registered-models/", None),
    ("GET", "/registered-models?max_results=0", None),
    ("GET", "/registered-models?max_results=1000000000", None),
    ("GET", "/registered-models?page_token=garbage", None),
    ("GET", "/model-versions?page_token=%00", None),
    ("GET", "/registered-models/churn/aliases/bad%01alias", None),
    ("GET", "/registered-models/churn/approvals?state=bogus", None),
    ("GET", "/registered-models/churn/card?format=pdf", None),
    ("GET", "/datasheets/churn-train:1?format=pdf", None),
    ("GET", "/audit/records?after_seq=-1", None),
    ("GET", "/audit/records?limit=0", None),
    ("GET", f"/audit/records?after_seq={10**30}", None),
    ("GET", "/audit/events?type=%00", None),
    ("GET", "/lineage?ref=churn:1&direction=sideways", None),
    ("GET", "/lineage?ref=churn:1&max_depth=-1", None),
    ("GET", "/lineage", None),
    ("POST", "/registered-models", b"{not json"),
    ("POST", "/registered-models", b'{"name": 5}'),
    ("POST", "/registered-models", b'{"name": ""}'),
    ("POST", "/registered-models", b'{"name": "x", "tags": {"k": 1}}'),
    ("POST", "/registered-models", b'[]'),
    ("POST", "/registered-models/churn/versions", b'{"source": "file:///etc/passwd"}'),
    ("POST", "/registered-models/churn/versions", b'{"source": "runs:/../../x/model"}'),
    ("POST", "/registered-models/churn/versions", b'{"source": "models:/churn/1"}'),
    ("PUT", "/registered-models/churn/aliases/prod", b'{"version": -1}'),
    ("PUT", "/registered-models/churn/aliases/prod",
     b'{"version": 1, "expected_version": 99999999999999999999999}'),
    ("PUT", "/registered-models/churn/aliases/1", b'{"version": 1}'),
    ("PUT", "/registered-models/churn/policy",
     b'{"policy": {"targets": {"p": {"metric_gates": [{"metric": "auc", "op": "~"}]}}}}'),
    ("PUT", "/registered-models/churn/policy", b'{"policy": {"targets": {"p": 3}}}'),
    ("PUT", "/registered-models/churn/card-fields", b'{"fields": {"purpose": "x"}}'),
    ("PATCH", "/registered-models/churn/card", b'{"fields": {"purpose": "x"}}'),
    ("POST", "/registered-models/churn/decisions", b'{"title": "t"}'),
    ("POST", "/registered-models/churn/versions/1/approvals/bad%00target/request", b"{}"),
    ("DELETE", "/registered-models/churn/tags", None),
]


def test_bad_input_is_a_4xx_never_a_5xx(remote_client: Keel, http: httpx.Client) -> None:
    register_version(remote_client, auc=0.9)
    for method, path, body in BAD:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        response = http.request(method, path, content=body, headers=headers)
        assert 400 <= response.status_code < 500, (method, path, response.text[:300])
        assert "error" in response.json(), (method, path)


def test_lists_page_with_tokens_and_cursors(remote_client: Keel) -> None:
    reg = remote_client.registry
    for i in range(5):
        reg.create_registered_model(f"m{i}", tags={"team": "a" if i % 2 else "b"})
    seen, token = [], None
    while True:
        page = reg.search_registered_models(max_results=2, page_token=token)
        assert len(page.items) <= 2
        seen += [m.name for m in page.items]
        token = page.next_page_token
        if token is None:
            break
    assert seen == [f"m{i}" for i in range(5)]
    assert [m.name for m in reg.search_registered_models(tags={"team": "a"})] == ["m1", "m3"]
    assert [m.name for m in reg.search_registered_models("m_")][:2] == ["m0", "m1"]

    for _ in range(3):
        register_version(remote_client, auc=0.8)
    first = reg.list_model_versions("churn", max_results=2)
    assert [v.version for v in first.items] == [3, 2] and first.next_page_token
    rest = reg.list_model_versions("churn", max_results=2, page_token=first.next_page_token)
    assert [v.version for v in rest.items] == [1] and rest.next_page_token is None
    run_id = first.items[0].run_id
    assert run_id is not None
    assert [v.version for v in reg.list_model_versions(run_id=run_id)] == [3]

    audit = remote_client.audit
    everything = audit.list_audit_records()
    cursor, paged = 0, []
    while batch := audit.list_audit_records(cursor, 4):
        paged += batch
        cursor = batch[-1].seq
    assert paged == everything and len(everything) > 8
    assert audit.get_chain_head().seq == everything[-1].seq


def test_a_model_name_with_slashes_is_one_resource(remote_client: Keel) -> None:
    version = register_version(remote_client, auc=0.9, name="team/churn")
    reg = remote_client.registry
    assert reg.get_registered_model("team/churn").latest_version == version.version == 1
    reg.set_alias("team/churn", "champion", 1)
    reg.set_registered_model_tags("team/churn", {"versions": "x"})
    assert reg.get_version_by_alias("team/churn", "champion").name == "team/churn"
    assert reg.resolve("team/churn", alias="champion").version == 1
    assert reg.list_model_versions("team/churn").items[0].tags == {}
    with pytest.raises(RegisteredModelNotFound):
        reg.get_registered_model("team")
    assert reg.create_registered_model("a/../b").name == "a/../b"  # no URL normalization
    assert reg.get_registered_model("a/../b").name == "a/../b"
    reg.delete_registered_model("a/../b")
    reg.delete_alias("team/churn", "champion")
    reg.delete_model_version("team/churn", 1)
    reg.delete_registered_model("team/churn")
    assert [m.name for m in reg.search_registered_models()] == []


def test_tags_descriptions_and_renames(remote_client: Keel) -> None:
    reg = remote_client.registry
    assert isinstance(reg, RemoteRegistryService)
    register_version(remote_client, auc=0.9)
    reg.set_registered_model_tags("churn", {"a/b": "1", "c": "2"})
    assert reg.delete_registered_model_tag("churn", "a/b").tags == {"c": "2"}
    reg.set_model_version_tags("churn", 1, {"k": "v"})
    assert reg.delete_model_version_tag("churn", 1, "k").tags == {}
    assert reg.describe_registered_model("churn", "d").description == "d"
    assert reg.describe_model_version("churn", 1, None).description is None
    assert reg.rename_registered_model("churn", "churn2").name == "churn2"
    assert reg.get_model_version("churn2", 1).name == "churn2"
    assert reg.set_alias("churn2", "champion", 1, expected_version=ALIAS_UNSET).from_version is None
    with pytest.raises(Conflict):
        reg.set_alias("churn2", "champion", 1, expected_version=ALIAS_UNSET)
    assert [m.to_version for m in reg.alias_history("churn2", "champion")] == [1]


def test_governance_documents_from_the_server(remote_client: Keel, http: httpx.Client) -> None:
    register_version(remote_client, auc=0.9)
    remote_client.governance.update_card_fields("churn", {"intended_use": "Ranking."})
    card = http.get("/registered-models/churn/card").json()
    assert card["details"]["name"] == "churn" and card["human"]["intended_use"] == "Ranking."
    assert card == {**card, "gaps": ["out_of_scope", "limitations", "ethical_considerations"]}
    md = http.get("/registered-models/churn/card", params={"format": "md", "version": 1})
    assert md.headers["content-type"].startswith("text/markdown")
    assert md.text.startswith("---\n") and "Ranking." in md.text
    page = http.get("/registered-models/churn/card", params={"format": "html"})
    assert page.headers["content-type"].startswith("text/html") and "<html" in page.text
    patched = http.patch("/registered-models/churn/card",
                         json={"fields": {"limitations": "Small."}, "version": 1})
    assert patched.json()["limitations"] == "Small."
    assert remote_client.registry.card_fields("churn", 1).intended_use == "Ranking."
    sheet = http.get("/datasheets/churn-train@latest").json()
    assert sheet["name"] == "churn-train" and [m["name"] for m in sheet["models"]] == ["churn"]
    assert remote_client.governance.datasheet("churn-train@latest").num_rows == 200


def test_every_model_route_is_reached_by_its_own_paths(tmp_path: Path) -> None:
    """Model names may hold slashes, so ``{name:path}`` patterns overlap: a route listed too
    early would capture another's requests (``{name}/tags`` those of
    ``{name}/versions/{v}/tags``). Each route must be the first to match a path of its shape."""
    from starlette.routing import Match, Route

    with Keel(load_settings({}, home=str(tmp_path), capture_packages=False)) as keel:
        routes = [r for r in create_app(keel).routes if isinstance(r, Route)]
    samples = {"{name:path}": "team/m", "{version}": "1", "{alias}": "a", "{target}": "t"}
    checked = 0
    for route in routes:
        if not route.path.startswith("/api/v1/registered-models/"):
            continue
        path = route.path
        for placeholder, value in samples.items():
            path = path.replace(placeholder, value)
        for method in sorted(route.methods or ()):
            scope = {"type": "http", "path": path, "method": method, "root_path": ""}
            first = next(r for r in routes if r.matches(scope)[0] is Match.FULL)
            assert first is route, f"{method} {path} reaches {first.path}, not {route.path}"
            checked += 1
    assert checked > 30


# -- with authentication on ----------------------------------------------------------------------


def _client(server: AuthServer, who: str, tmp_path: Path) -> Keel:
    return Keel(load_settings({}, tracking_url=server.url, tracking_token=server.tokens[who],
                              home=str(tmp_path / who), capture_packages=False,
                              capture_git=False, user=who))


def test_roles_and_approver_rules_hold_for_authenticated_callers(
    auth_server: AuthServer, tmp_path: Path
) -> None:
    with _client(auth_server, "alice", tmp_path) as alice, \
            _client(auth_server, "bob", tmp_path) as bob, \
            _client(auth_server, "root", tmp_path) as root:
        version = register_version(alice, auc=0.9).version  # alice creates churn: its manager
        assert alice.registry.get_model_version("churn", version).created_by == "alice"
        with pytest.raises(PermissionDenied):
            bob.approvals.set_policy("churn", POLICY)  # reader by default: no policy changes
        alice.approvals.set_policy("churn", POLICY)
        with pytest.raises(PermissionDenied):
            bob.approvals.request_approval("churn", version, "production")
        alice.approvals.request_approval("churn", version, "production")
        # An actor= argument cannot make alice someone else: the account decides.
        with pytest.raises(PermissionDenied, match="separation of duties"):
            alice.approvals.approve("churn", version, "production", actor="bob")
        approved = bob.approvals.approve("churn", version, "production", actor="alice")
        assert approved.approved_by == ("bob",)
        with pytest.raises(PermissionDenied):
            bob.registry.set_alias("churn", "prod", version)  # protected: manager only
        with pytest.raises(PermissionDenied):
            bob.registry.set_alias("churn", "candidate", version)  # editor needed
        alice.registry.set_alias("churn", "prod", version)
        with pytest.raises(PermissionDenied):
            register_version(bob, auc=0.9)  # a version of alice's model: editor needed
        bob.registry.create_registered_model("bobs")  # anyone may create; bob manages it
        bob.registry.delete_registered_model("bobs")
        with pytest.raises(PermissionDenied):
            bob.audit.list_audit_records()  # the audit log is for admins
        decided = [r for r in root.audit.list_audit_records(model_id=approved_model_id(root))
                   if r.action == "approval.decided"]
        assert [r.actor for r in decided] == ["bob"]
        assert root.audit.verify_audit_chain().ok
        assert bob.load_model("models:/churn@prod").flavor == "sklearn"


def approved_model_id(client: Keel) -> str:
    return client.registry.get_registered_model("churn").model_id


def test_approver_lists_are_checked_against_the_account(
    auth_server: AuthServer, tmp_path: Path
) -> None:
    only_root = PromotionPolicy(targets={"production": TargetRules(
        required_approvals=1, approvers=("root",))})
    with _client(auth_server, "alice", tmp_path) as alice, \
            _client(auth_server, "bob", tmp_path) as bob, \
            _client(auth_server, "root", tmp_path) as root:
        version = register_version(alice, auc=0.9).version
        alice.approvals.set_policy("churn", only_root)
        alice.approvals.request_approval("churn", version, "production")
        with pytest.raises(PermissionDenied, match="approvers: root"):
            bob.approvals.approve("churn", version, "production", actor="root")
        assert root.approvals.approve("churn", version, "production").approved_by == ("root",)
