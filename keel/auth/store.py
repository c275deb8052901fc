"""The auth port: what a metadata backend must provide for accounts, API tokens and grants.

The rules every implementation keeps (``keel.testing.auth_contract`` checks each one):

- **One transaction per mutation, audited in it.** Every method that takes an
  :class:`~keel.registry.models.AuditContext` applies whole or not at all and, in the same
  transaction, appends its records to keel's hash-chained audit log (the registry's: one chain
  for everything that needs an audit trail), each with an event of the same type. ``action`` is
  an :class:`~keel.auth.models.AuthAction`, ``entity_type`` an
  :class:`~keel.auth.models.AuthEntityType`; entity ids are the account id, the token id, or
  ``<account_id>/<kind>/<resource_id>`` for a grant (:func:`~keel.auth.models.grant_entity_id`).
  ``before``/``after`` are the entities' ``to_dict()`` (None where they did not exist), which
  never hold a password, a password hash, a token secret or its hash. An error leaves no
  change and no record.
- **Secrets are the service's business.** The store keeps what it is given (a password hash
  in PHC format, the SHA-256 of a token) and hands it back only through
  :meth:`AuthStore.find_password` and :meth:`AuthStore.find_token_credential`.
- **Names.** Accounts are addressed by name (unique); ``account_id`` (chosen by the caller) is
  the stable identity. Deleting an account deletes its tokens and grants, each with its own
  audit record (``auth.token.revoke`` for tokens not yet revoked, ``auth.grant.revoke``) before
  the account's ``auth.account.delete``; a new account may take the name afterwards.
- Times (``created_at``, ``revoked_at``, ``granted_at``) come from the context's ``at``.

Errors: NotFound (unknown account, token or grant), AlreadyExists (an account name or token id
that is taken), Conflict (revoking a revoked token, a token for a disabled account),
InvalidArgument (bad names, ids, kinds, roles; a password on a service account).
"""

from __future__ import annotations

from typing import Protocol

from keel.auth.models import (
    Account,
    AccountKind,
    Grant,
    PasswordRecord,
    ResourceKind,
    Role,
    TokenCredential,
    TokenInfo,
)
from keel.registry.models import AuditContext


class AuthStore(Protocol):
    # -- accounts --------------------------------------------------------------------------

    def create_account(
        self,
        account_id: str,
        name: str,
        kind: AccountKind,
        ctx: AuditContext,
        *,
        is_admin: bool = False,
        password_hash: str | None = None,
    ) -> Account:
        """AlreadyExists when ``name`` or ``account_id`` is taken; InvalidArgument for a
        password hash on a service account. Audit ``auth.account.create``."""
        ...

    def get_account(self, name: str) -> Account:
        """NotFound when there is no such account."""
        ...

    def find_account(self, name: str) -> Account | None: ...

    def list_accounts(self) -> list[Account]:
        """Every account, ordered by name."""
        ...

    def set_password_hash(
        self, name: str, password_hash: str | None, ctx: AuditContext
    ) -> Account:
        """Replace (None: remove) the password hash. InvalidArgument for a service account. Audit
        ``auth.account.password`` (before/after show only ``has_password``)."""
        ...

    def set_admin(self, name: str, is_admin: bool, ctx: AuditContext) -> Account:
        """Audit ``auth.account.admin`` (also when nothing changes: someone asked)."""
        ...

    def set_disabled(self, name: str, disabled: bool, ctx: AuditContext) -> Account:
        """A disabled account cannot authenticate; its tokens and grants stay. Audit
        ``auth.account.disable`` or ``auth.account.enable``."""
        ...

    def delete_account(self, name: str, ctx: AuditContext) -> None:
        """Delete the account with its tokens and grants (see the module rules)."""
        ...

    def find_password(self, name: str) -> PasswordRecord | None:
        """The account with its password hash, for verification; None for an unknown name."""
        ...

    # -- tokens ----------------------------------------------------------------------------

    def create_token(
        self,
        token_id: str,
        account: str,
        name: str,
        secret_hash: str,
        ctx: AuditContext,
        *,
        expires_at: int | None,
    ) -> TokenInfo:
        """NotFound for an unknown account, Conflict for a disabled one, AlreadyExists for a
        taken ``token_id``. Audit ``auth.token.create``."""
        ...

    def get_token(self, token_id: str) -> TokenInfo:
        """NotFound when there is no such token."""
        ...

    def list_tokens(self, account: str | None = None) -> list[TokenInfo]:
        """Tokens (revoked and expired ones too), oldest first; NotFound for an unknown
        account."""
        ...

    def revoke_token(self, token_id: str, ctx: AuditContext) -> TokenInfo:
        """NotFound, or Conflict when it was revoked already. Audit ``auth.token.revoke``."""
        ...

    def find_token_credential(self, token_id: str) -> TokenCredential | None:
        """The token, its account and the stored hash of its secret; None when unknown."""
        ...

    def record_token_use(self, token_id: str, at: int, *, min_interval_ms: int) -> bool:
        """Set ``last_used_at`` to ``at`` unless it was set less than ``min_interval_ms``
        before (so a busy token costs one write a minute, not one per request). Not audited.
        True when it wrote."""
        ...

    # -- grants ----------------------------------------------------------------------------

    def set_grant(
        self,
        account: str,
        kind: ResourceKind,
        resource_id: str,
        role: Role,
        ctx: AuditContext,
    ) -> Grant:
        """Give ``account`` ``role`` on the resource, replacing any role it had there.
        NotFound for an unknown account. Audit ``auth.grant``."""
        ...

    def delete_grant(
        self, account: str, kind: ResourceKind, resource_id: str, ctx: AuditContext
    ) -> Grant:
        """Remove a grant and return it; NotFound when there is none. Audit
        ``auth.grant.revoke``."""
        ...

    def find_grant(self, account: str, kind: ResourceKind, resource_id: str) -> Grant | None: ...

    def list_grants(
        self,
        account: str | None = None,
        kind: ResourceKind | None = None,
        resource_id: str | None = None,
    ) -> list[Grant]:
        """Grants matching every filter given, ordered by account, kind, resource id. NotFound
        for an unknown ``account``."""
        ...
