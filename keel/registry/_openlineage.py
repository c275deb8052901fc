"""Lineage as OpenLineage: one RunEvent per run of a :class:`~keel.registry.lineage.LineageGraph`
(its datasets as inputs, the model versions it produced as outputs, its parent as a run facet),
JSON lines for the file transport, and hand-off to an ``openlineage-python`` client if installed.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from keel.errors import MissingDependency
from keel.tracking.models import RunStatus

if TYPE_CHECKING:
    from keel.registry.lineage import LineageGraph, LineageNode

OPENLINEAGE_SCHEMA_URL = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
_FACETS = "https://openlineage.io/spec/facets/"
SCHEMA_FACET_URL = _FACETS + "1-1-1/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet"
PARENT_FACET_URL = _FACETS + "1-0-1/ParentRunFacet.json#/$defs/ParentRunFacet"
_EVENT_TYPES = {
    RunStatus.RUNNING: "RUNNING",
    RunStatus.FINISHED: "COMPLETE",
    RunStatus.FAILED: "FAIL",
    RunStatus.KILLED: "ABORT",
}


def run_events(
    graph: LineageGraph, namespace: str = "keel", *, producer: str | None = None
) -> list[dict[str, Any]]:
    """One OpenLineage RunEvent per run in the graph: its datasets as inputs, the model
    versions it produced as outputs, its parent as a ``parent`` run facet."""
    producer = producer or _default_producer()
    events = []
    for node in sorted(graph.nodes.values(), key=lambda n: n.id):
        if node.kind == "run":
            events.append(_run_event(graph, node, namespace, producer))
    return events


def _run_event(
    graph: LineageGraph, run: LineageNode, namespace: str, producer: str
) -> dict[str, Any]:
    a = run.attrs
    inputs, outputs = [], []
    for edge in graph.neighbours(run.id):
        if edge.kind == "used_by" and edge.target == run.id:
            ds = graph.nodes[edge.source].attrs
            inputs.append({
                "namespace": namespace,
                "name": f"{ds['name']}:{ds['version']}",
                "facets": {"schema": {
                    "_producer": producer,
                    "_schemaURL": SCHEMA_FACET_URL,
                    "fields": [{"name": c["name"], "type": c["type"]} for c in ds["columns"]],
                }},
            })
        elif edge.kind == "produced" and edge.source == run.id:
            mv = graph.nodes[edge.target].attrs
            outputs.append({
                "namespace": namespace,
                "name": f"models:/{mv['name']}/{mv['version']}",
                "facets": {},
            })
    run_facets: dict[str, Any] = {}
    parent_id = a.get("parent_run_id")
    if parent_id is not None:
        parent = graph.nodes.get(f"run:{parent_id}")
        parent_name = parent.attrs["name"] if parent is not None else parent_id
        run_facets["parent"] = {
            "_producer": producer,
            "_schemaURL": PARENT_FACET_URL,
            "run": {"runId": _as_uuid(parent_id)},
            "job": {"namespace": namespace, "name": f"{a['experiment_id']}/{parent_name}"},
        }
    millis = a["end_time"] if a["end_time"] is not None else a["start_time"]
    return {
        "eventType": _EVENT_TYPES[RunStatus(a["status"])],
        "eventTime": datetime.fromtimestamp(millis / 1000, tz=UTC).isoformat(),
        "run": {"runId": _as_uuid(a["run_id"]), "facets": run_facets},
        "job": {"namespace": namespace, "name": f"{a['experiment_id']}/{a['name']}",
                "facets": {}},
        "inputs": inputs,
        "outputs": outputs,
        "producer": producer,
        "schemaURL": OPENLINEAGE_SCHEMA_URL,
    }


def to_jsonl(events: Iterable[Mapping[str, Any]]) -> str:
    """One compact JSON object per line (the OpenLineage file transport's format)."""
    return "".join(json.dumps(e, sort_keys=True, ensure_ascii=False) + "\n" for e in events)


def emit_openlineage(events: Iterable[Mapping[str, Any]], client: Any) -> int:
    """Send ``events`` through an ``openlineage-python`` ``OpenLineageClient`` as its own
    ``event_v2.RunEvent`` objects (run, job, inputs and outputs; facets stay in the JSON
    export). Returns how many were sent; ``MissingDependency`` without the package."""
    try:
        from openlineage.client import event_v2  # type: ignore[import-not-found]
    except ImportError:
        raise MissingDependency("openlineage-python", extra="openlineage") from None
    sent = 0
    for e in events:
        client.emit(event_v2.RunEvent(
            eventType=event_v2.RunState[e["eventType"]],
            eventTime=e["eventTime"],
            run=event_v2.Run(runId=e["run"]["runId"]),
            job=event_v2.Job(namespace=e["job"]["namespace"], name=e["job"]["name"]),
            inputs=[event_v2.InputDataset(namespace=d["namespace"], name=d["name"])
                    for d in e["inputs"]],
            outputs=[event_v2.OutputDataset(namespace=d["namespace"], name=d["name"])
                     for d in e["outputs"]],
            producer=e["producer"],
        ))
        sent += 1
    return sent


def _default_producer() -> str:
    """OpenLineage wants a URI naming the producing software; keel names itself by URN rather
    than invent a web address."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        release = version("keelml")
    except PackageNotFoundError:
        release = "unknown"
    return f"urn:keelml:keel:{release}"


def _as_uuid(run_id: str) -> str:
    """keel ids are uuid4 hex; OpenLineage wants the dashed form."""
    try:
        return str(uuid.UUID(hex=run_id))
    except ValueError:
        # A run id from elsewhere: a stable UUID derived from it.
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"keel:run:{run_id}"))
