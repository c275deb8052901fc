"""`keel users` and `keel tokens` against a real SQLite store."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from keel.auth import AuthService
from keel.backends.sql import open_sql_store
from keel.cli import app
from keel.cli import users as users_cli

PASSWORD = "correct horse battery staple"


@pytest.fixture
def opts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setenv("KEEL_USER", "ops")
    return ["--database-url", f"sqlite:///{tmp_path / 'keel.db'}",
            "--artifacts-url", str(tmp_path / "artifacts")]


def run(opts: list[str], *args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, [*opts, *args], input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_users_are_created_listed_and_log_in(opts: list[str]) -> None:
    code, out, err = run(opts, "users", "create", "root", "--admin", "--password-stdin",
                         stdin=PASSWORD + "\n")
    assert code == 0, err
    assert "created admin user account root" in out
    code, out, err = run(opts, "users", "create", "ci", "--service")
    assert code == 0 and "created service account ci" in out, err
    code, out, err = run(opts, "users", "create", "bob")  # not interactive: tokens only
    assert code == 0 and "no password" in err
    code, out, _ = run(opts, "users", "list", "--json")
    listed = {a["name"]: a for a in json.loads(out)}
    assert listed["root"]["is_admin"] and listed["root"]["has_password"]
    assert listed["ci"]["kind"] == "service" and not listed["bob"]["has_password"]
    assert listed["root"]["created_by"] == "ops"  # KEEL_USER is the actor
    assert all("hash" not in key for a in listed.values() for key in a)
    code, out, _ = run(opts, "users", "list")
    assert code == 0 and "root" in out and "service" in out
    with open_sql_store(opts[1]) as store:
        principal = AuthService(store.auth).authenticate_password("root", PASSWORD)
    assert principal.is_admin


def test_passwords_never_come_from_the_command_line(opts: list[str]) -> None:
    code, _, err = run(opts, "users", "create", "alice", "--password", PASSWORD)
    assert code == 2 and "No such option" in err
    code, _, err = run(opts, "users", "create", "alice", "--password-stdin", stdin="short\n")
    assert code == 1 and "at least 12 characters" in err
    code, _, err = run(opts, "users", "create", "alice", "--password-stdin", stdin="")
    assert code == 2 and "nothing on standard input" in err
    code, out, _ = run(opts, "users", "list", "--json")
    assert json.loads(out) == []  # nothing was created
    code, _, err = run(opts, "users", "create", "ci", "--service", "--password-stdin")
    assert code == 2 and "service accounts have no password" in err


def test_an_interactive_password_is_prompted_twice_hidden(
    opts: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(users_cli, "_interactive", lambda: True)
    code, out, err = run(opts, "users", "create", "alice",
                         stdin=f"{PASSWORD}\nsomething else!!\n{PASSWORD}\n{PASSWORD}\n")
    assert code == 0, err
    assert PASSWORD not in out  # hidden input is not echoed
    assert "do not match" in out or "do not match" in err
    code, _, err = run(opts, "users", "set-password", "alice",
                       stdin="another passphrase\nanother passphrase\n")
    assert code == 0, err
    with open_sql_store(opts[1]) as store:
        assert AuthService(store.auth).authenticate_password("alice", "another passphrase")


def test_set_password_disable_enable_admin_and_delete(opts: list[str]) -> None:
    run(opts, "users", "create", "alice", "--no-password")
    code, _, err = run(opts, "users", "set-password", "alice")  # neither stdin nor a terminal
    assert code == 2 and "--password-stdin" in err
    code, out, err = run(opts, "users", "set-password", "alice", "--password-stdin",
                         stdin=PASSWORD)
    assert code == 0 and "password of alice set" in out, err
    assert run(opts, "users", "set-admin", "alice")[1].strip() == "alice is now an admin"
    assert "no longer" in run(opts, "users", "set-admin", "alice", "--no-admin")[1]
    assert run(opts, "users", "disable", "alice", "--reason", "on leave")[0] == 0
    with open_sql_store(opts[1]) as store:
        auth = AuthService(store.auth)
        assert auth.get_account("alice").disabled
    assert run(opts, "users", "enable", "alice")[0] == 0
    assert run(opts, "users", "delete", "alice")[0] == 0
    code, _, err = run(opts, "users", "delete", "alice")
    assert code == 1 and "no account named 'alice'" in err


def test_grants_from_the_cli(opts: list[str]) -> None:
    run(opts, "users", "create", "alice", "--no-password")
    code, out, err = run(opts, "users", "grant", "alice", "--experiment", "42", "--role",
                         "editor")
    assert code == 0 and "alice is editor on experiment 42" in out, err
    code, out, err = run(opts, "users", "grant", "alice", "--model", "churn", "--role",
                         "manager")
    assert code == 0 and "on model churn" in out, err
    code, _, err = run(opts, "users", "grant", "alice", "--experiment", "1", "--model", "m",
                       "--role", "reader")
    assert code == 2 and "exactly one" in err
    code, _, err = run(opts, "users", "grant", "alice", "--experiment", "1", "--role", "owner")
    assert code == 2
    code, out, _ = run(opts, "users", "grants", "alice", "--json")
    assert [(g["kind"], g["resource_id"], g["role"]) for g in json.loads(out)] == [
        ("experiment", "42", "editor"), ("registered_model", "churn", "manager")]
    code, out, _ = run(opts, "users", "grants", "--model", "churn", "--json")
    assert [g["account"] for g in json.loads(out)] == ["alice"]
    code, out, _ = run(opts, "users", "grants")
    assert code == 0 and "default role" in out and "churn" in out
    code, out, err = run(opts, "users", "revoke", "alice", "--experiment", "42")
    assert code == 0 and "revoked editor of alice on experiment 42" in out, err
    code, _, err = run(opts, "users", "revoke", "alice", "--experiment", "42")
    assert code == 1 and "no grant" in err


def test_tokens_are_shown_once_listed_and_revoked(opts: list[str]) -> None:
    run(opts, "users", "create", "ci", "--service")
    code, out, err = run(opts, "tokens", "create", "ci", "--name", "deploy", "--expires-in",
                         "30d")
    assert code == 0, err
    secret = out.strip()
    assert re.fullmatch(r"keel_[0-9a-f]{16}_[A-Za-z0-9_\-]{43}", secret)
    assert "cannot be shown again" in err and secret not in err
    code, out, err = run(opts, "tokens", "create", "ci", "--name", "forever", "--expires-in",
                         "never", "--json")
    assert code == 0, err
    created = json.loads(out)
    assert created["token"]["expires_at"] is None and created["secret"].startswith("keel_")
    for bad in ("30", "0d", "soon", "-1d"):
        code, _, err = run(opts, "tokens", "create", "ci", "--name", "x", "--expires-in", bad)
        assert code == 2, bad
    with open_sql_store(opts[1]) as store:
        principal = AuthService(store.auth).authenticate_token(secret)
    assert principal.name == "ci" and principal.token_id is not None
    code, out, _ = run(opts, "tokens", "list", "ci", "--json")
    listed = json.loads(out)
    assert [t["name"] for t in listed] == ["deploy", "forever"]
    assert all(t["status"] == "active" for t in listed)
    assert secret not in out and created["secret"] not in out
    assert listed[0]["last_used_at"] is not None
    code, out, err = run(opts, "tokens", "revoke", principal.token_id)
    assert code == 0 and f"revoked token {principal.token_id}" in out, err
    code, out, _ = run(opts, "tokens", "list")
    assert code == 0 and "revoked" in out and "never" in out
    code, _, err = run(opts, "tokens", "revoke", principal.token_id)
    assert code == 1 and "already revoked" in err
    code, _, err = run(opts, "tokens", "create", "ghost", "--name", "x")
    assert code == 1 and "no account named 'ghost'" in err


def test_the_audit_log_shows_auth_changes_and_verifies(opts: list[str]) -> None:
    run(opts, "users", "create", "root", "--admin", "--password-stdin", stdin=PASSWORD)
    run(opts, "users", "grant", "root", "--model", "churn", "--role", "reader",
        "--actor", "someone-else", "--reason", "ticket 7")
    code, out, _ = run(opts, "tokens", "create", "root", "--name", "laptop")
    secret = out.strip()
    code, out, _ = run(opts, "audit", "list", "--json")
    records = json.loads(out)
    assert [r["action"] for r in records] == [
        "auth.account.create", "auth.grant", "auth.token.create"]
    assert [r["actor"] for r in records] == ["ops", "someone-else", "ops"]
    assert records[1]["reason"] == "ticket 7"
    assert PASSWORD not in out and secret not in out and "$scrypt$" not in out
    code, out, _ = run(opts, "audit", "verify")
    assert code == 0 and "intact: 3 records" in out
