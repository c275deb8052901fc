"""``/api/v1/lineage``: the lineage graph around a dataset version, run, model version or alias,
as :meth:`keel.registry.lineage.LineageGraph.to_dict` gives it; and ``/api/v1/model-versions``,
the versions of every model built from a run or dataset version.

Any authenticated caller may ask. The graph is not filtered by permission yet: it names (and
describes) every run, dataset version and model version connected to the reference, also
those in experiments or registered models the caller may not read. Filtering the nodes a
caller cannot read is a known gap, to close before lineage is offered to untrusted accounts.
"""

from __future__ import annotations

from typing import Any, cast

from fastapi import APIRouter, Request, Response

from keel.api._authz import AUTHENTICATED, KeelRoute, permission
from keel.api._json import respond, respond_raw, returns
from keel.api._state import state_of
from keel.api.v1._checks import page_args
from keel.api.v1._registry import MODEL
from keel.core.naming import validate_name
from keel.core.pagination import Page
from keel.registry import ModelVersion

router = APIRouter(prefix="/api/v1", tags=["lineage"], route_class=KeelRoute)

_GRAPH: dict[str, Any] = {
    "type": "object",
    "title": "LineageGraph",
    "required": ["root", "nodes", "edges"],
    "properties": {
        "root": {"type": "string"},
        "nodes": {"type": "array", "items": {
            "type": "object", "required": ["id", "kind", "attrs"],
            "properties": {"id": {"type": "string"}, "kind": {"type": "string"},
                           "attrs": {"type": "object"}}}},
        "edges": {"type": "array", "items": {
            "type": "object", "required": ["source", "target", "kind", "attrs"],
            "properties": {"source": {"type": "string"}, "target": {"type": "string"},
                           "kind": {"type": "string"}, "attrs": {"type": "object"}}}},
    },
}


@router.get("/lineage", responses={200: {"description": "the lineage graph",
                                         "content": {"application/json": {"schema": _GRAPH}}}})
@permission(AUTHENTICATED)
def lineage(request: Request, ref: str, direction: str = "both", max_depth: int = 10) -> Response:
    """The graph around ``ref``: ``models:/<name>/<version>``, ``models:/<name>@<alias>``,
    ``runs:/<run_id>/...``, a run id (or unique prefix), a dataset version id,
    ``<dataset>:<version>`` or ``<dataset>@latest``; ``direction`` is both, upstream or
    downstream; at most ``max_depth`` hops."""
    graph = state_of(request).keel.lineage(
        validate_name(ref, "lineage reference"), direction=cast(Any, direction),
        max_depth=max_depth,
    )
    return respond_raw(graph.to_dict())


@router.get("/model-versions", responses=returns(Page[ModelVersion]))
@permission(AUTHENTICATED)
def list_all_model_versions(request: Request, run_id: str | None = None,
                            dataset_version_id: str | None = None, max_results: int = 100,
                            page_token: str | None = None) -> Response:
    """Versions of every model built from a run or a dataset version (lineage questions),
    newest first; versions of models the caller may not read are left out."""
    limit, _ = page_args(max_results, page_token)
    state = state_of(request)
    page = state.keel.registry.list_model_versions(
        None, run_id=run_id, dataset_version_id=dataset_version_id, max_results=limit,
        page_token=page_token)
    return respond(state.readable(request, page, MODEL, "name"))
