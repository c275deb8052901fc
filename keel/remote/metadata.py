"""The tracking ports over HTTP: ``HttpMetadataStore`` implements ExperimentStore, RunStore
and DatasetStore with the routes of ``/api/v1``, so keel's services (and the whole Python API)
run unchanged against a server. The same contract suite runs against it and the SQL store."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

import orjson

from keel.core.pagination import Page, encode_page_token
from keel.core.wire import from_wire
from keel.errors import ExperimentNotFound, RunNotFound
from keel.remote._http import API, HttpTransport
from keel.tracking._wire import (
    encode_expr,
    encode_metric_columns,
    encode_order,
    metric_history_from_columns,
)
from keel.tracking.models import (
    ArtifactRecord,
    DatasetDescription,
    DatasetVersion,
    Experiment,
    Metric,
    MetricRecord,
    Run,
    RunInput,
    RunStatus,
    ViewType,
)
from keel.tracking.query import Expr, OrderBy

__all__ = ["HttpMetadataStore"]


def _seg(value: str) -> str:
    """One path segment, percent-encoded (slashes included)."""
    return quote(value, safe="")


def _page(cls: type, data: Any) -> Page[Any]:
    items: list[Any] = [from_wire(cls, item, "item") for item in data["items"]]
    return Page(items, data.get("next_page_token"))


class HttpExperimentStore:
    def __init__(self, http: HttpTransport) -> None:
        self._http = http

    def create_experiment(self, experiment_id: str, name: str, artifact_location: str,
                          tags: Mapping[str, str], created_at: int) -> Experiment:
        data = self._http.request("POST", f"{API}/experiments", json={
            "experiment_id": experiment_id, "name": name,
            "artifact_location": artifact_location, "tags": dict(tags),
            "created_at": created_at,
        })
        return from_wire(Experiment, data)

    def get_experiment(self, experiment_id: str) -> Experiment:
        return from_wire(Experiment, self._http.request(
            "GET", f"{API}/experiments/{_seg(experiment_id)}"))

    def find_experiment_by_name(self, name: str) -> Experiment | None:
        try:
            data = self._http.request("GET", f"{API}/experiments/by-name/{_seg(name)}")
        except ExperimentNotFound:
            return None
        return from_wire(Experiment, data)

    def list_experiments(self, view: ViewType = ViewType.ACTIVE_ONLY,
                         name_like: str | None = None, tags: Mapping[str, str] | None = None,
                         max_results: int = 1000, offset: int = 0) -> Page[Experiment]:
        params: dict[str, Any] = {"view": view.value, "max_results": max_results}
        if name_like is not None:
            params["name_like"] = name_like
        if offset:
            params["page_token"] = encode_page_token(offset)
        for key, value in (tags or {}).items():
            params[f"tag.{key}"] = value
        return _page(Experiment, self._http.request("GET", f"{API}/experiments", params=params))

    def rename_experiment(self, experiment_id: str, new_name: str,
                          updated_at: int) -> Experiment:
        return from_wire(Experiment, self._http.request(
            "PATCH", f"{API}/experiments/{_seg(experiment_id)}",
            json={"name": new_name, "updated_at": updated_at}))

    def set_experiment_tags(self, experiment_id: str, tags: Mapping[str, str],
                            updated_at: int) -> None:
        self._http.request("PUT", f"{API}/experiments/{_seg(experiment_id)}/tags",
                           json={"tags": dict(tags), "updated_at": updated_at})

    def set_experiment_stage(self, experiment_id: str, stage: str,
                             updated_at: int) -> Experiment:
        if stage not in ("deleted", "active"):
            from keel.errors import InvalidArgument

            raise InvalidArgument(f"unknown lifecycle stage {stage!r}: 'active' or 'deleted'")
        action = "delete" if stage == "deleted" else "restore"
        return from_wire(Experiment, self._http.request(
            "POST", f"{API}/experiments/{_seg(experiment_id)}/{action}",
            json={"updated_at": updated_at}))


class HttpRunStore:
    def __init__(self, http: HttpTransport) -> None:
        self._http = http

    def create_run(self, run_id: str, experiment_id: str, name: str, start_time: int,
                   artifact_location: str, parent_run_id: str | None, user: str | None,
                   tags: Mapping[str, str]) -> Run:
        # The server derives the artifact location from the experiment; a client cannot
        # choose where a run's artifacts go.
        return from_wire(Run, self._http.request("POST", f"{API}/runs", json={
            "run_id": run_id, "experiment_id": experiment_id, "name": name,
            "start_time": start_time, "parent_run_id": parent_run_id, "user": user,
            "tags": dict(tags),
        }))

    def get_run(self, run_id: str) -> Run:
        return from_wire(Run, self._http.request("GET", f"{API}/runs/{_seg(run_id)}"))

    def update_run(self, run_id: str, *, status: RunStatus | None = None,
                   end_time: int | None = None, name: str | None = None,
                   error: str | None = None, note: str | None = None) -> Run:
        body = {k: v for k, v in {"status": status, "end_time": end_time, "name": name,
                                  "error": error, "note": note}.items() if v is not None}
        return from_wire(Run, self._http.request("PATCH", f"{API}/runs/{_seg(run_id)}",
                                                 json=body))

    def set_run_stage(self, run_id: str, stage: str) -> Run:
        return from_wire(Run, self._http.request(
            "POST", f"{API}/runs/{_seg(run_id)}/stage", json={"stage": str(stage)}))

    def log_params(self, run_id: str, params: Sequence[tuple[str, str, str]]) -> None:
        self._http.request("POST", f"{API}/runs/{_seg(run_id)}/params",
                           json={"params": [list(p) for p in params]})

    def log_metrics(self, records: Sequence[MetricRecord]) -> None:
        if not records:
            return
        self._http.request("POST", f"{API}/metrics",
                           raw_json=orjson.dumps(encode_metric_columns(records)))

    def set_tags(self, run_id: str, tags: Mapping[str, str]) -> None:
        self._http.request("PUT", f"{API}/runs/{_seg(run_id)}/tags", json={"tags": dict(tags)})

    def delete_tag(self, run_id: str, key: str) -> None:
        self._http.request("DELETE", f"{API}/runs/{_seg(run_id)}/tags/{_seg(key)}")

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        data = self._http.request(
            "GET", f"{API}/runs/{_seg(run_id)}/metrics/{_seg(key)}/history")
        return metric_history_from_columns(key, data)

    def max_metric_steps(self, run_id: str) -> dict[str, int]:
        data = self._http.request("GET", f"{API}/runs/{_seg(run_id)}/metric-steps")
        return {str(k): int(v) for k, v in data.items()}

    def search_runs(self, experiment_ids: Sequence[str], filter: Expr | None,
                    order_by: Sequence[OrderBy], view: ViewType = ViewType.ACTIVE_ONLY,
                    max_results: int = 1000, offset: int = 0) -> Page[Run]:
        body: dict[str, Any] = {
            "experiment_ids": list(experiment_ids),
            "filter_tree": encode_expr(filter),
            "order_tree": [list(o) for o in encode_order(order_by)],
            "view": view.value,
            "max_results": max_results,
        }
        if offset:
            body["page_token"] = encode_page_token(offset)
        return _page(Run, self._http.request("POST", f"{API}/runs/search",
                                             raw_json=orjson.dumps(body)))

    def log_artifact_records(self, records: Sequence[ArtifactRecord]) -> None:
        self._http.request("POST", f"{API}/artifact-records", json={"records": list(records)})

    def list_artifact_records(self, run_id: str, prefix: str = "") -> list[ArtifactRecord]:
        data = self._http.request("GET", f"{API}/runs/{_seg(run_id)}/artifact-records",
                                  params={"prefix": prefix})
        return [from_wire(ArtifactRecord, item) for item in data]


class HttpDatasetStore:
    def __init__(self, http: HttpTransport) -> None:
        self._http = http

    def get_or_create_dataset_version(self, dataset_version_id: str, name: str,
                                      description: DatasetDescription,
                                      created_at: int) -> tuple[DatasetVersion, bool]:
        data = self._http.request("POST", f"{API}/datasets/versions", json={
            "dataset_version_id": dataset_version_id, "name": name,
            "description": description, "created_at": created_at,
        })
        return from_wire(DatasetVersion, data["version"]), bool(data["created"])

    def get_dataset_version(self, dataset_version_id: str) -> DatasetVersion:
        return from_wire(DatasetVersion, self._http.request(
            "GET", f"{API}/datasets/versions/{_seg(dataset_version_id)}"))

    def find_dataset_version(self, name: str, version: int) -> DatasetVersion | None:
        from keel.errors import DatasetNotFound

        try:
            data = self._http.request("GET", f"{API}/datasets/{_seg(name)}/versions/{version}")
        except DatasetNotFound:
            return None
        return from_wire(DatasetVersion, data)

    def list_dataset_versions(self, name: str | None = None, max_results: int = 1000,
                              offset: int = 0) -> Page[DatasetVersion]:
        params: dict[str, Any] = {"max_results": max_results}
        if name is not None:
            params["name"] = name
        if offset:
            params["page_token"] = encode_page_token(offset)
        return _page(DatasetVersion, self._http.request("GET", f"{API}/datasets/versions",
                                                        params=params))

    def log_run_inputs(self, run_id: str, inputs: Sequence[tuple[str, str]]) -> None:
        self._http.request("POST", f"{API}/runs/{_seg(run_id)}/inputs",
                           json={"inputs": [list(i) for i in inputs]})

    def list_run_inputs(self, run_id: str) -> list[RunInput]:
        data = self._http.request("GET", f"{API}/runs/{_seg(run_id)}/inputs")
        return [from_wire(RunInput, item) for item in data]

    def list_inputs_of_runs(self, run_ids: Sequence[str]) -> dict[str, list[RunInput]]:
        found: dict[str, list[RunInput]] = {}
        for run_id in dict.fromkeys(run_ids):
            try:
                inputs = self.list_run_inputs(run_id)
            except RunNotFound:
                continue
            if inputs:
                found[run_id] = inputs
        return found

    def list_dataset_runs(self, dataset_version_id: str) -> list[RunInput]:
        data = self._http.request(
            "GET", f"{API}/datasets/versions/{_seg(dataset_version_id)}/runs")
        return [from_wire(RunInput, item) for item in data]


class HttpMetadataStore:
    """The MetadataStore port on a keel server."""

    def __init__(self, http: HttpTransport) -> None:
        self._http = http
        self._experiments = HttpExperimentStore(http)
        self._runs = HttpRunStore(http)
        self._datasets = HttpDatasetStore(http)

    @property
    def http(self) -> HttpTransport:
        return self._http

    @property
    def experiments(self) -> HttpExperimentStore:
        return self._experiments

    @property
    def runs(self) -> HttpRunStore:
        return self._runs

    @property
    def datasets(self) -> HttpDatasetStore:
        return self._datasets

    @property
    def url(self) -> str:
        return self._http.base_url

    def close(self) -> None:
        self._http.close()

    def __repr__(self) -> str:
        return f"HttpMetadataStore({self.url!r})"
