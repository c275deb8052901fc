"""Models through keel's server with the real mlflow client: MLflow 3 logged models, the
registry (versions, aliases, tags, searches), loading ``models:/name@alias`` with pyfunc.
Prints one RESULT line of JSON."""

import json
import os
import tempfile

import mlflow
import numpy as np
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from sklearn.linear_model import LogisticRegression

out = {}
client = MlflowClient()


def error_of(call):
    try:
        call()
    except MlflowException as error:
        return [error.error_code, error.message]
    return None


X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 1.5], [3.0, 2.0], [0.5, 0.2], [2.5, 3.0]])
y = np.array([0, 0, 1, 1, 0, 1])
model = LogisticRegression().fit(X, y)
out["expected"] = model.predict(X).tolist()
out["expected_proba"] = model.predict_proba(X)[:, 1].tolist()

mlflow.set_experiment("mlflow-models")
with mlflow.start_run(run_name="train") as run:
    mlflow.log_param("C", "1.0")
    mlflow.log_metric("accuracy", 1.0)
    info = mlflow.sklearn.log_model(model, name="classifier", input_example=X[:2])
    with tempfile.TemporaryDirectory() as tmp:  # an MLflow 2 style model in the run's files
        mlflow.sklearn.save_model(model, os.path.join(tmp, "saved"),
                                  pip_requirements=["scikit-learn"])
        mlflow.log_artifacts(os.path.join(tmp, "saved"), artifact_path="saved-model")
out["run_id"] = run.info.run_id
out["model_uri"] = info.model_uri
out["model_id"] = info.model_id
logged = client.get_logged_model(info.model_id)
out["logged"] = {"status": str(logged.status), "name": logged.name,
                 "artifact_location": logged.artifact_location,
                 "source_run_id": logged.source_run_id, "params": logged.params}
out["logged_search"] = [m.model_id for m in mlflow.search_logged_models(
    filter_string="name = 'classifier'", output_format="list")]

version = mlflow.register_model(info.model_uri, "credit")
out["version"] = version.version
out["version_source"] = client.get_model_version("credit", version.version).source
second = client.create_model_version("credit", f"runs:/{run.info.run_id}/saved-model",
                                     run_id=run.info.run_id, tags={"origin": "runs-uri"},
                                     description="from the run's files")
out["second"] = [second.version, second.source, second.tags, second.description]
third = mlflow.register_model(f"runs:/{run.info.run_id}/saved-model", "credit")
out["third_source"] = third.source
client.set_registered_model_alias("credit", "champion", version.version)
client.set_registered_model_alias("credit", "challenger", second.version)
out["by_alias"] = client.get_model_version_by_alias("credit", "champion").version
out["aliases"] = client.get_registered_model("credit").aliases
client.set_model_version_tag("credit", version.version, "validated", "yes")
client.set_registered_model_tag("credit", "team", "risk")
client.update_model_version("credit", version.version, description="the champion")
out["download_uri"] = client.get_model_version_download_uri("credit", version.version)

loaded = mlflow.pyfunc.load_model("models:/credit@champion")
out["predicted"] = np.asarray(loaded.predict(X)).tolist()
loaded_second = mlflow.pyfunc.load_model("models:/credit@challenger")
out["predicted_second"] = np.asarray(loaded_second.predict(X)).tolist()
sk = mlflow.sklearn.load_model(f"models:/{info.model_id}")
out["proba"] = sk.predict_proba(X)[:, 1].tolist()

out["versions_by_name"] = sorted(
    int(v.version) for v in client.search_model_versions("name = 'credit'"))
out["versions_by_run"] = sorted(
    int(v.version) for v in client.search_model_versions(f"run_id = '{run.info.run_id}'"))
out["versions_by_tag"] = [
    v.version for v in client.search_model_versions("name = 'credit' and tags.origin = "
                                                    "'runs-uri'")]
out["models_like"] = [m.name for m in client.search_registered_models("name LIKE 'cred%'")]
out["latest"] = [v.version for v in client.get_latest_versions("credit")]

client.delete_registered_model_alias("credit", "challenger")
client.delete_model_version("credit", third.version)
out["after_delete"] = sorted(
    int(v.version) for v in client.search_model_versions("name = 'credit'"))
out["missing_alias"] = error_of(lambda: client.get_model_version_by_alias("credit", "nope"))
out["missing_model"] = error_of(lambda: client.get_registered_model("no-such-model"))
out["duplicate_model"] = error_of(lambda: client.create_registered_model("credit"))
out["protected"] = error_of(
    lambda: client.set_registered_model_alias("guarded", "prod", "1"))
out["unprotected"] = error_of(
    lambda: client.set_registered_model_alias("guarded", "staging", "1"))
out["stages"] = error_of(
    lambda: client.transition_model_version_stage("credit", version.version, "Production"))
for name, source in {"file": "file:///etc/passwd", "http": "http://example.com/model",
                     "s3": "s3://elsewhere/model", "other_host": "mlflow-artifacts://evil/m",
                     "fragment": "http:///#/../", "traversal": "mlflow-artifacts:/../../etc",
                     "runs_traversal": f"runs:/{run.info.run_id}/../../../etc",
                     "absolute": "/etc/passwd"}.items():
    out[f"source_{name}"] = error_of(lambda source=source: client.create_model_version(
        "credit", source))
out["location_file"] = error_of(
    lambda: client.create_experiment("bad-location", artifact_location="file:///tmp/x"))
out["location_s3"] = error_of(
    lambda: client.create_experiment("bad-location", artifact_location="s3://other/x"))
print("RESULT " + json.dumps(out))
