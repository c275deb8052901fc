"""Authentication and authorization: accounts, API tokens, roles and grants.

- **Accounts** are users (password and/or tokens) or services (tokens only). There is no
  default admin and no default password.
- **API tokens** (``keel_<id>_<secret>``) are shown once and stored as SHA-256 hashes;
  passwords are hashed with scrypt. Failures raise :class:`keel.errors.Unauthenticated`.
- **Roles** (reader ⊆ editor ⊆ manager) are granted per experiment or registered model; an
  account without a grant has the service's default role; admins manage everything. A refusal
  raises :class:`keel.errors.PermissionDenied`.
- Every change is appended to keel's hash-chained audit log in the same transaction.

See docs/auth.md.
"""

from keel.auth._secrets import (
    MIN_PASSWORD_LENGTH,
    ParsedToken,
    check_password,
    hash_token,
    parse_token,
)
from keel.auth.models import (
    ANONYMOUS,
    Account,
    AccountKind,
    AuthAction,
    AuthEntityType,
    Grant,
    PasswordRecord,
    Principal,
    ResourceKind,
    Role,
    TokenCredential,
    TokenInfo,
    grant_entity_id,
)
from keel.auth.service import (
    DEFAULT_TOKEN_LIFETIME,
    TOKEN_USE_INTERVAL_MS,
    AuthService,
    check_account_name,
)
from keel.auth.store import AuthStore

__all__ = [
    "ANONYMOUS",
    "DEFAULT_TOKEN_LIFETIME",
    "MIN_PASSWORD_LENGTH",
    "TOKEN_USE_INTERVAL_MS",
    "Account",
    "AccountKind",
    "AuthAction",
    "AuthEntityType",
    "AuthService",
    "AuthStore",
    "Grant",
    "ParsedToken",
    "PasswordRecord",
    "Principal",
    "ResourceKind",
    "Role",
    "TokenCredential",
    "TokenInfo",
    "check_account_name",
    "check_password",
    "grant_entity_id",
    "hash_token",
    "parse_token",
]
