"""log_model / load_model through a real client (embedded, and through a keel server): runs:/
URIs, registry URIs via a resolver."""

from __future__ import annotations

import gc
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_array_equal
from sklearn.linear_model import LogisticRegression

from keel import Keel
from keel.errors import AlreadyExists, ArtifactNotFound, InvalidArgument, KeelError
from keel.models import (
    RegistryModelURI,
    UntrustedModel,
    load_model,
    log_model,
)


@pytest.fixture
def fitted(classification: tuple[pd.DataFrame, np.ndarray]) -> LogisticRegression:
    frame, label = classification
    return LogisticRegression().fit(frame, label)


def test_a_logged_model_loads_back_from_its_runs_uri(
    keel_any: Keel, fitted: LogisticRegression, classification: tuple[pd.DataFrame, np.ndarray]
) -> None:
    frame, _ = classification
    run = keel_any.create_run("models", capture=False)
    info = log_model(keel_any.artifacts, run.run_id, fitted, "churn",
                     input_example=frame.head(), metadata={"owner": "risk"})
    assert info.uri == f"runs:/{run.run_id}/churn" and info.flavor == "sklearn"
    listed = {a.path for a in keel_any.artifacts.list_artifacts(run.run_id, "churn")}
    assert {"churn/MODEL.yaml", "churn/model.skops", "churn/input_example.json"} <= listed
    predictor = load_model(info.uri, run_artifacts=keel_any.artifacts)
    assert predictor.model_digest == info.model_digest
    assert predictor.metadata == {"owner": "risk"}
    assert_array_equal(predictor.predict(frame), fitted.predict(frame))
    directory = predictor.directory
    assert directory is not None and directory.exists()
    del predictor
    gc.collect()
    assert not directory.exists()  # the download goes with the Predictor


def test_a_registry_uri_is_resolved_through_the_given_callable(
    keel_any: Keel, fitted: LogisticRegression, classification: tuple[pd.DataFrame, np.ndarray]
) -> None:
    frame, _ = classification
    run = keel_any.create_run("models", capture=False)
    log_model(keel_any.artifacts, run.run_id, fitted, "model")
    asked: list[RegistryModelURI] = []

    def resolver(uri: RegistryModelURI) -> tuple[str, str]:
        asked.append(uri)
        return run.run_id, "model"

    for uri in ("models:/churn/1", "models:/churn@champion"):
        predictor = load_model(uri, run_artifacts=keel_any.artifacts, registry_resolver=resolver)
        assert_array_equal(predictor.predict(frame), fitted.predict(frame))
    assert asked == [
        RegistryModelURI("churn", version=1), RegistryModelURI("churn", alias="champion")
    ]
    with pytest.raises(InvalidArgument, match="no model registry"):
        load_model("models:/churn/1", run_artifacts=keel_any.artifacts)


def test_a_pickled_logged_model_needs_trust(
    keel_any: Keel, fitted: LogisticRegression
) -> None:
    run = keel_any.create_run("models", capture=False)
    info = log_model(keel_any.artifacts, run.run_id, fitted, "m", serialization="pickle")
    with pytest.raises(UntrustedModel):
        load_model(info.uri, run_artifacts=keel_any.artifacts)
    assert load_model(info.uri, run_artifacts=keel_any.artifacts, trust=True).flavor == "pickle"


def test_logging_twice_under_one_name_is_refused(
    keel_any: Keel, fitted: LogisticRegression
) -> None:
    run = keel_any.create_run("models", capture=False)
    log_model(keel_any.artifacts, run.run_id, fitted, "m")
    with pytest.raises(AlreadyExists, match="already has artifacts under 'm'"):
        log_model(keel_any.artifacts, run.run_id, fitted, "m")


def test_a_uri_without_a_model_is_not_found(keel_any: Keel) -> None:
    run = keel_any.create_run("models", capture=False)
    keel_any.artifacts.log_text(run.run_id, "hi", "notes/readme.txt")
    with pytest.raises(ArtifactNotFound, match="does not point at a saved model"):
        load_model(f"runs:/{run.run_id}/notes", run_artifacts=keel_any.artifacts)


def test_a_model_file_changed_in_the_store_is_caught(
    keel_client: Keel, fitted: LogisticRegression
) -> None:
    # Embedded only: it edits the file in the local artifact store behind keel's back.
    run = keel_client.create_run("models", capture=False)
    info = log_model(keel_client.artifacts, run.run_id, fitted, "m")
    stored = Path(keel_client.settings.resolved_artifacts_url().removeprefix("file://"))
    [model_file] = [p for p in stored.rglob("model.skops")]
    model_file.write_bytes(model_file.read_bytes() + b"!")
    with pytest.raises(KeelError, match="sha256"):
        load_model(info.uri, run_artifacts=keel_client.artifacts)


def test_a_local_directory_is_a_model_uri_too(tmp_path: Path, keel_any: Keel,
                                               fitted: LogisticRegression) -> None:
    from keel.models import save_model

    save_model(fitted, tmp_path / "m")
    for uri in (tmp_path / "m", str(tmp_path / "m"), f"file://{tmp_path / 'm'}"):
        assert load_model(uri, run_artifacts=keel_any.artifacts).flavor == "sklearn"
