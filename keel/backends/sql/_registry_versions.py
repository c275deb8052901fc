"""SqlModelVersionStore: versions (numbered by the store, immutable but for description, tags
and aliases) and, through AliasesMixin, their aliases."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from keel.backends.sql._common import upsert
from keel.backends.sql._engine import Database
from keel.backends.sql._registry_aliases import AliasesMixin
from keel.backends.sql._registry_rows import (
    encode_metrics,
    get_version,
    load_versions,
    model_row,
    versions_query,
)
from keel.backends.sql._registry_schema import (
    model_cards,
    model_decisions,
    model_version_datasets,
    model_version_tags,
    model_versions,
    registered_models,
)
from keel.backends.sql._registry_tx import (
    RegistryTx,
    check_id,
    check_model_name,
    check_tags,
    check_text,
    check_version,
    dumps,
    registry_write,
)
from keel.backends.sql._search import binary, check_page
from keel.core.naming import validate_key
from keel.core.pagination import Page, encode_page_token
from keel.errors import Conflict, InvalidArgument, NotFound
from keel.registry.models import (
    AuditContext,
    EntityType,
    EventType,
    ModelVersion,
    version_entity_id,
)


def _payload(version: ModelVersion, **extra: Any) -> dict[str, Any]:
    return {"model_id": version.model_id, "name": version.name, "version": version.version,
            **extra}


def _check_metrics(metrics: Mapping[str, float] | None) -> dict[str, float]:
    checked: dict[str, float] = {}
    for key, value in (metrics or {}).items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidArgument(
                f"metric {key!r} must be a number, got {value!r}", details={"key": key}
            )
        checked[validate_key(key, "metric key")] = float(value)
    return checked


def _check_short(value: object, what: str, max_length: int) -> str | None:
    text = check_text(value, what)
    if text is not None and (not text or len(text) > max_length):
        raise InvalidArgument(
            f"{what} must be 1 to {max_length} characters long", details={"field": what}
        )
    return text


def _set_tags(conn: Connection, model_id: str, version: int, tags: Mapping[str, str]) -> None:
    if not tags:
        return
    t = model_version_tags.c
    stmt = upsert(conn, model_version_tags)
    stmt = stmt.on_conflict_do_update(
        index_elements=[t.model_id, t.version, t.key], set_={"value": stmt.excluded.value}
    )
    conn.execute(
        stmt,
        [{"model_id": model_id, "version": version, "key": k, "value": v}
         for k, v in tags.items()],
    )


def _update(tx: RegistryTx, name: str, version: int, action: EventType,
            change: Callable[[ModelVersion], dict[str, Any] | None],
            **extra: Any) -> ModelVersion:
    model = model_row(tx.conn, name)
    before = get_version(tx.conn, model, version)
    values = change(before) or {}
    mv = model_versions.c
    tx.conn.execute(
        sa.update(model_versions)
        .where(mv.model_id == model.id, mv.version == version)
        .values(updated_at=tx.ctx.at, updated_by=tx.ctx.actor, **values)
    )
    after = get_version(tx.conn, model, version)
    tx.record(action, EntityType.MODEL_VERSION, version_entity_id(model.id, version),
              before.to_dict(), after.to_dict(), _payload(after, **extra))
    return after


class SqlModelVersionStore(AliasesMixin):
    """The ModelVersionStore port on a SQL database."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def create_model_version(
        self,
        name: str,
        ctx: AuditContext,
        *,
        source: str,
        run_id: str | None = None,
        model_digest: str | None = None,
        flavor: str | None = None,
        signature: Mapping[str, Any] | None = None,
        dataset_version_ids: Sequence[str] = (),
        code_commit: str | None = None,
        metrics: Mapping[str, float] | None = None,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> ModelVersion:
        check_model_name(name)
        if not isinstance(source, str) or not source.strip():
            raise InvalidArgument("source must be a non-empty string", details={"field": "source"})
        if run_id is not None:
            check_id(run_id, "run_id")
        _check_short(model_digest, "model_digest", 128)
        _check_short(flavor, "flavor", 100)
        _check_short(code_commit, "code_commit", 100)
        check_text(description, "description")
        if signature is not None and not isinstance(signature, Mapping):
            raise InvalidArgument("signature must be a mapping (JSON object) or None")
        signature_text = None if signature is None else dumps(signature, "signature")
        if isinstance(dataset_version_ids, str):
            raise InvalidArgument("dataset_version_ids must be a sequence of ids, not a string")
        datasets = list(dict.fromkeys(check_id(i, "dataset_version_id")
                                      for i in dataset_version_ids))
        metrics_text = encode_metrics(_check_metrics(metrics))
        checked_tags = check_tags(tags)

        def create(tx: RegistryTx) -> ModelVersion:
            model = model_row(tx.conn, name)
            number = int(model.latest_version) + 1
            tx.conn.execute(
                sa.update(registered_models)
                .where(registered_models.c.id == model.id)
                .values(latest_version=number, updated_at=ctx.at, updated_by=ctx.actor)
            )
            tx.conn.execute(
                sa.insert(model_versions).values(
                    model_id=model.id, version=number, source=source, run_id=run_id,
                    model_digest=model_digest, flavor=flavor, signature=signature_text,
                    code_commit=code_commit, metrics=metrics_text, description=description,
                    created_at=ctx.at, created_by=ctx.actor, updated_at=ctx.at,
                    updated_by=ctx.actor,
                )
            )
            if datasets:
                tx.conn.execute(
                    sa.insert(model_version_datasets),
                    [{"model_id": model.id, "version": number, "dataset_version_id": i,
                      "position": position} for position, i in enumerate(datasets)],
                )
            _set_tags(tx.conn, model.id, number, checked_tags)
            created = get_version(tx.conn, model, number)
            tx.record(EventType.VERSION_CREATED, EntityType.MODEL_VERSION,
                      version_entity_id(model.id, number), None, created.to_dict(),
                      _payload(created, run_id=run_id, source=source))
            return created

        return registry_write(self._db, ctx, create)

    def get_model_version(self, name: str, version: int) -> ModelVersion:
        check_version(version)
        return self._db.read(lambda conn: get_version(conn, model_row(conn, name), version))

    def find_model_version(self, name: str, version: int) -> ModelVersion | None:
        check_version(version)
        mv = model_versions.c

        def find(conn: Connection) -> ModelVersion | None:
            query = versions_query().where(registered_models.c.name == name,
                                           mv.version == version)
            row = conn.execute(query).first()
            return None if row is None else load_versions(conn, [row])[0]

        return self._db.read(find)

    def list_model_versions(
        self,
        name: str | None = None,
        *,
        run_id: str | None = None,
        dataset_version_id: str | None = None,
        max_results: int = 100,
        offset: int = 0,
    ) -> Page[ModelVersion]:
        check_page(max_results, offset)
        mv = model_versions.c
        query = versions_query()
        if run_id is not None:
            query = query.where(mv.run_id == run_id)
        if dataset_version_id is not None:
            d = model_version_datasets.c
            query = query.where(sa.exists().where(
                d.model_id == mv.model_id, d.version == mv.version,
                d.dataset_version_id == dataset_version_id,
            ))
        query = query.order_by(
            mv.created_at.desc(), binary(registered_models.c.name, self._db.dialect),
            mv.version.desc(),
        ).limit(max_results + 1).offset(offset)

        def list_(conn: Connection) -> Page[ModelVersion]:
            selected = query
            if name is not None:
                selected = query.where(mv.model_id == model_row(conn, name).id)
            rows = conn.execute(selected).all()
            token = encode_page_token(offset + max_results) if len(rows) > max_results else None
            return Page(load_versions(conn, rows[:max_results]), token)

        return self._db.read(list_)

    def update_model_version(
        self, name: str, version: int, description: str | None, ctx: AuditContext
    ) -> ModelVersion:
        check_version(version)
        check_text(description, "description")
        return registry_write(self._db, ctx, lambda tx: _update(
            tx, name, version, EventType.VERSION_UPDATED, lambda _v: {"description": description}
        ))

    def set_model_version_tags(
        self, name: str, version: int, tags: Mapping[str, str], ctx: AuditContext
    ) -> ModelVersion:
        check_version(version)
        checked = check_tags(tags)

        def run(tx: RegistryTx) -> ModelVersion:
            def set_tags(before: ModelVersion) -> None:
                _set_tags(tx.conn, before.model_id, version, checked)

            return _update(tx, name, version, EventType.VERSION_TAGS_SET, set_tags,
                           keys=sorted(checked))

        return registry_write(self._db, ctx, run)

    def delete_model_version_tag(
        self, name: str, version: int, key: str, ctx: AuditContext
    ) -> ModelVersion:
        check_version(version)
        validate_key(key, "tag key")

        def run(tx: RegistryTx) -> ModelVersion:
            def delete_tag(before: ModelVersion) -> None:
                t = model_version_tags.c
                result = tx.conn.execute(sa.delete(model_version_tags).where(
                    t.model_id == before.model_id, t.version == version, t.key == key
                ))
                if result.rowcount == 0:
                    raise NotFound(
                        f"version {version} of model {name!r} has no tag {key!r}",
                        details={"name": name, "version": version, "key": key},
                    )

            return _update(tx, name, version, EventType.VERSION_TAG_DELETED, delete_tag, key=key)

        return registry_write(self._db, ctx, run)

    def delete_model_version(self, name: str, version: int, ctx: AuditContext) -> None:
        check_version(version)

        def delete(tx: RegistryTx) -> None:
            model = model_row(tx.conn, name)
            before = get_version(tx.conn, model, version)
            if before.aliases:
                raise Conflict(
                    f"version {version} of model {name!r} is pointed at by aliases "
                    f"{', '.join(before.aliases)}; move or delete them first",
                    details={"name": name, "version": version, "aliases": list(before.aliases)},
                )
            conn = tx.conn
            conn.execute(sa.delete(model_cards).where(
                model_cards.c.model_id == model.id, model_cards.c.version == version))
            conn.execute(sa.delete(model_decisions).where(
                model_decisions.c.model_id == model.id, model_decisions.c.version == version))
            mv = model_versions.c
            conn.execute(sa.delete(model_versions).where(
                mv.model_id == model.id, mv.version == version))
            tx.record(EventType.VERSION_DELETED, EntityType.MODEL_VERSION,
                      version_entity_id(model.id, version), before.to_dict(), None,
                      _payload(before))

        registry_write(self._db, ctx, delete)
