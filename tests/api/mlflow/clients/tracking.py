"""Tracking through keel's server with the real mlflow client: experiments, nested runs,
params, metrics (NaN too), batches, tags, artifacts, datasets, searches, histories, downloads,
deletion and MLflow's own errors. Prints one RESULT line of JSON."""

import json
import os
import tempfile
from pathlib import Path

import mlflow
import pandas as pd
from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag, ViewType
from mlflow.exceptions import MlflowException

out = {}
client = MlflowClient()


def error_of(call):
    try:
        call()
    except MlflowException as error:
        return [error.error_code, error.message]
    return None


experiment = mlflow.set_experiment("mlflow-tracking")
out["experiment_id"] = experiment.experiment_id
out["default_experiment"] = client.get_experiment("0").name
out["searched_experiments"] = sorted(e.name for e in mlflow.search_experiments())
out["experiments_by_filter"] = [
    e.name for e in mlflow.search_experiments(filter_string="name LIKE 'mlflow-track%'")]

with mlflow.start_run(run_name="parent", tags={"team": "risk"}) as parent:
    mlflow.log_param("alpha", "0.5")
    mlflow.log_params({"depth": 3, "kind": "linear"})
    for step in range(3):
        mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
    mlflow.log_metric("acc", 0.91)
    mlflow.log_metrics({"f1": 0.8, "empty": float("nan")})
    mlflow.set_tag("stage", "dev")
    mlflow.set_tags({"a": "1", "b": "2"})
    mlflow.set_tag("mlflow.note.content", "a *markdown* note")
    client.log_batch(parent.info.run_id, metrics=[Metric("batch_m", 3.5, 1700000000000, 7)],
                     params=[Param("batch_p", "v")], tags=[RunTag("batch_t", "tv")])
    mlflow.log_text("hello", "notes/hello.txt")
    mlflow.log_dict({"k": 1}, "config/settings.json")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "report.txt")
        with open(path, "w") as fh:
            fh.write("report body")
        mlflow.log_artifact(path)
        os.makedirs(os.path.join(tmp, "tree", "sub"))
        with open(os.path.join(tmp, "tree", "sub", "leaf.txt"), "w") as fh:
            fh.write("leaf")
        mlflow.log_artifacts(os.path.join(tmp, "tree"), artifact_path="tree")
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [0, 1, 0]})
    mlflow.log_input(mlflow.data.from_pandas(frame, name="train-frame"), context="training")
    with mlflow.start_run(run_name="child-1", nested=True) as child:
        mlflow.log_metric("acc", 0.5)
        mlflow.log_param("alpha", "0.1")
        out["child"] = child.info.run_id
    with mlflow.start_run(run_name="child-2", nested=True) as child2:
        mlflow.log_metric("acc", 0.7)
        mlflow.log_param("alpha", "0.5")
        out["child2"] = child2.info.run_id
out["parent"] = parent.info.run_id

run = client.get_run(parent.info.run_id)
out["run"] = {
    "name": run.info.run_name, "status": run.info.status, "user": run.info.user_id,
    "artifact_uri": run.info.artifact_uri, "params": run.data.params,
    "metrics": {k: (None if v != v else v) for k, v in run.data.metrics.items()},
    "tags": run.data.tags,
    "datasets": [[d.dataset.name, d.dataset.digest, d.dataset.source_type,
                  [t.value for t in d.tags]] for d in run.inputs.dataset_inputs],
}
out["child_parent_tag"] = client.get_run(out["child"]).data.tags.get("mlflow.parentRunId")
out["history"] = [[m.step, m.value] for m in client.get_metric_history(run.info.run_id, "loss")]
out["nan_history"] = [str(m.value) for m in client.get_metric_history(run.info.run_id, "empty")]
out["artifacts"] = sorted(a.path for a in client.list_artifacts(run.info.run_id))
out["tree"] = sorted(a.path for a in client.list_artifacts(run.info.run_id, "tree/sub"))
local = client.download_artifacts(run.info.run_id, "notes")
out["downloaded"] = {name: Path(local, name).read_text() for name in os.listdir(local)}
local_dict = mlflow.artifacts.download_artifacts(run_id=run.info.run_id,
                                                 artifact_path="config/settings.json")
out["downloaded_dict"] = json.loads(Path(local_dict).read_text())

ids = [experiment.experiment_id]
SEARCHES = {
    "metric_and_param": ("metrics.acc > 0.6 and params.alpha = '0.5'", ["metrics.acc DESC"]),
    "run_name": ("attributes.run_name LIKE 'child%'", ["attributes.start_time ASC"]),
    "bare_run_name": ("run_name = 'parent'", []),
    "status": ("attributes.status = 'FINISHED'", ["metrics.acc ASC"]),
    "tag": ("tags.team = 'risk'", []),
    "backticks": ("tags.`a` = '1' and params.`depth` = '3'", []),
    "ilike": ("params.kind ILIKE 'LIN%'", []),
    "parent_tag": (f"tags.mlflow.parentRunId = '{parent.info.run_id}'", ["params.alpha DESC"]),
    "run_id_in": (f"attributes.run_id IN ('{out['child']}', '{out['child2']}')",
                  ["attributes.run_name DESC"]),
    "dataset": ("datasets.name = 'train-frame'", []),
    "all": ("", ["metrics.acc DESC"]),
}
out["searches"] = {
    name: [r.info.run_id for r in client.search_runs(ids, text, order_by=order)]
    for name, (text, order) in SEARCHES.items()
}
pages, token = [], None
while True:
    found = client.search_runs(ids, "", order_by=["attributes.run_name ASC"], max_results=2,
                               page_token=token)
    pages.append([r.info.run_name for r in found])
    token = found.token
    if not token:
        break
out["pages"] = pages
frame = mlflow.search_runs(experiment_ids=ids, filter_string="metrics.acc >= 0.7")
out["frame_rows"] = len(frame)

client.delete_run(out["child"])
out["deleted_stage"] = client.get_run(out["child"]).info.lifecycle_stage
out["active_after_delete"] = sorted(
    r.info.run_name for r in client.search_runs(ids, "", run_view_type=ViewType.ACTIVE_ONLY))
out["deleted_only"] = [
    r.info.run_name for r in client.search_runs(ids, "", run_view_type=ViewType.DELETED_ONLY)]
out["log_to_deleted"] = error_of(lambda: client.log_metric(out["child"], "acc", 1.0))
out["param_overwrite"] = error_of(lambda: client.log_param(parent.info.run_id, "alpha", "9"))
out["param_same_again"] = error_of(lambda: client.log_param(parent.info.run_id, "alpha", "0.5"))
out["bad_metric_key"] = error_of(lambda: client.log_metric(parent.info.run_id, "../up", 1.0))
out["missing_run"] = error_of(lambda: client.get_run("f" * 32))
out["bad_filter"] = error_of(lambda: client.search_runs(ids, "metrics.acc >"))
out["or_filter"] = error_of(lambda: client.search_runs(ids, "metrics.a > 1 or metrics.b < 1"))
out["default_run_experiment"] = None
with mlflow.start_run(experiment_id="0", run_name="in-default") as default_run:
    out["default_run_experiment"] = default_run.info.experiment_id
print("RESULT " + json.dumps(out))
