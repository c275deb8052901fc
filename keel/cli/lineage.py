"""keel models lineage REF: what a dataset, run or model version came from and led to."""

from __future__ import annotations

import enum
import sys
from typing import Annotated

import typer
from rich.markup import escape
from rich.tree import Tree

from keel.cli._common import console, errors_to_exit, print_json, state
from keel.registry.lineage import LineageGraph, LineageService, to_jsonl


class Format(enum.StrEnum):
    JSON = "json"
    OPENLINEAGE = "openlineage"
    TREE = "tree"


class Walk(enum.StrEnum):
    BOTH = "both"
    UPSTREAM = "upstream"
    DOWNSTREAM = "downstream"


def lineage_command(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(
        help="models:/<name>/<version>, models:/<name>@<alias>, a run id, "
             "<dataset>:<version> or a dataset version id.")],
    direction: Annotated[Walk, typer.Option(help="Which way to walk.")] = Walk.BOTH,
    max_depth: Annotated[int, typer.Option(help="At most this many hops.", min=0)] = 10,
    output: Annotated[Format, typer.Option(
        "--format", help="tree, json (the graph) or openlineage (run events, JSON lines).")
    ] = Format.TREE,
    namespace: Annotated[str, typer.Option(help="OpenLineage namespace.")] = "keel",
) -> None:
    """Lineage: dataset versions -> runs -> model versions -> aliases, and back."""
    with errors_to_exit():
        client = state(ctx).client()
        service = LineageService(client.registry, client.runs, client.datasets)
        graph = service.lineage(ref, direction=direction.value, max_depth=max_depth)
        if output is Format.JSON:
            print_json(graph.to_dict())
        elif output is Format.OPENLINEAGE:
            sys.stdout.write(to_jsonl(graph.to_openlineage_events(namespace)))
        else:
            console.print(render_tree(graph))


def _label(graph: LineageGraph, node_id: str) -> str:
    node = graph.nodes[node_id]
    a = node.attrs
    if node.kind == "dataset":
        text = f"dataset {a['name']}:{a['version']}  {str(a['digest'])[:12]}"
    elif node.kind == "run":
        text = f"run {a['name']} ({a['run_id'][:8]})  {a['status']}"
    elif node.kind == "model_version":
        text = f"model {a['name']} v{a['version']}  {a['flavor'] or ''}"
    elif node.kind == "alias":
        text = f"alias {a['model']}@{a['alias']} -> v{a['version']}"
    else:
        text = node.id
    return escape(text)


def render_tree(graph: LineageGraph) -> Tree:
    """The root, then what is upstream of it and what is downstream, each node once."""
    tree = Tree(f"[bold]{_label(graph, graph.root)}[/bold]")
    for title, upstream in (("upstream", True), ("downstream", False)):
        branch = tree.add(f"[dim]{title}[/dim]")
        seen = {graph.root}
        _grow(graph, branch, graph.root, upstream, seen)
        if not branch.children:
            branch.add("[dim](nothing)[/dim]")
    return tree


def _grow(graph: LineageGraph, branch: Tree, node_id: str, upstream: bool, seen: set[str]) -> None:
    for edge in graph.neighbours(node_id):
        # child_of points from child to parent, yet the parent is upstream of the child.
        forward = edge.kind != "child_of"
        towards_upstream = (edge.target == node_id) == forward
        if towards_upstream != upstream:
            continue
        other = edge.source if edge.target == node_id else edge.target
        if other in seen:
            continue
        seen.add(other)
        child = branch.add(f"{_label(graph, other)}  [dim]{edge.kind}[/dim]")
        _grow(graph, child, other, upstream, seen)
