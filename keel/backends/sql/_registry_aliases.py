"""Aliases: atomic (optionally compare-and-set, optionally approval-guarded) moves with history.

Part of SqlModelVersionStore. The approval guard reads the version's approval state in the same
serialized transaction as the move, so an approval revoked concurrently either lands before
(and the move is refused) or after (and the move happened while it was approved).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from keel.backends.sql._engine import Database
from keel.backends.sql._registry_rows import (
    find_policy,
    get_version,
    model_row,
    require_version,
)
from keel.backends.sql._registry_schema import (
    model_alias_history,
    model_aliases,
    model_approvals,
)
from keel.backends.sql._registry_tx import (
    RegistryTx,
    check_alias,
    check_version,
    registry_write,
)
from keel.core.naming import validate_key
from keel.errors import AliasNotFound, Conflict, NotApproved
from keel.registry.models import (
    ALIAS_UNSET,
    AliasMove,
    ApprovalState,
    AuditContext,
    EntityType,
    EventType,
    ModelVersion,
    alias_entity_id,
)


def _current(conn: Connection, model_id: str, alias: str) -> int | None:
    a = model_aliases.c
    row = conn.execute(
        sa.select(a.version).where(a.model_id == model_id, a.alias == alias)
    ).first()
    return None if row is None else int(row.version)


def _check_expected(name: str, alias: str, expected: int | None, current: int | None) -> None:
    if expected is None:
        return
    wanted = None if expected == ALIAS_UNSET else expected
    if wanted != current:
        state = "unset" if current is None else f"at version {current}"
        raise Conflict(
            f"alias {alias!r} of model {name!r} is {state}, not "
            + ("unset" if wanted is None else f"at version {wanted}"),
            details={"name": name, "alias": alias, "expected_version": expected,
                     "actual_version": current},
        )


def _require_approved(conn: Connection, model: Row[Any], version: int, target: str,
                      alias: str) -> None:
    ap = model_approvals.c
    row = conn.execute(
        sa.select(ap.state).where(
            ap.model_id == model.id, ap.version == version, ap.target == target
        )
    ).first()
    state = ApprovalState.NONE if row is None else ApprovalState(row.state)
    if state is not ApprovalState.APPROVED:
        raise NotApproved(
            f"version {version} of model {model.name!r} is not approved for {target!r} "
            f"(its approval is {state.value}), so alias {alias!r} cannot point at it",
            details={"name": model.name, "version": version, "target": target,
                     "state": state.value, "alias": alias},
        )


def _move(tx: RegistryTx, model: Row[Any], alias: str, old: int | None,
          new: int | None) -> AliasMove:
    ctx = tx.ctx
    result = tx.conn.execute(
        sa.insert(model_alias_history).values(
            model_id=model.id, alias=alias, from_version=old, to_version=new,
            actor=ctx.actor, at=ctx.at, reason=ctx.reason,
        )
    )
    seq = int(result.inserted_primary_key[0])  # type: ignore[index]
    before = None if old is None else {"alias": alias, "version": old}
    after = None if new is None else {"alias": alias, "version": new}
    action = EventType.ALIAS_SET if new is not None else EventType.ALIAS_DELETED
    tx.record(action, EntityType.ALIAS, alias_entity_id(model.id, alias), before, after,
              {"model_id": model.id, "name": model.name, "alias": alias,
               "from_version": old, "to_version": new})
    return AliasMove(seq, model.name, alias, old, new, ctx.actor, ctx.at, ctx.reason)


def _history(row: Row[Any], name: str) -> AliasMove:
    return AliasMove(row.seq, name, row.alias, row.from_version, row.to_version, row.actor,
                     row.at, row.reason)


class AliasesMixin:
    _db: Database

    def set_alias(
        self,
        name: str,
        alias: str,
        version: int,
        ctx: AuditContext,
        *,
        expected_version: int | None = None,
        require_approved_for: str | None = None,
    ) -> AliasMove:
        check_alias(alias)
        check_version(version)
        if expected_version is not None:
            check_version(expected_version)
        if require_approved_for is not None:
            validate_key(require_approved_for, "target")

        def set_(tx: RegistryTx) -> AliasMove:
            model = model_row(tx.conn, name)
            require_version(tx.conn, model, version)
            current = _current(tx.conn, model.id, alias)
            _check_expected(name, alias, expected_version, current)
            targets = {require_approved_for} if require_approved_for else set()
            policy = find_policy(tx.conn, model.id)
            if policy is not None and alias in policy.protected_aliases:
                targets.add(policy.protected_aliases[alias])
            for target in sorted(targets):
                _require_approved(tx.conn, model, version, target, alias)
            a = model_aliases.c
            if current is None:
                tx.conn.execute(
                    sa.insert(model_aliases).values(model_id=model.id, alias=alias,
                                                    version=version)
                )
            else:
                tx.conn.execute(
                    sa.update(model_aliases)
                    .where(a.model_id == model.id, a.alias == alias)
                    .values(version=version)
                )
            return _move(tx, model, alias, current, version)

        return registry_write(self._db, ctx, set_)

    def delete_alias(
        self,
        name: str,
        alias: str,
        ctx: AuditContext,
        *,
        expected_version: int | None = None,
    ) -> AliasMove:
        validate_key(alias, "alias")
        if expected_version is not None:
            check_version(expected_version)

        def delete(tx: RegistryTx) -> AliasMove:
            model = model_row(tx.conn, name)
            current = _current(tx.conn, model.id, alias)
            if current is None:
                raise AliasNotFound(
                    f"model {name!r} has no alias {alias!r}",
                    details={"name": name, "alias": alias},
                )
            _check_expected(name, alias, expected_version, current)
            a = model_aliases.c
            tx.conn.execute(
                sa.delete(model_aliases).where(a.model_id == model.id, a.alias == alias)
            )
            return _move(tx, model, alias, current, None)

        return registry_write(self._db, ctx, delete)

    def get_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        def get(conn: Connection) -> ModelVersion:
            model = model_row(conn, name)
            current = _current(conn, model.id, alias)
            if current is None:
                raise AliasNotFound(
                    f"model {name!r} has no alias {alias!r}",
                    details={"name": name, "alias": alias},
                )
            return get_version(conn, model, current)

        return self._db.read(get)

    def list_alias_history(self, name: str, alias: str | None = None) -> list[AliasMove]:
        def list_(conn: Connection) -> list[AliasMove]:
            model = model_row(conn, name)
            h = model_alias_history.c
            query = sa.select(model_alias_history).where(h.model_id == model.id)
            if alias is not None:
                query = query.where(h.alias == alias)
            return [_history(row, model.name) for row in conn.execute(query.order_by(h.seq))]

        return self._db.read(list_)
