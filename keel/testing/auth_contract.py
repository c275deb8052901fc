"""The AuthStore contract suite: what every metadata backend's auth store must do.

Subclass :class:`AuthStoreContract` in a test module and override the ``auth`` and ``audit``
fixtures to yield an AuthStore and the AuditStore of the same database (closing it afterwards)::

    from keel.testing.auth_contract import AuthStoreContract

    class TestMyAuth(AuthStoreContract):
        @pytest.fixture
        def store(self, tmp_path):
            store = open_my_store(tmp_path)
            yield store
            store.close()

        @pytest.fixture
        def auth(self, store):
            return store.auth

        @pytest.fixture
        def audit(self, store):
            return store.registry.audit

It covers every method of keel.auth.store.AuthStore and the rules in its docstring: accounts
(unique names and ids, service accounts without passwords, flags), tokens (credentials, revoke,
throttled use), grants (replace, delete, filters), deleting an account with its tokens and
grants, and the audit rule: the right records (never holding a hash) for every change, none for
a failed one, and a chain that still verifies. Tests name their accounts uniquely.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import secrets
from collections.abc import Callable, Iterator

import pytest

from keel.auth.models import (
    Account,
    AccountKind,
    AuthAction,
    ResourceKind,
    Role,
    grant_entity_id,
)
from keel.auth.store import AuthStore
from keel.core.ids import new_id
from keel.errors import AlreadyExists, Conflict, InvalidArgument, KeelError, NotFound
from keel.registry.models import AuditContext, AuditRecord
from keel.registry.store import AuditStore

_names = itertools.count()
_clock = itertools.count(1_700_000_000_000, 1000)
A_HASH = "$scrypt$ln=4,r=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA"
EXP, MODEL = ResourceKind.EXPERIMENT, ResourceKind.REGISTERED_MODEL


def unique(prefix: str = "user") -> str:
    return f"{prefix}-{next(_names)}-{new_id()[:8]}"


def ctx(actor: str = "root", reason: str | None = None) -> AuditContext:
    """A context with a strictly increasing ``at``."""
    return AuditContext(actor, reason, next(_clock))


def secret_hash() -> str:
    return hashlib.sha256(secrets.token_bytes(16)).hexdigest()


class AuthStoreContract:
    """Every contract test for an AuthStore; subclasses provide ``auth`` and ``audit``."""

    @pytest.fixture
    def auth(self) -> Iterator[AuthStore]:
        raise NotImplementedError("override the `auth` fixture to yield a fresh AuthStore")

    @pytest.fixture
    def audit(self) -> Iterator[AuditStore]:
        raise NotImplementedError("override the `audit` fixture: the AuditStore of the same "
                                  "database as `auth`")

    # -- helpers ---------------------------------------------------------------------------

    @staticmethod
    def account(auth: AuthStore, name: str | None = None, **kwargs: object) -> Account:
        kind = kwargs.pop("kind", AccountKind.USER)
        return auth.create_account(new_id(), name or unique(), kind, ctx(), **kwargs)  # type: ignore[arg-type]

    @staticmethod
    def since(audit: AuditStore, seq: int) -> list[AuditRecord]:
        return audit.list_audit_records(after_seq=seq)

    def changes_nothing(self, audit: AuditStore, call: Callable[[], object],
                        error: type[KeelError]) -> None:
        head = audit.get_chain_head()
        with pytest.raises(error):
            call()
        assert audit.get_chain_head() == head

    # -- accounts --------------------------------------------------------------------------

    def test_an_account_is_created_audited_and_read_back(
        self, auth: AuthStore, audit: AuditStore
    ) -> None:
        head, name, account_id, context = audit.get_chain_head().seq, unique(), new_id(), ctx()
        account = auth.create_account(account_id, name, AccountKind.USER, context,
                                      is_admin=True, password_hash=A_HASH)
        assert account == Account(account_id, name, AccountKind.USER, True, False, context.at,
                                  "root", has_password=True)
        assert auth.get_account(name) == auth.find_account(name) == account
        [record] = self.since(audit, head)
        assert (record.action, record.entity_type, record.entity_id) == (
            AuthAction.ACCOUNT_CREATED, "account", account_id)
        assert record.before is None and record.after == account.to_dict()
        assert A_HASH not in json.dumps(record.after)

    def test_names_and_ids_are_unique(self, auth: AuthStore, audit: AuditStore) -> None:
        first = self.account(auth)
        self.changes_nothing(audit, lambda: auth.create_account(
            new_id(), first.name, AccountKind.USER, ctx()), AlreadyExists)
        self.changes_nothing(audit, lambda: auth.create_account(
            first.account_id, unique(), AccountKind.USER, ctx()), AlreadyExists)

    def test_unknown_accounts(self, auth: AuthStore, audit: AuditStore) -> None:
        name = unique("ghost")
        assert auth.find_account(name) is None and auth.find_password(name) is None
        for call in (lambda: auth.get_account(name), lambda: auth.list_tokens(name),
                     lambda: auth.list_grants(name),
                     lambda: auth.set_admin(name, True, ctx()),
                     lambda: auth.set_disabled(name, True, ctx()),
                     lambda: auth.set_password_hash(name, A_HASH, ctx()),
                     lambda: auth.delete_account(name, ctx()),
                     lambda: auth.create_token(new_id()[:16], name, "t", secret_hash(), ctx(),
                                               expires_at=None),
                     lambda: auth.set_grant(name, EXP, "1", Role.READER, ctx())):
            self.changes_nothing(audit, call, NotFound)

    def test_bad_input_is_refused_before_anything_changes(
        self, auth: AuthStore, audit: AuditStore
    ) -> None:
        name = self.account(auth).name
        for call in (lambda: auth.create_account(new_id(), "", AccountKind.USER, ctx()),
                     lambda: auth.create_account(new_id(), "a\nb", AccountKind.USER, ctx()),
                     lambda: auth.create_account(new_id(), unique(), "robot", ctx()),  # type: ignore[arg-type]
                     lambda: auth.create_token("x", name, "t", "not-a-sha256", ctx(),
                                               expires_at=None),
                     lambda: auth.set_grant(name, "dataset", "1", Role.READER, ctx()),  # type: ignore[arg-type]
                     lambda: auth.set_grant(name, EXP, "1", "owner", ctx()),  # type: ignore[arg-type]
                     lambda: auth.set_grant(name, EXP, "", Role.READER, ctx())):
            self.changes_nothing(audit, call, InvalidArgument)

    def test_accounts_are_listed_by_name_in_code_point_order(self, auth: AuthStore) -> None:
        stem = unique("order")
        for suffix in ("b", "B", "a"):
            self.account(auth, f"{stem}-{suffix}")
        names = [a.name for a in auth.list_accounts() if a.name.startswith(stem)]
        assert names == [f"{stem}-B", f"{stem}-a", f"{stem}-b"]

    def test_service_accounts_never_have_a_password(
        self, auth: AuthStore, audit: AuditStore
    ) -> None:
        self.changes_nothing(audit, lambda: auth.create_account(
            new_id(), unique("svc"), AccountKind.SERVICE, ctx(), password_hash=A_HASH),
            InvalidArgument)
        service = self.account(auth, kind=AccountKind.SERVICE)
        assert service.kind is AccountKind.SERVICE and not service.has_password
        self.changes_nothing(audit, lambda: auth.set_password_hash(service.name, A_HASH, ctx()),
                             InvalidArgument)

    def test_password_hashes_are_kept_but_never_audited(
        self, auth: AuthStore, audit: AuditStore
    ) -> None:
        account = self.account(auth)
        assert auth.find_password(account.name) == (rec := auth.find_password(account.name))
        assert rec is not None and rec.password_hash is None
        head = audit.get_chain_head().seq
        after = auth.set_password_hash(account.name, A_HASH, ctx("admin", "rotation"))
        assert after.has_password
        record = auth.find_password(account.name)
        assert record is not None and record.password_hash == A_HASH
        assert A_HASH not in repr(record)
        assert not auth.set_password_hash(account.name, None, ctx()).has_password
        first, second = self.since(audit, head)
        assert first.action == AuthAction.PASSWORD_SET and first.reason == "rotation"
        assert (first.before["has_password"], first.after["has_password"]) == (False, True)
        assert second.after["has_password"] is False
        assert A_HASH not in json.dumps([first.after, second.before])

    def test_admin_and_disabled_flags(self, auth: AuthStore, audit: AuditStore) -> None:
        name = self.account(auth).name
        head = audit.get_chain_head().seq
        assert auth.set_admin(name, True, ctx()).is_admin
        assert auth.set_disabled(name, True, ctx()).disabled
        assert not auth.set_disabled(name, False, ctx()).disabled
        assert not auth.set_admin(name, False, ctx()).is_admin
        assert [r.action for r in self.since(audit, head)] == [
            AuthAction.ACCOUNT_ADMIN_SET, AuthAction.ACCOUNT_DISABLED,
            AuthAction.ACCOUNT_ENABLED, AuthAction.ACCOUNT_ADMIN_SET]

    # -- tokens ----------------------------------------------------------------------------

    def test_tokens_are_created_listed_and_verified_by_hash(
        self, auth: AuthStore, audit: AuditStore
    ) -> None:
        owner = self.account(auth)
        head, token_id, digest, context = audit.get_chain_head().seq, new_id()[:16], \
            secret_hash(), ctx()
        token = auth.create_token(token_id, owner.name, "ci", digest, context,
                                  expires_at=context.at + 5000)
        assert (token.token_id, token.account, token.name, token.created_at,
                token.expires_at, token.revoked_at, token.last_used_at) == (
            token_id, owner.name, "ci", context.at, context.at + 5000, None, None)
        assert auth.get_token(token_id) == token and auth.list_tokens(owner.name) == [token]
        assert token in auth.list_tokens()
        credential = auth.find_token_credential(token_id)
        assert credential is not None and credential.secret_hash == digest
        assert credential.token == token and credential.account == owner
        assert auth.find_token_credential(new_id()[:16]) is None
        [record] = self.since(audit, head)
        assert (record.action, record.entity_type, record.entity_id) == (
            AuthAction.TOKEN_CREATED, "token", token_id)
        assert record.after == token.to_dict() and digest not in json.dumps(record.after)
        self.changes_nothing(audit, lambda: auth.create_token(
            token_id, owner.name, "again", secret_hash(), ctx(), expires_at=None), AlreadyExists)

    def test_disabled_accounts_get_no_new_tokens(self, auth: AuthStore, audit: AuditStore) -> None:
        name = self.account(auth).name
        auth.set_disabled(name, True, ctx())
        self.changes_nothing(audit, lambda: auth.create_token(
            new_id()[:16], name, "t", secret_hash(), ctx(), expires_at=None), Conflict)

    def test_revoking_a_token(self, auth: AuthStore, audit: AuditStore) -> None:
        name = self.account(auth).name
        token = auth.create_token(new_id()[:16], name, "t", secret_hash(), ctx(),
                                  expires_at=None)
        head, context = audit.get_chain_head().seq, ctx("admin")
        revoked = auth.revoke_token(token.token_id, context)
        assert revoked.revoked_at == context.at and auth.get_token(token.token_id) == revoked
        [record] = self.since(audit, head)
        assert record.action == AuthAction.TOKEN_REVOKED and record.before == token.to_dict()
        self.changes_nothing(audit, lambda: auth.revoke_token(token.token_id, ctx()), Conflict)
        self.changes_nothing(audit, lambda: auth.revoke_token(new_id()[:16], ctx()), NotFound)

    def test_token_use_is_recorded_at_most_once_per_interval_and_not_audited(
        self, auth: AuthStore, audit: AuditStore
    ) -> None:
        name = self.account(auth).name
        token = auth.create_token(new_id()[:16], name, "t", secret_hash(), ctx(),
                                  expires_at=None)
        head = audit.get_chain_head()
        assert auth.record_token_use(token.token_id, 10_000, min_interval_ms=60_000)
        assert not auth.record_token_use(token.token_id, 69_999, min_interval_ms=60_000)
        assert auth.get_token(token.token_id).last_used_at == 10_000
        assert auth.record_token_use(token.token_id, 70_000, min_interval_ms=60_000)
        assert auth.get_token(token.token_id).last_used_at == 70_000
        assert not auth.record_token_use(new_id()[:16], 1, min_interval_ms=60_000)
        assert audit.get_chain_head() == head

    # -- grants ----------------------------------------------------------------------------

    def test_grants_are_set_replaced_listed_and_deleted(
        self, auth: AuthStore, audit: AuditStore
    ) -> None:
        account, resource = self.account(auth), unique("exp")
        head, first_ctx = audit.get_chain_head().seq, ctx("admin")
        first = auth.set_grant(account.name, EXP, resource, Role.READER, first_ctx)
        assert (first.account, first.kind, first.resource_id, first.role, first.granted_by,
                first.granted_at) == (account.name, EXP, resource, Role.READER, "admin",
                                      first_ctx.at)
        second = auth.set_grant(account.name, EXP, resource, Role.EDITOR, ctx())
        assert auth.find_grant(account.name, EXP, resource) == second
        assert auth.find_grant(account.name, MODEL, resource) is None
        model_grant = auth.set_grant(account.name, MODEL, "churn", Role.MANAGER, ctx())
        assert auth.list_grants(account.name) == [second, model_grant]
        assert auth.list_grants(account.name, kind=MODEL) == [model_grant]
        assert auth.list_grants(kind=EXP, resource_id=resource) == [second]
        assert auth.delete_grant(account.name, EXP, resource, ctx()) == second
        assert auth.list_grants(kind=EXP, resource_id=resource) == []
        records = self.since(audit, head)
        assert [r.action for r in records] == [AuthAction.GRANT_SET] * 3 + [
            AuthAction.GRANT_REVOKED]
        assert records[0].entity_id == grant_entity_id(account.account_id, EXP, resource)
        assert records[1].before == first.to_dict() and records[1].after == second.to_dict()
        assert records[3].before == second.to_dict() and records[3].after is None
        self.changes_nothing(audit, lambda: auth.delete_grant(account.name, EXP, resource,
                                                              ctx()), NotFound)

    # -- deleting, and the chain -----------------------------------------------------------

    def test_deleting_an_account_deletes_its_tokens_and_grants_audited(
        self, auth: AuthStore, audit: AuditStore
    ) -> None:
        account, resource = self.account(auth), unique("exp")
        old = auth.create_token(new_id()[:16], account.name, "old", secret_hash(), ctx(),
                                expires_at=None)
        auth.revoke_token(old.token_id, ctx())
        live = auth.create_token(new_id()[:16], account.name, "live", secret_hash(), ctx(),
                                 expires_at=None)
        auth.set_grant(account.name, EXP, resource, Role.EDITOR, ctx())
        head = audit.get_chain_head().seq
        auth.delete_account(account.name, ctx("admin", "left"))
        records = self.since(audit, head)
        assert [(r.action, r.entity_id) for r in records] == [
            (AuthAction.TOKEN_REVOKED, live.token_id),
            (AuthAction.GRANT_REVOKED, grant_entity_id(account.account_id, EXP, resource)),
            (AuthAction.ACCOUNT_DELETED, account.account_id)]
        assert all(r.reason == "left" and r.actor == "admin" for r in records)
        assert records[0].after["revoked_at"] is not None and records[2].after is None
        assert auth.find_account(account.name) is None
        assert auth.find_token_credential(live.token_id) is None
        assert auth.list_grants(kind=EXP, resource_id=resource) == []
        again = self.account(auth, account.name)  # the name is free again, with nothing
        assert again.account_id != account.account_id
        assert auth.list_grants(again.name) == [] and auth.list_tokens(again.name) == []

    def test_changes_write_events_and_the_chain_verifies(
        self, auth: AuthStore, audit: AuditStore
    ) -> None:
        head = audit.get_chain_head().seq
        name = self.account(auth).name
        token = auth.create_token(new_id()[:16], name, "t", secret_hash(), ctx(),
                                  expires_at=None)
        auth.set_grant(name, MODEL, "m", Role.READER, ctx())
        auth.revoke_token(token.token_id, ctx())
        records = self.since(audit, head)
        events = [e for e in audit.list_events(limit=100_000) if e.audit_seq > head]
        assert [(e.type, e.audit_seq) for e in events] == [(r.action, r.seq) for r in records]
        assert all(e.payload["account"] == name for e in events)
        report = audit.verify_audit_chain()
        assert report.ok, report.message
