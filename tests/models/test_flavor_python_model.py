"""PythonModel subclasses, saved by reference with JSON state and artifact files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_array_equal

from keel.errors import InvalidArgument
from keel.models import PythonModel, load_model_from_directory, save_model
from tests.models._nets import Doubler, OddState, Thresholded


def test_a_python_model_round_trips_with_state_artifacts_and_predict_proba(
    tmp_path: Path, classification: tuple[pd.DataFrame, np.ndarray]
) -> None:
    frame, _ = classification
    weights = tmp_path / "weights.npy"
    np.save(weights, np.array([1.5, -0.5]))
    model = Thresholded(threshold=0.7)
    model.weights = np.load(weights)
    spec = save_model(
        model, tmp_path / "m", input_example=frame.head(), artifacts={"weights": weights}
    )
    assert spec.flavor == "python_model" and not spec.pickle
    assert spec.flavor_config["class"] == "tests.models._nets:Thresholded"
    assert spec.flavor_config["artifacts"] == {"weights": "artifacts/weights/weights.npy"}
    assert json.loads((tmp_path / "m" / "state.json").read_text()) == {"threshold": 0.7}
    loaded = load_model_from_directory(tmp_path / "m")
    assert_array_equal(loaded.predict(frame), model.predict(None, frame))  # type: ignore[arg-type]
    assert_array_equal(loaded.predict_proba(frame), model.predict_proba(None, frame))  # type: ignore[arg-type]


def test_a_python_model_without_predict_proba_says_so(tmp_path: Path) -> None:
    save_model(Doubler(), tmp_path / "m", input_example=np.ones((2, 2)))
    loaded = load_model_from_directory(tmp_path / "m")
    assert_array_equal(loaded.predict(np.ones((1, 2))), np.full((1, 2), 2.0))
    with pytest.raises(InvalidArgument, match="no predict_proba"):
        loaded.predict_proba(np.ones((1, 2)))


def test_a_python_model_defined_in_a_function_cannot_be_saved_by_reference(
    tmp_path: Path,
) -> None:
    class Local(PythonModel):
        pass

    with pytest.raises(InvalidArgument, match="cloudpickle"):
        save_model(Local(), tmp_path / "m")


def test_state_that_is_not_json_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match="JSON"):
        save_model(OddState(), tmp_path / "m")
