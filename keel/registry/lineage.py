"""Lineage: which data, runs, model versions and aliases lead to (or follow from) a thing.

The graph has four kinds of node and four kinds of edge, each edge pointing downstream::

    dataset:<dataset_version_id> -[used_by {context}]-> run:<run_id>
    run:<child_id>               -[child_of]->          run:<parent_id>
    run:<run_id>                 -[produced]->          model_version:<name>/<version>
    model_version:<name>/<ver>   -[aliased_as]->        alias:<name>@<alias>

``child_of`` is the one edge that points at its upstream end: a parent run is upstream of its
children, so the datasets a parent used count as upstream of what a child produced.

:meth:`LineageService.lineage` walks breadth first from one object, upstream, downstream or both
(both is the union of the two walks, not the whole connected component), visiting each node
once and going at most ``max_depth`` hops. Deployments do not exist yet; they, and anything a
plugin wants in the graph, come in through :class:`LineageExtension`.

A graph exports as JSON (:meth:`LineageGraph.to_dict`) and as OpenLineage run events
(:meth:`LineageGraph.to_openlineage_events`, spec 2-0-2), written as JSON lines by
:func:`to_jsonl`; :func:`emit_openlineage` hands them to an ``openlineage-python`` client.
"""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from keel.errors import (
    DatasetNotFound,
    InvalidArgument,
    NotFound,
    RunNotFound,
)
from keel.models.uri import RegistryModelURI, RunModelURI, parse_model_uri
from keel.registry._openlineage import (
    OPENLINEAGE_SCHEMA_URL,
    emit_openlineage,
    run_events,
    to_jsonl,
)
from keel.registry.models import ModelVersion
from keel.registry.registry import RegistryService
from keel.tracking.datasets import DatasetService
from keel.tracking.models import DatasetVersion, Run, ViewType
from keel.tracking.runs import RunService

__all__ = [
    "OPENLINEAGE_SCHEMA_URL",
    "Direction",
    "LineageEdge",
    "LineageExtension",
    "LineageGraph",
    "LineageNode",
    "LineageService",
    "emit_openlineage",
    "to_jsonl",
]

Direction = Literal["both", "upstream", "downstream"]
_HEX_PREFIX = re.compile(r"^[0-9a-f]{6,32}$")


@dataclass(frozen=True)
class LineageNode:
    id: str
    """``<kind>:<key>``, e.g. ``run:<run_id>`` or ``model_version:churn/2``."""
    kind: str
    attrs: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LineageEdge:
    source: str
    target: str
    kind: str
    attrs: Mapping[str, Any] = field(default_factory=dict)


Neighbour = tuple[LineageNode, LineageEdge]


class LineageExtension(Protocol):
    """More of the graph: nodes next to ``node``, each with the edge that joins them.

    Deployments will arrive this way (``alias -[deployed_as]-> deployment``); so can a
    plugin's nodes. An extension returns nothing for nodes it knows nothing about."""

    def upstream(self, node: LineageNode) -> Iterable[Neighbour]: ...

    def downstream(self, node: LineageNode) -> Iterable[Neighbour]: ...


@dataclass(frozen=True)
class LineageGraph:
    root: str
    nodes: Mapping[str, LineageNode]
    edges: tuple[LineageEdge, ...]

    def to_dict(self) -> dict[str, Any]:
        """``{"root", "nodes": [{id, kind, attrs}], "edges": [{source, target, kind, attrs}]}``,
        sorted so equal graphs give equal JSON."""
        return {
            "root": self.root,
            "nodes": [
                {"id": n.id, "kind": n.kind, "attrs": dict(n.attrs)}
                for n in sorted(self.nodes.values(), key=lambda n: n.id)
            ],
            "edges": [
                {"source": e.source, "target": e.target, "kind": e.kind, "attrs": dict(e.attrs)}
                for e in sorted(self.edges, key=lambda e: (e.source, e.target, e.kind))
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LineageGraph:
        """The graph :meth:`to_dict` gave (as keel's HTTP client receives it)."""
        try:
            nodes = {str(n["id"]): LineageNode(str(n["id"]), str(n["kind"]), dict(n["attrs"]))
                     for n in data["nodes"]}
            edges = tuple(LineageEdge(str(e["source"]), str(e["target"]), str(e["kind"]),
                                      dict(e["attrs"])) for e in data["edges"])
            return cls(root=str(data["root"]), nodes=nodes, edges=edges)
        except (KeyError, TypeError, ValueError) as error:
            raise InvalidArgument(f"malformed lineage graph: {error!r}") from None

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False)

    def neighbours(self, node_id: str) -> list[LineageEdge]:
        """The edges touching ``node_id``, sorted."""
        return sorted(
            (e for e in self.edges if node_id in (e.source, e.target)),
            key=lambda e: (e.source, e.target, e.kind),
        )

    def to_openlineage_events(
        self, namespace: str = "keel", *, producer: str | None = None
    ) -> list[dict[str, Any]]:
        """One OpenLineage RunEvent per run in the graph (see keel.registry._openlineage)."""
        return run_events(self, namespace, producer=producer)



class LineageService:
    def __init__(
        self,
        registry: RegistryService,
        runs: RunService,
        datasets: DatasetService,
        *,
        extensions: Sequence[LineageExtension] = (),
    ) -> None:
        self._registry = registry
        self._runs = runs
        self._datasets = datasets
        self._extensions = tuple(extensions)

    def lineage(
        self,
        obj: DatasetVersion | Run | ModelVersion | str,
        *,
        direction: Direction = "both",
        max_depth: int = 10,
    ) -> LineageGraph:
        """The graph around ``obj``: a DatasetVersion, Run or ModelVersion, or a reference —
        ``models:/<name>/<version>``, ``models:/<name>@<alias>``, ``runs:/<run_id>/...``, a run
        id (or a unique prefix), a dataset version id, ``<dataset>:<version>`` or
        ``<dataset>@latest``. Unknown references raise the matching NotFound."""
        if direction not in ("both", "upstream", "downstream"):
            raise InvalidArgument(
                f"direction must be both, upstream or downstream, got {direction!r}"
            )
        if max_depth < 0:
            raise InvalidArgument(f"max_depth must be at least 0, got {max_depth}")
        root = self.resolve(obj)
        nodes = {root.id: root}
        edges: dict[tuple[str, str, str], LineageEdge] = {}
        walks = ("upstream", "downstream") if direction == "both" else (direction,)
        for walk in walks:
            self._walk(root, walk, max_depth, nodes, edges)
        return LineageGraph(root=root.id, nodes=nodes, edges=tuple(edges.values()))

    def resolve(self, obj: DatasetVersion | Run | ModelVersion | str) -> LineageNode:
        """The node ``obj`` names (see :meth:`lineage` for what it may be)."""
        if isinstance(obj, DatasetVersion):
            return _dataset_node(obj)
        if isinstance(obj, Run):
            return _run_node(obj)
        if isinstance(obj, ModelVersion):
            return _version_node(obj)
        if not isinstance(obj, str):
            raise InvalidArgument(f"lineage of a {type(obj).__name__} is not defined")
        ref = obj.strip()
        if ref.startswith(("models:/", "runs:/")):
            uri = parse_model_uri(ref)
            if isinstance(uri, RunModelURI):
                return _run_node(self._runs.get_run(uri.run_id))
            return self._registry_node(uri)
        if _HEX_PREFIX.match(ref):
            try:
                return _run_node(self._runs.get_run(self._runs.resolve_run_id(ref)))
            except RunNotFound:
                if len(ref) != 32:
                    raise
            try:
                return _dataset_node(self._datasets.get_dataset_version(ref))
            except DatasetNotFound:
                raise NotFound(
                    f"no run or dataset version has id {ref!r}", details={"ref": ref}
                ) from None
        return _dataset_node(self._datasets.get_dataset_version(ref))

    def _registry_node(self, uri: RegistryModelURI) -> LineageNode:
        version = self._registry.resolve(uri.name, version=uri.version, alias=uri.alias)
        if uri.alias is not None:
            return _alias_node(version.name, uri.alias, version.version)
        return _version_node(version)

    # -- the walk -------------------------------------------------------------------------

    def _walk(
        self,
        root: LineageNode,
        walk: str,
        max_depth: int,
        nodes: dict[str, LineageNode],
        edges: dict[tuple[str, str, str], LineageEdge],
    ) -> None:
        step = self._upstream if walk == "upstream" else self._downstream
        visited = {root.id}
        queue = deque([(root, 0)])
        while queue:
            node, depth = queue.popleft()
            if depth >= max_depth:
                continue
            for neighbour, edge in step(node):
                edges.setdefault((edge.source, edge.target, edge.kind), edge)
                nodes.setdefault(neighbour.id, neighbour)
                if neighbour.id not in visited:
                    visited.add(neighbour.id)
                    queue.append((neighbour, depth + 1))

    def _upstream(self, node: LineageNode) -> Iterator[Neighbour]:
        a = node.attrs
        if node.kind == "alias":
            version = self._registry.get_model_version(a["model"], a["version"])
            yield _version_node(version), _edge(_version_id(version), node.id, "aliased_as")
        elif node.kind == "model_version" and a["run_id"] is not None:
            run = self._find_run(a["run_id"])
            if run is not None:
                yield _run_node(run), _edge(f"run:{run.run_id}", node.id, "produced")
        elif node.kind == "run":
            for used in self._datasets.list_run_inputs(a["run_id"]):
                dataset = self._datasets.get_dataset_version(used.dataset_version_id)
                yield _dataset_node(dataset), _used_by(dataset.dataset_version_id, used)
            parent = self._find_run(a["parent_run_id"]) if a["parent_run_id"] else None
            if parent is not None:
                yield _run_node(parent), _edge(node.id, f"run:{parent.run_id}", "child_of")
        for extension in self._extensions:
            yield from extension.upstream(node)

    def _downstream(self, node: LineageNode) -> Iterator[Neighbour]:
        a = node.attrs
        if node.kind == "dataset":
            for used in self._datasets.list_dataset_runs(a["dataset_version_id"]):
                run = self._find_run(used.run_id)
                if run is not None:
                    yield _run_node(run), _used_by(a["dataset_version_id"], used)
        elif node.kind == "run":
            for child in self._child_runs(a["run_id"]):
                yield _run_node(child), _edge(f"run:{child.run_id}", node.id, "child_of")
            for version in self._versions_of_run(a["run_id"]):
                yield _version_node(version), _edge(node.id, _version_id(version), "produced")
        elif node.kind == "model_version":
            for alias in a["aliases"]:
                target = _alias_node(a["name"], alias, a["version"])
                yield target, _edge(node.id, target.id, "aliased_as")
        for extension in self._extensions:
            yield from extension.downstream(node)

    def _find_run(self, run_id: str) -> Run | None:
        try:
            return self._runs.get_run(run_id)
        except RunNotFound:
            return None

    def _child_runs(self, run_id: str) -> Iterator[Run]:
        token: str | None = None
        while True:
            page = self._runs.search_runs(
                None, f"attributes.parent_run_id = '{run_id}'", view=ViewType.ALL,
                page_token=token,
            )
            yield from page.items
            if page.next_page_token is None:
                return
            token = page.next_page_token

    def _versions_of_run(self, run_id: str) -> Iterator[ModelVersion]:
        token: str | None = None
        while True:
            page = self._registry.list_model_versions(run_id=run_id, page_token=token)
            yield from page.items
            if page.next_page_token is None:
                return
            token = page.next_page_token


def _edge(source: str, target: str, kind: str, **attrs: Any) -> LineageEdge:
    return LineageEdge(source, target, kind, attrs)


def _used_by(dataset_version_id: str, used: Any) -> LineageEdge:
    return _edge(f"dataset:{dataset_version_id}", f"run:{used.run_id}", "used_by",
                 context=used.context)


def _version_id(version: ModelVersion) -> str:
    return f"model_version:{version.name}/{version.version}"


def _dataset_node(d: DatasetVersion) -> LineageNode:
    columns = [{"name": c.name, "type": c.type, "nullable": c.nullable} for c in d.columns]
    return LineageNode(f"dataset:{d.dataset_version_id}", "dataset", {
        "dataset_version_id": d.dataset_version_id, "name": d.name, "version": d.version,
        "digest": d.digest, "num_rows": d.num_rows, "columns": columns,
    })


def _run_node(r: Run) -> LineageNode:
    return LineageNode(f"run:{r.run_id}", "run", {
        "run_id": r.run_id, "name": r.name, "experiment_id": r.experiment_id,
        "status": r.status.value, "parent_run_id": r.parent_run_id,
        "start_time": r.start_time, "end_time": r.end_time,
    })


def _version_node(v: ModelVersion) -> LineageNode:
    return LineageNode(_version_id(v), "model_version", {
        "name": v.name, "version": v.version, "digest": v.model_digest, "flavor": v.flavor,
        "source": v.source, "run_id": v.run_id, "aliases": list(v.aliases),
    })


def _alias_node(model: str, alias: str, version: int) -> LineageNode:
    return LineageNode(f"alias:{model}@{alias}", "alias",
                       {"model": model, "alias": alias, "version": version})
