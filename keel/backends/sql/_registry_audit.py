"""SqlAuditStore: reading the audit log and the events outbox, and verifying the chain."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from keel.backends.sql._engine import Database
from keel.backends.sql._registry_schema import audit_head, audit_log, events
from keel.backends.sql._registry_tx import loads
from keel.errors import InvalidArgument
from keel.registry.audit import GENESIS_HASH, ChainReport, ChainVerifier
from keel.registry.models import AuditRecord, ChainHead, RegistryEvent

_VERIFY_BATCH = 1000


def _check_cursor(after_seq: int, limit: int) -> None:
    if isinstance(after_seq, bool) or not isinstance(after_seq, int) or after_seq < 0:
        raise InvalidArgument(f"after_seq must be a non-negative integer, got {after_seq!r}")
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise InvalidArgument(f"limit must be a positive integer, got {limit!r}")


def _record(row: Row[Any]) -> AuditRecord:
    return AuditRecord(
        seq=int(row.seq), at=int(row.at), actor=row.actor, action=row.action,
        entity_type=row.entity_type, entity_id=row.entity_id, before=loads(row.before),
        after=loads(row.after), reason=row.reason, prev_hash=row.prev_hash, hash=row.hash,
    )


def _head(conn: Connection) -> ChainHead:
    row = conn.execute(
        sa.select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1)
    ).first()
    return ChainHead(0, GENESIS_HASH) if row is None else ChainHead(int(row.seq), row.hash)


class SqlAuditStore:
    """The AuditStore port on a SQL database."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def list_audit_records(
        self,
        after_seq: int = 0,
        limit: int = 1000,
        *,
        entity_type: str | None = None,
        entity_id: str | None = None,
        model_id: str | None = None,
    ) -> list[AuditRecord]:
        _check_cursor(after_seq, limit)
        a = audit_log.c
        query = sa.select(audit_log).where(a.seq > after_seq)
        if entity_type is not None:
            query = query.where(a.entity_type == entity_type)
        if entity_id is not None:
            query = query.where(a.entity_id == entity_id)
        if model_id is not None:
            # Entity ids are <model_id>, <model_id>/... or <model_id>@...; ids never hold
            # LIKE wildcards (check_id), but escape them anyway.
            escaped = model_id.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            query = query.where(sa.or_(
                a.entity_id == model_id,
                a.entity_id.like(escaped + "/%", escape="\\"),
                a.entity_id.like(escaped + "@%", escape="\\"),
            ))
        query = query.order_by(a.seq).limit(limit)
        return self._db.read(lambda conn: [_record(row) for row in conn.execute(query)])

    def get_chain_head(self) -> ChainHead:
        return self._db.read(_head)

    def verify_audit_chain(self) -> ChainReport:
        """One read transaction (a consistent snapshot of log and head), streamed in batches."""

        def verify(conn: Connection) -> ChainReport:
            if conn.dialect.name == "postgresql":
                # One snapshot for every statement below (READ COMMITTED would let records
                # committed after the head was read show up, and look like a forged tail).
                conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            head = _head(conn)
            verifier = ChainVerifier()
            after = 0
            while not verifier.failed:
                a = audit_log.c
                rows = conn.execute(
                    sa.select(audit_log).where(a.seq > after).order_by(a.seq)
                    .limit(_VERIFY_BATCH)
                ).all()
                for row in rows:
                    if not verifier.feed(_record(row)):
                        break
                if len(rows) < _VERIFY_BATCH:
                    break
                after = int(rows[-1].seq)
            return verifier.finish(head)

        return self._db.read(verify)

    def list_events(
        self, after_seq: int = 0, types: Sequence[str] | None = None, limit: int = 100
    ) -> list[RegistryEvent]:
        _check_cursor(after_seq, limit)
        if isinstance(types, str):
            raise InvalidArgument("types must be a sequence of event types, not one string")
        e = events.c
        query = sa.select(events).where(e.seq > after_seq)
        if types is not None:
            query = query.where(e.type.in_(sorted(set(types))))
        query = query.order_by(e.seq).limit(limit)

        def list_(conn: Connection) -> list[RegistryEvent]:
            return [
                RegistryEvent(int(row.seq), row.type, int(row.at), int(row.audit_seq),
                              loads(row.payload))
                for row in conn.execute(query)
            ]

        return self._db.read(list_)
