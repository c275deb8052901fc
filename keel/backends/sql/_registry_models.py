"""SqlRegisteredModelStore: registered models, their tags, cards and decision logs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc
from sqlalchemy.engine import Connection

from keel.backends.sql._common import upsert
from keel.backends.sql._engine import Database
from keel.backends.sql._registry_cards import CardsMixin
from keel.backends.sql._registry_rows import get_model, load_models, model_row
from keel.backends.sql._registry_schema import (
    model_versions,
    registered_model_tags,
    registered_models,
)
from keel.backends.sql._registry_tx import (
    RegistryTx,
    check_id,
    check_model_name,
    check_tags,
    check_text,
    registry_write,
)
from keel.backends.sql._search import binary, check_page, like_pattern
from keel.core.naming import validate_key
from keel.core.pagination import Page, encode_page_token
from keel.errors import AlreadyExists, NotFound
from keel.registry.models import AuditContext, EntityType, EventType, RegisteredModel


def _name_taken(name: str) -> AlreadyExists:
    return AlreadyExists(
        f"a registered model named {name!r} already exists", details={"name": name}
    )


def _payload(model: RegisteredModel, **extra: Any) -> dict[str, Any]:
    return {"model_id": model.model_id, "name": model.name, **extra}


def _set_tags(conn: Connection, model_id: str, tags: Mapping[str, str]) -> None:
    if not tags:
        return
    stmt = upsert(conn, registered_model_tags)
    stmt = stmt.on_conflict_do_update(
        index_elements=[registered_model_tags.c.model_id, registered_model_tags.c.key],
        set_={"value": stmt.excluded.value},
    )
    conn.execute(stmt, [{"model_id": model_id, "key": k, "value": v} for k, v in tags.items()])


def _touch(tx: RegistryTx, model_id: str, **values: Any) -> None:
    tx.conn.execute(
        sa.update(registered_models)
        .where(registered_models.c.id == model_id)
        .values(updated_at=tx.ctx.at, updated_by=tx.ctx.actor, **values)
    )


def _update(
    tx: RegistryTx, name: str, action: EventType, change: Any, **extra: Any
) -> RegisteredModel:
    """Apply ``change(tx, before)`` to the model, touch it, and audit before/after."""
    before = get_model(tx.conn, name)
    values = change(tx, before) or {}
    _touch(tx, before.model_id, **values)
    after = get_model(tx.conn, values.get("name", name))
    tx.record(action, EntityType.REGISTERED_MODEL, before.model_id, before.to_dict(),
              after.to_dict(), _payload(after, **extra))
    return after


class SqlRegisteredModelStore(CardsMixin):
    """The RegisteredModelStore port on a SQL database."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def create_registered_model(
        self,
        model_id: str,
        name: str,
        ctx: AuditContext,
        *,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> RegisteredModel:
        check_id(model_id, "model_id")
        check_model_name(name)
        check_text(description, "description")
        checked_tags = check_tags(tags)

        def create(tx: RegistryTx) -> RegisteredModel:
            rm = registered_models.c
            taken = tx.conn.execute(
                sa.select(rm.id, rm.name).where(sa.or_(rm.name == name, rm.id == model_id))
            ).first()
            if taken is not None:
                if taken.name == name:
                    raise _name_taken(name)
                raise AlreadyExists(
                    f"a registered model with id {model_id!r} already exists",
                    details={"model_id": model_id},
                )
            tx.conn.execute(
                sa.insert(registered_models).values(
                    id=model_id, name=name, description=description, latest_version=0,
                    created_at=ctx.at, created_by=ctx.actor, updated_at=ctx.at,
                    updated_by=ctx.actor,
                )
            )
            _set_tags(tx.conn, model_id, checked_tags)
            model = get_model(tx.conn, name)
            tx.record(EventType.MODEL_CREATED, EntityType.REGISTERED_MODEL, model_id, None,
                      model.to_dict(), _payload(model))
            return model

        try:
            return registry_write(self._db, ctx, create)
        except exc.IntegrityError:  # a concurrent writer outside keel's serialization
            raise _name_taken(name) from None

    def get_registered_model(self, name: str) -> RegisteredModel:
        return self._db.read(lambda conn: get_model(conn, name))

    def find_registered_model(self, name: str) -> RegisteredModel | None:
        query = sa.select(registered_models).where(registered_models.c.name == name)

        def find(conn: Connection) -> RegisteredModel | None:
            row = conn.execute(query).first()
            return None if row is None else load_models(conn, [row])[0]

        return self._db.read(find)

    def find_registered_model_by_id(self, model_id: str) -> RegisteredModel | None:
        query = sa.select(registered_models).where(registered_models.c.id == model_id)

        def find(conn: Connection) -> RegisteredModel | None:
            row = conn.execute(query).first()
            return None if row is None else load_models(conn, [row])[0]

        return self._db.read(find)

    def search_registered_models(
        self,
        name_like: str | None = None,
        tags: Mapping[str, str] | None = None,
        max_results: int = 100,
        offset: int = 0,
    ) -> Page[RegisteredModel]:
        check_page(max_results, offset)
        rm = registered_models.c
        query = sa.select(registered_models)
        if name_like is not None:
            query = query.where(rm.name.ilike(like_pattern(name_like, self._db.dialect)))
        for key, value in (tags or {}).items():
            t = registered_model_tags.alias()
            query = query.where(
                sa.exists().where(t.c.model_id == rm.id, t.c.key == key, t.c.value == value)
            )
        query = (
            query.order_by(binary(rm.name, self._db.dialect))
            .limit(max_results + 1)
            .offset(offset)
        )

        def search(conn: Connection) -> Page[RegisteredModel]:
            rows = conn.execute(query).all()
            token = encode_page_token(offset + max_results) if len(rows) > max_results else None
            return Page(load_models(conn, rows[:max_results]), token)

        return self._db.read(search)

    def rename_registered_model(
        self, name: str, new_name: str, ctx: AuditContext
    ) -> RegisteredModel:
        check_model_name(new_name)

        def rename(tx: RegistryTx, before: RegisteredModel) -> dict[str, Any]:
            if new_name != name:
                taken = tx.conn.execute(
                    sa.select(registered_models.c.id).where(registered_models.c.name == new_name)
                ).first()
                if taken is not None:
                    raise _name_taken(new_name)
            return {"name": new_name}

        return registry_write(
            self._db, ctx,
            lambda tx: _update(tx, name, EventType.MODEL_UPDATED, rename, old_name=name),
        )

    def update_registered_model(
        self, name: str, description: str | None, ctx: AuditContext
    ) -> RegisteredModel:
        check_text(description, "description")
        return registry_write(
            self._db, ctx,
            lambda tx: _update(
                tx, name, EventType.MODEL_UPDATED, lambda _tx, _m: {"description": description}
            ),
        )

    def set_registered_model_tags(
        self, name: str, tags: Mapping[str, str], ctx: AuditContext
    ) -> RegisteredModel:
        checked = check_tags(tags)

        def set_tags(tx: RegistryTx, before: RegisteredModel) -> None:
            _set_tags(tx.conn, before.model_id, checked)

        return registry_write(
            self._db, ctx,
            lambda tx: _update(tx, name, EventType.MODEL_TAGS_SET, set_tags, keys=sorted(checked)),
        )

    def delete_registered_model_tag(
        self, name: str, key: str, ctx: AuditContext
    ) -> RegisteredModel:
        validate_key(key, "tag key")

        def delete_tag(tx: RegistryTx, before: RegisteredModel) -> None:
            t = registered_model_tags.c
            result = tx.conn.execute(
                sa.delete(registered_model_tags).where(
                    t.model_id == before.model_id, t.key == key
                )
            )
            if result.rowcount == 0:
                raise NotFound(
                    f"registered model {name!r} has no tag {key!r}",
                    details={"name": name, "key": key},
                )

        return registry_write(
            self._db, ctx,
            lambda tx: _update(tx, name, EventType.MODEL_TAG_DELETED, delete_tag, key=key),
        )

    def delete_registered_model(self, name: str, ctx: AuditContext) -> None:
        def delete(tx: RegistryTx) -> None:
            row = model_row(tx.conn, name)
            model = load_models(tx.conn, [row])[0]
            mv = model_versions.c
            numbers = list(
                tx.conn.execute(
                    sa.select(mv.version).where(mv.model_id == row.id).order_by(mv.version)
                ).scalars()
            )
            tx.conn.execute(sa.delete(registered_models).where(registered_models.c.id == row.id))
            tx.record(EventType.MODEL_DELETED, EntityType.REGISTERED_MODEL, row.id,
                      {**model.to_dict(), "versions": numbers}, None, _payload(model))

        registry_write(self._db, ctx, delete)
