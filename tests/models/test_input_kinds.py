"""predict accepts every input kind, for column and tensor signatures alike."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
import torch
from numpy.testing import assert_array_equal
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from keel.models import Predictor, load_model_from_directory, save_model
from tests.models._nets import TinyNet
from tests.models.conftest import make_classification, make_regression


@pytest.fixture(scope="module")
def columns_model(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Predictor, pd.DataFrame, np.ndarray]:
    frame, label = make_classification(60)
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(frame, label)
    directory = tmp_path_factory.mktemp("columns") / "m"
    save_model(model, directory, input_example=frame.head())
    return load_model_from_directory(directory), frame, model.predict(frame)


def _kinds(frame: pd.DataFrame) -> dict[str, Any]:
    return {
        "pandas": frame,
        "polars": pl.from_pandas(frame),
        "arrow": pa.Table.from_pandas(frame),
        "dict of lists": {c: frame[c].tolist() for c in frame.columns},
        "dict of arrays": {c: frame[c].to_numpy() for c in frame.columns},
        "records": frame.to_dict(orient="records"),
        "numpy by position": frame.to_numpy(),
        "reordered with extras": frame[["n", "c", "b", "a"]].assign(id=range(len(frame))),
    }


@pytest.mark.parametrize(
    "kind",
    ["pandas", "polars", "arrow", "dict of lists", "dict of arrays", "records",
     "numpy by position", "reordered with extras"],
)
def test_a_column_model_takes_every_input_kind(
    columns_model: tuple[Predictor, pd.DataFrame, np.ndarray], kind: str
) -> None:
    predictor, frame, expected = columns_model
    data = _kinds(frame)[kind]
    if kind == "numpy by position":
        # a 2-D array holds one dtype: the int column 'n' arrives as float and is refused
        with pytest.raises(Exception, match="column 'n': expected int64, got float64"):
            predictor.predict(data)
        data = frame.to_records(index=False)  # a structured array keeps each column's dtype
    assert_array_equal(predictor.predict(data), expected)


def test_a_single_record_as_a_dict_of_scalars(
    columns_model: tuple[Predictor, pd.DataFrame, np.ndarray]
) -> None:
    predictor, frame, expected = columns_model
    record = frame.to_dict(orient="records")[0]  # plain Python scalars
    assert_array_equal(predictor.predict(record), expected[:1])


@pytest.fixture(scope="module")
def tensor_model(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Predictor, np.ndarray, np.ndarray]:
    x, _ = make_regression(20)
    torch.manual_seed(0)
    net = TinyNet(in_features=4).eval()
    directory = tmp_path_factory.mktemp("tensor") / "m"
    save_model(net, directory, input_example=x[:2], torch_init={"in_features": 4})
    with torch.inference_mode():
        expected = net(torch.from_numpy(x)).numpy()
    return load_model_from_directory(directory), x, expected


@pytest.mark.parametrize(
    "kind", ["numpy", "float64 numpy", "list of lists", "pandas", "polars", "dict", "records",
             "torch"],
)
def test_a_tensor_model_takes_every_input_kind(
    tensor_model: tuple[Predictor, np.ndarray, np.ndarray], kind: str
) -> None:
    predictor, x, expected = tensor_model
    frame = pd.DataFrame(x, columns=["f0", "f1", "f2", "f3"])
    data = {
        "numpy": x,
        "float64 numpy": x.astype(np.float64),
        "list of lists": x.tolist(),
        "pandas": frame,
        "polars": pl.from_pandas(frame),
        "dict": {c: frame[c].to_numpy() for c in frame.columns},
        "records": frame.to_dict(orient="records"),
        "torch": torch.from_numpy(x),
    }[kind]
    assert_array_equal(predictor.predict(data), expected)


def test_a_model_without_signature_takes_frames_and_arrays(tmp_path: Path) -> None:
    frame, label = make_classification(40)
    model = LogisticRegression().fit(frame, label)
    save_model(model, tmp_path / "m")
    predictor = load_model_from_directory(tmp_path / "m")
    assert predictor.signature is None
    assert_array_equal(predictor.predict(pl.from_pandas(frame)), model.predict(frame))
    assert_array_equal(predictor.predict(frame.to_dict(orient="list")), model.predict(frame))
