"""keel's objects in MLflow's JSON shapes (protobuf JSON: snake_case fields, int64 as numbers,
doubles as numbers or "NaN"/"Infinity"/"-Infinity", unset fields left out).

A keel run carries MLflow's system tags as fields: ``mlflow.runName`` is the run's name,
``mlflow.user`` its user, ``mlflow.parentRunId`` its parent and ``mlflow.note.content`` its
note; they are put back among the tags here.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from keel.api.mlflow._common import artifact_uri
from keel.registry.models import ModelVersion, RegisteredModel
from keel.tracking.logged_models import LoggedModel, RunModelLink
from keel.tracking.models import DatasetVersion, Experiment, Metric, Run

Json = dict[str, Any]

CONTEXT_TAG = "mlflow.data.context"
NO_CONTEXT = "none"
"""The keel context of a dataset input logged without ``mlflow.data.context``."""
MLFLOW_PROFILE_KEY = "mlflow"
"""Where a dataset version logged through MLflow keeps MLflow's own descriptions."""


def number(value: float) -> float | str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def kv(pairs: Mapping[str, str]) -> list[Json]:
    return [{"key": k, "value": v} for k, v in pairs.items()]


def _drop_none(data: Json) -> Json:
    return {k: v for k, v in data.items() if v is not None}


def experiment(e: Experiment) -> Json:
    return {
        "experiment_id": e.experiment_id, "name": e.name,
        "artifact_location": artifact_uri(e.artifact_location),
        "lifecycle_stage": e.lifecycle_stage.value, "last_update_time": e.updated_at,
        "creation_time": e.created_at, "tags": kv(e.tags),
    }


def system_tags(run: Run) -> dict[str, str]:
    tags = dict(run.tags)
    tags["mlflow.runName"] = run.name
    if run.user:
        tags["mlflow.user"] = run.user
    if run.parent_run_id:
        tags["mlflow.parentRunId"] = run.parent_run_id
    if run.note:
        tags["mlflow.note.content"] = run.note
    return tags


def metric(m: Metric, **extra: Any) -> Json:
    return _drop_none({"key": m.key, "value": number(m.value), "timestamp": m.timestamp,
                       "step": m.step, **extra})


def run_info(run: Run) -> Json:
    return _drop_none({
        "run_id": run.run_id, "run_uuid": run.run_id, "run_name": run.name,
        "experiment_id": run.experiment_id, "user_id": run.user or "",
        "status": run.status.value, "start_time": run.start_time, "end_time": run.end_time,
        "artifact_uri": artifact_uri(run.artifact_location),
        "lifecycle_stage": run.lifecycle_stage.value,
    })


def run(r: Run, inputs: Sequence[tuple[DatasetVersion, str]] = (),
        links: Sequence[RunModelLink] = ()) -> Json:
    return {
        "info": run_info(r),
        "data": {
            "metrics": [metric(m) for m in r.metrics.values()],
            "params": [{"key": k, "value": p.text} for k, p in r.params.items()],
            "tags": kv(system_tags(r)),
        },
        "inputs": {
            "dataset_inputs": [dataset_input(version, context) for version, context in inputs],
            "model_inputs": [{"model_id": link.model_id} for link in links
                             if link.direction == "input"],
        },
        "outputs": {"model_outputs": [{"model_id": link.model_id, "step": link.step}
                                      for link in links if link.direction == "output"]},
    }


def dataset_input(version: DatasetVersion, context: str) -> Json:
    tags = [] if context == NO_CONTEXT else [{"key": CONTEXT_TAG, "value": context}]
    return {"tags": tags, "dataset": dataset(version)}


def dataset(version: DatasetVersion) -> Json:
    stored = version.profile.get(MLFLOW_PROFILE_KEY)
    if isinstance(stored, Mapping) and isinstance(stored.get("source_type"), str):
        described = {key: stored.get(key) for key in ("source_type", "source", "schema",
                                                      "profile")}
    else:  # a dataset version keel logged itself
        columns = [{"name": c.name, "type": c.type} for c in version.columns]
        described = {
            "source_type": "keel",
            "source": json.dumps({"uri": version.source} if version.source else {}),
            "schema": json.dumps({"mlflow_colspec": columns}),
            "profile": json.dumps({"num_rows": version.num_rows}),
        }
    return _drop_none({"name": version.name, "digest": version.digest, **described})


def logged_model(m: LoggedModel) -> Json:
    registrations = []
    try:
        found = json.loads(m.tags.get("mlflow.modelVersions", "[]"))
        registrations = [{"name": r["name"], "version": str(r["version"])} for r in found
                         if isinstance(r, dict) and "name" in r and "version" in r]
    except (ValueError, TypeError):
        registrations = []
    info = _drop_none({
        "model_id": m.model_id, "experiment_id": m.experiment_id, "name": m.name,
        "creation_timestamp_ms": m.created_at, "last_updated_timestamp_ms": m.updated_at,
        "artifact_uri": artifact_uri(m.artifact_location), "status": m.status,
        "model_type": m.model_type, "source_run_id": m.source_run_id,
        "status_message": m.status_message, "tags": kv(m.tags),
        "registrations": registrations,
    })
    metrics = [_drop_none({"key": x.key, "value": number(x.value), "timestamp": x.timestamp,
                           "step": x.step, "run_id": x.run_id, "model_id": m.model_id,
                           "dataset_name": x.dataset_name, "dataset_digest": x.dataset_digest})
               for x in m.metrics]
    return {"info": info, "data": {"params": kv(m.params), "metrics": metrics}}


def model_version(v: ModelVersion) -> Json:
    model_id = v.source[len("models:/"):] if v.source.startswith("models:/m-") else None
    return _drop_none({
        "name": v.name, "version": str(v.version), "creation_timestamp": v.created_at,
        "last_updated_timestamp": v.updated_at, "user_id": v.created_by,
        "current_stage": "None", "description": v.description, "source": v.source,
        "run_id": v.run_id or "", "status": "READY", "tags": kv(v.tags),
        "aliases": list(v.aliases), "model_id": model_id,
    })


def registered_model(m: RegisteredModel, latest: Iterable[ModelVersion] = ()) -> Json:
    return _drop_none({
        "name": m.name, "creation_timestamp": m.created_at,
        "last_updated_timestamp": m.updated_at, "user_id": m.created_by,
        "description": m.description,
        "latest_versions": [model_version(v) for v in latest],
        "tags": kv(m.tags),
        "aliases": [{"alias": a, "version": str(v)} for a, v in sorted(m.aliases.items())],
    })


def file_info(path: str, is_dir: bool, size: int | None) -> Json:
    return _drop_none({"path": path, "is_dir": is_dir, "file_size": None if is_dir else size})
