"""ONNX: an sklearn model converted with skl2onnx, run with onnxruntime."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
import pandas as pd
from numpy.testing import assert_array_equal
from skl2onnx import to_onnx
from sklearn.linear_model import LogisticRegression

from keel.models import load_model_from_directory, save_model


def test_an_onnx_classifier_round_trips_with_the_signature_read_from_the_graph(
    tmp_path: Path, classification: tuple[pd.DataFrame, np.ndarray]
) -> None:
    frame, label = classification
    x = frame.to_numpy(dtype=np.float32)
    onx = to_onnx(LogisticRegression().fit(x, label), x[:1], options={"zipmap": False})
    spec = save_model(onx, tmp_path / "m")
    assert spec.flavor == "onnx" and spec.signature is not None
    inputs = spec.signature.to_dict()["inputs"]
    assert inputs == [{"name": "X", "dtype": "float32", "shape": [-1, 4]}]
    session = ort.InferenceSession(onx.SerializeToString(), providers=["CPUExecutionProvider"])
    labels, proba = session.run(None, {"X": x})
    loaded = load_model_from_directory(tmp_path / "m")
    assert_array_equal(loaded.predict(x), labels)
    assert_array_equal(loaded.predict_proba(x), proba)
    # a float64 frame is cast to the graph's float32, as onnxruntime needs
    assert_array_equal(loaded.predict(frame.astype(np.float64)), labels)


def test_zipmap_probabilities_become_an_array(
    tmp_path: Path, classification: tuple[pd.DataFrame, np.ndarray]
) -> None:
    frame, label = classification
    x = frame.to_numpy(dtype=np.float32)
    onx = to_onnx(LogisticRegression().fit(x, label), x[:1])  # ZipMap output: list of dicts
    save_model(onx, tmp_path / "m")
    session = ort.InferenceSession(onx.SerializeToString(), providers=["CPUExecutionProvider"])
    rows = session.run(None, {"X": x})[1]
    loaded = load_model_from_directory(tmp_path / "m")
    assert_array_equal(loaded.predict_proba(x), np.array([[r[0], r[1]] for r in rows]))
