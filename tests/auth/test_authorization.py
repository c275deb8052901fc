"""AuthService roles, grants and checks, the audit trail, and hostile input."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from keel.auth import (
    ANONYMOUS,
    AccountKind,
    AuthService,
    Principal,
    ResourceKind,
    Role,
    hash_token,
)
from keel.backends.sql import SqlMetadataStore, open_sql_store
from keel.errors import (
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unauthenticated,
)
from tests.auth._support import PASSWORD, Clock, unchanged

EXP, MODEL = ResourceKind.EXPERIMENT, ResourceKind.REGISTERED_MODEL
DAY = 24 * 3600 * 1000


# -- authorization ------------------------------------------------------------------------------


def test_roles_are_ordered() -> None:
    assert Role.MANAGER.allows(Role.EDITOR) and Role.MANAGER.allows(Role.READER)
    assert Role.EDITOR.allows(Role.READER) and Role.EDITOR.allows(Role.EDITOR)
    assert not Role.READER.allows(Role.EDITOR) and not Role.EDITOR.allows(Role.MANAGER)


def test_role_for_admin_grant_default_and_anonymous(
    store: SqlMetadataStore, clock: Clock
) -> None:
    auth = AuthService(store.auth, default_role=Role.EDITOR, clock=clock)
    auth.create_account("alice", actor="root")
    auth.create_account("root", admin=True, actor="root")
    alice, root = Principal("alice", False, True, "token"), Principal("root", True, True, "token")
    assert auth.role_for(alice, EXP, "1") is Role.EDITOR  # the default
    auth.grant("alice", EXP, "1", Role.READER, actor="root")
    assert auth.role_for(alice, EXP, "1") is Role.READER  # an explicit grant wins, also lower
    assert auth.role_for(alice, MODEL, "1") is Role.EDITOR  # grants are per kind
    assert auth.role_for(root, MODEL, "churn") is Role.MANAGER
    assert auth.role_for(ANONYMOUS, EXP, "1") is None
    auth.revoke_grant("alice", EXP, "1", actor="root")
    assert auth.role_for(alice, EXP, "1") is Role.EDITOR


def test_check_explains_a_refusal(auth: AuthService) -> None:
    auth.create_account("alice", actor="root")
    alice = auth.authenticate_token(auth.create_token("alice", name="t", actor="root")[1])
    auth.check(alice, EXP, "42", Role.READER)
    with pytest.raises(PermissionDenied) as caught:
        auth.check(alice, EXP, "42", Role.EDITOR)
    assert caught.value.message == "alice has reader on experiment 42 (default); " \
        "updating it needs editor"
    assert caught.value.details == {"account": "alice", "kind": "experiment",
                                    "resource_id": "42", "role": "reader", "needed": "editor"}
    auth.grant("alice", MODEL, "churn", Role.EDITOR, actor="root")
    auth.check(alice, MODEL, "churn", Role.EDITOR)
    with pytest.raises(PermissionDenied, match=r"alice has editor on model churn \(granted\); "
                                               "managing it needs manager"):
        auth.check(alice, MODEL, "churn", Role.MANAGER)
    with pytest.raises(Unauthenticated):
        auth.check(ANONYMOUS, EXP, "42", Role.READER)


def test_without_a_default_role_only_grants_count(store: SqlMetadataStore) -> None:
    auth = AuthService(store.auth, default_role=None)
    auth.create_account("alice", actor="root")
    alice = Principal("alice", False, True, "password")
    assert auth.role_for(alice, EXP, "7") is None
    with pytest.raises(PermissionDenied, match=r"alice has no role on experiment 7 \(no grant"):
        auth.check(alice, EXP, "7", Role.READER)


def test_require_admin(auth: AuthService) -> None:
    auth.create_account("root", admin=True, actor="bootstrap")
    auth.create_account("alice", actor="root")
    auth.require_admin(Principal("root", True, True, "password"))
    with pytest.raises(PermissionDenied, match="needs an admin"):
        auth.require_admin(Principal("alice", False, True, "password"))
    with pytest.raises(Unauthenticated):
        auth.require_admin(ANONYMOUS)
    auth.set_admin("alice", True, actor="root")
    _, secret = auth.create_token("alice", name="t", actor="root")
    auth.require_admin(auth.authenticate_token(secret))


def test_grants_for_unknown_accounts_or_bad_roles_change_nothing(
    store: SqlMetadataStore, auth: AuthService
) -> None:
    auth.create_account("alice", actor="root")
    unchanged(store, lambda: auth.grant("ghost", EXP, "1", Role.READER, actor="root"), NotFound)
    unchanged(store, lambda: auth.grant("alice", EXP, "1", "owner", actor="root"),  # type: ignore[arg-type]
              InvalidArgument)
    unchanged(store, lambda: auth.grant("alice", "dataset", "1", Role.READER, actor="root"),  # type: ignore[arg-type]
              InvalidArgument)
    unchanged(store, lambda: auth.revoke_grant("alice", EXP, "1", actor="root"), NotFound)


# -- the audit trail ----------------------------------------------------------------------------


def test_every_change_is_audited_without_secrets_and_the_chain_verifies(any_url: str) -> None:
    with open_sql_store(any_url) as store:
        auth = AuthService(store.auth)
        auth.create_account("root", admin=True, actor="bootstrap")
        auth.create_account("alice", password=PASSWORD, actor="root", reason="joined")
        auth.set_password("alice", "another long passphrase", actor="alice")
        auth.create_account("ci", kind=AccountKind.SERVICE, actor="root")
        info, secret = auth.create_token("ci", name="deploy", actor="root")
        auth.grant("alice", MODEL, "churn", Role.EDITOR, actor="root")
        auth.revoke_grant("alice", MODEL, "churn", actor="root")
        auth.set_admin("alice", True, actor="root")
        auth.disable_account("alice", actor="root")
        auth.enable_account("alice", actor="root")
        auth.revoke_token(info.token_id, actor="root")
        auth.delete_account("alice", actor="root")
        records = store.registry.audit.list_audit_records()
        assert [r.action for r in records] == [
            "auth.account.create", "auth.account.create", "auth.account.password",
            "auth.account.create", "auth.token.create", "auth.grant", "auth.grant.revoke",
            "auth.account.admin", "auth.account.disable", "auth.account.enable",
            "auth.token.revoke", "auth.account.delete"]
        assert records[1].reason == "joined" and records[2].actor == "alice"
        text = json.dumps([(r.before, r.after) for r in records])
        events = json.dumps([e.payload for e in store.registry.audit.list_events(limit=1000)])
        for leak in (PASSWORD, "another long passphrase", secret, hash_token(secret),
                     "$scrypt$"):
            assert leak not in text and leak not in events
        report = store.registry.audit.verify_audit_chain()
        assert report.ok and report.checked == len(records)


def test_hostile_credentials_are_refused_cleanly_on_every_backend(any_url: str) -> None:
    with open_sql_store(any_url) as store:
        auth = AuthService(store.auth)
        auth.create_account("alice", password=PASSWORD, actor="root")
        _, secret = auth.create_token("alice", name="t", actor="root")
        for name, given in [("al\x00ice", PASSWORD), ("alice", PASSWORD + "\x00"),
                            ("alice", secret + "\x00"), ("x" * 10_000, PASSWORD),
                            ("alice'; --", PASSWORD), ("alice", "\ud800" * 20)]:
            with pytest.raises(Unauthenticated):
                auth.authenticate_basic(name, given)
        for token in ("keel_" + "\x00" * 16 + "_" + "a" * 43, secret.upper(), "", "\ud800"):
            with pytest.raises(Unauthenticated):
                auth.authenticate_token(token)
        assert auth.authenticate_basic("alice", PASSWORD).name == "alice"


def test_concurrent_writers_keep_one_unbroken_chain(any_url: str) -> None:
    with open_sql_store(any_url) as store:
        auth = AuthService(store.auth)

        def work(i: int) -> str:
            auth.create_account(f"user-{i}", actor="root")
            _, secret = auth.create_token(f"user-{i}", name="t", actor="root")
            auth.grant(f"user-{i}", EXP, "shared", Role.EDITOR, actor="root")
            return auth.authenticate_token(secret).name

        with ThreadPoolExecutor(8) as pool:
            names = list(pool.map(work, range(16)))
        assert names == [f"user-{i}" for i in range(16)]
        assert len(auth.list_grants(kind=EXP, resource_id="shared")) == 16
        report = store.registry.audit.verify_audit_chain()
        assert report.ok and report.checked == 48
