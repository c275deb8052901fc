"""The registry's write transaction: lock the chain head, change, append audit record + event.

Every registry mutation runs through :func:`registry_write`. Its first statement locks the
one-row ``audit_head`` (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE``
has already taken the database's write lock), so registry writers are serialized: version
numbering, alias compare-and-set and approval transitions read state no other writer can change
before commit, and the audit chain is appended by one writer at a time (it cannot fork).
:meth:`RegistryTx.record` appends the audit record and its event in the same transaction.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keel.backends.sql._engine import Database
from keel.backends.sql._registry_schema import audit_head, audit_log, events
from keel.core.naming import validate_key, validate_name
from keel.errors import InvalidArgument, KeelError
from keel.registry._json import json_safe
from keel.registry.audit import GENESIS_HASH, canonical_json, record_hash
from keel.registry.models import AuditContext, AuditRecord, ChainHead

T = TypeVar("T")

_ALIAS = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")
_RESERVED_ALIASES = ("latest",)
MAX_ID_LENGTH = 64


def dumps(value: Any, what: str) -> str:
    """Canonical JSON text of ``value``; InvalidArgument when it is not JSON-able."""
    try:
        text = canonical_json(json_safe(value))
        text.encode("utf-8")  # lone surrogates cannot be stored or hashed
        return text
    except (TypeError, ValueError) as error:
        raise InvalidArgument(f"{what} cannot be stored as JSON: {error}") from None


def loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def check_id(value: object, what: str) -> str:
    text = validate_key(value, what)
    if len(text) > MAX_ID_LENGTH:
        raise InvalidArgument(
            f"{what} is longer than {MAX_ID_LENGTH} characters", details={"field": what}
        )
    return text


def check_model_name(name: object) -> str:
    return validate_name(name, "model name")


def check_version(version: object) -> int:
    if isinstance(version, bool) or not isinstance(version, int):
        raise InvalidArgument(
            f"a model version is an integer, got {version!r}", details={"field": "version"}
        )
    return version


def check_alias(alias: object) -> str:
    """A key that starts with a letter or underscore and holds only letters, digits, ``_``,
    ``.`` and ``-`` (so never a version number), and is not ``latest``."""
    text = validate_key(alias, "alias")
    if not _ALIAS.fullmatch(text) or text in _RESERVED_ALIASES:
        raise InvalidArgument(
            f"invalid alias {text!r}: an alias starts with a letter or '_', holds only "
            "letters, digits, '_', '.', '-', and is not 'latest'",
            details={"alias": text},
        )
    return text


def check_tags(tags: Mapping[str, str] | None) -> dict[str, str]:
    checked: dict[str, str] = {}
    for key, value in (tags or {}).items():
        if not isinstance(value, str):
            raise InvalidArgument(
                f"tag {key!r} must have a string value, got {type(value).__name__}",
                details={"key": key},
            )
        checked[validate_key(key, "tag key")] = value
    return checked


def check_text(value: object, what: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise InvalidArgument(f"{what} must be a string or None", details={"field": what})
    return value


def lock_head(conn: Connection) -> ChainHead:
    """The chain head, locked until commit."""
    query = sa.select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).first()
    if row is None:
        if conn.execute(sa.select(audit_log.c.seq).limit(1)).first() is not None:
            raise KeelError(
                "the audit chain head (table audit_head) is missing while the audit log is not "
                "empty: the database was damaged; refusing to append to the audit log"
            )
        conn.execute(sa.insert(audit_head).values(id=1, seq=0, hash=GENESIS_HASH))
        row = conn.execute(query).one()
    return ChainHead(int(row.seq), str(row.hash))


class RegistryTx:
    """One registry write: the connection, who is writing, and the locked chain head."""

    def __init__(self, conn: Connection, ctx: AuditContext) -> None:
        self.conn = conn
        self.ctx = ctx
        self.head = lock_head(conn)

    @property
    def postgres(self) -> bool:
        return self.conn.dialect.name == "postgresql"

    def record(
        self,
        action: str,
        entity_type: str,
        entity_id: str,
        before: Any,
        after: Any,
        payload: Mapping[str, Any],
    ) -> AuditRecord:
        """Append the audit record (before/after as plain JSON) and its event."""
        ctx = self.ctx
        seq = self.head.seq + 1
        before_text, after_text = dumps(before, "audit before"), dumps(after, "audit after")
        before_json, after_json = json.loads(before_text), json.loads(after_text)
        digest = record_hash(
            seq=seq, at=ctx.at, actor=ctx.actor, action=action, entity_type=entity_type,
            entity_id=entity_id, before=before_json, after=after_json, reason=ctx.reason,
            prev_hash=self.head.hash,
        )
        conn = self.conn
        conn.execute(
            sa.insert(audit_log).values(
                seq=seq, at=ctx.at, actor=ctx.actor, action=action, entity_type=entity_type,
                entity_id=entity_id,
                before=None if before_json is None else before_text,
                after=None if after_json is None else after_text,
                reason=ctx.reason, prev_hash=self.head.hash, hash=digest,
            )
        )
        conn.execute(
            sa.update(audit_head).where(audit_head.c.id == 1).values(seq=seq, hash=digest)
        )
        body = {"actor": ctx.actor, **payload}
        conn.execute(
            sa.insert(events).values(
                type=action, at=ctx.at, audit_seq=seq, payload=dumps(body, "event payload")
            )
        )
        record = AuditRecord(
            seq, ctx.at, ctx.actor, action, entity_type, entity_id, before_json, after_json,
            ctx.reason, self.head.hash, digest,
        )
        self.head = ChainHead(seq, digest)
        return record


def registry_write(db: Database, ctx: AuditContext, fn: Callable[[RegistryTx], T]) -> T:
    """Run ``fn`` in one write transaction holding the chain-head lock (re-runnable: SQLite may
    retry it after a busy error)."""
    if not isinstance(ctx, AuditContext):
        raise InvalidArgument("every registry change takes an AuditContext(actor, reason)")
    return db.write(lambda conn: fn(RegistryTx(conn, ctx)))
