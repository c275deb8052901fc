"""save_model's arguments: declared signatures, examples, metadata, serialization choices."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from keel.errors import InvalidArgument
from keel.models import ColumnSpec, Signature, load_model_from_directory, save_model
from tests.models._nets import Doubler


@pytest.fixture
def fitted(classification: tuple[pd.DataFrame, np.ndarray]) -> LogisticRegression:
    frame, label = classification
    return LogisticRegression().fit(frame, label)


def test_a_declared_signature_wins_and_may_be_given_as_a_dict(
    tmp_path: Path, fitted: LogisticRegression, classification: tuple[pd.DataFrame, np.ndarray]
) -> None:
    frame, _ = classification
    declared = {"kind": "columns", "inputs": [
        {"name": "a", "dtype": "float64"}, {"name": "b", "dtype": "float64"},
        {"name": "c", "dtype": "float64"}, {"name": "n", "dtype": "int32"},
    ]}
    spec = save_model(fitted, tmp_path / "m", signature=declared, input_example=frame.head())
    assert spec.signature == Signature.from_dict(declared)
    assert spec.signature.inputs[3] == ColumnSpec("n", "int32")


def test_an_example_that_breaks_the_declared_signature_is_refused(
    tmp_path: Path, fitted: LogisticRegression, classification: tuple[pd.DataFrame, np.ndarray]
) -> None:
    frame, _ = classification
    declared = Signature(inputs=(ColumnSpec("a", "float64"), ColumnSpec("z", "float64")))
    with pytest.raises(InvalidArgument, match="missing column 'z'"):
        save_model(fitted, tmp_path / "m", signature=declared, input_example=frame)
    assert not (tmp_path / "m").exists()


def test_only_the_first_rows_of_an_example_are_kept(tmp_path: Path) -> None:
    from keel.models.package import EXAMPLE_ROWS

    save_model(Doubler(), tmp_path / "m", input_example=np.zeros((EXAMPLE_ROWS + 50, 2)))
    loaded = load_model_from_directory(tmp_path / "m")
    assert loaded.input_example.shape == (EXAMPLE_ROWS, 2)


def test_named_tensors_are_kept_as_an_npz_example(tmp_path: Path) -> None:
    example = {"ids": np.arange(6).reshape(2, 3), "mask": np.ones((2, 3), dtype=bool)}
    spec = save_model(Doubler(), tmp_path / "m", input_example=example)
    assert spec.input_example == "input_example.npz" and spec.signature is not None
    loaded = load_model_from_directory(tmp_path / "m")
    assert set(loaded.input_example) == {"ids", "mask"}


def test_metadata_must_be_json(tmp_path: Path, fitted: LogisticRegression) -> None:
    with pytest.raises(InvalidArgument, match="metadata must be JSON-serialisable"):
        save_model(fitted, tmp_path / "m", metadata={"when": object()})


def test_serialization_choices_are_checked(tmp_path: Path, fitted: LogisticRegression) -> None:
    with pytest.raises(InvalidArgument, match="serialization must be one of"):
        save_model(fitted, tmp_path / "m", serialization="joblib")
    with pytest.raises(InvalidArgument, match="saves with the pickle flavor"):
        save_model(fitted, tmp_path / "m", serialization="pickle", flavor="sklearn")
    with pytest.raises(InvalidArgument, match="serialization='pickle'"):
        save_model(fitted, tmp_path / "m", flavor="pickle")
    with pytest.raises(InvalidArgument, match="needs a predict method"):
        save_model(object(), tmp_path / "m", serialization="pickle")


def test_an_unknown_flavor_option_lists_the_accepted_ones(
    tmp_path: Path, fitted: LogisticRegression
) -> None:
    from xgboost import XGBRegressor

    model = XGBRegressor(n_estimators=2).fit(np.zeros((4, 2)), np.zeros(4))
    expected = "unknown option for the xgboost flavor: x; it takes: xgb_format"
    with pytest.raises(InvalidArgument, match=expected):
        save_model(model, tmp_path / "m", x=1)
