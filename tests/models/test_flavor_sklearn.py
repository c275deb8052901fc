"""scikit-learn through skops: round trips, pipelines, untrusted types."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_array_equal
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from keel.models import UntrustedModel, load_model_from_directory, save_model
from keel.models.spec import read_spec


def _pipeline(frame: pd.DataFrame, label: np.ndarray) -> Pipeline:
    return Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression())]).fit(
        frame, label
    )


def test_a_pipeline_round_trips_with_identical_predictions_and_probabilities(
    tmp_path: Path, classification: tuple[pd.DataFrame, np.ndarray]
) -> None:
    frame, label = classification
    model = _pipeline(frame, label)
    spec = save_model(model, tmp_path / "m", input_example=frame.head())
    assert spec.flavor == "sklearn" and spec.format == "skops" and spec.pickle is False
    loaded = load_model_from_directory(tmp_path / "m")
    assert_array_equal(loaded.predict(frame), model.predict(frame))
    assert_array_equal(loaded.predict_proba(frame), model.predict_proba(frame))
    assert loaded.has_predict_proba


def test_a_random_forest_fitted_on_arrays_round_trips(
    tmp_path: Path, regression: tuple[np.ndarray, np.ndarray]
) -> None:
    x, y = regression
    model = RandomForestRegressor(n_estimators=5, max_depth=4, random_state=0).fit(x, y)
    save_model(model, tmp_path / "rf", input_example=x[:3])
    loaded = load_model_from_directory(tmp_path / "rf")
    assert_array_equal(loaded.predict(x), model.predict(x))
    # the forest's Tree type is a scikit-learn class: keel trusts it without being told
    assert read_spec(tmp_path / "rf").flavor_config["untrusted_types"] == []
    with pytest.raises(Exception, match="no predict_proba"):
        loaded.predict_proba(x)


def _negate(x: Any) -> Any:
    return -x


def test_types_outside_the_allowlist_are_refused_with_their_names_until_trusted(
    tmp_path: Path, classification: tuple[pd.DataFrame, np.ndarray]
) -> None:
    frame, label = classification
    model = Pipeline([
        ("neg", FunctionTransformer(_negate)),
        ("clf", LogisticRegression()),
    ]).fit(frame.to_numpy(), label)
    spec = save_model(model, tmp_path / "m")
    name = f"{__name__}._negate"
    assert spec.flavor_config["untrusted_types"] == [name]
    with pytest.raises(UntrustedModel, match=name) as caught:
        load_model_from_directory(tmp_path / "m")
    assert caught.value.details["untrusted_types"] == [name]
    assert "trusted_types" in str(caught.value)
    loaded = load_model_from_directory(tmp_path / "m", trusted_types=[name])
    assert_array_equal(loaded.predict(frame.to_numpy()), model.predict(frame.to_numpy()))
    trusted_all = load_model_from_directory(tmp_path / "m", trust=True)
    assert_array_equal(trusted_all.predict(frame.to_numpy()), model.predict(frame.to_numpy()))


def test_keel_trusts_classes_of_sklearn_and_numpy_but_never_functions() -> None:
    from keel.models.flavors.sklearn import keel_trusts

    assert keel_trusts("sklearn.tree._tree.Tree")
    assert keel_trusts("sklearn.linear_model._logistic.LogisticRegression")
    assert keel_trusts("numpy.float64")
    assert not keel_trusts("numpy.save")  # a function
    assert not keel_trusts("numpy.log1p")  # a ufunc instance
    assert not keel_trusts("sklearn.no_such_module.Thing")
    assert not keel_trusts("builtins.eval")
    assert not keel_trusts("os.system")
