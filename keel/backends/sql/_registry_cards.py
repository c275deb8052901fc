"""Model-card fields people write, and decision-log entries (part of SqlRegisteredModelStore)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from keel.backends.sql._common import upsert
from keel.backends.sql._engine import Database
from keel.backends.sql._registry_rows import model_row, require_version
from keel.backends.sql._registry_schema import model_cards, model_decisions
from keel.backends.sql._registry_tx import (
    RegistryTx,
    check_id,
    check_text,
    check_version,
    registry_write,
)
from keel.core.naming import validate_name
from keel.errors import AlreadyExists, InvalidArgument
from keel.registry.models import (
    AuditContext,
    CardFields,
    DecisionLogEntry,
    EntityType,
    EventType,
    version_entity_id,
)

_CARD_COLUMNS = ("intended_use", "out_of_scope", "limitations", "ethical_considerations")


def _card(conn: Connection, model_id: str, version: int | None) -> CardFields:
    c = model_cards.c
    row = conn.execute(
        sa.select(*(c[name] for name in _CARD_COLUMNS)).where(
            c.model_id == model_id, c.version == (version or 0)
        )
    ).first()
    return CardFields() if row is None else CardFields(**row._asdict())


def _target(conn: Connection, name: str, version: int | None) -> Row[Any]:
    """The model row, after checking that ``version`` (when given) exists."""
    model = model_row(conn, name)
    if version is not None:
        require_version(conn, model, check_version(version))
    return model


def _entry(row: Row[Any], name: str) -> DecisionLogEntry:
    return DecisionLogEntry(
        entry_id=row.id, name=name, version=row.version, title=row.title, context=row.context,
        decision=row.decision, consequences=row.consequences, author=row.author,
        date=row.date, created_at=row.created_at, created_by=row.created_by,
    )


class CardsMixin:
    _db: Database

    def set_card_fields(
        self, name: str, version: int | None, fields: CardFields, ctx: AuditContext
    ) -> CardFields:
        if not isinstance(fields, CardFields):
            raise InvalidArgument("card fields must be a CardFields")
        for column in _CARD_COLUMNS:
            check_text(getattr(fields, column), column)

        def set_card(tx: RegistryTx) -> CardFields:
            model = _target(tx.conn, name, version)
            before = _card(tx.conn, model.id, version)
            values = {column: getattr(fields, column) for column in _CARD_COLUMNS}
            stmt = upsert(tx.conn, model_cards)
            stmt = stmt.on_conflict_do_update(
                index_elements=[model_cards.c.model_id, model_cards.c.version],
                set_={**values, "updated_at": ctx.at, "updated_by": ctx.actor},
            )
            tx.conn.execute(
                stmt.values(model_id=model.id, version=version or 0, updated_at=ctx.at,
                            updated_by=ctx.actor, **values)
            )
            entity_id = model.id if version is None else version_entity_id(model.id, version)
            tx.record(EventType.CARD_UPDATED, EntityType.CARD, entity_id, before.to_dict(),
                      fields.to_dict(),
                      {"model_id": model.id, "name": model.name, "version": version})
            return fields

        return registry_write(self._db, ctx, set_card)

    def get_card_fields(self, name: str, version: int | None = None) -> CardFields:
        def get(conn: Connection) -> CardFields:
            model = _target(conn, name, version)
            return _card(conn, model.id, version)

        return self._db.read(get)

    def log_decision(
        self,
        entry_id: str,
        name: str,
        version: int | None,
        ctx: AuditContext,
        *,
        title: str,
        context: str,
        decision: str,
        consequences: str,
        author: str | None = None,
        date: int | None = None,
    ) -> DecisionLogEntry:
        check_id(entry_id, "entry_id")
        validate_name(title, "title")
        for what, text in (("context", context), ("decision", decision),
                           ("consequences", consequences)):
            if not isinstance(text, str):
                raise InvalidArgument(f"{what} must be a string", details={"field": what})
        author = validate_name(author if author is not None else ctx.actor, "author")
        when = ctx.at if date is None else date
        if isinstance(when, bool) or not isinstance(when, int):
            raise InvalidArgument("date is epoch milliseconds (an int)")

        def log(tx: RegistryTx) -> DecisionLogEntry:
            model = _target(tx.conn, name, version)
            taken = tx.conn.execute(
                sa.select(model_decisions.c.id).where(model_decisions.c.id == entry_id)
            ).first()
            if taken is not None:
                raise AlreadyExists(
                    f"a decision-log entry with id {entry_id!r} already exists",
                    details={"entry_id": entry_id},
                )
            tx.conn.execute(
                sa.insert(model_decisions).values(
                    id=entry_id, model_id=model.id, version=version, title=title,
                    context=context, decision=decision, consequences=consequences,
                    author=author, date=when, created_at=ctx.at, created_by=ctx.actor,
                )
            )
            entry = DecisionLogEntry(entry_id, model.name, version, title, context, decision,
                                     consequences, author, when, ctx.at, ctx.actor)
            entity_id = model.id if version is None else version_entity_id(model.id, version)
            tx.record(EventType.DECISION_LOGGED, EntityType.DECISION, entity_id, None,
                      entry.to_dict(), {"model_id": model.id, "name": model.name,
                                        "version": version, "entry_id": entry_id})
            return entry

        return registry_write(self._db, ctx, log)

    def list_decisions(self, name: str, version: int | None = None) -> list[DecisionLogEntry]:
        def list_(conn: Connection) -> list[DecisionLogEntry]:
            model = _target(conn, name, version)
            d = model_decisions.c
            query = sa.select(model_decisions).where(d.model_id == model.id)
            if version is not None:
                query = query.where(d.version == version)
            query = query.order_by(d.date, d.seq)
            return [_entry(row, model.name) for row in conn.execute(query)]

        return self._db.read(list_)
