"""Reading registry rows into value objects (in bulk: one query per kind and chunk of ids)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from keel.backends.sql._common import chunked
from keel.backends.sql._registry_schema import (
    model_aliases,
    model_approval_decisions,
    model_approvals,
    model_policies,
    model_version_datasets,
    model_version_tags,
    model_versions,
    registered_model_tags,
    registered_models,
)
from keel.backends.sql._registry_tx import dumps, loads
from keel.errors import ModelVersionNotFound, RegisteredModelNotFound
from keel.registry._json import decode_float
from keel.registry.models import (
    Approval,
    ApprovalDecision,
    ApprovalState,
    DecisionKind,
    ModelVersion,
    PromotionPolicy,
    RegisteredModel,
)


def model_not_found(name: str) -> RegisteredModelNotFound:
    return RegisteredModelNotFound(
        f"registered model {name!r} does not exist", details={"name": name}
    )


def version_not_found(name: str, version: int) -> ModelVersionNotFound:
    return ModelVersionNotFound(
        f"model {name!r} has no version {version}", details={"name": name, "version": version}
    )


def encode_metrics(metrics: Mapping[str, float] | None) -> str:
    return dumps({str(k): float(v) for k, v in (metrics or {}).items()}, "metrics")


def decode_metrics(text: str) -> dict[str, float]:
    return {k: decode_float(v) for k, v in loads(text).items()}


def model_row(conn: Connection, name: str) -> Row[Any]:
    """The registered model's row; RegisteredModelNotFound when absent."""
    row = conn.execute(sa.select(registered_models).where(registered_models.c.name == name)).first()
    if row is None:
        raise model_not_found(name)
    return row


def load_models(conn: Connection, rows: Sequence[Row[Any]]) -> list[RegisteredModel]:
    ids = [row.id for row in rows]
    tags: dict[str, dict[str, str]] = {model_id: {} for model_id in ids}
    aliases: dict[str, dict[str, int]] = {model_id: {} for model_id in ids}
    t, a = registered_model_tags.c, model_aliases.c
    for chunk in chunked(ids):
        for tag in conn.execute(sa.select(t.model_id, t.key, t.value).where(t.model_id.in_(chunk))):
            tags[tag.model_id][tag.key] = tag.value
        query = sa.select(a.model_id, a.alias, a.version).where(a.model_id.in_(chunk))
        for alias in conn.execute(query):
            aliases[alias.model_id][alias.alias] = alias.version
    return [
        RegisteredModel(
            model_id=row.id,
            name=row.name,
            description=row.description,
            tags=dict(sorted(tags[row.id].items())),
            aliases=dict(sorted(aliases[row.id].items())),
            latest_version=row.latest_version,
            created_at=row.created_at,
            created_by=row.created_by,
            updated_at=row.updated_at,
            updated_by=row.updated_by,
        )
        for row in rows
    ]


def get_model(conn: Connection, name: str) -> RegisteredModel:
    return load_models(conn, [model_row(conn, name)])[0]


def versions_query() -> sa.Select[Any]:
    """Version rows with their model's name as ``name``."""
    return sa.select(model_versions, registered_models.c.name).join(
        registered_models, registered_models.c.id == model_versions.c.model_id
    )


def load_versions(conn: Connection, rows: Sequence[Row[Any]]) -> list[ModelVersion]:
    keys = [(row.model_id, row.version) for row in rows]
    tags: dict[tuple[str, int], dict[str, str]] = {key: {} for key in keys}
    datasets: dict[tuple[str, int], list[tuple[int, str]]] = {key: [] for key in keys}
    aliases: dict[tuple[str, int], list[str]] = {key: [] for key in keys}
    t, d, a = model_version_tags.c, model_version_datasets.c, model_aliases.c
    for model_id in sorted({model_id for model_id, _ in keys}):
        numbers = [version for mid, version in keys if mid == model_id]
        for chunk in chunked(numbers):
            where_t = sa.and_(t.model_id == model_id, t.version.in_(chunk))
            for tag in conn.execute(sa.select(t.version, t.key, t.value).where(where_t)):
                tags[(model_id, tag.version)][tag.key] = tag.value
            where_d = sa.and_(d.model_id == model_id, d.version.in_(chunk))
            query_d = sa.select(d.version, d.position, d.dataset_version_id).where(where_d)
            for ds in conn.execute(query_d):
                datasets[(model_id, ds.version)].append((ds.position, ds.dataset_version_id))
            where_a = sa.and_(a.model_id == model_id, a.version.in_(chunk))
            for alias in conn.execute(sa.select(a.version, a.alias).where(where_a)):
                aliases[(model_id, alias.version)].append(alias.alias)
    return [
        ModelVersion(
            model_id=row.model_id,
            name=row.name,
            version=row.version,
            source=row.source,
            run_id=row.run_id,
            model_digest=row.model_digest,
            flavor=row.flavor,
            signature=loads(row.signature),
            dataset_version_ids=tuple(i for _, i in sorted(datasets[(row.model_id, row.version)])),
            code_commit=row.code_commit,
            metrics=decode_metrics(row.metrics),
            description=row.description,
            tags=dict(sorted(tags[(row.model_id, row.version)].items())),
            aliases=tuple(sorted(aliases[(row.model_id, row.version)])),
            created_at=row.created_at,
            created_by=row.created_by,
            updated_at=row.updated_at,
            updated_by=row.updated_by,
        )
        for row in rows
    ]


def find_version(conn: Connection, model_id: str, version: int) -> ModelVersion | None:
    mv = model_versions.c
    row = conn.execute(
        versions_query().where(mv.model_id == model_id, mv.version == version)
    ).first()
    return None if row is None else load_versions(conn, [row])[0]


def get_version(conn: Connection, model: Row[Any], version: int) -> ModelVersion:
    """ModelVersionNotFound when the model (its row) has no such version."""
    found = find_version(conn, model.id, version)
    if found is None:
        raise version_not_found(model.name, version)
    return found


def require_version(conn: Connection, model: Row[Any], version: int) -> None:
    mv = model_versions.c
    query = sa.select(mv.version).where(mv.model_id == model.id, mv.version == version)
    if conn.execute(query).first() is None:
        raise version_not_found(model.name, version)


def load_approvals(conn: Connection, name: str, rows: Sequence[Row[Any]]) -> list[Approval]:
    """Approvals from ``model_approvals`` rows of one model, with the current round's
    decisions."""
    out = []
    d = model_approval_decisions.c
    for row in rows:
        query = (
            sa.select(d.actor, d.decision, d.at, d.reason, d.round)
            .where(
                d.model_id == row.model_id,
                d.version == row.version,
                d.target == row.target,
                d.round == row.round,
            )
            .order_by(d.seq)
        )
        decisions = tuple(
            ApprovalDecision(x.actor, DecisionKind(x.decision), x.at, x.reason, x.round)
            for x in conn.execute(query)
        )
        out.append(
            Approval(
                name=name,
                version=row.version,
                target=row.target,
                state=ApprovalState(row.state),
                round=row.round,
                requested_by=row.requested_by,
                requested_at=row.requested_at,
                request_reason=row.request_reason,
                decisions=decisions,
                updated_at=row.updated_at,
            )
        )
    return out


def get_approval(conn: Connection, model: Row[Any], version: int, target: str) -> Approval:
    """The approval (a NONE one when never requested); the version must exist."""
    ap = model_approvals.c
    row = conn.execute(
        sa.select(model_approvals).where(
            ap.model_id == model.id, ap.version == version, ap.target == target
        )
    ).first()
    if row is not None:
        return load_approvals(conn, model.name, [row])[0]
    require_version(conn, model, version)
    return Approval(model.name, version, target, ApprovalState.NONE, 0, None, None, None, (), None)


def find_policy(conn: Connection, model_id: str) -> PromotionPolicy | None:
    row = conn.execute(
        sa.select(model_policies.c.policy).where(model_policies.c.model_id == model_id)
    ).first()
    return None if row is None else PromotionPolicy.from_dict(loads(row.policy))
