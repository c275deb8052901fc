"""Lineage from a dataset version through runs to model versions and aliases, and back; on both
transports (through a server, ``Keel.lineage`` asks the server for the graph)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer
from sklearn.linear_model import LogisticRegression
from typer.testing import CliRunner

from keel import Keel
from keel.cli._common import CliState
from keel.cli.lineage import lineage_command
from keel.config import load_settings
from keel.errors import (
    AliasNotFound,
    DatasetNotFound,
    InvalidArgument,
    ModelVersionNotFound,
    NotFound,
    RegisteredModelNotFound,
)
from keel.registry.lineage import LineageGraph, LineageService, to_jsonl
from keel.tracking.models import DatasetVersion


@dataclass
class World:
    service: LineageService
    """Built here over the client's services (remote ones through a server)."""
    lineage: Callable[..., LineageGraph]
    """The client's ``Keel.lineage`` (the server's graph through a server)."""
    dataset: DatasetVersion
    parent_id: str
    child_id: str


def build(client: Keel) -> World:
    """dataset -> parent run -> child run (logs a model) -> m v1, m v2 -> m@champion (v2)."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=60), "b": rng.normal(size=60)})
    parent = client.create_run("lineage", name="sweep", capture=False)
    dataset = client.datasets.log_dataset(frame, name="churn", run_id=parent.run_id)
    child = client.create_run(
        "lineage", name="trial", parent_run_id=parent.run_id, capture=False
    )
    info = client.log_model(child.run_id, LogisticRegression().fit(frame, frame.a > 0), "model")
    client.runs.end_run(child.run_id)
    client.runs.end_run(parent.run_id)
    client.registry.register_model(info.uri, "m", actor="alice")
    client.registry.register_model(info.uri, "m", actor="alice")
    client.registry.set_alias("m", "champion", 2, actor="alice")
    return World(
        LineageService(client.registry, client.runs, client.datasets), client.lineage,
        dataset, parent.run_id, child.run_id,
    )


@pytest.fixture
def world(keel_any: Keel) -> World:
    return build(keel_any)


def test_lineage_of_a_dataset_reaches_runs_versions_and_the_alias(world: World) -> None:
    graph = world.lineage(world.dataset)
    d = f"dataset:{world.dataset.dataset_version_id}"
    parent, child = f"run:{world.parent_id}", f"run:{world.child_id}"
    assert graph.root == d
    assert set(graph.nodes) == {
        d, parent, child, "model_version:m/1", "model_version:m/2", "alias:m@champion",
    }
    assert graph.to_dict()["edges"] == sorted([
        {"source": d, "target": parent, "kind": "used_by", "attrs": {"context": "train"}},
        {"source": child, "target": parent, "kind": "child_of", "attrs": {}},
        {"source": child, "target": "model_version:m/1", "kind": "produced", "attrs": {}},
        {"source": child, "target": "model_version:m/2", "kind": "produced", "attrs": {}},
        {"source": "model_version:m/2", "target": "alias:m@champion", "kind": "aliased_as",
         "attrs": {}},
    ], key=lambda e: (e["source"], e["target"], e["kind"]))
    attrs = graph.nodes[d].attrs
    assert (attrs["name"], attrs["version"], attrs["digest"]) == (
        "churn", 1, world.dataset.digest)
    assert graph.nodes["alias:m@champion"].attrs["version"] == 2
    assert graph.nodes[child].attrs["parent_run_id"] == world.parent_id


def test_upstream_of_an_alias_reaches_the_run_and_dataset_but_not_the_other_version(
    world: World,
) -> None:
    graph = world.lineage("models:/m@champion", direction="upstream")
    assert graph.root == "alias:m@champion"
    assert set(graph.nodes) == {
        "alias:m@champion", "model_version:m/2", f"run:{world.child_id}",
        f"run:{world.parent_id}", f"dataset:{world.dataset.dataset_version_id}",
    }


def test_downstream_of_a_version_stops_at_its_alias(world: World) -> None:
    graph = world.lineage("models:/m/1", direction="downstream")
    assert set(graph.nodes) == {"model_version:m/1"}
    graph = world.lineage("models:/m/2", direction="downstream")
    assert set(graph.nodes) == {"model_version:m/2", "alias:m@champion"}


def test_both_ways_is_the_union_of_the_two_walks(world: World) -> None:
    both = world.lineage(world.child_id)
    up = world.lineage(world.child_id, direction="upstream")
    down = world.lineage(world.child_id, direction="downstream")
    assert set(both.nodes) == set(up.nodes) | set(down.nodes)
    assert len(both.nodes) == 6


def test_every_reference_form_names_the_same_node(world: World, keel_any: Keel) -> None:
    d = f"dataset:{world.dataset.dataset_version_id}"
    for ref in ("churn:1", "churn@latest", world.dataset.dataset_version_id):
        assert world.service.resolve(ref).id == d
    run = keel_any.runs.get_run(world.child_id)
    for obj in (run, world.child_id, world.child_id[:8], f"runs:/{world.child_id}/model"):
        assert world.service.resolve(obj).id == f"run:{world.child_id}"
    version = keel_any.registry.get_model_version("m", 1)
    assert world.service.resolve(version).id == "model_version:m/1"
    for obj in (world.dataset, run, version):
        assert world.lineage(obj).root == world.service.resolve(obj).id


def test_the_client_and_a_service_over_its_services_draw_the_same_graph(world: World) -> None:
    for ref in ("churn:1", "models:/m@champion", world.child_id):
        for direction in ("both", "upstream", "downstream"):
            assert world.lineage(ref, direction=direction).to_dict() == world.service.lineage(
                ref, direction=direction).to_dict()


def test_the_json_graph_is_deterministic(world: World) -> None:
    first = world.lineage(world.dataset).to_dict()
    second = world.lineage("churn:1").to_dict()
    assert first == second
    assert json.dumps(first, sort_keys=True) == world.lineage("churn:1").to_json()
    assert [n["id"] for n in first["nodes"]] == sorted(n["id"] for n in first["nodes"])


def test_openlineage_events_have_the_required_fields_inputs_and_outputs(world: World) -> None:
    events = world.lineage(world.dataset).to_openlineage_events("prod")
    assert len(events) == 2
    by_name = {e["job"]["name"].rsplit("/", 1)[1]: e for e in events}
    for event in events:
        assert {"eventType", "eventTime", "run", "job", "inputs", "outputs", "producer",
                "schemaURL"} <= set(event)
        assert event["eventType"] == "COMPLETE"
        assert datetime.fromisoformat(event["eventTime"]).utcoffset() is not None
        assert uuid.UUID(event["run"]["runId"]).hex in (world.parent_id, world.child_id)
        assert event["schemaURL"].endswith("OpenLineage.json#/$defs/RunEvent")
        assert event["producer"].startswith("urn:keelml:keel:")  # an absolute URI, as required
        assert event["job"]["namespace"] == "prod"
    sweep, trial = by_name["sweep"], by_name["trial"]
    assert [d["name"] for d in sweep["inputs"]] == ["churn:1"]
    schema = sweep["inputs"][0]["facets"]["schema"]
    assert {f["name"] for f in schema["fields"]} == {"a", "b"}
    assert {"_producer", "_schemaURL"} <= set(schema)
    assert sweep["outputs"] == [] and trial["inputs"] == []
    assert [d["name"] for d in trial["outputs"]] == ["models:/m/1", "models:/m/2"]
    parent = trial["run"]["facets"]["parent"]
    assert uuid.UUID(parent["run"]["runId"]).hex == world.parent_id
    lines = to_jsonl(events).splitlines()
    assert [json.loads(line) for line in lines] == events


def test_unknown_references_raise_the_matching_not_found(world: World) -> None:
    with pytest.raises(DatasetNotFound):
        world.lineage("churn:9")
    with pytest.raises(DatasetNotFound):
        world.lineage("nope:1")
    with pytest.raises(RegisteredModelNotFound):
        world.lineage("models:/nope/1")
    with pytest.raises(ModelVersionNotFound):
        world.lineage("models:/m/9")
    with pytest.raises(AliasNotFound):
        world.lineage("models:/m@nope")
    with pytest.raises(NotFound):
        world.lineage(uuid.uuid4().hex)
    with pytest.raises(InvalidArgument):
        world.lineage("churn:1", direction="sideways")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument):
        world.lineage("churn:1", max_depth=-1)


def test_max_depth_bounds_the_walk(world: World) -> None:
    d = f"dataset:{world.dataset.dataset_version_id}"
    assert set(world.lineage(world.dataset, max_depth=0).nodes) == {d}
    assert set(world.lineage(world.dataset, max_depth=1).nodes) == {
        d, f"run:{world.parent_id}"}
    three = world.lineage(world.dataset, max_depth=3).nodes
    assert "model_version:m/2" in three and "alias:m@champion" not in three


def invoke(tmp_path: Path, args: list[str]) -> tuple[int, str, str]:
    app = typer.Typer()
    app.command("lineage")(lineage_command)
    app.callback()(lambda: None)  # keep `lineage` a subcommand, as under `keel models`
    obj = CliState(database_url=f"sqlite:///{tmp_path / 'keel.db'}",
                   artifacts_url=str(tmp_path / "artifacts"))
    try:
        result = CliRunner().invoke(app, ["lineage", *args], obj=obj)
    finally:
        obj.close()
    return result.exit_code, result.stdout, result.stderr


def test_the_lineage_command_prints_a_tree_json_and_openlineage(tmp_path: Path) -> None:
    settings = load_settings({}, database_url=f"sqlite:///{tmp_path / 'keel.db'}",
                             artifacts_url=str(tmp_path / "artifacts"))
    with Keel(settings) as client:
        world = build(client)
    code, out, err = invoke(tmp_path, ["models:/m@champion"])
    assert code == 0, err
    assert "alias m@champion -> v2" in out and "dataset churn:1" in out and "run trial" in out

    code, out, err = invoke(tmp_path, ["churn:1", "--format", "json", "--direction",
                                       "downstream"])
    assert code == 0, err
    graph = json.loads(out)
    assert graph["root"] == f"dataset:{world.dataset.dataset_version_id}"
    assert len(graph["nodes"]) == 6

    code, out, err = invoke(tmp_path, [world.child_id, "--format", "openlineage"])
    assert code == 0, err
    events = [json.loads(line) for line in out.splitlines()]
    assert {e["job"]["name"].rsplit("/", 1)[1] for e in events} == {"sweep", "trial"}

    code, _, err = invoke(tmp_path, ["models:/m@nope"])
    assert code == 1 and "error" in err
