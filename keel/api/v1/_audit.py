"""``/api/v1/audit``: the registry's append-only, hash-chained audit log and its events, read
only, for admins (with authentication off, every caller is one).

Records and events are paged by cursor: ask again with ``after_seq`` set to the last ``seq``
received; fewer than ``limit`` items means the end for now. Records travel exactly as stored
(``before``/``after`` are plain JSON), so a client can verify the chain itself with
:func:`keel.registry.verify_chain` as well as ask the server to (``/audit/verify``).
"""

from __future__ import annotations

from fastapi import APIRouter, Query, Request, Response

from keel.api._authz import ADMIN, KeelRoute, permission
from keel.api._json import respond, returns
from keel.api._state import state_of
from keel.api.v1._checks import MAX_RESULTS
from keel.api.v1._registry import INT64_MAX
from keel.core.naming import validate_key
from keel.errors import InvalidArgument
from keel.registry import AuditRecord, ChainHead, ChainReport, RegistryEvent

router = APIRouter(prefix="/api/v1/audit", tags=["audit"], route_class=KeelRoute)


def _cursor(after_seq: int, limit: int) -> tuple[int, int]:
    if not 0 <= after_seq <= INT64_MAX:
        raise InvalidArgument(f"after_seq must be a sequence number (0 or more), got "
                              f"{after_seq}", details={"field": "after_seq"})
    if not 1 <= limit <= MAX_RESULTS:
        raise InvalidArgument(f"limit must be between 1 and {MAX_RESULTS}, got {limit}",
                              details={"field": "limit"})
    return after_seq, limit


def _optional_key(value: str | None, what: str) -> str | None:
    return None if value is None else validate_key(value, what)


@router.get("/records", responses=returns(list[AuditRecord]))
@permission(ADMIN)
def list_audit_records(
    request: Request,
    after_seq: int = 0,
    limit: int = 1000,
    entity_type: str | None = None,
    entity_id: str | None = None,
    model_id: str | None = None,
) -> Response:
    """Records with seq > ``after_seq``, oldest first, at most ``limit``; ``model_id`` selects
    every record about one registered model (its versions, aliases, approvals, ...)."""
    after_seq, limit = _cursor(after_seq, limit)
    return respond(state_of(request).keel.audit.list_audit_records(
        after_seq, limit, entity_type=_optional_key(entity_type, "entity_type"),
        entity_id=_optional_key(entity_id, "entity_id"),
        model_id=_optional_key(model_id, "model_id"),
    ))


@router.get("/head", responses=returns(ChainHead))
@permission(ADMIN)
def get_chain_head(request: Request) -> Response:
    """The last record's seq and hash (anchor it elsewhere to catch a rewritten tail)."""
    return respond(state_of(request).keel.audit.get_chain_head())


@router.get("/verify", responses=returns(ChainReport))
@permission(ADMIN)
def verify_audit_chain(request: Request) -> Response:
    """Verify every record's hash and link, and the head; ``ok`` false names the first bad
    record and what is wrong with it."""
    return respond(state_of(request).keel.audit.verify_audit_chain())


@router.get("/events", responses=returns(list[RegistryEvent]))
@permission(ADMIN)
def list_events(
    request: Request,
    after_seq: int = 0,
    limit: int = 100,
    types: list[str] | None = Query(None, alias="type"),
) -> Response:
    """Change events with seq > ``after_seq`` (a consumer's cursor), oldest first, optionally
    only of some types (``type`` repeated)."""
    after_seq, limit = _cursor(after_seq, limit)
    checked = [validate_key(t, "event type") for t in types] if types else None
    return respond(state_of(request).keel.audit.list_events(after_seq, checked, limit))
