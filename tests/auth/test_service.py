"""AuthService accounts, passwords and tokens on real SQLite files (PostgreSQL too where the
backend matters)."""

from __future__ import annotations

import datetime
import json
import re
from pathlib import Path

import pytest

from keel.auth import (
    AccountKind,
    AuthAction,
    AuthService,
    Principal,
    ResourceKind,
    Role,
    hash_token,
)
from keel.auth._secrets import hash_password
from keel.backends.sql import SqlMetadataStore, open_sql_store
from keel.errors import (
    AlreadyExists,
    Conflict,
    InvalidArgument,
    NotFound,
    Unauthenticated,
)
from keel.registry.models import AuditContext
from tests.auth._support import INVALID, PASSWORD, Clock, unchanged

EXP, MODEL = ResourceKind.EXPERIMENT, ResourceKind.REGISTERED_MODEL
DAY = 24 * 3600 * 1000


# -- accounts and passwords -------------------------------------------------------------------


def test_there_is_no_default_account(auth: AuthService) -> None:
    assert auth.list_accounts() == []
    with pytest.raises(Unauthenticated, match=INVALID):
        auth.authenticate_password("admin", "admin")


def test_a_user_logs_in_with_a_password(auth: AuthService) -> None:
    account = auth.create_account("alice", password=PASSWORD, actor="root")
    assert account.has_password and account.kind is AccountKind.USER and not account.is_admin
    assert auth.authenticate_password("alice", PASSWORD) == Principal(
        "alice", False, True, "password")
    auth.create_account("bob", actor="root")  # tokens only
    messages = set()
    for name, password in [("alice", PASSWORD + "!"), ("nobody", PASSWORD), ("bob", PASSWORD),
                           ("alice", ""), ("alice", "x" * 5000), ("al\x00ice", PASSWORD),
                           ("", PASSWORD), (None, PASSWORD), ("alice", None)]:
        with pytest.raises(Unauthenticated) as caught:
            auth.authenticate_password(name, password)  # type: ignore[arg-type]
        messages.add(caught.value.message)
    assert messages == {"invalid credentials"}  # never says whether the account exists


@pytest.mark.parametrize(("password", "says"), [
    ("", "empty"), (" " * 20, "empty"), ("short pass", "at least 12"),
    ("Alice.Example", "account name"), ("x" * 1025, "at most 1024"),
    ("keel_0123456789abcdef_" + "a" * 43, "API token"), (b"bytes-password!", "a string"),
    ("twelve chars\x00", "NUL"),
])
def test_weak_passwords_are_refused_and_nothing_is_created(
    store: SqlMetadataStore, auth: AuthService, password: object, says: str
) -> None:
    error = unchanged(store, lambda: auth.create_account(
        "alice.example", password=password, actor="root"), InvalidArgument)  # type: ignore[arg-type]
    assert says in error.message
    auth.create_account("alice.example", actor="root")
    unchanged(store, lambda: auth.set_password(
        "alice.example", password, actor="root"), InvalidArgument)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["", "a:b", " alice", "alice ", "anonymous", "Anonymous",
                                  "tab\there"])
def test_bad_account_names_are_refused(
    store: SqlMetadataStore, auth: AuthService, name: str
) -> None:
    unchanged(store, lambda: auth.create_account(name, actor="root"), InvalidArgument)


def test_service_accounts_use_tokens_only(store: SqlMetadataStore, auth: AuthService) -> None:
    error = unchanged(store, lambda: auth.create_account(
        "ci", kind=AccountKind.SERVICE, password=PASSWORD, actor="root"), InvalidArgument)
    assert "service accounts use API tokens" in error.message
    auth.create_account("ci", kind=AccountKind.SERVICE, actor="root")
    unchanged(store, lambda: auth.set_password("ci", PASSWORD, actor="root"), InvalidArgument)
    _, secret = auth.create_token("ci", name="deploy", actor="root")
    assert auth.authenticate_basic("ci", secret).via == "token"
    with pytest.raises(Unauthenticated, match=INVALID):
        auth.authenticate_basic("ci", PASSWORD)


def test_duplicate_names_change_nothing(store: SqlMetadataStore, auth: AuthService) -> None:
    auth.create_account("alice", actor="root")
    unchanged(store, lambda: auth.create_account("alice", password=PASSWORD, actor="root"),
              AlreadyExists)


def test_set_password_and_remove_it(auth: AuthService) -> None:
    auth.create_account("alice", password=PASSWORD, actor="root")
    auth.set_password("alice", "another long passphrase", actor="alice")
    with pytest.raises(Unauthenticated):
        auth.authenticate_password("alice", PASSWORD)
    assert auth.authenticate_password("alice", "another long passphrase").name == "alice"
    assert not auth.set_password("alice", None, actor="root").has_password
    with pytest.raises(Unauthenticated, match=INVALID):
        auth.authenticate_password("alice", "another long passphrase")


def test_weak_stored_hashes_are_upgraded_on_login(
    store: SqlMetadataStore, auth: AuthService
) -> None:
    auth.create_account("alice", actor="root")
    store.auth.set_password_hash("alice", hash_password(PASSWORD, log2_n=10),
                                 AuditContext("root"))
    auth.authenticate_password("alice", PASSWORD)
    record = store.auth.find_password("alice")
    assert record is not None and record.password_hash is not None
    assert record.password_hash.startswith("$scrypt$ln=15,")
    last = store.registry.audit.list_audit_records()[-1]
    assert (last.action, last.actor) == (AuthAction.PASSWORD_SET, "alice")
    assert auth.authenticate_password("alice", PASSWORD).via == "password"


def test_disabled_accounts_cannot_authenticate_until_enabled(auth: AuthService) -> None:
    auth.create_account("alice", password=PASSWORD, actor="root")
    _, secret = auth.create_token("alice", name="laptop", actor="root")
    assert auth.disable_account("alice", actor="root").disabled
    for call in (lambda: auth.authenticate_password("alice", PASSWORD),
                 lambda: auth.authenticate_token(secret)):
        with pytest.raises(Unauthenticated, match="account 'alice' is disabled"):
            call()
    with pytest.raises(Unauthenticated, match=INVALID):  # wrong password
        auth.authenticate_password("alice", PASSWORD + "?")
    with pytest.raises(Conflict, match="disabled"):
        auth.create_token("alice", name="another", actor="root")
    auth.enable_account("alice", actor="root")
    assert auth.authenticate_token(secret).name == "alice"


# -- tokens ---------------------------------------------------------------------------------


def test_a_token_is_shown_once_and_stored_only_as_a_hash(
    sqlite_url: str, clock: Clock
) -> None:
    with open_sql_store(sqlite_url) as store:
        auth = AuthService(store.auth, clock=clock)
        auth.create_account("alice", password=PASSWORD, actor="root")
        info, secret = auth.create_token("alice", name="ci", actor="root")
        assert re.fullmatch(rf"keel_{info.token_id}_[A-Za-z0-9_\-]{{43}}", secret)
        assert (info.account, info.name, info.created_at, info.expires_at) == (
            "alice", "ci", clock.now, clock.now + 90 * DAY)
        assert secret not in repr(info) and secret not in json.dumps(info.to_dict())
        credential = store.auth.find_token_credential(info.token_id)
        assert credential is not None and credential.secret_hash == hash_token(secret)
        principal = auth.authenticate_token(secret)
        assert principal == Principal("alice", False, True, "token", info.token_id)
    database = Path(sqlite_url.removeprefix("sqlite:///"))
    stored = b"".join(p.read_bytes() for p in database.parent.glob(database.name + "*"))
    # The random part (43 characters after "keel_<id>_"; it may itself hold underscores).
    random_part = secret[len(f"keel_{info.token_id}_"):]
    assert len(random_part) == 43
    assert secret.encode() not in stored and random_part.encode() not in stored
    assert PASSWORD.encode() not in stored
    assert hash_token(secret).encode() in stored


def test_wrong_unknown_and_malformed_tokens(auth: AuthService) -> None:
    auth.create_account("alice", actor="root")
    info, secret = auth.create_token("alice", name="ci", actor="root")
    forged = f"keel_{info.token_id}_{'A' * 43}"
    unknown = f"keel_{'0' * 16}_{secret.split('_', 2)[2]}"
    for bad in (forged, unknown):
        with pytest.raises(Unauthenticated, match=INVALID):
            auth.authenticate_token(bad)
    with pytest.raises(Unauthenticated, match="malformed token"):
        auth.authenticate_token("Bearer " + secret)


def test_tokens_expire(auth: AuthService, clock: Clock) -> None:
    auth.create_account("alice", actor="root")
    info, secret = auth.create_token("alice", name="short", expires_in=datetime.timedelta(
        hours=12), actor="root")
    _, forever = auth.create_token("alice", name="forever", expires_in=None, actor="root")
    assert {t.name: t.expires_at for t in auth.list_tokens("alice")}["forever"] is None
    clock.now += 12 * 3600 * 1000 - 1
    assert auth.authenticate_token(secret).name == "alice"
    clock.now += 1
    with pytest.raises(Unauthenticated) as caught:
        auth.authenticate_token(secret)
    iso = datetime.datetime.fromtimestamp(clock.now / 1000, tz=datetime.UTC)
    assert caught.value.message == (
        f"token {info.token_id} expired at {iso.strftime('%Y-%m-%dT%H:%M:%SZ')}")
    clock.now += 3650 * DAY
    assert auth.authenticate_token(forever).name == "alice"
    for bad in (datetime.timedelta(0), datetime.timedelta(seconds=-1), 30):
        with pytest.raises(InvalidArgument):
            auth.create_token("alice", name="bad", expires_in=bad, actor="root")  # type: ignore[arg-type]


def test_revoked_tokens_say_so(auth: AuthService) -> None:
    auth.create_account("alice", actor="root")
    info, secret = auth.create_token("alice", name="ci", actor="root")
    assert auth.revoke_token(info.token_id, actor="root").revoked_at is not None
    with pytest.raises(Unauthenticated, match=f"token {info.token_id} was revoked at "):
        auth.authenticate_token(secret)
    with pytest.raises(Conflict):
        auth.revoke_token(info.token_id, actor="root")
    with pytest.raises(NotFound):
        auth.revoke_token("0" * 16, actor="root")


def test_last_use_is_recorded_at_most_once_a_minute(auth: AuthService, clock: Clock) -> None:
    auth.create_account("alice", actor="root")
    info, secret = auth.create_token("alice", name="ci", actor="root")
    assert auth.get_token(info.token_id).last_used_at is None
    first = clock.now
    auth.authenticate_token(secret)
    clock.now += 59_999
    auth.authenticate_token(secret)
    assert auth.get_token(info.token_id).last_used_at == first
    clock.now += 1
    auth.authenticate_token(secret)
    assert auth.get_token(info.token_id).last_used_at == clock.now


def test_basic_auth_takes_a_password_or_the_accounts_own_token(auth: AuthService) -> None:
    auth.create_account("alice", password=PASSWORD, actor="root")
    auth.create_account("bob", actor="root")
    _, alices = auth.create_token("alice", name="ci", actor="root")
    _, bobs = auth.create_token("bob", name="ci", actor="root")
    assert auth.authenticate_basic("alice", PASSWORD).via == "password"
    assert auth.authenticate_basic("alice", alices).via == "token"
    with pytest.raises(Unauthenticated, match=INVALID):
        auth.authenticate_basic("alice", bobs)


def test_deleting_an_account_ends_its_tokens_and_grants(
    store: SqlMetadataStore, auth: AuthService
) -> None:
    auth.create_account("alice", password=PASSWORD, actor="root")
    _, secret = auth.create_token("alice", name="ci", actor="root")
    auth.grant("alice", EXP, "42", Role.EDITOR, actor="root")
    auth.delete_account("alice", actor="root", reason="left the team")
    with pytest.raises(Unauthenticated, match=INVALID):
        auth.authenticate_token(secret)
    assert auth.list_grants() == [] and auth.list_tokens() == []
    unchanged(store, lambda: auth.delete_account("alice", actor="root"), NotFound)
