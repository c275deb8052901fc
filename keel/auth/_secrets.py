"""Secrets: API token format and hashing, the password policy and password hashing (scrypt).

**Tokens** look like ``keel_<token_id>_<secret>``: ``token_id`` is 16 lowercase hex characters
(public: it names the token in listings and the audit log), the secret part is
``secrets.token_urlsafe(32)`` (43 characters, 256 random bits). The store keeps only the SHA-256
of the whole token: a token has full entropy, so a fast hash is the right one (no password
cracking to slow down), and it lets every request be checked in microseconds. Lookup is by
``token_id`` (a primary key), then the hashes are compared with :func:`hmac.compare_digest`.

**Passwords** are hashed with :func:`hashlib.scrypt` and a random 16-byte salt per hash, stored
in the PHC string format with their parameters (``$scrypt$ln=15,r=8,p=1$<salt>$<hash>``), so
the cost can be raised later without breaking stored hashes (:func:`needs_rehash` tells which
are below the current parameters).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import unicodedata
from dataclasses import dataclass, field
from functools import cache

from keel.errors import InvalidArgument, Unauthenticated

TOKEN_PREFIX = "keel_"
TOKEN_ID_HEX_LENGTH = 16
MAX_TOKEN_LENGTH = 512
_TOKEN = re.compile(r"keel_([0-9a-f]{16})_([A-Za-z0-9_\-]{43,480})")
_MALFORMED = "malformed token: a keel API token looks like keel_<16 hex digits>_<secret>"

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024

SCRYPT_LOG2_N = 15
"""Current cost: N = 2**15, r = 8, p = 1 (32 MiB, about 0.1 s per hash)."""
SCRYPT_R = 8
SCRYPT_P = 1
_SALT_BYTES = 16
_HASH_BYTES = 32
# Bounds on parameters read back from the database, so a damaged row cannot make a login
# allocate gigabytes.
_MAX_LOG2_N, _MAX_R, _MAX_P = 20, 32, 16
_PHC = re.compile(
    r"\$scrypt\$ln=(\d{1,2}),r=(\d{1,3}),p=(\d{1,3})\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)"
)


@dataclass(frozen=True)
class ParsedToken:
    """A token split into its public id and the full secret string (``repr`` hides it)."""

    token_id: str
    secret: str = field(repr=False)


def new_token_id() -> str:
    return secrets.token_hex(TOKEN_ID_HEX_LENGTH // 2)


def new_token(token_id: str) -> str:
    """A fresh secret for ``token_id``: ``keel_<token_id>_<43 random URL-safe characters>``."""
    return f"{TOKEN_PREFIX}{token_id}_{secrets.token_urlsafe(32)}"


def parse_token(secret: object) -> ParsedToken:
    """Split a presented token; Unauthenticated (never another error) for anything that is not
    a well-formed keel token."""
    if not isinstance(secret, str) or len(secret) > MAX_TOKEN_LENGTH:
        raise Unauthenticated(_MALFORMED)
    match = _TOKEN.fullmatch(secret)
    if match is None:
        raise Unauthenticated(_MALFORMED)
    return ParsedToken(match.group(1), secret)


def looks_like_token(value: str) -> bool:
    """Whether ``value`` is shaped like a keel token (so HTTP basic auth treats it as one)."""
    return len(value) <= MAX_TOKEN_LENGTH and _TOKEN.fullmatch(value) is not None


def hash_token(secret: str) -> str:
    """The SHA-256 (hex) of the whole token string, as stored."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def token_matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_token(secret).encode(), stored_hash.encode("utf-8", "replace"))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def _password_bytes(password: str) -> bytes:
    return unicodedata.normalize("NFC", password).encode("utf-8", "surrogatepass")


def _scrypt(password: str, salt: bytes, log2_n: int, r: int, p: int, length: int) -> bytes:
    n = 1 << log2_n
    return hashlib.scrypt(
        _password_bytes(password), salt=salt, n=n, r=r, p=p, dklen=length,
        maxmem=256 * r * n * p + (1 << 20),
    )


def hash_password(
    password: str, *, log2_n: int = SCRYPT_LOG2_N, r: int = SCRYPT_R, p: int = SCRYPT_P
) -> str:
    """A salted scrypt hash of ``password`` with its parameters (PHC string format)."""
    salt = secrets.token_bytes(_SALT_BYTES)
    digest = _scrypt(password, salt, log2_n, r, p, _HASH_BYTES)
    return f"$scrypt$ln={log2_n},r={r},p={p}${_b64(salt)}${_b64(digest)}"


def _parse_hash(stored: str) -> tuple[int, int, int, bytes, bytes] | None:
    match = _PHC.fullmatch(stored)
    if match is None:
        return None
    log2_n, r, p = int(match.group(1)), int(match.group(2)), int(match.group(3))
    if not (1 <= log2_n <= _MAX_LOG2_N and 1 <= r <= _MAX_R and 1 <= p <= _MAX_P):
        return None
    try:
        salt, digest = _unb64(match.group(4)), _unb64(match.group(5))
    except (binascii.Error, ValueError):
        return None
    if not salt or not digest:
        return None
    return log2_n, r, p, salt, digest


def verify_password(password: str, stored: str | None) -> bool:
    """Whether ``password`` matches the stored hash, compared in constant time. A missing or
    damaged hash never matches, and still costs one hash so timing tells nothing."""
    parsed = _parse_hash(stored) if stored is not None else None
    if parsed is None:
        _burn(password)
        return False
    log2_n, r, p, salt, digest = parsed
    candidate = _scrypt(password, salt, log2_n, r, p, len(digest))
    return hmac.compare_digest(candidate, digest)


def needs_rehash(stored: str) -> bool:
    """Whether the hash was made with weaker parameters than the current ones."""
    parsed = _parse_hash(stored)
    if parsed is None:
        return True
    log2_n, r, p, _, _ = parsed
    return (log2_n, r, p) < (SCRYPT_LOG2_N, SCRYPT_R, SCRYPT_P)


@cache
def _dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))


def _burn(password: str) -> None:
    """Spend the time of one verification (for unknown accounts and accounts without a
    password), so a caller cannot tell them apart from a wrong password by timing."""
    parsed = _parse_hash(_dummy_hash())
    assert parsed is not None
    log2_n, r, p, salt, digest = parsed
    hmac.compare_digest(_scrypt(password, salt, log2_n, r, p, len(digest)), digest)


def check_password(password: object, account: str) -> str:
    """The password policy: a string of 12 to 1024 characters, not only whitespace, not the
    account name, without NUL characters, and not shaped like a keel API token.
    InvalidArgument says which rule."""
    if not isinstance(password, str):
        raise InvalidArgument("a password must be a string", details={"field": "password"})
    if not password.strip():
        raise InvalidArgument("a password must not be empty or only whitespace",
                              details={"field": "password"})
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidArgument(
            f"a password needs at least {MIN_PASSWORD_LENGTH} characters (got {len(password)})",
            details={"field": "password"},
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidArgument(f"a password has at most {MAX_PASSWORD_LENGTH} characters",
                              details={"field": "password"})
    if password.strip().casefold() == account.casefold():
        raise InvalidArgument("a password must not be the account name",
                              details={"field": "password"})
    if "\x00" in password:
        raise InvalidArgument("a password must not contain NUL characters",
                              details={"field": "password"})
    if looks_like_token(password):
        raise InvalidArgument("a password must not look like a keel API token",
                              details={"field": "password"})
    return password
